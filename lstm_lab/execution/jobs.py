"""A training queue shared by every session of one server.

Jobs run on a backend (``execution.backends``: worker processes by default on a server, a Ray
cluster, or threads of this process), at most ``max_concurrent`` at a time (the backend's slots,
by default the core count), in first-come order. Each job records live progress (epochs,
losses) that a page can poll, honours a stop request (a queued job leaves the queue; a running
one keeps what it learned so far), and ends with a result or a readable error. No Streamlit
here: the UI polls ``snapshot``.

The runner also keeps the server fair (``Limits``, read from the environment on every submit
unless given):

- one job per owner (a session's history key): a second submit from the same owner stops the
  running one or takes the queued one out of the queue, whatever tab or page it came from. The
  new job does not start while the owner's earlier job is still running (a stopped job ends
  after its current chunk of epochs): a worker takes the next waiting job of another owner
  instead, so pressing Train again and again holds one worker, not all of them;
- at most ``max_jobs_per_client`` jobs running or waiting per client (the browser, see
  ``ui.owner.session_client``): every tab and reload is a new Streamlit session with a new
  owner, but the same browser, so opening tabs cannot get round the one-job-per-owner rule. One
  more is refused with ``ClientBusyError`` (``LSTM_LAB_MAX_JOBS_PER_CLIENT``);
- at most ``max_queue`` jobs running or waiting on the whole server: one more is refused with
  ``QueueFullError``, which says how long to wait;
- both caps count a job that was asked to stop until it has returned: it still holds a worker;
- at most ``max_job_seconds`` of running time per job (queue time does not count): past it the
  job's stop flag is raised, so every task that honours Stop honours the limit too, and the job
  (and the result's ``notes``, when it has them) says it hit the time limit. A job stopped
  because its owner started another says so the same way.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.execution.backends import Backend, ThreadBackend
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments import estimate
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.estimate import JobCost
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.limits import Limits, env_var, get_limits
from lstm_lab.models.base import EpochInfo

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
# why a job was asked to stop
BY_USER, REPLACED, TIME_LIMIT = "stopped by you", "replaced", "time limit"
DEFAULT_JOB_SECONDS = 5.0   # a typical job's duration before any has finished
_ids = itertools.count(1)


class QueueFullError(LabError):
    """The server's training queue holds ``max_queue`` jobs already."""


class ClientBusyError(LabError):
    """One client (browser) has ``max_jobs_per_client`` jobs running or waiting."""


@dataclass(eq=False)
class TrainingJob:
    """One submitted experiment and everything a page needs to show about it."""

    config: ExperimentConfig
    series: Series
    # what it runs: a named task (``execution.tasks``; default: Train & compare), or, with the
    # in-thread backend only, a function of the job (tests)
    task: TaskSpec | Callable[[TrainingJob], Any] | None = None
    label: str = "Training"
    owner: str | None = None           # the session's history key; None: no per-owner rule
    client: str | None = None          # the browser (ui.owner.session_client); None: no cap
    id: int = field(default_factory=lambda: next(_ids))
    status: str = QUEUED
    submitted_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    finished_at: float | None = None
    stop_reason: str = ""              # BY_USER | REPLACED | TIME_LIMIT once a stop was asked
    replaced: str = ""                 # what became of the owner's earlier job: stopped | cancelled
    notice: str = ""                   # a sentence for the page about how the job ended
    current_model: str | None = None
    current_variant: str = ""          # with tuning: the variant of the network training now
    variants: int = 1                  # variants each network trains (tuning: up to 3)
    variant_index: int = 0
    units_done: int = 0                # networks (or variants) finished in this stage
    stage: str = ""                    # e.g. "fold 2 of 3" for multi-stage tasks
    cost: JobCost | None = None        # what it should take (estimate.py); None: unknown
    expected_seconds: float = 0.0      # its running time estimated when it was submitted
    cold_start: bool = False           # it started where TensorFlow was not loaded and warm yet
    not_before: float = 0.0            # time.monotonic() before which it does not start
    stages_done: int = 0
    stages_total: int = 1
    histories: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    result: ExperimentResult | None = None
    error: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _runner: JobRunner | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED, CANCELLED)

    def request_stop(self) -> None:
        """Stop: a queued job leaves the queue at once, a running one ends after its current
        chunk of epochs, keeping what it learned."""
        if not self.stop_event.is_set():
            self.stop_reason = self.stop_reason or BY_USER
        self.stop_event.set()
        if self._runner is not None:
            self._runner._withdraw(self)

    def should_stop(self) -> bool:
        """True once a stop was requested, the time limit passed, or the job was replaced."""
        return self.stop_event.is_set()

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

    def elapsed(self) -> float:
        """Seconds since it started running (0 while queued)."""
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started_at

    def progress(self) -> float:
        """Share of the work done (0..1): networks (and, with tuning, their variants) trained one
        after another, each counted whole once the next one starts (early stopping ends a
        network before its last epoch)."""
        if self.status == DONE:
            return 1.0
        if self.config is None:          # a task without a config (a Learn experiment)
            return 0.0
        units = max(1, len(self.config.neural_models)) * self.variants
        with self._lock:
            current = len(self.histories.get(self.current_model, {"loss": []})["loss"])
            stage_share = min(1.0, (self.units_done + current / self.config.epochs) / units)
            return min(0.99, (self.stages_done + stage_share) / self.stages_total)

    def live_histories(self) -> dict[str, dict[str, list[float]]]:
        with self._lock:
            return {m: {"loss": list(h["loss"]), "val_loss": list(h["val_loss"])}
                    for m, h in self.histories.items()}


def client_busy_message(count: int, cap: int) -> str:
    """Why a client's next job is refused: ``count`` jobs of it hold places (cap ``cap``)."""
    many = "trainings" if count != 1 else "training"
    return (f"You already have {count} {many} running or waiting on this server (from this or "
            f"another tab). Stop one, or wait for it to finish (the server allows {cap:,} per "
            f"browser: {env_var('max_jobs_per_client')}).")


def time_limit_note(seconds: int) -> str:
    """What a job that hit ``max_job_seconds`` says about it."""
    return (f"This job reached the server's time limit of {seconds:,} s of running time per job "
            f"({env_var('max_job_seconds')}) and was stopped: what it finished is kept.")


def time_limit_kill_note(seconds: int) -> str:
    """What a job says when it was ended by killing its worker at the time limit."""
    return (f"This job reached the server's time limit of {seconds:,} s of running time per job "
            f"({env_var('max_job_seconds')}) and did not stop when asked, so its worker was "
            "ended: nothing of it was kept. Try fewer epochs or a smaller network.")


class JobRunner:
    """Worker threads pulling jobs from one first-come-first-served queue.

    Args:
        max_concurrent: jobs running at once (default: the backend's slots, else the core count).
        limits: the limits to enforce; None reads ``get_limits()`` on every submit, so a
            change of the environment applies to the next job.
        backend: where jobs run (``execution.backends``); default: threads of this process.
    """

    def __init__(self, max_concurrent: int | None = None, limits: Limits | None = None,
                 backend: Backend | None = None) -> None:
        self.backend = backend or ThreadBackend(max_concurrent)
        self.max_concurrent = max_concurrent or self.backend.slots or os.cpu_count() or 1
        self.limits = limits
        self._waiting: list[TrainingJob] = []
        self._running: list[TrainingJob] = []
        self._durations: list[float] = []
        self.rates = estimate.RATES
        self._lock = threading.Condition(threading.Lock())
        for i in range(self.max_concurrent):
            threading.Thread(target=self._work, name=f"lstm-lab-trainer-{i}", daemon=True).start()

    def _limits(self) -> Limits:
        return self.limits or get_limits()

    def _warm(self) -> bool:
        """A job starting now would not import TensorFlow nor trace its first networks (a
        warmed-up worker is idle, or this process has TensorFlow loaded already)."""
        warm = getattr(self.backend, "warm", None)
        return bool(warm()) if callable(warm) else "tensorflow" in sys.modules

    def seconds(self, cost: JobCost) -> float:
        """A job's expected running time on this runner's backend (what pages show beside
        Train): the startup (TensorFlow's import) only when no warm worker would take it."""
        seconds = self.rates.seconds(cost)
        if "tensorflow" not in sys.modules and self._warm():   # the rate book counted it
            seconds -= cost.startup
        return seconds

    def submit(self, config: ExperimentConfig, series: Series,
               task: TaskSpec | Callable[[TrainingJob], Any] | None = None,
               label: str = "Training", owner: str | None = None,
               client: str | None = None, cost: JobCost | None = None,
               grace: float = 0.0) -> TrainingJob:
        """Queue a job; ``task`` (a ``TaskSpec``) replaces the default comparison (backtests,
        forecasts, sweeps, Learn's experiments).

        ``cost`` (``estimate.py``) is what the job should take; without one, a job with the
        default task is counted as a comparison of its config, any other as unknown (the queue
        then counts it at the typical duration of the latest jobs). Every job that finishes
        unstopped adds its seconds per work unit to ``estimate.RATES``.

        ``grace``: seconds the job waits before it may start, so the page that queued it can
        show its status first (a starting job imports TensorFlow and traces its networks, which
        holds the interpreter and slows the server's replies for seconds).

        With an ``owner``, that owner's earlier unfinished job is taken out of the queue (or
        stopped, when running); the new job's ``replaced`` says which ("cancelled" or "stopped").
        A stopped job keeps running until its current phase checks the flag: the new job waits
        for it (``waiting_for_owner``) and counts, with it, towards both caps below.

        Raises:
            ClientBusyError: ``client`` has ``max_jobs_per_client`` jobs running or waiting
                already, from any tab (a job of the owner's about to leave the queue does not
                count; a running one, stopped or not, does); nothing is queued or stopped.
            QueueFullError: ``max_queue`` jobs are running or waiting already (counted the
                same way); nothing is queued or stopped.
        """
        limits = self._limits()
        if (cost is None and (task is None or getattr(task, "name", "") == "compare")
                and config is not None and series is not None):
            cost = estimate.compare_cost(config, series)
        job = TrainingJob(config, series, task, label, owner, client, _runner=self, cost=cost)
        job.not_before = job.submitted_at + grace
        job.expected_seconds = self.seconds(cost) if cost is not None else 0.0
        with self._lock:
            mine = [j for j in self._waiting + self._running if owner is not None
                    and j.owner == owner and not j.stop_event.is_set()]
            # the owner's waiting job leaves the queue now; every running job holds a worker
            # until it returns, even once asked to stop
            held = [j for j in self._waiting + self._running
                    if not (j in mine and j in self._waiting)]
            same_client = [j for j in held if client is not None and j.client == client]
            if len(same_client) >= limits.max_jobs_per_client:
                raise ClientBusyError(client_busy_message(len(same_client),
                                                          limits.max_jobs_per_client))
            if len(held) >= limits.max_queue:
                wait = self._wait_for_room(len(held) - limits.max_queue + 1)
                many = "trainings are" if len(held) != 1 else "training is"
                raise QueueFullError(f"The server is full: {len(held)} {many} running or "
                                     f"waiting. Try again in about {wait} s.")
            for old in mine:
                old.stop_reason = REPLACED
                old.notice = ("This training was stopped because you started another one "
                              "(one training per person at a time).")
                old.stop_event.set()
                if old in self._waiting:
                    self._cancel(old)
                    job.replaced = job.replaced or "cancelled"
                else:
                    job.replaced = "stopped"
            self._waiting.append(job)
            self._lock.notify_all()
        return job

    def position(self, job: TrainingJob) -> int:
        """1-based place among waiting jobs; 0 when running or finished."""
        with self._lock:
            return self._waiting.index(job) + 1 if job in self._waiting else 0

    def waiting_for_owner(self, job: TrainingJob) -> bool:
        """True while ``job`` waits because its owner's earlier job is still running (it was
        asked to stop and ends after its current chunk of work)."""
        with self._lock:
            return job in self._waiting and self._owner_busy(job)

    def _owner_busy(self, job: TrainingJob) -> bool:
        """The lock is held: a job of ``job``'s owner is running."""
        return job.owner is not None and any(r.owner == job.owner for r in self._running)

    def _client_busy(self, job: TrainingJob) -> bool:
        """The lock is held: a job of ``job``'s client (browser) is running."""
        return job.client is not None and any(r.client == job.client for r in self._running)

    def _next(self) -> TrainingJob | None:
        """The first waiting job whose owner and browser have no job running (the lock is held):
        one browser never holds two workers, so its second tab's job cannot crowd out another
        student's on a small server -- it waits for the first one instead. A job in its grace
        period (``submit``) waits too."""
        now = time.monotonic()
        return next((j for j in self._waiting if j.not_before <= now
                     and not self._owner_busy(j) and not self._client_busy(j)), None)

    def _sleep(self) -> None:
        """Wait for a change, or until the next job's grace period ends (the lock is held)."""
        graces = [j.not_before for j in self._waiting if j.not_before > time.monotonic()]
        self._lock.wait(max(0.01, min(graces) - time.monotonic()) if graces else None)

    def _typical(self) -> float:
        """Median duration of the latest finished jobs (capped by the time limit)."""
        recent = sorted(self._durations[-20:])
        typical = recent[len(recent) // 2] if recent else DEFAULT_JOB_SECONDS
        return min(typical, float(self._limits().max_job_seconds))

    def _wait_for_room(self, finishing: int) -> int:
        """Whole seconds until ``finishing`` jobs should have ended (called under the lock)."""
        return max(1, math.ceil(self._typical() * finishing / self.max_concurrent))

    def _expected(self, job: TrainingJob) -> float:
        """A job's whole running time: its estimate, else the typical duration (lock held)."""
        return job.expected_seconds or self._typical()

    def _left(self, job: TrainingJob) -> float:
        """Seconds a running job should still take (lock held): at least a second."""
        return max(1.0, self._expected(job) - job.elapsed())

    def estimated_wait(self, job: TrainingJob) -> float:
        """Seconds until the job should start: what the running jobs have left, then the jobs
        ahead of it one after another, spread over the workers (``estimate.queue_wait``)."""
        with self._lock:
            if job not in self._waiting:
                return 0.0
            ahead = self._waiting[:self._waiting.index(job)]
            return estimate.queue_wait([self._left(r) for r in self._running],
                                       [self._expected(j) for j in ahead], self.max_concurrent)

    def wait_for_new(self) -> tuple[float, int]:
        """(seconds, jobs ahead) for a job submitted now: it would wait behind every job
        waiting (0 seconds when a worker is free)."""
        with self._lock:
            ahead = len(self._waiting)
            return estimate.queue_wait([self._left(r) for r in self._running],
                                       [self._expected(j) for j in self._waiting],
                                       self.max_concurrent), ahead

    def time_left(self, job: TrainingJob) -> float:
        """Seconds the job should still take once started (its whole estimate while queued)."""
        with self._lock:
            return self._left(job) if job in self._running else self._expected(job)

    def busy(self) -> tuple[int, int]:
        with self._lock:
            return len(self._running), len(self._waiting)

    def active(self, owner: str) -> list[TrainingJob]:
        """The owner's jobs waiting or running and not asked to stop: at most one."""
        with self._lock:
            return [j for j in self._running + self._waiting
                    if j.owner == owner and not j.stop_event.is_set()]

    def _cancel(self, job: TrainingJob) -> None:
        """Take a waiting job out of the queue (the lock is held)."""
        self._waiting.remove(job)
        job.status, job.finished_at = CANCELLED, time.monotonic()

    def _withdraw(self, job: TrainingJob) -> None:
        with self._lock:
            if job in self._waiting:
                self._cancel(job)

    def _time_out(self, job: TrainingJob, seconds: int) -> None:
        """Raise the stop flag of a job that ran past ``max_job_seconds``."""
        with self._lock:
            if job.finished or job.stop_event.is_set():
                return
            job.stop_reason, job.notice = TIME_LIMIT, time_limit_note(seconds)
            job.stop_event.set()
        grace = threading.Timer(self._limits().stop_grace_seconds, self._kill, (job, seconds))
        grace.daemon = True
        grace.start()

    def _kill(self, job: TrainingJob, seconds: int) -> None:
        """A job past its time limit that did not stop when asked: its backend ends it (a
        worker process is killed and replaced; a thread cannot be, and goes on)."""
        if job.finished:
            return
        job.notice = time_limit_kill_note(seconds)   # the backend's error names it (set first)
        if not self.backend.kill(job):
            job.notice = time_limit_note(seconds)

    def _run(self, job: TrainingJob) -> Any:
        return self.backend.run(job)

    def _work(self) -> None:
        while True:
            with self._lock:
                while (job := self._next()) is None:
                    self._sleep()
                self._waiting.remove(job)
                self._running.append(job)
                job.status, job.started_at = RUNNING, time.monotonic()
                job.cold_start = not self._warm()
            seconds = self._limits().max_job_seconds
            clock = threading.Timer(seconds, self._time_out, (job, seconds))
            clock.daemon = True
            clock.start()
            try:
                try:
                    job.result = self._run(job)
                except SystemError as err:
                    if not _is_ast_race(err):
                        raise
                    job.result = self._run(job)  # a known CPython race; the retry succeeds
                if job.stop_reason in (TIME_LIMIT, REPLACED):   # why the result is partial
                    _add_note(job.result, job.notice)
                job.status = DONE
            except LabError as err:
                job.error, job.status = str(err), FAILED
            except Exception as err:  # noqa: BLE001 - a worker must survive any job
                job.error = f"Training failed unexpectedly ({type(err).__name__}: {err})."
                job.status = FAILED
            finally:
                clock.cancel()
                job.finished_at = time.monotonic()
                with self._lock:
                    self._running.remove(job)
                    if job.status == DONE and not job.stop_event.is_set():
                        self._durations.append(job.finished_at - job.started_at)
                        if job.cost is not None:
                            self.rates.record(job.cost, job.finished_at - job.started_at,
                                              job.cold_start)
                    self._lock.notify_all()   # the owner's next job may start now


def _add_note(result: Any, note: str) -> None:
    """Append ``note`` to a result's ``notes`` list, for results that have one."""
    notes = getattr(result, "notes", None)
    if isinstance(notes, list) and note not in notes:
        notes.append(note)


def _is_ast_race(err: SystemError) -> bool:
    """CPython 3.11 can fail to parse source in a thread while another thread parses too
    (python/cpython#106905); TensorFlow's autograph parses the training step's source when it
    traces it, so two trainings starting together can hit it. It is transient."""
    return "AST constructor recursion depth mismatch" in str(err)
