"""Jobs as Ray tasks on a cluster, when one machine is not enough (``LSTM_LAB_RAY_ADDRESS``).

The web process keeps the queue (``JobRunner``) and the run store; each job it hands to
``RayBackend.run`` becomes one Ray task that runs ``worker.run_encoded`` on the job's plain-data
encoding (``wire.encode_job``) on any node of the cluster, and returns the result's plain-data
encoding, which is decoded (``wire.decode_result``) and saved here. A small actor of the backend
(``_Hub``, no CPU) carries each running job's progress events out and its stop flag in: the task's
``send`` pushes events to it, its ``should_stop`` polls it (the answer cached for half a second),
and ``run`` drains the events into the job's hooks while it waits.

- Stop: ``run`` raises the job's flag in the hub as soon as ``job.should_stop()``; the task then
  stops as it would in a thread (keeping what it learned).
- Time limit: ``kill`` force-cancels the task (Ray kills its worker process and starts another);
  ``run`` then raises ``LabError(job.notice)``.
- Memory: the task runs a watchdog thread that ends its own worker process once its resident
  memory passes ``max_worker_memory_mb``, after telling the hub; the job fails with
  ``worker.memory_note``'s sentence. A worker that dies for any other reason fails only its
  job, with a readable sentence.
- A sweep fans out: it is planned here (``sweep.plan_sweep``) and each runnable config runs as its
  own Ray task (a comparison that saves nothing), as many at once as the cluster has CPUs; each
  finished run is saved to the store under the sweep's id as it arrives. A run whose worker died
  is retried once, then marked failed; Stop ends the running runs early and starts no more.

Ray is an optional install for the server (``requirements-dev.txt`` pins it for the tests).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lstm_lab.errors import ConfigError, LabError
from lstm_lab.execution.backends import RAY_VAR, WORKERS_VAR, worker_count
from lstm_lab.execution.tasks import COMPARE, TaskSpec
from lstm_lab.limits import ENV_VARS

LIMIT_VARS = frozenset(ENV_VARS.values())   # carried to the task: the limits in force here

if TYPE_CHECKING:
    from lstm_lab.execution.backends import Job

POLL_SECONDS = 0.2          # how often ``run`` drains a job's events and checks its stop flag
STOP_CACHE_SECONDS = 0.5    # how long a task trusts the hub's last answer to "should I stop?"
WATCH_SECONDS = 0.25        # how often a task's watchdog reads its worker's memory
CONNECT_SECONDS = 5.0       # how long to wait for the cluster's address to answer
SWEEP_RETRIES = 1           # a sweep run whose worker died is tried this many times more
_init_lock = threading.Lock()


class ClusterError(LabError):
    """The Ray cluster cannot be reached, or Ray is not installed."""


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ClusterError(f"{RAY_VAR} is set, but Ray is not installed on the web server: "
                           "install it (pip install 'ray==2.60.0'), or unset the variable to "
                           "train in local worker processes.") from None
    return ray


# --- messages ------------------------------------------------------------------------------------

def unreachable_message(address: str, reason: str) -> str:
    return (f"The Ray cluster at {RAY_VAR}={address!r} cannot be reached ({reason}): start it "
            f"(ray start --head on its first machine) or correct the address, or unset {RAY_VAR} "
            "to train in local worker processes.")


def cluster_memory_message() -> str:
    return ("The cluster ran short of memory and ended this job's worker: try a smaller network "
            "or fewer epochs, or try again when the cluster is less busy.")


# --- what runs on the cluster --------------------------------------------------------------------

class _Hub:
    """A Ray actor (no CPU) holding each running job's progress events and stop flag, by key."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict]] = {}
        self.stops: set[str] = set()

    def push(self, key: str, events: list[dict]) -> int:
        self.events.setdefault(key, []).extend(events)
        return len(events)

    def drain(self, key: str) -> list[dict]:
        return self.events.pop(key, [])

    def stop(self, key: str) -> bool:
        self.stops.add(key)
        return True

    def stopped(self, key: str) -> bool:
        return key in self.stops

    def forget(self, key: str) -> bool:
        self.events.pop(key, None)
        self.stops.discard(key)
        return True


MEMORY_EXIT = 86    # a task's worker ended by its own memory watchdog exits with this code


def _run_job(job: bytes, hub: Any, key: str, memory_mb: int,
             env: dict[str, str | None]) -> tuple[str, Any]:
    """The Ray task: run one encoded job; ("ok", result bytes) or ("error", a plain error
    message of ``worker.error_message``).

    Progress goes to ``hub`` under ``key`` (the first event names this worker's pid); ``env``
    (the web process's limits) applies while it runs; a watchdog ends this process past
    ``memory_mb`` MiB of resident memory.
    """
    import ray

    from lstm_lab.execution import worker

    last: list[Any] = [hub.push.remote(key, [{"type": "worker", "pid": os.getpid(),
                                              "node": socket.gethostname()}])]
    asked = {"at": 0.0, "stop": False}
    done = threading.Event()

    def send(event: dict) -> None:
        with contextlib.suppress(Exception):      # progress is best effort; the result is not
            last[0] = hub.push.remote(key, [event])   # one caller: the hub keeps their order

    def should_stop() -> bool:
        now = time.monotonic()
        if not asked["stop"] and now - asked["at"] >= STOP_CACHE_SECONDS:
            asked["at"] = now
            with contextlib.suppress(Exception):
                asked["stop"] = bool(ray.get(hub.stopped.remote(key), timeout=10))
        return asked["stop"]

    def watch() -> None:
        while not done.wait(WATCH_SECONDS):
            used = worker.resident_mb()
            if used > memory_mb:
                with contextlib.suppress(Exception):
                    ray.get(hub.push.remote(key, [{"type": "memory", "mb": used,
                                                   "limit": memory_mb}]), timeout=5)
                os._exit(MEMORY_EXIT)

    for var, value in env.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
    threading.Thread(target=watch, name="lstm-lab-memory-watchdog", daemon=True).start()
    try:
        worker.limit_threads(worker.thread_count())   # as a worker process: same numbers
        return "ok", worker.run_encoded(job, send, should_stop, None)
    except Exception as err:  # noqa: BLE001 - the web process gets plain data, never an object
        return "error", worker.error_message(err)
    finally:
        done.set()
        worker._clear_keras()
        with contextlib.suppress(Exception):      # every event is in the hub before the result
            ray.get(last[0], timeout=10)


def _warm_up() -> dict[str, Any]:
    """A Ray task: import TensorFlow and trace the default networks in this worker."""
    from lstm_lab.execution import worker

    return {**worker.warm_up(), "pid": os.getpid()}


# --- the backend ---------------------------------------------------------------------------------

class _Running:
    """One Ray task of a job (or of one sweep run) as the web process follows it."""

    def __init__(self, ref: Any, key: str) -> None:
        self.ref, self.key = ref, key
        self.pid: int | None = None
        self.memory: dict | None = None
        self.stop_sent = False


class RayBackend:
    """Run each job as a Ray task on the cluster at ``address`` ("auto", "host:6379",
    "ray://host:10001").

    Args:
        address: the cluster's address, as ``LSTM_LAB_RAY_ADDRESS`` gives it.
        slots: jobs run at once (the runner's workers); default ``LSTM_LAB_WORKERS`` when set,
            else the cluster's CPUs.
        store: the run store results are saved to (default: ``store.get_store()``).
        warm_up: run one warm-up task per slot at start (``worker.warm_up``), so the first
            jobs do not pay for importing TensorFlow.

    Raises:
        ClusterError: Ray is not installed, or the cluster cannot be reached.
    """

    def __init__(self, address: str, slots: int | None = None, store: Any = None,
                 environ: dict[str, str] | None = None, warm_up: bool = True) -> None:
        env = os.environ if environ is None else environ
        self.address = address.strip()
        self._store = store
        self.ray = _ray()
        connect(self.ray, self.address)
        self._hub = self.ray.remote(num_cpus=0, max_restarts=-1)(_Hub).remote()
        self._task = self.ray.remote(num_cpus=1, max_retries=0)(_run_job)
        self._lock = threading.Lock()
        self._running: dict[int, list[_Running]] = {}     # job id -> its tasks
        self._killed: set[int] = set()
        if slots is None:
            slots = worker_count(env) if env.get(WORKERS_VAR, "").strip() else self.cpus()
        self.slots = max(1, int(slots))
        self._warming = [self.ray.remote(num_cpus=1, max_retries=0)(_warm_up).remote()
                         for _ in range(self.slots)] if warm_up else []

    def warm(self) -> bool:
        """True once the cluster's first workers have imported TensorFlow and traced the
        default networks (``warm_up`` at start); Ray keeps idle workers for the next tasks."""
        if not self._warming:
            return True
        ready, _ = self.ray.wait(self._warming, num_returns=len(self._warming), timeout=0)
        return len(ready) == len(self._warming)

    # -- the cluster --

    def cpus(self) -> int:
        """The cluster's CPUs now (nodes may join or leave)."""
        try:
            return max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        except Exception:  # noqa: BLE001 - a lost cluster surfaces in run(), not here
            return 1

    def store(self) -> Any:
        if self._store is None:
            from lstm_lab.store import get_store
            return get_store()
        return self._store

    def worker_pids(self) -> dict[str, int]:
        """The pid of the worker process running each task now, by task key (tests, and a
        teacher finding a runaway process on a node)."""
        with self._lock:
            return {t.key: t.pid for tasks in self._running.values() for t in tasks
                    if t.pid is not None}

    # -- one job --

    def run(self, job: Job) -> Any:
        if callable(job.task):
            raise ConfigError("A job sent to the Ray cluster must be a named task (TaskSpec), "
                              "not a function.")
        spec = job.task or TaskSpec()
        try:
            if spec.name == "sweep":
                return self._sweep(job, spec)
            from lstm_lab.execution import wire

            data = wire.encode_job(spec, job.config, job.series, job.owner)
            result = self._follow(job, data, f"{job.id}-{uuid.uuid4().hex[:8]}",
                                  job.on_epoch, job.on_stage)
        finally:
            with self._lock:
                self._killed.discard(job.id)
        if spec.name == COMPARE and spec.params.get("save", True) and job.owner:
            from lstm_lab.store.run_store import save_or_note

            save_or_note(self.store(), result, job.owner)
        return result

    def _submit(self, job: Job, data: bytes, key: str) -> _Running:
        from lstm_lab.execution import worker
        from lstm_lab.limits import get_limits

        ref = self._task.remote(data, self._hub, key, get_limits().max_worker_memory_mb,
                                {k: v for k, v in worker.job_environment().items()
                                 if k in LIMIT_VARS})
        task = _Running(ref, key)
        with self._lock:
            self._running.setdefault(job.id, []).append(task)
        return task

    def _follow(self, job: Job, data: bytes, key: str,
                on_epoch: Callable[[Any], None], on_stage: Callable[[str, int, int], None]) -> Any:
        """Submit one task and follow it to its end: its decoded result, or a LabError."""
        task = self._submit(job, data, key)
        try:
            while not self._wait(task):
                self._pump(job, task, on_epoch, on_stage)
            self._pump(job, task, on_epoch, on_stage)
            return self._outcome(job, task)
        finally:
            self._done(job, task)

    def _wait(self, task: _Running) -> bool:
        ready, _ = self.ray.wait([task.ref], timeout=POLL_SECONDS)
        return bool(ready)

    def _pump(self, job: Job, task: _Running, on_epoch: Callable[[Any], None] | None,
              on_stage: Callable[[str, int, int], None] | None) -> None:
        """Pass the task's new events to the job's hooks; pass a stop request on to the task."""
        from lstm_lab.execution import wire

        if job.should_stop() and not task.stop_sent:
            task.stop_sent = True
            self._hub.stop.remote(task.key)
        try:
            events = self.ray.get(self._hub.drain.remote(task.key), timeout=30)
        except Exception:  # noqa: BLE001 - the hub restarts; progress is best effort
            return
        for event in events:
            kind = event.get("type")
            if kind == "worker":
                task.pid = event.get("pid")
            elif kind == "memory":
                task.memory = event
            elif kind == "epoch" and on_epoch is not None:
                on_epoch(wire.event_from_plain(_epoch_fields(event)))
            elif kind == "stage" and on_stage is not None:
                on_stage(str(event["label"]), int(event["done"]), int(event["total"]))

    def _outcome(self, job: Job, task: _Running) -> Any:
        """The finished task's decoded result; a LabError with a sentence when it failed."""
        from lstm_lab.execution import wire, worker

        exc = self.ray.exceptions
        try:
            status, payload = self.ray.get(task.ref)
        except exc.TaskCancelledError:
            raise LabError(job.notice or "This job was cancelled on the cluster.") from None
        except exc.OutOfMemoryError:
            raise LabError(cluster_memory_message()) from None
        except exc.RayError:
            if job.id in self._killed and job.notice:
                raise LabError(job.notice) from None
            if task.memory is not None:
                raise LabError(worker.memory_note(int(task.memory["limit"]))) from None
            raise WorkerDied(worker.death_note(None)) from None
        if status != "ok":
            worker.raise_error(payload if isinstance(payload, dict) else {"message": payload})
        return wire.decode_result(payload)

    def _done(self, job: Job, task: _Running) -> None:
        with self._lock:
            tasks = self._running.get(job.id, [])
            if task in tasks:
                tasks.remove(task)
            if not tasks:
                self._running.pop(job.id, None)
        with contextlib.suppress(Exception):
            self._hub.forget.remote(task.key)

    def kill(self, job: Job) -> bool:
        """End the job's tasks now (force: Ray kills their worker processes)."""
        with self._lock:
            tasks = list(self._running.get(job.id, []))
            if not tasks:
                return False
            self._killed.add(job.id)
        for task in tasks:
            with contextlib.suppress(Exception):
                self.ray.cancel(task.ref, force=True)
        return True

    def close(self) -> None:
        """Cancel this backend's tasks (jobs: at once; a warm-up: interrupted) and its hub."""
        with self._lock:
            refs = [t.ref for tasks in self._running.values() for t in tasks]
        for ref in refs:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
        for ref in self._warming:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref)
        with contextlib.suppress(Exception):
            self.ray.kill(self._hub)

    # -- a sweep, fanned out --

    def _sweep(self, job: Job, spec: TaskSpec) -> Any:
        from lstm_lab.execution import wire
        from lstm_lab.experiments import sweep
        from lstm_lab.experiments.config import ExperimentConfig

        params = spec.params
        base = ExperimentConfig.from_dict(params["base"])
        grid = {k: tuple(v) for k, v in dict(params["grid"]).items()}
        plan = sweep.plan_sweep(base, job.series, grid, seeds=int(params.get("seeds", 1)))
        todo = plan.runnable
        if not todo:
            first = plan.refused[0]
            raise ConfigError(f"None of the {plan.size} configurations can run. For example "
                              f"{sweep.describe_values(first.values)}: {first.reason}")
        store = self.store() if job.owner else None
        sweep_id = uuid.uuid4().hex[:12]
        n = len(todo)
        run_spec = TaskSpec(COMPARE, {"save": False})
        payloads = [wire.encode_job(run_spec, p.config, job.series, job.owner) for p in todo]
        outcome: dict[int, sweep.SweepRun] = {}
        tries = dict.fromkeys(range(n), 0)
        waiting = list(range(n))
        active: dict[int, _Running] = {}      # run index -> its task now
        shown = [-1]                          # the run whose epochs the live chart shows
        stopped = False

        def submit(i: int) -> None:
            tries[i] += 1
            active[i] = self._submit(job, payloads[i], f"{job.id}-run{i}-try{tries[i]}")

        def show(i: int) -> Callable[[Any], None] | None:
            return job.on_epoch if i == shown[0] else None

        job.on_stage(f"run 1 of {n}", 0, n)
        try:
            while waiting or active:
                if job.should_stop():
                    stopped = True
                    waiting.clear()
                while waiting and len(active) < self.cpus():
                    submit(waiting.pop(0))
                if active and shown[0] not in active:
                    shown[0] = min(active)
                    job.on_stage(f"run {shown[0] + 1} of {n}", len(outcome), n)
                refs = [t.ref for t in active.values()]
                ready, _ = self.ray.wait(refs, num_returns=1, timeout=POLL_SECONDS)
                for i, task in list(active.items()):
                    self._pump(job, task, show(i), None)
                    if task.ref not in ready:
                        continue
                    del active[i]
                    self._done(job, task)
                    if job.id in self._killed:     # the time limit ended the sweep
                        raise LabError(job.notice or "This sweep was ended on the cluster.")
                    run, result = self._sweep_run(job, task, todo[i], tries[i])
                    if run is None:                # its worker died: once more
                        waiting.insert(0, i)
                        continue
                    if result is not None and store is not None:
                        run.run_id = _save_sweep_run(store, run, result, job.owner, sweep_id)
                    outcome[i] = run
                    stopped = stopped or run.status == sweep.STOPPED
        finally:
            for task in active.values():
                with contextlib.suppress(Exception):
                    self.ray.cancel(task.ref, force=True)
                self._done(job, task)
        runs = [sweep.SweepRun(r.config, r.values, sweep.SKIPPED, note=f"{r.status}: {r.reason}")
                for r in plan.refused]
        runs += [outcome[i] for i in sorted(outcome)]
        order = {id(r.config): k for k, r in enumerate(plan.runs)}
        runs.sort(key=lambda r: order.get(id(r.config), len(order)))
        return sweep.SweepResult(base, plan.grid, runs, sweep_id, job.series.name, stopped)

    def _sweep_run(self, job: Job, task: _Running, planned: Any,
                   tries: int) -> tuple[Any, Any]:
        """What became of one sweep run's task: (its ``SweepRun``, the result to save, or
        None), or (None, None) to try it again (its worker died)."""
        from lstm_lab.experiments import sweep

        try:
            result = self._outcome(job, task)
        except WorkerDied as err:
            if tries <= SWEEP_RETRIES and not job.should_stop():
                return None, None
            return sweep.SweepRun(planned.config, planned.values, sweep.FAILED,
                                  note=f"{err} (tried {tries} times)"), None
        except LabError as err:
            return sweep.SweepRun(planned.config, planned.values, sweep.FAILED,
                                  note=str(err)), None
        note = "its cluster worker died once and the run was tried again" if tries > 1 else ""
        run = sweep.SweepRun(planned.config, planned.values, sweep.DONE, result.metrics,
                             note=note, total_s=result.timings.get("total_s"))
        if result.stopped_by_user:
            run.status, run.note = sweep.STOPPED, "stopped by request; not saved"
            return run, None
        return run, result


def _save_sweep_run(store: Any, run: Any, result: Any, owner: str, sweep_id: str) -> int | None:
    """Save one finished sweep run under the sweep's id; a store failure becomes its note."""
    try:
        return store.save_run(result, owner, sweep=sweep_id)
    except LabError as err:
        run.note = "; ".join(filter(None, [run.note, f"not saved to the history: {err}"]))
        return None


class WorkerDied(LabError):
    """A task's worker process died (not killed at the time limit, not over its memory cap)."""


def _epoch_fields(event: dict) -> dict:
    """An epoch event without its ``type`` (the plain fields ``wire.event_from_plain`` reads)."""
    if isinstance(event.get("info"), dict):
        return event["info"]
    return {k: v for k, v in event.items() if k != "type"}


def connect(ray: Any, address: str) -> None:
    """``ray.init(address)`` once per process; a ``ClusterError`` naming the variable and the
    address when the cluster does not answer (Ray itself would wait two minutes, then exit)."""
    with _init_lock:
        if ray.is_initialized():
            return
        if not address:
            raise ClusterError(f"{RAY_VAR} is empty: set it to the cluster's address (e.g. "
                               "auto, 10.0.0.5:6379 or ray://10.0.0.5:10001).")
        target = _bootstrap_address(address)
        if target is not None:
            host, _, port = target.rpartition(":")
            try:
                with socket.create_connection((host.strip("[]"), int(port)), CONNECT_SECONDS):
                    pass
            except (OSError, ValueError) as err:
                raise ClusterError(unreachable_message(address, _reason(err))) from None
        try:
            ray.init(address=address, log_to_driver=False, logging_level="WARNING")
        except (Exception, SystemExit) as err:  # noqa: BLE001 - Ray exits on a lost GCS
            raise ClusterError(unreachable_message(address, _reason(err))) from None


def _bootstrap_address(address: str) -> str | None:
    """The host:port to probe for ``address`` (None: "auto" with nothing recorded)."""
    if address.startswith("ray://"):
        return address[len("ray://"):].split("/")[0]
    if address == "auto":
        try:
            from ray._private.services import canonicalize_bootstrap_address
            return canonicalize_bootstrap_address(address)
        except Exception:  # noqa: BLE001 - let ray.init say it
            return None
    return address


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:160]
