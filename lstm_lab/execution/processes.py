"""A pool of worker processes: the embedded default backend of ``make run``.

Each worker (``python -m lstm_lab.execution.worker``) imports TensorFlow and traces the default
networks when it starts, so the web process never imports TensorFlow and the first Train of a
server does not pay for it. A job goes to an idle worker as bytes (``wire.encode_job``); its
progress events come back as they happen and go to the job's hooks, Stop is passed on, and the
result comes back as bytes (``wire.decode_result``: plain data and saved network weights, never
a pickle). The worker saves a comparison to the run store itself (same machine, same database).

Faults end one worker and fail one job; the worker is replaced at once (the new one warms up in
the background) and every other job goes on:

- a job past its time limit that did not stop when asked (``kill``, called by the runner after
  ``stop_grace_seconds``): its worker is killed, the job fails with ``job.notice``;
- a worker past ``max_worker_memory_mb`` of resident memory while it runs a job (polled from
  /proc): killed, the job fails with ``worker.memory_note``;
- a worker that dies mid-job (a crash, ``kill -9``, the system's OOM killer): the job fails with
  ``worker.death_note`` naming the exit code or signal.

Workers exit when their input pipe closes: ``close()``, or the web process dying for any reason.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_lab.errors import ConfigError, LabError
from lstm_lab.execution import worker as worker_side
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.limits import get_limits

if TYPE_CHECKING:
    from lstm_lab.execution.backends import Job

POLL_SECONDS = 0.2          # how often a running job's stop flag and its worker's memory are read
MEMORY_POLL_SECONDS = 0.5
FAILED_STARTS = 3           # workers dying before ready, in a row, before the pool gives up
_ROOT = str(Path(__file__).resolve().parents[2])   # the folder holding the lstm_lab package


class _Worker:
    """One worker process, its pipes, and the reader thread that queues what it says."""

    def __init__(self, env: dict[str, str], on_exit: Any, warm_up: bool = True) -> None:
        to_child, self._in = os.pipe()          # we write jobs, the worker reads them
        self._out, from_child = os.pipe()       # the worker writes events, we read them
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lstm_lab.execution.worker", str(to_child),
                 str(from_child), *([] if warm_up else ["--no-warm-up"])],
                pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL, env=env, cwd=_ROOT)
        finally:
            os.close(to_child)
            os.close(from_child)
        self.pid = self.proc.pid
        self.writer = os.fdopen(self._in, "wb")
        self.events: queue.Queue[tuple[dict[str, Any], bytes | None]] = queue.Queue()
        self.ready = threading.Event()
        self.info: dict[str, Any] = {}
        self.started = time.monotonic()
        self.job: Job | None = None
        self.end_note = ""          # why we killed it (time limit, memory): the job's error
        self.returncode: int | None = None
        self.exited = threading.Event()
        self._write_lock = threading.Lock()
        self._on_exit = on_exit
        threading.Thread(target=self._read, name=f"lstm-lab-worker-{self.pid}",
                         daemon=True).start()

    def _read(self) -> None:
        reader = os.fdopen(self._out, "rb")
        try:
            while True:
                message, payload = worker_side.read_frame(reader)
                if message.get("type") == "ready":
                    self.info = {**message, "start_seconds": time.monotonic() - self.started}
                    self.ready.set()
                self.events.put((message, payload))
        except (worker_side.ChannelClosed, OSError, ValueError):
            pass
        finally:
            reader.close()
            self.returncode = self.proc.wait()
            self.exited.set()
            self.events.put(({"type": "exit"}, None))
            self._on_exit(self)

    def send(self, message: dict[str, Any], payload: bytes | None = None) -> bool:
        """False when the worker is gone (its pipe is closed)."""
        with self._write_lock:
            try:
                worker_side.write_frame(self.writer, message, payload)
                return True
            except (BrokenPipeError, OSError, ValueError):
                return False

    def kill(self, note: str) -> None:
        self.end_note = self.end_note or note
        with contextlib.suppress(OSError):
            self.proc.kill()

    def close(self) -> None:
        with self._write_lock, contextlib.suppress(OSError):
            self.writer.close()

    @property
    def alive(self) -> bool:
        return not self.exited.is_set()


class ProcessBackend:
    """``slots`` worker processes, started (and warming up) as soon as the backend is made.

    Args:
        slots: worker processes, i.e. jobs at once (``LSTM_LAB_WORKERS``, default the cores).
        threads: TensorFlow threads per worker (default ``LSTM_LAB_WORKER_THREADS``, else the
            cores shared out between the workers, at least 1).
        warm_up: False starts workers without the warm-up (tests of the plumbing only).
    """

    def __init__(self, slots: int, threads: int | None = None, warm_up: bool = True) -> None:
        if slots < 1:
            raise ConfigError(f"A pool needs at least one worker process. Received: {slots}.")
        self.slots = slots
        env = {**os.environ}
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
        if threads is not None:
            env[worker_side.THREADS_VAR] = str(threads)
        else:
            env.setdefault(worker_side.THREADS_VAR, str(max(1, (os.cpu_count() or 1) // slots)))
        self._env = env
        self._warm_up = warm_up
        self._lock = threading.Condition(threading.Lock())
        self._closed = False
        self._failed_starts = 0
        self._broken = ""
        self._workers: list[_Worker] = []
        with self._lock:
            for _ in range(slots):
                self._workers.append(self._spawn())

    # --- the pool ----------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        return _Worker(self._env, self._exited, self._warm_up)

    def _exited(self, worker: _Worker) -> None:
        """A worker's pipe closed: replace it unless a job of it is being failed (``run``
        replaces it then) or the pool is closing."""
        with self._lock:
            if worker.ready.is_set() or self._closed:
                self._failed_starts = 0
            else:
                self._failed_starts += 1
                if self._failed_starts >= FAILED_STARTS:
                    self._broken = worker_side.exit_description(worker.returncode)
            if worker.job is None and worker in self._workers:
                self._replace(worker)
            self._lock.notify_all()

    def _replace(self, worker: _Worker) -> None:
        """Swap a dead worker for a new one (the lock is held)."""
        if worker in self._workers:
            self._workers.remove(worker)
        if not self._closed and not self._broken:
            self._workers.append(self._spawn())

    def warm(self) -> bool:
        """True when an idle worker has finished its warm-up: a job now starts at once."""
        with self._lock:
            return any(w.ready.is_set() and w.job is None and w.alive for w in self._workers)

    def workers(self) -> list[dict[str, Any]]:
        """Each worker's pid, whether it is ready, busy, and what its start took (seconds,
        resident MiB after the warm-up)."""
        with self._lock:
            return [{"pid": w.pid, "ready": w.ready.is_set(), "busy": w.job is not None,
                     "start_seconds": w.info.get("start_seconds"),
                     "warm_seconds": w.info.get("warm_seconds"), "rss_mb": w.info.get("rss_mb"),
                     "warm_error": w.info.get("warm_error")} for w in self._workers]

    def pid_of(self, job: Job) -> int | None:
        """The process id of the worker running ``job`` (None when none runs it)."""
        with self._lock:
            return next((w.pid for w in self._workers if w.job is job), None)

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Block until every worker has warmed up (tests, benches); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not all(w.ready.is_set() for w in self._workers):
                left = deadline - time.monotonic()
                if left <= 0 or self._broken:
                    return False
                self._lock.wait(min(left, 0.2))
            return True

    def _acquire(self, job: Job) -> _Worker:
        """An idle worker for ``job`` (a warmed-up one first); waits while all are busy."""
        with self._lock:
            while True:
                if self._closed:
                    raise LabError("The server is shutting down: this job was not run; try "
                                   "again in a minute.")
                if self._broken:
                    raise LabError(f"The training workers of this server could not start (the "
                                   f"last one: {self._broken}); tell whoever runs the server to "
                                   "read its log, or to set LSTM_LAB_IN_PROCESS=1.")
                idle = [w for w in self._workers if w.job is None and w.alive]
                if idle:
                    worker = next((w for w in idle if w.ready.is_set()), idle[0])
                    worker.job = job
                    return worker
                self._lock.wait(0.5)

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            worker.job = None
            if not worker.alive or worker.end_note:
                self._replace(worker)
            self._lock.notify_all()

    # --- the Backend interface -------------------------------------------------------------------

    def run(self, job: Job) -> Any:
        """Run ``job`` on an idle worker; progress to its hooks, Stop passed on, the result
        decoded. Raises a LabError when the job fails, its worker is killed, or dies."""
        from lstm_lab.execution import wire

        if callable(job.task):
            raise ConfigError("A job given as a function can run only in the web process "
                              "(LSTM_LAB_IN_PROCESS=1); queue a named task (TaskSpec) instead.")
        payload = wire.encode_job(job.task or TaskSpec(), job.config, job.series, job.owner)
        worker = self._acquire(job)
        try:
            return self._drive(worker, job, payload)
        finally:
            self._release(worker)

    def _drive(self, worker: _Worker, job: Job, payload: bytes) -> Any:
        from lstm_lab.execution import wire

        message = {"type": "job", "id": job.id, "env": worker_side.job_environment()}
        if not worker.send(message, payload):
            worker.exited.wait(5)
        stop_sent = False
        next_memory = 0.0
        cap = get_limits().max_worker_memory_mb
        while True:
            if not stop_sent and job.should_stop() and worker.alive:
                stop_sent = worker.send({"type": "stop", "id": job.id})
            now = time.monotonic()
            if now >= next_memory and worker.alive:
                next_memory = now + MEMORY_POLL_SECONDS
                if worker_side.resident_mb(worker.pid) > cap:
                    worker.kill(worker_side.memory_note(cap))
            try:
                event, data = worker.events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            kind = event.get("type")
            if kind == "exit":
                raise LabError(worker.end_note or worker_side.death_note(worker.returncode))
            if event.get("id") not in (None, job.id):
                continue                       # a late message of an earlier job
            if kind == "result":
                return wire.decode_result(data or b"")
            if kind == "error":
                worker_side.raise_error(event)
            worker_side.deliver(event, job.on_epoch, job.on_stage)

    def kill(self, job: Job) -> bool:
        """End ``job`` by killing its worker (a replacement starts); its ``run`` then raises
        LabError(job.notice). False when no worker runs it."""
        with self._lock:
            worker = next((w for w in self._workers if w.job is job and w.alive), None)
        if worker is None:
            return False
        worker.kill(job.notice or "This job was ended by the server.")
        return True

    def close(self) -> None:
        """End every worker: close their pipes (they exit), kill any still there after 5 s."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._lock.notify_all()
        for worker in workers:
            worker.close()
        deadline = time.monotonic() + 5
        for worker in workers:
            try:
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait(5)
