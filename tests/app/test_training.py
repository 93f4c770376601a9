"""Training from the dashboard: live job in the background, results for every model, reuse."""

from __future__ import annotations

import math
import time

from lstm_lab.experiments.metrics import fmt_number
from tests.app.conftest import QUICK, make_app, texts, wait_for_training

# the models' order on the page; their names are the run's (a network's says its transform and
# ensemble size: "ES-LSTM (3 seeds)")
MODEL_KEYS = ["naive", "seasonal_naive", "holt_winters", "sarima", "mlp", "lstm"]


def _train(params: dict[str, str]):
    at = make_app(params)
    at.run()
    at.switch_page("pages/train.py").run()
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert not at.exception
    return wait_for_training(at)


def test_default_training_shows_metrics_for_all_models() -> None:
    at = _train(QUICK)
    assert not at.exception
    assert not at.error
    result = list(at.session_state["lab.runs"].values())[-1]
    labels = [m.label.replace(" ★", "") for m in at.metric]
    assert labels == [result.label(m) for m in MODEL_KEYS]
    assert labels[:4] == ["Naive (last value)", "Seasonal naive", "Holt-Winters", "SARIMA"]
    # every card names its metric, and the number is written for people ("RMSE 23.4")
    assert all(m.value.startswith("RMSE ") and "e+" not in m.value for m in at.metric)
    assert [m.value for m in at.metric] == [f"RMSE {fmt_number(result.metrics[k]['rmse'])}"
                                            for k in MODEL_KEYS]
    assert all(math.isfinite(result.metrics[k]["rmse"]) for k in MODEL_KEYS)
    assert sum("★" in m.label for m in at.metric) == 1
    assert "**Test metrics** (★ = lowest RMSE)" in texts(at.markdown)
    table = at.dataframe[0].value
    assert list(table.columns) == ["RMSE", "MAE", "MAPE %", "MASE", "skill vs naive %",
                                   "skill vs seasonal naive %",
                                   "80% coverage", "80% width", "80% Winkler",
                                   "95% coverage", "95% width", "95% Winkler"]
    assert len(table) == 6
    # every model is calibrated on the default run: its bands are scored on the test part
    assert table["80% coverage"].between(0, 100).all() and (table["80% width"] > 0).all()
    assert any(c.startswith("Shaded: where each model's forecast errors from the end of the "
                            "training part say the value will be, 80% and 95% of the time")
               for c in texts(at.caption))
    assert [b.label for b in at.get("download_button")] == [
        "Predictions CSV", "Metrics + config JSON", f"Trained {result.label('lstm')} (.keras)"]
    # the transform auto chose, and why, in words: the ES hybrid for a direct forecast of a
    # seasonal series with at least 3 seasons of training data (one step too)
    assert result.transform == "log_es"
    assert any(c.startswith("Target transform: **ES hybrid of logs**") and
               "the series has a season of 12 and at least 3 seasons to learn it from, so it "
               "uses the ES hybrid" in c
               for c in texts(at.caption))


def test_resubmitting_the_same_config_reuses_the_finished_run() -> None:
    at = _train(QUICK)
    runs = at.session_state["lab.runs"]
    assert len(runs) == 1
    first = next(iter(runs.values()))
    at.button(key="FormSubmitter:train_form-Train").click().run()
    assert at.session_state["lab.job"] is None          # nothing queued: the run was reused
    assert next(iter(at.session_state["lab.runs"].values())) is first
    assert len(at.metric) == 6


def test_home_try_it_trains_the_default_experiment() -> None:
    at = make_app(QUICK)
    at.run()
    at.button[0].click().run()               # "Train the default experiment"
    assert not at.exception
    assert at.session_state["lab.job"] is not None
    wait_for_training(at)
    assert len(at.metric) == 6


def test_impossible_window_shows_a_readable_error() -> None:
    at = _train({**QUICK, "window": "130"})   # 144 points - 24 test leaves 120 for training
    assert not at.exception
    assert "lab.job" not in at.session_state  # refused at once, nothing queued
    errors = texts(at.error)
    assert len(errors) == 1
    assert "the horizon or the test size" in errors[0]


def test_a_run_over_the_compute_budget_is_refused_before_queueing() -> None:
    at = _train({"units": "1024", "epochs": "5000"})
    assert not at.exception
    assert "lab.job" not in at.session_state
    (error,) = texts(at.error)
    assert error.startswith("This run is too big for this server")


def test_log_transform_on_sine_is_refused_with_the_fix() -> None:
    at = _train({**QUICK, "dataset": "damped_sine", "transform": "log_diff"})
    assert not at.exception
    errors = texts(at.error)
    assert len(errors) == 1 and "needs positive values" in errors[0] and "'none'" in errors[0]


def test_a_queued_run_shows_its_place_and_can_leave_the_queue() -> None:
    """With every worker busy, the page says where the run waits; Stop takes it out."""
    import threading

    from lstm_lab.execution.jobs import CANCELLED
    from lstm_lab.ui import cache
    from tests.conftest import make_tiny_series

    runner = cache.job_runner()                          # the server-wide queue the page uses
    release = threading.Event()
    for _ in range(runner.max_concurrent):               # occupy every worker
        runner.submit(None, make_tiny_series(), lambda job: release.wait(60), "busy")
    try:
        at = make_app(QUICK)
        at.run()
        at.switch_page("pages/train.py").run()
        at.button(key="FormSubmitter:train_form-Train").click().run()
        assert not at.exception
        waiting = [m for m in texts(at.markdown) if m.startswith("**Waiting in the training")]
        assert waiting and waiting[0].startswith(
            "**Waiting in the training queue: place 1 of 1** — about ")
        job = at.session_state["lab.job"]
        at.button(key=f"stop_{job.id}").click().run()
        assert job.stop_event.is_set()
    finally:
        release.set()
    deadline = time.monotonic() + 30
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.status == CANCELLED                       # it left the queue without training


def test_a_season_ahead_forecast_shows_what_tuning_kept() -> None:
    at = make_app({**QUICK, "test_size": "12", "horizon": "12", "models": "lstm,naive",
                   "tuning": "auto"})        # tuning is off by default
    at.run()
    at.switch_page("pages/train.py").run()
    tuning_radio = next(r for r in at.radio if r.label == "Tuning")
    assert tuning_radio.value == "auto" and list(tuning_radio.options) == ["auto", "off"]
    at.button(key="FormSubmitter:train_form-Train").click().run()
    at = wait_for_training(at)
    assert not at.exception and not at.error
    result = list(at.session_state["lab.runs"].values())[-1]
    kept, name = result.tuning["lstm"], result.label("lstm")
    assert f"Tuning: {name} kept **{kept['chosen']}**." in texts(at.caption)
    table = next(d.value for d in at.dataframe if "validation RMSE" in d.value.columns)
    lstm = table[table["network"] == name]
    assert len(lstm) == 3 and lstm.loc[lstm["kept"] == "✓", "variant"].tolist() == [kept["chosen"]]
    assert lstm["validation RMSE"].min() == lstm.loc[lstm["kept"] == "✓", "validation RMSE"].item()
    code = next(c.value for c in at.code if "keras.layers.LSTM" in c.value)
    assert f"window, horizon = {kept['window']}, 12" in code   # the code rebuilds the kept variant


# --- a shared server: one training per person, a full queue, a time limit per job ----------------

def _idle_runner():
    """The server-wide queue the pages use, once earlier tests' jobs have ended."""
    from lstm_lab.ui import cache

    runner = cache.job_runner()
    deadline = time.monotonic() + 60
    while runner.busy() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    return runner


def _shown(elements) -> list[str]:
    """The texts as a reader sees them: markdown escapes (user text is shown as typed) undone."""
    import re

    return [re.sub(r"\\(.)", r"\1", text) for text in texts(elements)]


def _hold(job):
    while not job.stop_event.is_set():
        time.sleep(0.01)
    return None


def test_a_full_server_refuses_a_training_and_queues_nothing(monkeypatch) -> None:
    import re

    from tests.conftest import make_tiny_series

    runner = _idle_runner()
    monkeypatch.setenv("LSTM_LAB_MAX_QUEUE", "1")
    other = runner.submit(None, make_tiny_series(), _hold, owner="someone-else")
    try:
        at = _train(QUICK)
        assert "lab.job" not in at.session_state             # refused at once, nothing queued
        (error,) = _shown(at.error)
        assert re.fullmatch(r"The server is full: 1 training is running or waiting\. "
                            r"Try again in about \d+ s\.", error)
        assert runner.busy() == (1, 0)
    finally:
        other.request_stop()


def test_a_second_tab_of_the_same_person_replaces_the_first_training() -> None:
    """Two sessions with one owner (two tabs sharing a history key): the runner keeps one job."""
    import uuid

    from lstm_lab.ui.live import REPLACED_NOTICES

    _idle_runner()
    owner = uuid.uuid4().hex
    long = {**QUICK, "epochs": "5000", "models": "mlp,naive"}
    tabs = []
    for params in (long, QUICK):
        at = make_app(params)
        at.session_state["lab.owner"] = owner
        at.run()
        at.switch_page("pages/train.py").run()
        at.button(key="FormSubmitter:train_form-Train").click().run()
        assert not at.exception
        tabs.append(at)
    first, second = (at.session_state["lab.job"] for at in tabs)
    assert first.stop_reason == "replaced" and first.stop_event.is_set()
    assert second.replaced in ("stopped", "cancelled")      # running already, or still queued
    assert REPLACED_NOTICES[second.replaced] in texts(tabs[1].info)
    # the first tab is told once, on the run that finds its job ended (stopped while running,
    # or cancelled while still queued: then there is no result to keep the note in)
    seen = _warnings_until_done(tabs[0])
    assert ("This training was stopped because you started another one (one training per "
            "person at a time).") in seen
    wait_for_training(tabs[1])
    assert len(tabs[1].metric) == 6 and not tabs[1].error   # the second one trained in full


def test_a_new_training_waits_until_the_same_persons_stopped_one_returns() -> None:
    """The replaced job still holds its worker until its current phase ends: the page's new job
    waits for it (and says so) instead of taking a second worker."""
    import threading
    import uuid

    from lstm_lab.execution.jobs import QUEUED, RUNNING
    from lstm_lab.ui.live import REPLACED_NOTICES, WAITING_FOR_OWNER
    from tests.conftest import make_tiny_series

    runner = _idle_runner()
    owner, release = uuid.uuid4().hex, threading.Event()
    old = runner.submit(None, make_tiny_series(), lambda job: release.wait(60), owner=owner)
    try:
        while old.status != RUNNING:
            time.sleep(0.01)
        at = make_app(QUICK)
        at.session_state["lab.owner"] = owner
        at.run()
        at.switch_page("pages/train.py").run()
        at.button(key="FormSubmitter:train_form-Train").click().run()
        assert not at.exception
        job = at.session_state["lab.job"]
        assert old.stop_reason == "replaced" and not old.finished    # stopped, still running
        assert job.status == QUEUED and runner.waiting_for_owner(job)  # a worker is free
        assert f"**{WAITING_FOR_OWNER}**" in texts(at.markdown)
        assert REPLACED_NOTICES["stopped"] in texts(at.info)
    finally:
        release.set()
    at = wait_for_training(at)
    assert len(at.metric) == 6 and job.started_at >= old.finished_at


def test_a_browser_over_its_job_cap_is_refused_and_nothing_is_stopped(monkeypatch) -> None:
    """Without a browser cookie or address (AppTest) the session's owner stands in for the
    client; the page shows the refusal and queues nothing."""
    import uuid

    from tests.conftest import make_tiny_series

    runner = _idle_runner()
    monkeypatch.setenv("LSTM_LAB_MAX_JOBS_PER_CLIENT", "1")
    owner = uuid.uuid4().hex
    other = runner.submit(None, make_tiny_series(), _hold, owner=uuid.uuid4().hex, client=owner)
    try:
        at = make_app(QUICK)
        at.session_state["lab.owner"] = owner
        at.run()
        at.switch_page("pages/train.py").run()
        at.button(key="FormSubmitter:train_form-Train").click().run()
        assert not at.exception
        assert "lab.job" not in at.session_state
        assert _shown(at.error) == [
            "You already have 1 training running or waiting on this server (from this or "
            "another tab). Stop one, or wait for it to finish (the server allows 1 per browser: "
            "LSTM_LAB_MAX_JOBS_PER_CLIENT)."]
        assert not other.stop_event.is_set() and runner.busy() == (1, 0)
    finally:
        other.request_stop()


def test_a_training_past_the_job_time_limit_stops_and_says_so(monkeypatch) -> None:
    _idle_runner()
    monkeypatch.setenv("LSTM_LAB_MAX_JOB_SECONDS", "1")
    at = _train({**QUICK, "epochs": "5000", "models": "mlp,naive"})
    assert not at.exception and not at.error
    result = next(iter(at.session_state["lab.runs"].values()))
    assert result.stopped_by_user and result.epochs_run["mlp"] < 5000
    note = ("This job reached the server's time limit of 1 s of running time per job "
            "(LSTM_LAB_MAX_JOB_SECONDS) and was stopped: what it finished is kept.")
    assert result.notes[-1] == note
    assert texts(at.warning).count(note) == 1                # shown once, with the results


def _warnings_until_done(at, timeout: float = 180.0) -> list[str]:
    """Rerun ``at`` until its job has ended; every warning any of those runs showed."""
    import time

    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while at.session_state["lab.job"] is not None:
        assert time.monotonic() < deadline, f"the job did not end within {timeout} s"
        time.sleep(0.5)
        at.run()
        seen += texts(at.warning)
    at.run()
    return seen + texts(at.warning)
