"""Worker processes (execution/processes.py): real workers, a few slots, tiny trainings.

The same job gives the same numbers in a worker as in a thread; live epochs, Stop and the run
store work across the process boundary; a worker killed, past its memory cap or past the time
limit fails only its own job and is replaced; the web process never imports TensorFlow.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from lstm_lab.execution import worker as worker_side
from lstm_lab.execution.backends import ThreadBackend
from lstm_lab.execution.choice import make_backend
from lstm_lab.execution.jobs import DONE, FAILED, RUNNING, JobRunner, time_limit_kill_note
from lstm_lab.execution.processes import ProcessBackend
from lstm_lab.execution.tasks import TASKS, TaskSpec
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.limits import Limits
from tests.conftest import FAST, make_tiny_series, wait_finished, wait_until

ROOT = Path(__file__).resolve().parents[2]
# the networks and a baseline (the classical fits add seconds and nothing to what is tested)
CONFIG = ExperimentConfig(window=4, test_size=6, models=("naive", "mlp", "lstm"), **FAST)


_wait = partial(wait_finished, timeout=120.0)


_until = partial(wait_until, timeout=60.0)


@pytest.fixture(scope="module")
def pool():
    """Two workers without the warm-up, for the fault drills (they never load TensorFlow)."""
    backend = ProcessBackend(2, warm_up=False)
    assert backend.wait_ready(120), backend.workers()
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def trainer():
    """One worker without the warm-up, for real trainings (TensorFlow loads with the first)."""
    backend = ProcessBackend(1, warm_up=False)
    yield backend
    backend.close()


def _pids(backend: ProcessBackend) -> set[int]:
    return {w["pid"] for w in backend.workers()}


def _running_on_a_worker(backend: ProcessBackend, job) -> int:
    """Wait until ``job`` sent its first epoch from a worker; that worker's pid."""
    _until(lambda: job.histories.get("drill") and backend.pid_of(job))
    return backend.pid_of(job)


def test_the_fault_drills_are_registered_in_tests_only_by_the_variable() -> None:
    assert {"drill:hang", "drill:allocate", "drill:crash"} <= set(TASKS)
    code = ("import os; os.environ.pop('LSTM_LAB_FAULT_DRILLS', None); "
            "from lstm_lab.execution.tasks import TASKS; print(sorted(TASKS))")
    env = {k: v for k, v in os.environ.items() if k != "LSTM_LAB_FAULT_DRILLS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert "drill" not in out and "'compare'" in out


def test_frames_round_trip_and_a_cut_or_oversized_frame_closes_the_channel() -> None:
    buffer = io.BytesIO()
    worker_side.write_frame(buffer, {"type": "job", "id": 7}, b"\x00payload")
    worker_side.write_frame(buffer, {"type": "stop", "id": 7})
    buffer.seek(0)
    assert worker_side.read_frame(buffer) == ({"type": "job", "id": 7}, b"\x00payload")
    assert worker_side.read_frame(buffer) == ({"type": "stop", "id": 7}, None)
    with pytest.raises(worker_side.ChannelClosed):          # end of file
        worker_side.read_frame(buffer)
    whole = io.BytesIO()
    worker_side.write_frame(whole, {"type": "result", "id": 1}, b"x" * 100)
    with pytest.raises(worker_side.ChannelClosed):          # cut mid-message
        worker_side.read_frame(io.BytesIO(whole.getvalue()[:-10]))
    huge = worker_side._HEADER.pack(worker_side.MAX_JSON_BYTES + 1, 0)
    with pytest.raises(worker_side.ChannelClosed):
        worker_side.read_frame(io.BytesIO(huge + b"{}"))


def test_the_environment_picks_worker_processes_unless_told_otherwise() -> None:
    threads = make_backend({"LSTM_LAB_IN_PROCESS": "1"})
    assert isinstance(threads, ThreadBackend)
    processes = make_backend({"LSTM_LAB_WORKERS": "1"})
    try:
        assert isinstance(processes, ProcessBackend) and processes.slots == 1
        assert len(processes.workers()) == 1
    finally:
        processes.close()


def test_the_same_config_and_seed_give_identical_numbers_in_a_worker_and_a_thread(
        trainer) -> None:
    series = make_tiny_series()
    in_worker = JobRunner(backend=trainer).submit(CONFIG, series)
    in_thread = JobRunner(max_concurrent=1).submit(CONFIG, series)
    _wait(in_worker), _wait(in_thread)
    assert (in_worker.status, in_worker.error) == (DONE, None)
    assert in_thread.status == DONE
    worker_result, thread_result = in_worker.result, in_thread.result
    assert set(worker_result.metrics) >= {"lstm", "mlp", "naive"}
    assert (json.dumps(worker_result.metrics, sort_keys=True)
            == json.dumps(thread_result.metrics, sort_keys=True))
    for model, predicted in thread_result.predictions.items():
        np.testing.assert_array_equal(worker_result.predictions[model], predicted, err_msg=model)
    assert worker_result.epochs_run == thread_result.epochs_run == {"lstm": 3, "mlp": 3}
    # the live chart got every epoch from the worker, with the same losses
    assert in_worker.live_histories() == in_thread.live_histories()
    assert len(in_worker.live_histories()["lstm"]["loss"]) == 3


def test_stop_ends_a_job_in_a_worker_keeping_what_it_learned(trainer) -> None:
    config = ExperimentConfig(window=4, test_size=6, **{**FAST, "epochs": 5000})
    job = JobRunner(backend=trainer).submit(config, make_tiny_series())
    _until(lambda: job.live_histories().get("mlp", {}).get("loss"))
    assert 0 < job.progress() < 1
    job.request_stop()
    _wait(job)
    assert (job.status, job.error) == (DONE, None)
    assert job.result.stopped_by_user
    assert 0 < job.result.epochs_run["mlp"] < 5000
    assert job.result.skipped == ["lstm"]            # not started once Stop was pressed
    assert set(job.result.metrics) == {"naive", "seasonal_naive", "holt_winters", "sarima", "mlp"}


def test_a_queued_and_a_running_job_are_saved_to_the_store_by_their_worker(trainer,
                                                                          store) -> None:
    runner = JobRunner(backend=trainer)
    series = make_tiny_series()
    first = runner.submit(CONFIG, series, owner="alice")
    second = runner.submit(replace(CONFIG, seed=5, models=("naive", "mlp")), series,
                           owner="bob")
    assert runner.position(second) > 0                       # waits behind the first
    _wait(first), _wait(second)
    assert (first.status, second.status) == (DONE, DONE)
    for owner, job in (("alice", first), ("bob", second)):
        runs = store.list_runs(owner, include_shared=False)
        assert len(runs) == 1, owner
        assert runs[0].config.seed == job.config.seed
        assert runs[0].metrics["mlp"] == pytest.approx(job.result.metrics["mlp"])


def test_killing_a_busy_worker_fails_only_its_job_and_the_next_runs_on_a_replacement(
        pool) -> None:
    runner = JobRunner(max_concurrent=2, backend=pool, limits=Limits(max_job_seconds=600))
    before = _pids(pool)
    doomed = runner.submit(None, None, TaskSpec("drill:hang"), owner="alice")
    # long enough to be seen running on a loaded machine
    other = runner.submit(None, None, TaskSpec("drill:hang", {"seconds": 10}), owner="bob")
    pid = _running_on_a_worker(pool, doomed)
    other_pid = _running_on_a_worker(pool, other)
    assert pid != other_pid
    os.kill(pid, signal.SIGKILL)
    _wait(doomed), _wait(other)
    assert doomed.status == FAILED
    assert doomed.error == (
        "The worker process running this job stopped unexpectedly (it was killed by signal 9, "
        "SIGKILL), so nothing of the job was kept; press Train to run it again, and if it "
        "happens again, try a smaller network.")
    assert (other.status, other.result) == (DONE, {"hung": True})
    _until(lambda: len(pool.workers()) == 2 and pid not in _pids(pool))
    replacement = (_pids(pool) - before).pop()
    assert other_pid in _pids(pool)                          # the other worker lives on
    # two jobs at once: one of them runs on the replacement
    after = [runner.submit(None, None, TaskSpec("drill:hang", {"seconds": 6}), owner=o)
             for o in ("carol", "dave")]
    pids = {_running_on_a_worker(pool, job) for job in after}
    assert pids == {replacement, other_pid}
    for job in after:
        _wait(job)
        assert job.status == DONE


def test_a_worker_that_crashes_mid_job_fails_that_job_with_its_exit_code(pool) -> None:
    runner = JobRunner(max_concurrent=2, backend=pool)
    crash = runner.submit(None, None, TaskSpec("drill:crash"), owner="alice")
    exits = runner.submit(None, None, TaskSpec("drill:crash", {"how": "exit", "code": 3}),
                          owner="bob")
    _wait(crash), _wait(exits)
    assert crash.histories["drill"]["loss"] == [1.0]         # its first epoch did arrive
    assert crash.status == FAILED and "(it was killed by signal 6, SIGABRT)" in crash.error
    assert exits.status == FAILED and "(it exited with code 3)" in exits.error
    echo = runner.submit(None, None, TaskSpec("drill:echo", {"epochs": 1}), owner="carol")
    _wait(echo)
    assert echo.status == DONE and echo.result["pid"] in _pids(pool)


def test_the_time_limit_then_the_grace_kills_a_job_that_ignores_stop(pool) -> None:
    runner = JobRunner(max_concurrent=1, backend=pool,
                       limits=Limits(max_job_seconds=1, stop_grace_seconds=1))
    job = runner.submit(None, None, TaskSpec("drill:hang"), owner="alice")
    pid = _running_on_a_worker(pool, job)
    _wait(job)
    assert job.status == FAILED
    assert job.error == time_limit_kill_note(1) == job.notice
    assert "did not stop when asked, so its worker was ended" in job.error
    _until(lambda: pid not in _pids(pool) and len(pool.workers()) == 2)


def test_a_worker_past_its_memory_cap_dies_alone_with_a_message(pool, monkeypatch) -> None:
    assert pool.wait_ready(120)
    idle = max(worker_side.resident_mb(pid) for pid in _pids(pool))
    cap = int(idle) + 200
    monkeypatch.setenv("LSTM_LAB_MAX_WORKER_MEMORY_MB", str(cap))
    runner = JobRunner(max_concurrent=2, backend=pool, limits=Limits(max_job_seconds=600))
    greedy = runner.submit(None, None, TaskSpec("drill:allocate", {"max_mb": 1500}),
                           owner="alice")
    modest = runner.submit(None, None, TaskSpec("drill:hang", {"seconds": 2}), owner="bob")
    pid = _running_on_a_worker(pool, greedy)
    modest_pid = _running_on_a_worker(pool, modest)
    _wait(greedy), _wait(modest)
    assert greedy.status == FAILED
    assert greedy.error == (
        f"This job needed more than {cap:,} MiB of memory on its worker "
        "(LSTM_LAB_MAX_WORKER_MEMORY_MB) and was ended; try a smaller network, a shorter "
        "window or a shorter series.")
    assert (modest.status, modest.result) == (DONE, {"hung": True})
    _until(lambda: pid not in _pids(pool) and len(pool.workers()) == 2)
    assert modest_pid in _pids(pool)


def test_the_web_process_never_imports_tensorflow_while_workers_train(tmp_path) -> None:
    """A fresh interpreter (other tests import TensorFlow here): a warmed-up worker trains the
    default networks, the result and its network come back, TensorFlow stays out."""
    script = textwrap.dedent("""
        import json, sys
        from lstm_lab.execution.processes import ProcessBackend
        from lstm_lab.experiments import export
        from lstm_lab.experiments.config import ExperimentConfig
        from lstm_lab.execution.jobs import JobRunner
        from tests.conftest import FAST, make_tiny_series

        backend = ProcessBackend(1)
        ready = backend.wait_ready(300)
        runner = JobRunner(backend=backend)
        config = ExperimentConfig(window=4, test_size=6, models=("naive", "mlp", "lstm"), **FAST)
        job = runner.submit(config, make_tiny_series(), owner="alice")
        import time
        while not job.finished:
            time.sleep(0.05)
        keras_file = export.model_bytes(job.result, "lstm")
        print(json.dumps({"ready": ready, "status": job.status, "error": job.error,
                          "cold": job.cold_start, "models": sorted(job.result.metrics),
                          "keras_bytes": len(keras_file), "worker": backend.workers()[0],
                          "tensorflow": "tensorflow" in sys.modules,
                          "keras": "keras" in sys.modules}))
        backend.close()
    """)
    env = {**os.environ, "LSTM_LAB_DB": str(tmp_path / "runs.sqlite3")}
    env.pop("LSTM_LAB_IN_PROCESS", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["ready"], report["status"], report["error"]) == (True, DONE, None)
    assert report["cold"] is False                            # a warmed-up worker took it
    assert {"lstm", "mlp"} <= set(report["models"]) and report["keras_bytes"] > 1000
    assert report["worker"]["warm_error"] is None and report["worker"]["warm_seconds"] > 0
    assert (report["tensorflow"], report["keras"]) == (False, False)


def test_a_job_given_as_a_function_is_refused_by_worker_processes(pool) -> None:
    job = JobRunner(backend=pool).submit(None, None, lambda job: "never here")
    _wait(job)
    assert job.status == FAILED
    assert job.error == ("A job given as a function can run only in the web process "
                         "(LSTM_LAB_IN_PROCESS=1); queue a named task (TaskSpec) instead.")
    assert job.status != RUNNING


def _gone(pid: int) -> bool:
    """The process has exited (no such process, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_workers_end_when_the_web_process_dies() -> None:
    script = ("import sys, time\n"
              "from lstm_lab.execution.processes import ProcessBackend\n"
              "backend = ProcessBackend(2, warm_up=False)\n"
              "assert backend.wait_ready(120)\n"
              "print(*[w['pid'] for w in backend.workers()], flush=True)\n"
              "time.sleep(600)\n")
    web = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                           text=True)
    try:
        pids = [int(pid) for pid in web.stdout.readline().split()]
        assert len(pids) == 2 and not any(_gone(pid) for pid in pids)
    finally:
        web.kill()                                # SIGKILL: no clean-up code runs
        web.wait(30)
    _until(lambda: all(_gone(pid) for pid in pids))
