"""A training queue shared by every session of one server.

Training runs in worker threads, at most ``max_concurrent`` at a time (the core count by
default), in first-come order. Each job records live progress (epochs, losses) that a page can
poll, honours a stop request (a queued job leaves the queue; a running one keeps what it learned
so far), and ends with a result or a readable error. No Streamlit here: the UI polls ``snapshot``.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lstm_lab.config import ExperimentConfig
from lstm_lab.errors import LabError
from lstm_lab.forecasters import EpochInfo
from lstm_lab.series import Series
from lstm_lab.training import ExperimentResult, run_experiment

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
_ids = itertools.count(1)


@dataclass(eq=False)
class TrainingJob:
    """One submitted experiment and everything a page needs to show about it."""

    config: ExperimentConfig
    series: Series
    task: Callable[[TrainingJob], Any] | None = None   # default: run_experiment
    label: str = "Training"
    id: int = field(default_factory=lambda: next(_ids))
    status: str = QUEUED
    submitted_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    finished_at: float | None = None
    current_model: str | None = None
    current_variant: str = ""          # with tuning: the variant of the network training now
    variants: int = 1                  # variants each network trains (tuning: up to 3)
    variant_index: int = 0
    units_done: int = 0                # networks (or variants) finished in this stage
    stage: str = ""                    # e.g. "fold 2 of 3" for multi-stage tasks
    stages_done: int = 0
    stages_total: int = 1
    histories: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    result: ExperimentResult | None = None
    error: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED, CANCELLED)

    def request_stop(self) -> None:
        self.stop_event.set()

    def on_stage(self, label: str, done: int, total: int) -> None:
        """A multi-stage task (a backtest fold) begins: the live chart starts afresh."""
        with self._lock:
            self.stage, self.stages_done, self.stages_total = label, done, total
            self.histories, self.current_model = {}, None
            self.units_done = 0

    def on_epoch(self, info: EpochInfo) -> None:
        with self._lock:
            if (info.model, info.variant_index) != (self.current_model, self.variant_index):
                # a new network, or a new variant of it
                self.units_done += self.current_model is not None
                if info.variant_index:           # the live chart follows the variant training
                    self.histories.pop(info.model, None)
            self.current_model, self.current_variant = info.model, info.variant
            self.variant_index = info.variant_index
            self.variants = info.variants
            hist = self.histories.setdefault(info.model, {"loss": [], "val_loss": [], "epochs": 0})
            hist["loss"].append(info.loss)
            if info.val_loss is not None:
                hist["val_loss"].append(info.val_loss)
            hist["epochs"] = info.epochs

    def progress(self) -> float:
        """Share of the work done (0..1): networks (and, with tuning, their variants) trained one
        after another, each counted whole once the next one starts (early stopping ends a
        network before its last epoch)."""
        if self.status == DONE:
            return 1.0
        units = max(1, len(self.config.neural_models)) * self.variants
        with self._lock:
            current = len(self.histories.get(self.current_model, {"loss": []})["loss"])
            stage_share = min(1.0, (self.units_done + current / self.config.epochs) / units)
            return min(0.99, (self.stages_done + stage_share) / self.stages_total)

    def live_histories(self) -> dict[str, dict[str, list[float]]]:
        with self._lock:
            return {m: {"loss": list(h["loss"]), "val_loss": list(h["val_loss"])}
                    for m, h in self.histories.items()}


class JobRunner:
    """Worker threads pulling jobs from one FIFO queue."""

    def __init__(self, max_concurrent: int | None = None) -> None:
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self._queue: queue.Queue[TrainingJob] = queue.Queue()
        self._waiting: list[TrainingJob] = []
        self._running: list[TrainingJob] = []
        self._durations: list[float] = []
        self._lock = threading.Lock()
        for i in range(self.max_concurrent):
            threading.Thread(target=self._work, name=f"lstm-lab-trainer-{i}", daemon=True).start()

    def submit(self, config: ExperimentConfig, series: Series,
               task: Callable[[TrainingJob], Any] | None = None,
               label: str = "Training") -> TrainingJob:
        """Queue a job; ``task(job)`` replaces the default experiment (backtests, forecasts)."""
        job = TrainingJob(config, series, task, label)
        with self._lock:
            self._waiting.append(job)
        self._queue.put(job)
        return job

    def position(self, job: TrainingJob) -> int:
        """1-based place among waiting jobs; 0 when running or finished."""
        with self._lock:
            return self._waiting.index(job) + 1 if job in self._waiting else 0

    def estimated_wait(self, job: TrainingJob) -> float:
        """Seconds until the job should start: jobs ahead x typical duration / workers."""
        ahead = self.position(job)
        if not ahead:
            return 0.0
        with self._lock:
            typical = sorted(self._durations[-20:])[len(self._durations[-20:]) // 2] \
                if self._durations else 5.0
            running = len(self._running)
        return typical * (ahead - 1 + running) / self.max_concurrent

    def busy(self) -> tuple[int, int]:
        with self._lock:
            return len(self._running), len(self._waiting)

    @staticmethod
    def _run(job: TrainingJob) -> Any:
        if job.task is not None:
            return job.task(job)
        return run_experiment(job.config, job.series, on_epoch=job.on_epoch,
                              should_stop=job.stop_event.is_set)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            with self._lock:
                self._waiting.remove(job)
                if job.stop_event.is_set():
                    job.status, job.finished_at = CANCELLED, time.monotonic()
                    continue
                self._running.append(job)
                job.status, job.started_at = RUNNING, time.monotonic()
            try:
                try:
                    job.result = self._run(job)
                except SystemError as err:
                    if not _is_ast_race(err):
                        raise
                    job.result = self._run(job)  # a known CPython race; the retry succeeds
                job.status = DONE
            except LabError as err:
                job.error, job.status = str(err), FAILED
            except Exception as err:  # noqa: BLE001 - a worker must survive any job
                job.error = f"Training failed unexpectedly ({type(err).__name__}: {err})."
                job.status = FAILED
            finally:
                job.finished_at = time.monotonic()
                with self._lock:
                    self._running.remove(job)
                    if job.status == DONE:
                        self._durations.append(job.finished_at - job.started_at)


def _is_ast_race(err: SystemError) -> bool:
    """CPython 3.11 can fail to parse source in a thread while another thread parses too
    (python/cpython#106905); TensorFlow's autograph parses the training step's source when it
    traces it, so two trainings starting together can hit it. It is transient."""
    return "AST constructor recursion depth mismatch" in str(err)
