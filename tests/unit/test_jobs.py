"""The training queue: FIFO order, a cap on concurrent runs, stop while queued or running."""

from __future__ import annotations

import threading
import time

import pytest

from lstm_lab import jobs
from lstm_lab.config import ExperimentConfig
from lstm_lab.jobs import CANCELLED, DONE, FAILED, JobRunner
from tests.conftest import FAST, make_tiny_series


def _wait(job, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.finished, f"job still {job.status}"


@pytest.fixture
def gated(monkeypatch):
    """Replace training with a function that blocks until released, recording start order."""
    started, release = [], threading.Event()

    def fake_run(config, series, on_epoch=None, should_stop=None):
        started.append(config.seed)
        while not release.is_set() and not (should_stop and should_stop()):
            time.sleep(0.01)
        return f"result-{config.seed}"

    monkeypatch.setattr(jobs, "run_experiment", fake_run)
    return started, release


def test_runner_caps_concurrency_and_keeps_first_come_order(gated) -> None:
    started, release = gated
    runner = JobRunner(max_concurrent=1)
    series = make_tiny_series()
    submitted = [runner.submit(ExperimentConfig(seed=i), series) for i in range(3)]
    time.sleep(0.2)
    assert started == [0]
    assert [runner.position(j) for j in submitted] == [0, 1, 2]
    assert runner.busy() == (1, 2)
    assert runner.estimated_wait(submitted[2]) > runner.estimated_wait(submitted[1]) > 0
    release.set()
    for job in submitted:
        _wait(job)
    assert started == [0, 1, 2]
    assert [j.status for j in submitted] == [DONE] * 3
    assert submitted[2].result == "result-2"


def test_stop_while_queued_leaves_the_queue(gated) -> None:
    started, release = gated
    runner = JobRunner(max_concurrent=1)
    series = make_tiny_series()
    first = runner.submit(ExperimentConfig(seed=0), series)
    second = runner.submit(ExperimentConfig(seed=1), series)
    time.sleep(0.1)
    second.request_stop()
    release.set()
    _wait(first), _wait(second)
    assert second.status == CANCELLED
    assert started == [0]


def test_failed_training_reports_the_message(monkeypatch) -> None:
    from lstm_lab.errors import DataError

    def broken(*args, **kwargs):
        raise DataError("too short: lower the window")

    monkeypatch.setattr(jobs, "run_experiment", broken)
    job = JobRunner(max_concurrent=1).submit(ExperimentConfig(), make_tiny_series())
    _wait(job)
    assert (job.status, job.error) == (FAILED, "too short: lower the window")


def test_the_cpython_ast_race_is_retried_once_and_other_system_errors_fail(monkeypatch) -> None:
    calls = []

    def flaky(config, *args, **kwargs):
        calls.append(config.seed)
        if config.seed == 0 and calls.count(0) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=2, after=1)")
        if config.seed == 1:
            raise SystemError("something else")
        return f"result-{config.seed}"

    monkeypatch.setattr(jobs, "run_experiment", flaky)
    runner = JobRunner(max_concurrent=1)
    retried = runner.submit(ExperimentConfig(seed=0), make_tiny_series())
    broken = runner.submit(ExperimentConfig(seed=1), make_tiny_series())
    _wait(retried), _wait(broken)
    assert (retried.status, retried.result) == (DONE, "result-0")
    assert broken.status == FAILED
    assert broken.error == "Training failed unexpectedly (SystemError: something else)."
    assert calls == [0, 0, 1]


def test_real_job_records_live_progress_and_can_be_stopped() -> None:
    runner = JobRunner(max_concurrent=1)
    config = ExperimentConfig(window=4, test_size=6, **{**FAST, "epochs": 5000})
    job = runner.submit(config, make_tiny_series())
    deadline = time.monotonic() + 60
    while not job.live_histories().get("mlp", {}).get("loss") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert 0 < job.progress() < 1
    job.request_stop()
    _wait(job)
    assert job.status == DONE
    assert job.result.stopped_by_user
    assert job.result.epochs_run["mlp"] < 5000
    assert job.result.skipped == ["lstm"]            # not started once Stop was pressed
    assert set(job.result.metrics) == {"naive", "seasonal_naive", "holt_winters", "sarima", "mlp"}
