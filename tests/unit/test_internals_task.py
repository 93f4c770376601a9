"""Learn's "Inside the LSTM" as a queued task: the web side sends a run's network (state and
.keras bytes) and values, the "internals" task replays the chosen layer at a batch of origins,
and the page reads each origin out of the batch; the same numbers as
``internals.internals_for_result`` on the live run, without the web side loading the network."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_lab.execution import wire
from lstm_lab.execution.tasks import TaskContext, TaskSpec, run_task
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.lessons import experiments as lessons
from lstm_lab.models import internals
from tests.conftest import FAST, make_tiny_series


@pytest.fixture(scope="module")
def run():
    from lstm_lab.experiments.training import run_experiment

    config = ExperimentConfig(window=4, test_size=6, layers=2, members=1,
                              models=("lstm", "naive"), intervals=(), **FAST)
    return run_experiment(config, make_tiny_series())


def _task(run, origin: int, layer: str | None = None):
    """The task as a worker runs it: its spec through the wire and back, its result too."""
    spec = TaskSpec("internals", lessons.inside_task_params(run, origin, layer))
    spec, *_ = wire.decode_job(wire.encode_job(spec, None, None, "ann"))
    batch = run_task(spec, TaskContext(None, None, spec.params, lambda: False))
    return wire.decode_result(wire.encode_result(batch))


def _same(found: dict, expected: dict) -> None:
    for key in ("x", "i", "f", "g", "o", "c", "h", "prediction", "prediction_model", "window",
                "actual"):
        np.testing.assert_allclose(found[key], expected[key], rtol=1e-5, atol=1e-6,
                                   err_msg=key)
    for key in ("layer", "direction", "members", "origin", "forecast_time"):
        assert found[key] == expected[key], key
    assert list(found["time"]) == list(expected["time"])


def test_the_task_gives_what_internals_for_result_gives_at_every_origin(run) -> None:
    facts = lessons.network_facts(run)
    batch = _task(run, run.n_train)
    first, last = facts["first_origin_"], run.n_points - 1
    assert batch["origins"].tolist() == list(range(first, last + 1))     # all fit the budget
    assert batch["layers"] == ["lstm_1", "lstm_2"] and batch["default_layer"] == "lstm_2"
    assert batch["layer"] == "lstm_2"
    for origin in (first, run.n_train, last):
        _same(lessons.internals_at(batch, run, origin),
              internals.internals_for_result(run, origin))
    lower = _task(run, run.n_train, "lstm_1")
    assert lower["layer"] == "lstm_1"
    _same(lessons.internals_at(lower, run, run.n_train),
          internals.internals_for_result(run, run.n_train, layer="lstm_1"))
    assert lessons.internals_at(batch, run, last + 5) is None


def test_a_shipped_run_is_opened_without_restoring_its_network(run) -> None:
    shipped = wire.decode_result(wire.encode_result(run))
    network = shipped.forecasters["lstm"]
    assert lessons.latest_lstm_run({"a": shipped}) is shipped
    assert lessons.latest_run_note({"a": shipped}) is None
    params = lessons.inside_task_params(shipped, shipped.n_train, None)
    json.dumps(params)                                                   # plain JSON
    assert lessons.network_facts(shipped) == lessons.network_facts(run)
    assert not network.loaded                      # decided and sent without loading Keras
    batch = _task(shipped, shipped.n_train)
    _same(lessons.internals_at(batch, shipped, shipped.n_train),
          internals.internals_for_result(run, run.n_train))


def test_a_batch_over_the_budget_is_cut_around_the_origin_asked(run, monkeypatch) -> None:
    monkeypatch.setattr(lessons, "INSIDE_BUDGET", 1)
    batch = _task(run, run.n_train + 2)
    assert batch["origins"].tolist() == [run.n_train + 2]
    per_origin = sum(np.asarray(v[0]).size for k, v in batch.items()
                     if k in ("x", "i", "f", "g", "o", "c", "h", "prediction",
                              "prediction_model"))
    monkeypatch.setattr(lessons, "INSIDE_BUDGET", 3 * per_origin)
    batch = _task(run, run.n_points - 1)
    assert batch["origins"].tolist() == [run.n_points - 3, run.n_points - 2, run.n_points - 1]


def test_a_gru_run_is_not_opened_and_says_why_without_loading_it() -> None:
    from lstm_lab.experiments.training import run_experiment

    gru = run_experiment(ExperimentConfig(window=4, test_size=6, architecture="gru", members=1,
                                          models=("lstm",), intervals=(), **FAST),
                         make_tiny_series())
    shipped = wire.decode_result(wire.encode_result(gru))
    assert lessons.latest_lstm_run({"a": shipped}) is None
    assert "a GRU is not an LSTM" in lessons.latest_run_note({"a": shipped})
    assert not shipped.forecasters["lstm"].loaded


def test_a_run_trained_in_a_worker_is_opened_by_a_job_in_a_worker() -> None:
    """Across the process boundary both ways: the run comes back shipped, the page's request
    goes out as plain data, the gates come back as arrays; the session's copy stays unloaded."""
    import time

    from lstm_lab.execution.jobs import DONE, JobRunner
    from lstm_lab.execution.processes import ProcessBackend

    config = ExperimentConfig(window=4, test_size=6, layers=2, members=1, models=("lstm",),
                              intervals=(), **FAST)
    backend = ProcessBackend(1, warm_up=False)
    try:
        runner = JobRunner(backend=backend)

        def finished(job):
            deadline = time.monotonic() + 300
            while not job.finished and time.monotonic() < deadline:
                time.sleep(0.05)
            assert (job.status, job.error) == (DONE, None)
            return job.result

        shipped = finished(runner.submit(config, make_tiny_series()))
        network = shipped.forecasters["lstm"]
        assert isinstance(network, wire.ShippedNetwork)
        spec = TaskSpec("internals", lessons.inside_task_params(shipped, shipped.n_train,
                                                                "lstm_1"))
        batch = finished(runner.submit(None, None, spec, "Opening the LSTM"))
        assert not network.loaded
        assert batch["layer"] == "lstm_1" and batch["layers"] == ["lstm_1", "lstm_2"]
        for origin in (int(batch["origins"][0]), shipped.n_train, shipped.n_points - 1):
            _same(lessons.internals_at(batch, shipped, origin),
                  internals.internals_for_result(shipped, origin, layer="lstm_1"))
    finally:
        backend.close()
