"""Learn page: the five limits' live experiments and the view inside an LSTM, driven by AppTest.

The experiments are patched to tiny settings (same code, fewer steps) so each click takes about
a second; tests/unit/test_tasks.py checks what the full-size ones show.
"""

from __future__ import annotations

import base64
import json
import re
import time
from functools import partial
from unittest.mock import patch

import numpy as np
import pytest

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.lessons import experiments as lessons
from lstm_lab.lessons import tasks
from tests.app.conftest import make_app, texts
from tests.conftest import FAST, make_tiny_series, requires_tf

PAGE = "pages/learn.py"
TINY = {
    "echo_experiment": partial(tasks.echo_experiment, n_train=64, n_test=16, steps=3, units=4),
    "parallel_experiment": partial(tasks.parallel_experiment, length=80, epochs=2),
    "variable_length_demo": partial(tasks.variable_length_demo, n_train=64, n_test=16, steps=3,
                                    units=4),
    "output_length_demo": partial(tasks.output_length_demo, n_points=80, epochs=2, units=4),
    "order_experiment": partial(tasks.order_experiment, seeds=(0, 1), window=8, units=4,
                                n_train=64, n_test=50, steps=3),
}


def _learn(session: dict | None = None):
    at = make_app()
    at.default_timeout = 240   # a lesson's first click imports TensorFlow on a shared 2-core box
    for key, value in (session or {}).items():
        at.session_state[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _plotly_array(data) -> np.ndarray:
    """A figure's array as its JSON spec holds it: a list, or plotly's typed {dtype, bdata}."""
    if isinstance(data, dict) and "bdata" in data:
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = [int(n) for n in str(data.get("shape", flat.size)).split(",")]
        return flat.reshape(shape)
    return np.asarray(data, dtype=float)


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_five_limits_each_have_a_section() -> None:
    at = _learn()
    headers = texts(at.subheader)
    assert headers[:5] == ["1 · Stateless: no memory beyond the window", "2 · Blind to order",
                           "3 · Messy scaling with parallel series", "4 · Fixed-size inputs",
                           "5 · Fixed-size outputs"]
    assert headers[5].startswith("6 · Inside the LSTM") and headers[6] == "The LSTM family"
    labels = [b.label for b in at.button]
    for label in ("Run the echo experiment", "Run the shuffle experiment",
                  "Train both on parallel series", "Run the variable-length demo",
                  "Run the output-length demo", "Train a small LSTM here"):
        assert label in labels
    # the family: one line per architecture, with its weights at the current config
    family = next(m for m in texts(at.markdown) if m.startswith("Five networks"))
    assert family.count("\n- **") == 6          # the five, then the ES-LSTM hybrid
    assert "\n- **ES-LSTM hybrid**" in family and "`es`" in family and "`log_es`" in family
    assert any(m.startswith("**Ensembles** (ensemble size K, now 3 seeds, combined by their "
                            "mean)") for m in texts(at.markdown))
    assert "- **GRU** (3,393 weights): A lighter LSTM" in family


@requires_tf
@pytest.mark.parametrize("name, button, chart_title", [
    ("echo_experiment", "Run the echo experiment", "Recall the value k steps back"),
    ("variable_length_demo", "Run the variable-length demo", "Average of a sequence"),
    ("output_length_demo", "Run the output-length demo", "One encoder-decoder"),
    ("order_experiment", "Run the shuffle experiment", "Latest spike up or down?"),
])
def test_each_experiment_runs_live_and_draws_its_chart(name: str, button: str,
                                                       chart_title: str) -> None:
    at = _learn()
    before = len(_charts(at))
    with patch(f"lstm_lab.lessons.tasks.{name}", TINY[name]):
        _button(at, button).click().run()
    assert not at.exception and not at.error
    charts = _charts(at)
    assert len(charts) == before + 1
    assert any(chart_title in c["layout"]["title"]["text"] for c in charts)
    at.run()  # a rerun (any other widget) keeps the result on screen
    assert len(_charts(at)) == before + 1


_PCT = r"\d{1,3}(–\d{1,3})?%"


@requires_tf
def test_each_lesson_states_its_result_in_numbers() -> None:
    at = _learn()
    for name, button in (("echo_experiment", "Run the echo experiment"),
                         ("order_experiment", "Run the shuffle experiment")):
        with patch(f"lstm_lab.lessons.tasks.{name}", TINY[name]):
            _button(at, button).click().run()
        assert not at.exception and not at.error
    captions = texts(at.caption)
    echo = next(c for c in captions if c.startswith("The MLP (window 5) sees the symbols of k"))
    assert re.fullmatch(rf"The MLP \(window 5\) sees the symbols of k = 0 … 4 and recalls them "
                        rf"{_PCT} of the time; for k ≥ 5 the symbol has left its window: {_PCT}, "
                        rf"chance is 25%; the LSTM recalls {_PCT} for k = 1 … 10, carrying the "
                        r"symbol in its state\. Trained in \d+\.\d s\.", echo)
    order = next(c for c in captions if c.startswith("Shuffled the window's steps"))
    assert re.fullmatch(rf"Shuffled the window's steps: MLP {_PCT} → {_PCT} right \((no change|"
                        r"\d+ points (lower|higher) on average): it never knew which step came "
                        rf"first\); LSTM {_PCT} → {_PCT} \(.*\)\. Ranges: the lowest and "
                        r"highest of 2 seeds; chance is 50%\. Trained in \d+\.\d s\.", order)
    assert at.session_state["learn.order"]["seed"].nunique() == 2
    # the scaling caption needs no training: window 12, 32 units cross at 17 series
    scaling = next(c for c in captions if c.startswith("Each extra series adds"))
    assert "adds 384 weights to the MLP" in scaling and "from 17 series on the MLP" in scaling
    params = next(c for c in _charts(at) if "Trainable weights vs number of parallel series"
                  in c["layout"]["title"]["text"])
    assert params["layout"]["annotations"][0]["text"] == "MLP larger from 17 parallel series on"


@requires_tf
def test_echo_window_control_sets_the_mlp_window() -> None:
    at = _learn()
    at.select_slider(key="learn.echo_window").set_value(3).run()
    with patch("lstm_lab.lessons.tasks.echo_experiment", TINY["echo_experiment"]):
        _button(at, "Run the echo experiment").click().run()
    table = at.session_state["learn.echo"]
    assert table.attrs["window"] == 3
    assert table.loc[table["in MLP window"], "k"].tolist() == [1, 1, 2, 2]


@requires_tf
def test_parallel_experiment_uses_the_chosen_series_and_reports_weights() -> None:
    at = _learn()
    at.select_slider(key="learn.parallel_series").set_value(4).run()
    with patch("lstm_lab.lessons.tasks.parallel_experiment", TINY["parallel_experiment"]):
        _button(at, "Train both on parallel series").click().run()
    assert not at.exception
    live = at.dataframe[0].value
    assert live["model"].tolist() == ["MLP", "LSTM"]
    assert live["first-layer input width"].tolist() == [12 * 4, 4]   # window 12, 4 series
    assert (live["weights (Keras)"] == live["weights (formula)"]).all()
    # the parameter table is still there, for the default window
    assert at.table[0].value["MLP inputs"].tolist() == [12, 24, 48, 96, 192, 384, 768]


_SMALL = lessons.small_lstm_config()


def _small_config() -> ExperimentConfig:
    return _SMALL.replace(**FAST)


@requires_tf
def test_inside_the_lstm_trains_a_small_one_and_follows_the_origin() -> None:
    at = _learn()
    assert any("press the button for a small one" in i for i in texts(at.info))
    with patch("lstm_lab.lessons.experiments.small_lstm_config", _small_config):
        _button(at, "Train a small LSTM here").click().run()
    assert not at.exception and not at.error
    assert "Train a small LSTM here" not in [b.label for b in at.button]   # trained once
    internals = [c for c in _charts(at) if "Inside LSTM layer" in c["layout"]["title"]["text"]]
    assert len(internals) == 1
    heatmaps = [t for t in internals[0]["data"] if t["type"] == "heatmap"]
    assert [t["name"] for t in heatmaps] == ["f", "i", "g", "c", "o", "h"]
    slider = at.slider[1]                                      # after section 3's Window slider
    assert slider.value == 120                                 # the first test point
    first = at.metric[0].value
    slider.set_value(100).run()
    assert not at.exception
    assert at.metric[0].value != first
    assert any("small LSTM trained here" in c for c in texts(at.caption))


@requires_tf
def test_inside_the_lstm_opens_the_latest_train_run_and_its_layers() -> None:
    from lstm_lab.experiments.training import run_experiment

    config = ExperimentConfig(window=4, test_size=6, layers=2, models=("lstm", "naive"), **FAST)
    result = run_experiment(config, make_tiny_series())
    at = _learn({"lab.runs": {"compare|x": result}})
    assert "Train a small LSTM here" in [b.label for b in at.button]
    assert not at.radio                                        # only one LSTM to look at
    layer = at.selectbox(key="learn.layer.2")
    assert layer.options == ["layer 1 of 2", "layer 2 of 2"] and layer.value == "lstm_2"
    layer.set_value("lstm_1").run()
    assert not at.exception
    assert result.label("lstm").startswith("LSTM ×2")
    latest = f"your latest run on Train & compare ({result.label('lstm')} on tiny)"
    assert any(c.startswith(f"Showing {latest}: window 4") and "LSTM layer 1 of 2" in c
               and "lstm_1" not in c for c in texts(at.caption))
    # with a small one trained too, a radio chooses between them
    with patch("lstm_lab.lessons.experiments.small_lstm_config", _small_config):
        _button(at, "Train a small LSTM here").click().run()
    assert at.radio(key="learn.which").options == [
        latest, "the small LSTM trained here (8 units, airline passengers)"]


@requires_tf
def test_inside_a_run_shipped_back_by_a_worker_is_opened_by_a_queued_job() -> None:
    """A run that came back from a worker holds its network as state + .keras bytes: the page
    opens it through the "internals" task (its own copy of the network), so the session's copy
    is never loaded with Keras; moving the origin within the batch queues nothing."""
    from lstm_lab.execution import wire
    from lstm_lab.experiments.training import run_experiment
    from lstm_lab.models import internals
    from lstm_lab.ui import learn_page

    config = ExperimentConfig(window=4, test_size=6, models=("lstm",), members=1, intervals=(),
                              **FAST)
    result = run_experiment(config, make_tiny_series())
    shipped = wire.decode_result(wire.encode_result(result))
    at = _learn({"lab.runs": {"compare|x": shipped}})
    assert not at.exception and not at.error
    charts = [c for c in _charts(at) if "Inside LSTM layer" in c["layout"]["title"]["text"]]
    assert len(charts) == 1
    expected = internals.internals_for_result(result, result.n_train)
    h = next(t for t in charts[0]["data"] if t["type"] == "heatmap" and t["name"] == "h")
    np.testing.assert_allclose(_plotly_array(h["z"]), expected["h"].T, atol=1e-6)
    assert at.metric[0].value == f"{expected['prediction'][0]:,.1f}"
    assert not shipped.forecasters["lstm"].loaded
    batches = at.session_state[learn_page.INSIDE_BATCHES]
    slider = next(s for s in at.slider if (s.key or "").startswith("learn.origin."))
    slider.set_value(result.n_train - 3).run()
    assert not at.exception
    assert at.session_state[learn_page.INSIDE_BATCHES] == batches     # no new job
    moved = internals.internals_for_result(result, result.n_train - 3)
    assert at.metric[0].value == f"{moved['prediction'][0]:,.1f}"
    assert not shipped.forecasters["lstm"].loaded


@requires_tf
def test_a_latest_gru_run_is_named_and_never_replaced_by_an_older_lstm() -> None:
    from lstm_lab.experiments.training import run_experiment

    series = make_tiny_series()
    older = run_experiment(ExperimentConfig(window=4, test_size=6, models=("lstm",), **FAST),
                           series)
    gru = run_experiment(ExperimentConfig(window=4, test_size=6, layers=2, architecture="gru",
                                          models=("lstm", "naive"), **FAST), series)
    at = _learn({"lab.runs": {"compare|old": older, "compare|new": gru}})
    notes = [i for i in texts(at.info) if i.startswith("Your latest run")]
    assert gru.label("lstm").startswith("GRU ×2")
    assert notes == [f"Your latest run ({gru.label('lstm')} on tiny) has no LSTM cell state or "
                     "gates to show here: a GRU is not an LSTM; pick the architecture LSTM (or "
                     "BiLSTM, CNN-LSTM, encoder-decoder) on Train & compare to look inside your "
                     "own run."]
    assert not any("latest run on Train & compare" in c for c in texts(at.caption))
    assert not at.radio                                        # the older LSTM is not offered
    assert not [c for c in _charts(at) if "Inside LSTM layer" in c["layout"]["title"]["text"]]


# --- the live experiments share the server's training queue and its rules ------------------------

def _hold(job):
    while not job.stop_event.is_set():
        time.sleep(0.01)
    return "held"


@requires_tf
def test_a_learn_experiment_runs_as_this_sessions_job_in_the_queue() -> None:
    """The experiment is a job of the session's owner: it replaces that owner's running one."""
    from lstm_lab.ui import cache

    runner = cache.job_runner()                                  # the server-wide queue
    earlier = runner.submit(None, make_tiny_series(), _hold, owner="learner-1")
    at = _learn({"lab.owner": "learner-1"})
    with patch("lstm_lab.lessons.tasks.echo_experiment", TINY["echo_experiment"]):
        _button(at, "Run the echo experiment").click().run()
    assert not at.exception and not at.error
    assert earlier.finished and earlier.stop_reason == "replaced"
    assert texts(at.info)[0] == ("Your earlier training was stopped and replaced by this one "
                                 "(one training per person at a time; what it learned so far is "
                                 "kept where it was started).")
    assert at.session_state["learn.echo"].attrs["window"] == 5   # the result came back
    assert "learn.echo.job" not in at.session_state              # nothing left pending
    assert runner.active("learner-1") == []


def test_a_learn_experiment_on_a_full_server_says_so_and_queues_nothing(monkeypatch) -> None:
    from lstm_lab.ui import cache

    runner = cache.job_runner()
    deadline = time.monotonic() + 60
    while runner.busy() != (0, 0) and time.monotonic() < deadline:   # earlier tests' jobs end
        time.sleep(0.05)
    monkeypatch.setenv("LSTM_LAB_MAX_QUEUE", "1")
    other = runner.submit(None, make_tiny_series(), _hold, owner="someone-else")
    try:
        at = _learn()
        called = []
        with patch("lstm_lab.lessons.tasks.echo_experiment", lambda **kw: called.append(kw)):
            _button(at, "Run the echo experiment").click().run()
        assert not at.exception
        (error,) = texts(at.error)
        assert re.fullmatch(r"The server is full: 1 training is running or waiting\. "
                            r"Try again in about \d+ s\.", error)
        assert called == [] and "learn.echo" not in at.session_state
        assert any(i == "Press the button to run it live." for i in texts(at.info))
    finally:
        other.request_stop()
