"""The training queue: FIFO order, a cap on concurrent runs, stop while queued or running, one
job per owner, a cap per client (browser), a cap on the whole queue and a time limit per
job."""

from __future__ import annotations

import threading
import time

import pytest

from lstm_lab.execution import tasks as execution_tasks
from lstm_lab.execution.jobs import (
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    ClientBusyError,
    JobRunner,
    QueueFullError,
)
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.limits import Limits
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

    monkeypatch.setattr(execution_tasks, "run_experiment", fake_run)
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

    monkeypatch.setattr(execution_tasks, "run_experiment", broken)
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

    monkeypatch.setattr(execution_tasks, "run_experiment", flaky)
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


# --- fairness on a shared server: one job per owner, a full queue, a time limit per job -------

def _hold(job):
    """A task that runs until its job is asked to stop, then says why it ended."""
    while not job.stop_event.is_set():
        time.sleep(0.01)
    return f"stopped: {job.stop_reason}"


def test_a_second_submit_from_the_same_owner_replaces_the_first() -> None:
    runner = JobRunner(max_concurrent=1, limits=Limits(max_job_seconds=600))
    series = make_tiny_series()
    running = runner.submit(None, series, _hold, owner="alice")
    while running.status != RUNNING:
        time.sleep(0.01)
    queued = runner.submit(None, series, _hold, owner="alice")       # stops the running one
    assert queued.replaced == "stopped"
    _wait(running)
    assert (running.status, running.result) == (DONE, "stopped: replaced")
    assert running.notice == ("This training was stopped because you started another one "
                              "(one training per person at a time).")
    while queued.status != RUNNING:
        time.sleep(0.01)
    blocker = runner.submit(None, series, _hold, owner="bob")        # waits behind `queued`
    waiting = runner.submit(None, series, _hold, owner="alice")      # stops `queued`
    newest = runner.submit(None, series, _hold, owner="alice")       # takes `waiting`'s place
    assert waiting.status == CANCELLED and newest.replaced == "cancelled"
    assert runner.active("alice") == [newest]
    assert runner.active("bob") == [blocker]
    assert runner.position(newest) == 2                              # behind bob's, not alice's
    blocker.request_stop(), newest.request_stop()
    for job in (queued, blocker, newest):
        _wait(job)
    assert queued.result == "stopped: replaced"
    assert newest.status == CANCELLED                                 # Stop while queued


def test_different_owners_each_keep_their_job() -> None:
    runner = JobRunner(max_concurrent=2, limits=Limits(max_job_seconds=600))
    first = runner.submit(None, make_tiny_series(), _hold, owner="alice")
    second = runner.submit(None, make_tiny_series(), _hold, owner="bob")
    while (first.status, second.status) != (RUNNING, RUNNING):
        time.sleep(0.01)
    assert not first.stop_event.is_set() and not second.stop_event.is_set()
    assert (first.replaced, second.replaced) == ("", "")
    first.request_stop(), second.request_stop()
    _wait(first), _wait(second)
    assert (first.result, second.result) == ("stopped: stopped by you",) * 2


def test_a_full_queue_refuses_with_the_count_and_a_wait() -> None:
    runner = JobRunner(max_concurrent=1, limits=Limits(max_queue=3, max_job_seconds=600))
    series = make_tiny_series()
    held = [runner.submit(None, series, _hold, owner=f"student-{i}") for i in range(3)]
    while held[0].status != RUNNING:
        time.sleep(0.01)
    with pytest.raises(QueueFullError) as refused:
        runner.submit(None, series, _hold, owner="late")
    # 3 jobs, room after 1 ends: a typical job (5 s before any finished) on 1 worker
    assert str(refused.value) == ("The server is full: 3 trainings are running or waiting. "
                                  "Try again in about 5 s.")
    assert runner.busy() == (1, 2)                                  # nothing was queued
    # an owner already in the queue may still replace their own job
    again = runner.submit(None, series, _hold, owner="student-2")
    assert held[2].status == CANCELLED and again.replaced == "cancelled"
    assert runner.busy() == (1, 2)
    for job in (held[0], held[1], again):
        job.request_stop()
    for job in (held[0], held[1], again):
        _wait(job)


def test_a_job_past_its_time_limit_is_stopped_and_says_so() -> None:
    from types import SimpleNamespace

    runner = JobRunner(max_concurrent=1, limits=Limits(max_job_seconds=1))
    series = make_tiny_series()

    def hold_with_notes(job):
        _hold(job)
        return SimpleNamespace(notes=["trained on the most recent windows"])

    slow = runner.submit(None, series, hold_with_notes, owner="alice")
    # waits in the queue while `slow` runs for its whole second: queue time does not count
    late = runner.submit(None, series, lambda job: job.stop_event.is_set(), owner="bob")
    _wait(slow), _wait(late)
    note = ("This job reached the server's time limit of 1 s of running time per job "
            "(LSTM_LAB_MAX_JOB_SECONDS) and was stopped: what it finished is kept.")
    assert (slow.status, slow.stop_reason, slow.notice) == (DONE, "time limit", note)
    assert slow.result.notes == ["trained on the most recent windows", note]
    assert late.started_at - late.submitted_at >= 1.0                # it did wait a second...
    assert (late.status, late.result, late.stop_reason) == (DONE, False, "")   # ...unpunished


def test_the_time_limit_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_JOB_SECONDS", "1")
    job = JobRunner(max_concurrent=1).submit(None, make_tiny_series(), _hold)
    _wait(job)
    assert job.result == "stopped: time limit"


# --- tabs, reloads and Stop: a cap per client, stopping jobs hold their place -------------------

def _until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def _stubborn(release: threading.Event):
    """A task that ignores Stop until ``release`` (a phase that checks the flag only at its
    end, like a long epoch): a stopped job that still holds its worker."""
    def task(job):
        release.wait(60)
        return f"returned: {job.stop_reason or 'not stopped'}"
    return task


def test_a_client_has_at_most_two_jobs_whatever_its_tabs() -> None:
    """Three tabs of one browser (three owners, one address): the third job is refused."""
    runner = JobRunner(max_concurrent=1, limits=Limits(max_job_seconds=600))
    series = make_tiny_series()
    first = runner.submit(None, series, _hold, owner="tab-1", client="10.0.0.7")
    _until(lambda: first.status == RUNNING)
    second = runner.submit(None, series, _hold, owner="tab-2", client="10.0.0.7")
    with pytest.raises(ClientBusyError) as refused:
        runner.submit(None, series, _hold, owner="tab-3", client="10.0.0.7")
    assert str(refused.value) == (
        "You already have 2 trainings running or waiting on this server (from this or another "
        "tab). Stop one, or wait for it to finish (the server allows 2 per browser: "
        "LSTM_LAB_MAX_JOBS_PER_CLIENT).")
    assert runner.busy() == (1, 1)                                   # nothing was queued
    assert not first.stop_event.is_set() and not second.stop_event.is_set()
    other = runner.submit(None, series, _hold, owner="tab-9", client="10.0.0.8")  # another PC
    first.request_stop()
    _wait(first)
    third = runner.submit(None, series, _hold, owner="tab-3", client="10.0.0.7")   # room again
    assert third.client == "10.0.0.7" and third.status == QUEUED
    for job in (second, other, third):
        job.request_stop()
    for job in (second, other, third):
        _wait(job)


def test_the_client_cap_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_JOBS_PER_CLIENT", "3")
    runner = JobRunner(max_concurrent=1)
    held = [runner.submit(None, make_tiny_series(), _hold, owner=f"tab-{i}", client="nat")
            for i in range(3)]
    with pytest.raises(ClientBusyError, match="You already have 3 trainings"):
        runner.submit(None, make_tiny_series(), _hold, owner="tab-4", client="nat")
    for job in held:
        job.request_stop()
    for job in held:
        _wait(job)


def test_jobs_still_running_after_a_stop_count_toward_both_caps() -> None:
    release = threading.Event()
    runner = JobRunner(max_concurrent=2, limits=Limits(max_job_seconds=600, max_queue=2,
                                                       max_jobs_per_client=1))
    series = make_tiny_series()
    try:
        stopping = runner.submit(None, series, _stubborn(release), owner="alice", client="pc-1")
        _until(lambda: stopping.status == RUNNING)
        stopping.request_stop()                        # asked to stop, still holding a worker
        assert stopping.status == RUNNING
        with pytest.raises(ClientBusyError, match="You already have 1 training running"):
            runner.submit(None, series, _hold, owner="alice-tab-2", client="pc-1")
        with pytest.raises(ClientBusyError):           # nor by replacing their own job
            runner.submit(None, series, _hold, owner="alice", client="pc-1")
        bob = runner.submit(None, series, _hold, owner="bob", client="pc-2")
        with pytest.raises(QueueFullError, match="The server is full: 2 trainings are"):
            runner.submit(None, series, _hold, owner="carol", client="pc-3")
        _until(lambda: bob.status == RUNNING)
        assert runner.busy() == (2, 0)                 # the refused ones were not queued
    finally:
        release.set()
    _wait(stopping)
    assert stopping.result == "returned: stopped by you"
    carol = runner.submit(None, series, _hold, owner="carol", client="pc-3")  # its place is free
    for job in (bob, carol):
        job.request_stop()
    for job in (bob, carol):
        _wait(job)


def test_an_owners_new_job_waits_for_the_old_one_while_other_owners_start() -> None:
    """Pressing Train again and again holds one worker: the replaced job still running keeps
    the owner's next one waiting, and a free worker takes another owner's job instead."""
    release = threading.Event()
    runner = JobRunner(max_concurrent=2, limits=Limits(max_job_seconds=600))
    series = make_tiny_series()
    try:
        old = runner.submit(None, series, _stubborn(release), owner="alice", client="pc-1")
        _until(lambda: old.status == RUNNING)
        new = runner.submit(None, series, _hold, owner="alice", client="pc-1")
        assert new.replaced == "stopped" and old.stop_reason == "replaced"
        bob = runner.submit(None, series, _hold, owner="bob", client="pc-2")
        _until(lambda: bob.status == RUNNING)          # behind alice's new job, started first
        assert new.status == QUEUED and runner.position(new) == 1
        assert runner.waiting_for_owner(new) and not runner.waiting_for_owner(bob)
        newest = runner.submit(None, series, _hold, owner="alice", client="pc-1")  # Train again
        assert new.status == CANCELLED and newest.replaced == "cancelled"
        assert runner.busy() == (2, 1) and newest.status == QUEUED
        assert runner.waiting_for_owner(newest)
    finally:
        release.set()
    _wait(old)
    _until(lambda: newest.status == RUNNING)           # it starts once the old one returned
    assert newest.started_at >= old.finished_at
    assert old.result == "returned: replaced"
    assert not runner.waiting_for_owner(newest)
    for job in (bob, newest):
        job.request_stop()
    for job in (bob, newest):
        _wait(job)


def test_one_browser_never_holds_two_workers_its_second_tab_waits() -> None:
    """Two workers, two tabs of one browser and a classmate: the classmate's job starts on the
    second worker; the browser's second job waits until its first one has returned."""
    runner = JobRunner(max_concurrent=2, limits=Limits(max_job_seconds=600))
    series = make_tiny_series()
    first = runner.submit(None, series, _hold, owner="tab-1", client="browser-a")
    _until(lambda: first.status == RUNNING)
    second = runner.submit(None, series, _hold, owner="tab-2", client="browser-a")
    classmate = runner.submit(None, series, _hold, owner="bob", client="browser-b")
    _until(lambda: classmate.status == RUNNING)
    assert second.status == QUEUED and runner.busy() == (2, 1)     # a worker went to the classmate
    first.request_stop()
    _wait(first)
    _until(lambda: second.status == RUNNING)                        # then the second tab's job
    for job in (second, classmate):
        job.request_stop()
    for job in (second, classmate):
        _wait(job)


def test_the_wait_counts_each_job_ahead_by_its_own_estimate(gated) -> None:
    from lstm_lab.experiments.estimate import JobCost, RateBook

    started, release = gated
    runner = JobRunner(max_concurrent=1)
    runner.rates = RateBook()
    series = make_tiny_series()
    short, long = JobCost("compare", fixed=10.0), JobCost("compare", fixed=100.0)
    first = runner.submit(ExperimentConfig(seed=0), series, cost=short)
    time.sleep(0.2)
    assert first.status == RUNNING and first.expected_seconds == pytest.approx(10.0)
    second = runner.submit(ExperimentConfig(seed=1), series, cost=long)
    third = runner.submit(ExperimentConfig(seed=2), series, cost=short)
    assert 9.0 < runner.estimated_wait(second) < 10.0       # what the running job has left
    assert runner.estimated_wait(third) == pytest.approx(runner.estimated_wait(second) + 100.0,
                                                         abs=0.5)
    wait, ahead = runner.wait_for_new()
    assert ahead == 2 and wait == pytest.approx(runner.estimated_wait(third) + 10.0, abs=0.5)
    assert runner.time_left(second) == pytest.approx(100.0)
    # a job without a cost of its own, and the default task: a comparison of its config
    plain = runner.submit(ExperimentConfig(seed=3), series)
    assert plain.cost is not None and plain.cost.kind == "compare" and plain.expected_seconds > 0
    third.request_stop()                                   # leaves the queue: teaches nothing
    release.set()
    for job in (first, second, plain):
        _wait(job)
    # three finished jobs took a second or so each: this server's rate is now far faster
    assert runner.rates.rate("compare") < runner.rates.default / 5
    assert runner.rates.seconds(long) < 20.0


def test_a_job_in_its_grace_period_waits_before_it_starts(gated) -> None:
    started, release = gated
    runner = JobRunner(max_concurrent=1)
    series = make_tiny_series()
    job = runner.submit(ExperimentConfig(seed=7), series, grace=1.0)
    time.sleep(0.3)
    assert started == [] and job.status == QUEUED       # the page shows its status first
    deadline = time.monotonic() + 30
    while not started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started == [7] and job.started_at - job.submitted_at >= 1.0
    release.set()
    _wait(job)
    assert job.status == DONE


def test_a_job_counts_tensorflows_import_only_when_no_warm_worker_would_take_it(
        monkeypatch) -> None:
    """Worker processes warm up at start: the web process never loads TensorFlow, yet a job a
    warmed-up worker takes pays no import; the backend says so (``Backend.warm``)."""
    import sys

    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)   # a web process's view
    from lstm_lab.experiments.estimate import JobCost, RateBook

    class Pool:
        slots, is_warm = 1, False

        def warm(self) -> bool:
            return self.is_warm

        def run(self, job):
            return job.task(job)

        def kill(self, job) -> bool:
            return False

        def close(self) -> None:
            pass

    pool = Pool()
    runner = JobRunner(backend=pool)
    runner.rates = RateBook()
    cost = JobCost("compare", fixed=10.0, startup=14.0)
    release = threading.Event()
    cold = runner.submit(None, make_tiny_series(), lambda job: release.wait(30) and "cold",
                         cost=cost)
    _until(lambda: cold.status == RUNNING)
    assert cold.cold_start                       # no warm worker: it pays the import
    assert cold.expected_seconds == pytest.approx(runner.rates.seconds(cost))
    pool.is_warm = True
    assert runner.seconds(cost) == pytest.approx(cold.expected_seconds - 14.0)
    release.set()
    _wait(cold)
    warm = runner.submit(None, make_tiny_series(), lambda job: "warm", cost=cost)
    _wait(warm)
    assert not warm.cold_start
    assert (cold.result, warm.result) == ("cold", "warm")
