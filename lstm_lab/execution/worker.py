"""The worker side of a job, shared by worker processes (processes.py) and Ray tasks.

``run_encoded`` turns a job's bytes (``wire.encode_job``) back into a task, runs it with hooks
that send its progress as plain dicts, and returns the result's bytes (``wire.encode_result``).

Run as a program (``python -m lstm_lab.execution.worker IN_FD OUT_FD``) it is one worker
process of ``ProcessBackend``: it reads jobs and stop requests from the file descriptor
``IN_FD`` and writes ready / progress / result / error messages to ``OUT_FD`` (dedicated pipes:
TensorFlow's own output on stdout and stderr cannot corrupt them). It imports TensorFlow and
statsmodels and trains the default networks briefly first (``warm_up``), so the first real
job of a server pays neither the import nor the first traces, then says it is ready. It exits
as soon as its input pipe reaches end of file: the web process closed it, or died.

Messages are frames: an 8-byte header (the JSON part's length, then the binary part's length,
big-endian), a JSON object (UTF-8), and optional raw bytes (a job, a result). Nothing is ever
pickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from lstm_lab.errors import LabError
from lstm_lab.limits import env_var

THREADS_VAR = "LSTM_LAB_WORKER_THREADS"   # TensorFlow threads per worker (default: cores/workers)
_HEADER = struct.Struct(">II")
MAX_JSON_BYTES = 64 * 1024 * 1024         # one message's JSON part (events, errors: small)
MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024    # one job's or result's bytes (wire caps them lower)


# --- frames ----------------------------------------------------------------------------------------

class ChannelClosed(Exception):
    """The other end closed its pipe (or it broke mid-message)."""


def write_frame(stream: IO[bytes], message: dict[str, Any], payload: bytes | None = None) -> None:
    """Write one message (and its optional bytes) and flush it."""
    head = json.dumps(message, separators=(",", ":")).encode("utf-8")
    body = payload or b""
    stream.write(_HEADER.pack(len(head), len(body)) + head + body)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ChannelClosed()
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: IO[bytes]) -> tuple[dict[str, Any], bytes | None]:
    """The next message and its bytes (None when it has none).

    Raises:
        ChannelClosed: end of file (or a malformed frame: the channel cannot be trusted)."""
    head_size, body_size = _HEADER.unpack(_read_exactly(stream, _HEADER.size))
    if head_size > MAX_JSON_BYTES or body_size > MAX_PAYLOAD_BYTES:
        raise ChannelClosed()
    try:
        message = json.loads(_read_exactly(stream, head_size).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ChannelClosed() from None
    if not isinstance(message, dict):
        raise ChannelClosed()
    return message, (_read_exactly(stream, body_size) if body_size else None)


# --- what a student reads when a worker ends ---------------------------------------------------------

def memory_note(limit_mb: int) -> str:
    """A job whose worker passed ``max_worker_memory_mb`` and was ended (processes and Ray)."""
    return (f"This job needed more than {limit_mb:,} MiB of memory on its worker "
            f"({env_var('max_worker_memory_mb')}) and was ended; try a smaller network, a "
            "shorter window or a shorter series.")


def exit_description(returncode: int | None) -> str:
    """How a process ended, in words: "it was killed by signal 9, SIGKILL"."""
    if returncode is None:
        return "for an unknown reason"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"it was killed by signal {-returncode}, {name}"
    return f"it exited with code {returncode}"


def death_note(returncode: int | None) -> str:
    """A job whose worker process died under it (a crash, ``kill -9``, the system's OOM killer)."""
    return ("The worker process running this job stopped unexpectedly "
            f"({exit_description(returncode)}), so nothing of the job was kept; press Train to "
            "run it again, and if it happens again, try a smaller network.")


def unexpected_note(err: BaseException) -> str:
    """The same sentence the in-thread runner gives for a bug (``jobs.JobRunner``)."""
    return f"Training failed unexpectedly ({type(err).__name__}: {err})."


def error_message(err: BaseException) -> dict[str, Any]:
    """An exception of a task as a plain message (``raise_error`` raises it again)."""
    if isinstance(err, LabError):
        return {"type": "error", "lab": True, "class": type(err).__name__, "message": str(err)}
    return {"type": "error", "lab": False, "class": type(err).__name__,
            "message": unexpected_note(err)}


def raise_error(message: dict[str, Any]) -> None:
    """Raise the LabError a worker reported: the same class when it is one of ``errors``'s."""
    from lstm_lab import errors

    cls = getattr(errors, str(message.get("class", "")), None) if message.get("lab") else None
    if not (isinstance(cls, type) and issubclass(cls, LabError)):
        cls = LabError
    raise cls(str(message.get("message") or "Training failed in its worker."))


# --- running one job -----------------------------------------------------------------------------

def run_encoded(job: bytes, send: Callable[[dict], None], should_stop: Callable[[], bool],
                store: Any) -> bytes:
    """Decode ``job``, run its task, and return its result's bytes.

    Progress goes to ``send`` as plain dicts: ``{"type": "epoch", "info": {...}}`` (an
    ``EpochInfo``, ``wire.event_to_plain``) and ``{"type": "stage", "label", "done",
    "total"}``; ``deliver`` hands them to a job's hooks on the other side. ``store``: the run
    store the task saves to (None on a remote machine). A LabError propagates (its text is the
    job's error)."""
    from lstm_lab.execution import wire
    from lstm_lab.execution.tasks import TaskContext, run_task

    spec, config, series, owner = wire.decode_job(job)

    def on_epoch(info: Any) -> None:
        send({"type": "epoch", "info": wire.event_to_plain(info)})

    def on_stage(label: str, done: int, total: int) -> None:
        send({"type": "stage", "label": str(label), "done": int(done), "total": int(total)})

    ctx = TaskContext(config=config, series=series, params=spec.params, should_stop=should_stop,
                      on_epoch=on_epoch, on_stage=on_stage, owner=owner, store=store)
    return wire.encode_result(run_task(spec, ctx))


def deliver(event: dict[str, Any], on_epoch: Callable[[Any], None],
            on_stage: Callable[[str, int, int], None]) -> bool:
    """Hand a progress event of ``run_encoded`` to a job's hooks; False when it is not one."""
    kind = event.get("type")
    if kind == "epoch":
        from lstm_lab.execution import wire

        on_epoch(wire.event_from_plain(event["info"]))
        return True
    if kind == "stage":
        on_stage(str(event["label"]), int(event["done"]), int(event["total"]))
        return True
    return False


# --- warming a worker up ---------------------------------------------------------------------------

def thread_count(environ: dict[str, str] | None = None) -> int:
    """TensorFlow's threads in this worker: ``LSTM_LAB_WORKER_THREADS`` (default 1)."""
    raw = (os.environ if environ is None else environ).get(THREADS_VAR, "").strip()
    try:
        return max(1, int(raw)) if raw else 1
    except ValueError:
        return 1


def limit_threads(threads: int) -> None:
    """Import TensorFlow and give it ``threads`` threads for one op and for parallel ops, so N
    workers on N cores do not fight over them (call before TensorFlow runs anything)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:          # TensorFlow already ran something: too late, keep its own
        pass


def resident_mb(pid: int | None = None) -> float:
    """Resident memory of a process (default: this one) in MiB, from /proc; 0 when unknown."""
    try:
        with open(f"/proc/{pid or 'self'}/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def warm_up(threads: int | None = None) -> dict[str, Any]:
    """Import TensorFlow and statsmodels and train the default experiment's models briefly
    (two epochs, airline passengers), so this process's first real job starts at once.

    Returns ``{"warm_seconds", "rss_mb"}``, plus ``"warm_error"`` when a step failed (the
    worker still runs jobs: a missing TensorFlow only fails the jobs that need it)."""
    started = time.perf_counter()
    info: dict[str, Any] = {}
    try:
        limit_threads(thread_count() if threads is None else threads)
        from dataclasses import replace

        import statsmodels.tsa.holtwinters  # noqa: F401
        import statsmodels.tsa.statespace.sarimax  # noqa: F401

        from lstm_lab.data.datasets import load_air_passengers
        from lstm_lab.experiments.config import ExperimentConfig
        from lstm_lab.experiments.training import run_experiment

        run_experiment(replace(ExperimentConfig(), epochs=2, patience=0), load_air_passengers())
        _clear_keras()
    except Exception as err:  # noqa: BLE001 - a worker that cannot warm up still serves
        info["warm_error"] = unexpected_note(err)
    info.update(warm_seconds=round(time.perf_counter() - started, 2), rss_mb=round(resident_mb(), 1))
    return info


def _clear_keras() -> None:
    """Drop Keras's global graph state between jobs (memory grows otherwise)."""
    keras = sys.modules.get("keras")
    if keras is not None:
        with contextlib.suppress(Exception):     # only housekeeping
            keras.backend.clear_session()


# --- the worker process ----------------------------------------------------------------------------

# Environment variables a job carries from the web process, so a worker reads the limits and
# the run store in force when the job was submitted (as a thread of the web process would).
def job_environment(environ: dict[str, str] | None = None) -> dict[str, str | None]:
    from lstm_lab.limits import ENV_VARS
    from lstm_lab.store import DB_ENV_VAR

    env = os.environ if environ is None else environ
    return {var: env.get(var) for var in (*ENV_VARS.values(), DB_ENV_VAR)}


def _apply_environment(values: dict[str, Any]) -> None:
    for var, value in (values or {}).items():
        if value is None:
            os.environ.pop(str(var), None)
        else:
            os.environ[str(var)] = str(value)


def serve(inp: IO[bytes], out: IO[bytes], warm: bool = True) -> None:
    """The worker loop: warm up, say ready, then run jobs one at a time until ``inp`` ends."""
    from lstm_lab.store import get_store

    write_lock = threading.Lock()
    jobs: list[tuple[dict[str, Any], bytes | None]] = []
    has_job = threading.Condition()
    stopped: set[int] = set()

    def send(message: dict[str, Any], payload: bytes | None = None) -> None:
        with write_lock:
            try:
                write_frame(out, message, payload)
            except (BrokenPipeError, OSError):
                os._exit(0)               # the web process is gone

    def read() -> None:
        while True:
            try:
                message, payload = read_frame(inp)
            except (ChannelClosed, OSError):
                os._exit(0)               # the web process closed the pipe or died: end now
            if message.get("type") == "stop":
                stopped.add(int(message.get("id", -1)))
            elif message.get("type") == "job":
                with has_job:
                    jobs.append((message, payload))
                    has_job.notify()

    threading.Thread(target=read, name="lstm-lab-worker-reader", daemon=True).start()
    info = warm_up() if warm else {"warm_seconds": 0.0, "rss_mb": round(resident_mb(), 1)}
    send({"type": "ready", "pid": os.getpid(), **info})
    while True:
        with has_job:
            while not jobs:
                has_job.wait()
            message, payload = jobs.pop(0)
        job_id = int(message.get("id", -1))
        _apply_environment(message.get("env") or {})
        try:
            result = run_encoded(payload or b"",
                                 lambda event, job_id=job_id: send({**event, "id": job_id}),
                                 lambda job_id=job_id: job_id in stopped, get_store())
        except Exception as err:  # noqa: BLE001 - the job fails, the worker goes on
            if not isinstance(err, LabError):
                import traceback

                traceback.print_exc()
            send({**error_message(err), "id": job_id})
        else:
            send({"type": "result", "id": job_id}, result)
        finally:
            stopped.discard(job_id)
            _clear_keras()


def main(argv: list[str]) -> None:
    """``python -m lstm_lab.execution.worker IN_FD OUT_FD [--no-warm-up]``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    inp = os.fdopen(int(argv[1]), "rb")
    out = os.fdopen(int(argv[2]), "wb")
    serve(inp, out, warm="--no-warm-up" not in argv)


if __name__ == "__main__":
    main(sys.argv)
