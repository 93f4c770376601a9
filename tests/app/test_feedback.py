"""Feedback while waiting (#17): every job's button says roughly how long it takes on this
server, and pressing Train shows its status right under the button on the very next run."""

from __future__ import annotations

import re

from lstm_lab.experiments import estimate
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.sources import load_series
from lstm_lab.ui import live
from tests.app.conftest import QUICK, make_app, texts, train_page, wait_for_training

ROUGHLY = re.compile(r"^Roughly (a second|\d+ s|\d+½? min|[\d,]+ min|[\d,]+½? hours) on this "
                     r"server(, after about .+ in the queue \(\d+ jobs? ahead\))?\.$")
TRAIN = "FormSubmitter:train_form-Train"


def _estimates(at) -> list[str]:
    return [c for c in texts(at.caption) if c.startswith("Roughly ")]


def _number(at, label: str):
    (found,) = [n for n in at.number_input if n.label == label]
    return found


def _expected(cfg: ExperimentConfig, series=None) -> str:
    series = series if series is not None else load_series(cfg)
    return estimate.about(estimate.RATES.seconds(estimate.compare_cost(cfg, series)), "Roughly")


def test_the_train_button_says_how_long_it_takes_before_it_is_pressed() -> None:
    at = train_page(QUICK)
    # the data line says the frequency in words, not pandas' alias
    assert "Data: **Passengers** — 144 points, monthly (month start)" in texts(at.caption)
    (line,) = _estimates(at)
    assert ROUGHLY.match(line), line
    cfg = at.session_state["lab.config"]
    assert line.startswith(_expected(cfg) + " on this server")
    # a bigger job says more: 40 times the epochs, no early stopping
    big = train_page({**QUICK, "epochs": "320", "units": "64"})
    (bigger,) = _estimates(big)
    seconds = {t: estimate.RATES.seconds(estimate.compare_cost(c, load_series(c)))
               for t, c in ((line, cfg), (bigger, big.session_state["lab.config"]))}
    assert seconds[bigger] > seconds[line]
    assert bigger.startswith(_expected(big.session_state["lab.config"]))
    assert "e+" not in bigger and "None" not in bigger


def test_pressing_train_shows_the_status_under_the_button_on_the_next_run() -> None:
    at = train_page(QUICK)
    at.button(key=TRAIN).click().run()           # the first run after the press
    assert not at.exception
    job = at.session_state["lab.job"]
    assert job is not None
    stops = [b for b in at.button if b.key == f"stop_status_{job.id}"]
    assert len(stops) == 1 and stops[0].label == "Stop"
    lines = [m for m in texts(at.markdown)
             if m.startswith(("**Training** — ", "**Queued: place ", "**Starting soon**",
                              "**Training: starting** — takes roughly "))]
    assert len(lines) == 1, texts(at.markdown)
    assert re.search(r"(\d+ s so far, about .+ left|starts in about .+ then takes roughly"
                     r"|starting\*\* — takes roughly .+\.$)", lines[0]), lines[0]
    assert not _estimates(at)                    # the status replaces the estimate
    wait_for_training(at)
    assert not at.exception and len(at.metric) == 6
    assert not [b for b in at.button if (b.key or "").startswith("stop_status_")]
    assert len(_estimates(at)) == 1              # back, for the next press


def test_the_status_line_says_queue_place_and_time_left() -> None:
    class Job:
        status, stage, label, expected_seconds = "running", "fold 2 of 3", "Backtest", 90.0

        @staticmethod
        def elapsed() -> float:
            return 75.4

    class Runner:
        rates = estimate.RATES

        @staticmethod
        def time_left(job) -> float:
            return 14.6

    original = live.cache.job_runner
    live.cache.job_runner = lambda: Runner
    try:
        assert live.status_line(Job) == "**Backtest · fold 2 of 3** — 1 min 15 s so far, about 15 s left."
        Job.elapsed = staticmethod(lambda: 200.0)
        assert live.status_line(Job) == ("**Backtest · fold 2 of 3** — 3 min 20 s so far, "
                                         "longer than the roughly 1½ min expected.")
    finally:
        live.cache.job_runner = original


def test_home_promises_the_estimated_time_of_the_default_run() -> None:
    at = make_app()
    at.run()
    cfg = ExperimentConfig()
    words = estimate.about(estimate.RATES.seconds(estimate.compare_cost(cfg, load_series(cfg))))
    (promise,) = [m for m in texts(at.markdown) if m.startswith("**Try it now:**")]
    assert f"It takes {words} on this server" in promise
    assert "a few seconds" not in promise


def test_backtest_and_forecast_ahead_say_how_long_beside_their_buttons() -> None:
    at = train_page({**QUICK, "test_size": "12"})
    cfg = at.session_state["lab.config"]
    series = load_series(cfg)
    at.segmented_control(key="train.view").set_value("Backtest").run()
    assert not at.exception
    train, three = _estimates(at)                   # Train's, then Run backtest's
    assert train.startswith(_expected(cfg, series))
    assert ROUGHLY.match(three), three
    cost = estimate.backtest_cost(cfg, series, 3, True)
    assert three.startswith(estimate.about(estimate.RATES.seconds(cost), "Roughly"))
    _number(at, "Folds").set_value(6).run()          # more folds, more time
    six = _estimates(at)[1]
    assert (estimate.RATES.seconds(estimate.backtest_cost(cfg, series, 6, True))
            > estimate.RATES.seconds(cost))
    assert six.startswith(estimate.about(
        estimate.RATES.seconds(estimate.backtest_cost(cfg, series, 6, True)), "Roughly"))
    at.segmented_control(key="train.view").set_value("Forecast ahead").run()
    assert not at.exception
    ahead = _estimates(at)[1]
    steps = int(_number(at, "Steps ahead").value)
    assert ahead.startswith(estimate.about(
        estimate.RATES.seconds(estimate.future_cost(cfg, series, steps)), "Roughly"))


def test_learn_experiments_and_the_sweep_say_how_long_beside_their_buttons() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception
    lines = _estimates(at)
    experiments = [b.label for b in at.button
                   if b.label.startswith(("Run ", "Train both", "Train a small LSTM"))]
    assert "Train a small LSTM here" in experiments
    assert len(lines) == len(experiments) >= 4
    assert all(ROUGHLY.match(line) for line in lines), lines
    at.switch_page("pages/sweep.py").run()
    assert not at.exception
    (line,) = _estimates(at)
    assert ROUGHLY.match(line), line
