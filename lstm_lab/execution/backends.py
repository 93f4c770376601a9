"""One executor interface for every place a job can run.

``JobRunner`` (execution/jobs.py) keeps the queue, the fairness rules and the estimates; a
``Backend`` only runs one job it is handed, reporting progress through the job's hooks and
honouring its stop flag. Three backends:

- ``ThreadBackend``: the task runs in the runner's own thread (tests, ``LSTM_LAB_IN_PROCESS=1``);
- ``ProcessBackend`` (processes.py): a pool of worker processes, the embedded default;
- ``RayBackend`` (ray_backend.py): Ray tasks on a cluster, with ``LSTM_LAB_RAY_ADDRESS`` set.

``choice.make_backend`` picks one from the environment. A backend sees a job only through the
``Job`` protocol below (the runner's ``Job`` is one), so this package never imports the
queue that uses it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, Protocol

from lstm_lab.execution.tasks import TaskContext, TaskSpec, run_task

IN_PROCESS_VAR = "LSTM_LAB_IN_PROCESS"   # "1": train in threads of the web process
WORKERS_VAR = "LSTM_LAB_WORKERS"         # worker processes (default: one per core)
RAY_VAR = "LSTM_LAB_RAY_ADDRESS"         # e.g. "auto" or "ray://host:10001": run on Ray


class Job(Protocol):
    """What a backend reads and calls of a queued job (``execution.jobs.TrainingJob``)."""

    id: int
    task: Any            # a TaskSpec; a function of the job with the in-thread backend only
    config: Any          # ExperimentConfig | None
    series: Any          # Series | None
    owner: str | None
    notice: str          # why the runner ended it (the text a killed job fails with)

    def should_stop(self) -> bool: ...

    def on_epoch(self, info: Any) -> None: ...

    def on_stage(self, label: str, done: int, total: int) -> None: ...


class Backend(Protocol):
    """Runs one job at a time per slot; the runner calls ``run`` from one thread per slot."""

    slots: int          # jobs it can run at once (the runner's max_concurrent)

    def run(self, job: Job) -> Any:
        """Run ``job.task`` on ``job.config`` and ``job.series``; report progress through
        ``job.on_epoch`` / ``job.on_stage``; honour ``job.should_stop()``; return the result
        object. Raise a LabError with a readable sentence when the job fails."""
        ...

    def warm(self) -> bool:
        """True when a job started now would not pay for importing TensorFlow and its first
        traces (a warmed-up idle worker, or TensorFlow already loaded in this process)."""
        ...

    def kill(self, job: Job) -> bool:
        """End a running job now (its time limit passed and it did not stop when asked):
        True when it was ended (its ``run`` then raises a LabError whose text is
        ``job.notice``, which the runner sets before calling), False when it cannot."""
        ...

    def close(self) -> None:
        """Stop every worker (server shutdown, tests)."""
        ...


def context_of(job: Job, store: Any = None) -> TaskContext:
    """The task context of a job run where it was submitted (hooks go straight to the job)."""
    return TaskContext(config=job.config, series=job.series, params=(job.task or TaskSpec()).params,
                       should_stop=job.should_stop, on_epoch=job.on_epoch,
                       on_stage=job.on_stage, owner=job.owner, store=store)


class ThreadBackend:
    """The task runs in the calling thread of the web process (no isolation, no kill)."""

    def __init__(self, slots: int | None = None, store: Any = None) -> None:
        self.slots = slots or os.cpu_count() or 1
        self._store = store

    def store(self) -> Any:
        if self._store is None:
            from lstm_lab.store import get_store
            return get_store()
        return self._store

    def run(self, job: Job) -> Any:
        if callable(job.task):          # a function of the job: tests only, never across processes
            return job.task(job)
        return run_task(job.task or TaskSpec(), context_of(job, self.store()))

    def warm(self) -> bool:
        return "tensorflow" in sys.modules

    def kill(self, job: Job) -> bool:
        return False

    def close(self) -> None:
        pass


def worker_count(environ: Mapping[str, str]) -> int:
    """``LSTM_LAB_WORKERS`` as a whole number >= 1 (default: the core count)."""
    from lstm_lab.errors import ConfigError

    raw = environ.get(WORKERS_VAR, "").strip()
    if not raw:
        return os.cpu_count() or 1
    try:
        count = int(raw)
    except ValueError:
        raise ConfigError(f"{WORKERS_VAR} must be a whole number of worker processes. "
                          f"Received: {WORKERS_VAR}={raw!r}") from None
    if count < 1:
        raise ConfigError(f"{WORKERS_VAR} must be >= 1. Received: {WORKERS_VAR}={raw!r}")
    return count
