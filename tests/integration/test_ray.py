"""Ray (execution/ray_backend.py) on a real local head: 127.0.0.1, 2 CPUs, tiny trainings.

A job through the runner gives the thread backend's numbers and is saved in the web process;
Stop, the time limit, the memory cap and a crash work across the cluster; a sweep fans out one
Ray task per run and saves every run; a worker killed mid-sweep has its run retried once, then
marked failed, and nothing finished is lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial

import numpy as np
import pytest

from lstm_lab.execution.choice import make_backend
from lstm_lab.execution.jobs import DONE, FAILED, JobRunner, time_limit_kill_note
from lstm_lab.execution.ray_backend import RayBackend
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments import sweep
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.limits import Limits
from tests.conftest import FAST, make_tiny_series, wait_finished, wait_until
from tests.integration.conftest import CPUS, ROOT

CONFIG = ExperimentConfig(window=4, test_size=6, **FAST)
GRID = {"window": [3, 4], "units": [4, 6]}


_wait = partial(wait_finished, timeout=240.0)


_until = partial(wait_until, timeout=120.0)


def _sweep_task() -> TaskSpec:
    return TaskSpec("sweep", {"base": CONFIG.to_dict(), "grid": GRID, "seeds": 1})


def test_the_environment_picks_ray_with_the_clusters_cpus_as_slots(ray_head) -> None:
    backend = make_backend({"LSTM_LAB_RAY_ADDRESS": f" {ray_head} "})
    one = RayBackend(ray_head, environ={"LSTM_LAB_WORKERS": "1"}, warm_up=False)
    try:
        assert isinstance(backend, RayBackend)
        assert backend.address == ray_head and backend.slots == CPUS == backend.cpus()
        assert one.slots == 1
    finally:
        backend.close()
        one.close()


def test_an_unreachable_cluster_is_refused_in_one_sentence_naming_the_variable() -> None:
    """In a fresh process: this one is connected to the test head already."""
    code = ("from lstm_lab.execution.ray_backend import RayBackend\n"
            "import sys\n"
            "for address in sys.argv[1:]:\n"
            "    try:\n"
            "        RayBackend(address, warm_up=False)\n"
            "    except Exception as err:\n"
            "        print(type(err).__name__, '|', err)\n")
    closed = _closed_port()
    out = subprocess.run([sys.executable, "-c", code, f"127.0.0.1:{closed}",
                          f"ray://127.0.0.1:{closed}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    lines = [line for line in out.stdout.splitlines() if "|" in line]
    assert len(lines) == 2, out.stdout + out.stderr
    for line, address in zip(lines, (f"127.0.0.1:{closed}", f"ray://127.0.0.1:{closed}")):
        name, message = line.split(" | ", 1)
        assert name == "ClusterError"
        assert message.startswith(f"The Ray cluster at LSTM_LAB_RAY_ADDRESS='{address}' cannot "
                                  "be reached (")
        assert message.endswith("or unset LSTM_LAB_RAY_ADDRESS to train in local worker "
                                "processes.")


def test_a_job_runs_through_ray_client_from_a_process_of_its_own(ray_client_address) -> None:
    """``ray://host:port`` (Ray Client): the address a web node outside the cluster uses."""
    code = ("import sys, time\n"
            "from lstm_lab.execution.ray_backend import RayBackend\n"
            "from lstm_lab.execution.tasks import TaskSpec\n"
            "from lstm_lab.execution.jobs import JobRunner\n"
            "backend = RayBackend(sys.argv[1], warm_up=False)\n"
            "job = JobRunner(backend=backend).submit(None, None, TaskSpec('drill:echo',"
            " {'epochs': 2}))\n"
            "while not job.finished: time.sleep(0.05)\n"
            "print('RESULT', job.status, job.error, job.result['params'],"
            " job.live_histories()['drill']['loss'])\n"
            "backend.close()\n")
    out = subprocess.run([sys.executable, "-c", code, ray_client_address], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT")]
    assert lines == ["RESULT done None {'epochs': 2} [1.0, 0.5]"], out.stdout + out.stderr[-3000:]


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]          # closed once the socket is


def test_a_job_on_ray_gives_the_thread_backends_numbers_and_is_saved(ray_backend,
                                                                      store) -> None:
    series = make_tiny_series()
    on_ray = JobRunner(backend=ray_backend).submit(CONFIG, series, owner="alice")
    _wait(on_ray)
    in_thread = JobRunner(max_concurrent=1).submit(CONFIG, series)
    _wait(in_thread)
    assert (on_ray.status, on_ray.error) == (DONE, None)
    assert in_thread.status == DONE
    ray_result, thread_result = on_ray.result, in_thread.result
    assert set(ray_result.metrics) >= {"lstm", "mlp", "naive"}
    assert (json.dumps(ray_result.metrics, sort_keys=True)
            == json.dumps(thread_result.metrics, sort_keys=True))
    for model, predicted in thread_result.predictions.items():
        np.testing.assert_array_equal(ray_result.predictions[model], predicted, err_msg=model)
    assert ray_result.epochs_run == {"lstm": 3, "mlp": 3}
    # every epoch came back from the cluster to the live chart, with the same losses
    assert on_ray.live_histories() == in_thread.live_histories()
    # saved here, in the web process's store, with its networks
    runs = store.list_runs("alice", include_shared=False)
    assert len(runs) == 1
    assert runs[0].metrics["lstm"] == pytest.approx(ray_result.metrics["lstm"])
    assert ray_result.forecasters["lstm"].keras_bytes()[:2] == b"PK"     # a .keras zip


def test_stop_ends_a_job_on_ray_keeping_what_it_learned(ray_backend) -> None:
    config = ExperimentConfig(window=4, test_size=6, **{**FAST, "epochs": 5000})
    job = JobRunner(backend=ray_backend).submit(config, make_tiny_series())
    _until(lambda: job.live_histories().get("mlp", {}).get("loss"))
    assert 0 < job.progress() < 1
    job.request_stop()
    _wait(job)
    assert (job.status, job.error) == (DONE, None)
    assert job.result.stopped_by_user
    assert 0 < job.result.epochs_run["mlp"] < 5000
    assert job.result.skipped == ["lstm"]
    assert ray_backend.worker_pids() == {}                  # nothing of it left running


def test_a_crash_fails_only_its_job_and_the_time_limit_kills_a_job_ignoring_stop(
        ray_backend) -> None:
    runner = JobRunner(max_concurrent=2, backend=ray_backend,
                       limits=Limits(max_job_seconds=600))
    crash = runner.submit(None, None, TaskSpec("drill:crash"), owner="alice")
    other = runner.submit(None, None, TaskSpec("drill:hang", {"seconds": 2}), owner="bob")
    _wait(crash), _wait(other)
    assert crash.histories["drill"]["loss"] == [1.0]          # its first epoch did arrive
    assert crash.status == FAILED
    assert crash.error.startswith("The worker process running this job stopped unexpectedly")
    assert (other.status, other.result) == (DONE, {"hung": True})

    limited = JobRunner(max_concurrent=1, backend=ray_backend,
                        limits=Limits(max_job_seconds=1, stop_grace_seconds=1))
    hang = limited.submit(None, None, TaskSpec("drill:hang"), owner="carol")
    _until(lambda: hang.histories.get("drill"))
    pid = next(iter(ray_backend.worker_pids().values()))
    _wait(hang)
    assert hang.status == FAILED
    assert hang.error == time_limit_kill_note(1) == hang.notice
    _until(lambda: not _alive(pid))                           # Ray ended its worker
    echo = runner.submit(None, None, TaskSpec("drill:echo", {"epochs": 1}), owner="dave")
    _wait(echo)
    assert echo.status == DONE and echo.result["pid"] != pid


def test_a_worker_past_its_memory_cap_dies_alone_with_a_message(ray_backend,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_WORKER_MEMORY_MB", "1500")   # read at submit, sent along
    runner = JobRunner(max_concurrent=2, backend=ray_backend, limits=Limits(max_job_seconds=600))
    greedy = runner.submit(None, None, TaskSpec("drill:allocate", {"max_mb": 2500}),
                           owner="alice")
    modest = runner.submit(None, None, TaskSpec("drill:hang", {"seconds": 2}), owner="bob")
    _wait(greedy), _wait(modest)
    assert greedy.status == FAILED
    assert greedy.error == (
        "This job needed more than 1,500 MiB of memory on its worker "
        "(LSTM_LAB_MAX_WORKER_MEMORY_MB) and was ended; try a smaller network, a shorter "
        "window or a shorter series.")
    assert (modest.status, modest.result) == (DONE, {"hung": True})


def test_a_sweep_fans_out_across_the_cluster_and_saves_every_run(ray_backend, store) -> None:
    runner = JobRunner(max_concurrent=1, backend=ray_backend)
    job = runner.submit(CONFIG, make_tiny_series(), _sweep_task(), owner="alice")
    at_once = _watch_concurrency(ray_backend, job)
    _wait(job)
    assert (job.status, job.error) == (DONE, None)
    result = job.result
    assert [r.status for r in result.runs] == [sweep.DONE] * 4
    assert [r.values for r in result.runs] == [{"window": w, "units": u}
                                               for w in (3, 4) for u in (4, 6)]
    assert max(at_once) == CPUS                  # two runs trained at once on 2 CPUs
    assert job.stages_total == 4 and job.stage.startswith("run ")
    saved = {s.id: s for s in store.list_runs("alice", include_shared=False)}
    assert sorted(saved) == sorted(r.run_id for r in result.runs)
    for run in result.runs:
        assert saved[run.run_id].sweep == result.sweep_id
        assert saved[run.run_id].config == run.config
        assert saved[run.run_id].metrics["lstm"] == pytest.approx(run.metrics["lstm"])


def test_stop_ends_a_sweep_on_ray_and_starts_no_more_runs(ray_backend, store) -> None:
    base = ExperimentConfig(window=4, test_size=6, **{**FAST, "epochs": 5000})
    task = TaskSpec("sweep", {"base": base.to_dict(), "grid": GRID, "seeds": 1})
    job = JobRunner(max_concurrent=1, backend=ray_backend).submit(base, make_tiny_series(),
                                                                   task, owner="alice")
    _until(lambda: job.live_histories().get("mlp", {}).get("loss"))
    assert job.stage == "run 1 of 4"
    job.request_stop()
    _wait(job)
    assert (job.status, job.error) == (DONE, None)
    result = job.result
    assert result.stopped_by_user
    assert 1 <= len(result.runs) <= CPUS             # the runs under way; none started after
    assert {r.status for r in result.runs} == {sweep.STOPPED}
    assert all(r.note == "stopped by request; not saved" for r in result.runs)
    assert store.list_runs("alice", include_shared=False) == []
    assert ray_backend.worker_pids() == {}


def test_a_worker_killed_mid_sweep_is_retried_once_then_failed_and_nothing_is_lost(
        ray_backend, store) -> None:
    """Run 1's worker is killed on both tries (failed), run 2's on its first (retried)."""
    runner = JobRunner(max_concurrent=1, backend=ray_backend)
    job = runner.submit(CONFIG, make_tiny_series(), _sweep_task(), owner="alice")
    doomed = {f"{job.id}-run0-try1", f"{job.id}-run0-try2", f"{job.id}-run1-try1"}
    killed: list[str] = []

    def killer() -> None:
        while doomed and not job.finished:
            for key, pid in ray_backend.worker_pids().items():
                if key in doomed:
                    os.kill(pid, signal.SIGKILL)
                    doomed.discard(key)
                    killed.append(key)
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    _wait(job, timeout=400)
    thread.join(5)
    assert sorted(killed) == sorted({f"{job.id}-run0-try1", f"{job.id}-run0-try2",
                                     f"{job.id}-run1-try1"})
    assert (job.status, job.error) == (DONE, None)
    runs = job.result.runs
    assert [r.status for r in runs] == [sweep.FAILED, sweep.DONE, sweep.DONE, sweep.DONE]
    assert runs[0].note.startswith("The worker process running this job stopped unexpectedly")
    assert runs[0].note.endswith("(tried 2 times)") and runs[0].run_id is None
    assert runs[1].note == "its cluster worker died once and the run was tried again"
    saved = {s.id: s for s in store.list_runs("alice", include_shared=False)}
    assert sorted(saved) == sorted(r.run_id for r in runs[1:])
    assert {s.sweep for s in saved.values()} == {job.result.sweep_id}


def _watch_concurrency(backend: RayBackend, job) -> list[int]:
    """How many of the job's tasks ran at once, sampled until it ends (in a thread)."""
    seen = [0]

    def watch() -> None:
        while not job.finished:
            seen.append(len(backend.worker_pids()))
            time.sleep(0.01)

    threading.Thread(target=watch, daemon=True).start()
    return seen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_cli_sweep_fans_out_on_the_cluster_and_saves_every_run(ray_head, tmp_path,
                                                                    monkeypatch, capsys) -> None:
    """``python -m lstm_lab sweep`` with LSTM_LAB_RAY_ADDRESS set: the same executor as the
    pages, its runs trained on the cluster and saved here under one sweep id."""
    from lstm_lab.cli.main import main
    from lstm_lab.store import RunStore

    db = tmp_path / "cli.db"
    monkeypatch.setenv("LSTM_LAB_RAY_ADDRESS", ray_head)
    assert main(["sweep", "--window", "6,12", "--horizon", "1,3", "--models",
                 "naive,seasonal_naive", "--db", str(db), "--owner", "cli-ray"]) == 0
    out, err = capsys.readouterr()
    assert f"Running on the Ray cluster at {ray_head} ({CPUS} CPUs)." in err
    assert "run 1 of 4" in err
    assert "RMSE Naive (last value)" in out and "best: window=" in out
    runs = RunStore(db).list_runs("cli-ray", include_shared=False)
    assert sorted((s.config.window, s.config.horizon) for s in runs) == [
        (6, 1), (6, 3), (12, 1), (12, 3)]
    assert len({s.sweep for s in runs}) == 1 and runs[0].sweep
