"""The Train page's Backtest and Forecast-ahead views run through the queue and render."""

from __future__ import annotations

import json
from unittest.mock import patch

from lstm_lab.models.registry import model_label
from tests.app.conftest import QUICK, make_app, texts, wait_for_training
from tests.conftest import requires_tf


def _view(view: str, params: dict[str, str]):
    at = make_app(params)
    at.run()
    at.switch_page("pages/train.py").run()
    at.segmented_control(key="train.view").set_value(view).run()
    assert not at.exception
    return at


def test_backtest_view_runs_every_fold_and_summarises() -> None:
    at = _view("Backtest", {**QUICK, "test_size": "12", "horizon": "12",
                            "models": "lstm,seasonal_naive", "tuning": "auto"})  # off by default
    assert any("Press **Run backtest**" in i for i in texts(at.info))
    (run,) = [b for b in at.button if b.label == "Run backtest"]
    run.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    summary, per_fold = at.dataframe[0].value, at.dataframe[1].value
    # named as its runs named it: "ES-LSTM (3 seeds)" when the kept variant is the ES hybrid
    short = model_label("lstm", at.session_state["lab.config"])     # "LSTM (3 seeds)"
    (lstm,) = [m for m in summary.index if m in (short, f"ES-{short}")]
    assert list(summary.index) == ["Seasonal naive", lstm]
    # each fold by its dates: the origin (its last training point) and its test block
    assert list(per_fold.columns[:4]) == ["fold", "origin", "test from", "test to"]
    assert per_fold.iloc[0, :4].tolist() == ["fold 1", "1957-12-01", "1958-01-01", "1958-12-01"]
    assert len(per_fold) == 3
    # seasonal naive's fold RMSEs are textbook values (12-step, Dec 1957/58/59 seasons)
    assert [round(v, 3) for v in per_fold["Seasonal naive"]] == [17.012, 49.254, 50.708]
    # a 12-step forecast of monthly data is tuned: each fold says which variant it kept
    kept = at.table[0].value
    assert list(kept.index) == ["fold 1", "fold 2", "fold 3"] and list(kept.columns) == [lstm]
    assert all(v.startswith(("as set: ", "seasonal difference", "first difference"))
               for v in kept[lstm])


def test_forecast_ahead_view_forecasts_past_the_end() -> None:
    at = _view("Forecast ahead", {**QUICK, "models": "mlp,naive", "horizon": "6"})
    (steps,) = [n for n in at.number_input if n.label == "Steps ahead"]
    steps.set_value(18).run()
    (go,) = [b for b in at.button if b.label == "Forecast"]
    go.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    assert [b.label for b in at.get("download_button")] == ["Forecast CSV"]
    assert any("no truth to score" in c for c in texts(at.caption))


def _windows(runs) -> list[int]:
    """The window of each kept run, oldest first (a run key is kind|config JSON|data)."""
    return [json.loads(key.split("|")[1])["window"] for key in runs]


def _train(at, window: int):
    number = {n.label: n for n in at.number_input}
    number["Window"].set_value(window)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    return wait_for_training(at)


def test_session_keeps_the_newest_runs_and_an_evicted_one_trains_again(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_SESSION_RUNS", "2")
    at = make_app({"models": "naive,seasonal_naive"})
    at.switch_page("pages/train.py").run()
    for window in (3, 4, 5):
        _train(at, window)
        assert not at.exception and not at.error
        assert len(at.metric) == 2                         # this run's results are shown
    runs = at.session_state["lab.runs"]
    assert at.session_state["lab.config"].window == 5
    assert _windows(runs) == [4, 5]                        # the oldest (3) went
    number = {n.label: n for n in at.number_input}
    number["Window"].set_value(3)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    wait_for_training(at)                                  # the evicted run simply trains again
    assert not at.exception and len(at.metric) == 2
    assert _windows(at.session_state["lab.runs"]) == [5, 3]


@requires_tf
def test_each_session_downloads_only_its_own_trained_lstm(tmp_path) -> None:
    """Two sessions train different LSTMs; each one's .keras download is its own network, made
    from its own result (no server-wide cache keyed on id(), which once handed a session a
    classmate's model when a new result reused a freed object's id)."""
    from streamlit.delta_generator import DeltaGenerator

    from lstm_lab.ui import widgets

    real = DeltaGenerator.download_button
    offered: list = []

    def spy(self, label, data, *args, **kwargs):
        if label == "Trained LSTM (.keras)":
            offered.append(data)
        return real(self, label, data, *args, **kwargs)

    units = {}
    with patch.object(DeltaGenerator, "download_button", spy):
        for name, n_units in (("first", 4), ("second", 8)):
            # one network (not an ensemble, whose one wide model is members x units wide),
            # trained on a transform named plainly: its download is "Trained LSTM (.keras)"
            at = make_app({**QUICK, "units": str(n_units), "models": "lstm,naive",
                           "tuning": "off", "members": "1", "transform": "log_seasonal_diff"})
            at.switch_page("pages/train.py").run()
            at.button(key="FormSubmitter:train_form-Train").click().run()
            wait_for_training(at)
            assert not at.exception and not at.error
            (result,) = at.session_state["lab.runs"].values()
            download = offered[-1]
            assert download.args[0] is result             # bound to this session's own result
            units[name] = _lstm_units(download(), tmp_path / f"{name}.keras")
            del at, result
    assert units == {"first": 4, "second": 8}

    # Making the download never looks at id(): with every object sharing one id, two results
    # still give their own networks.
    first, second = offered[0].args[0], offered[-1].args[0]
    with patch("builtins.id", lambda obj: 1):
        downloads = [widgets.model_download(first), widgets.model_download(second)]
    assert [_lstm_units(d(), tmp_path / f"again{i}.keras") for i, d in enumerate(downloads)] \
        == [4, 8]


def _lstm_units(raw: bytes, path) -> int:
    import keras

    path.write_bytes(raw)
    model = keras.saving.load_model(path)
    return next(layer.units for layer in model.layers if isinstance(layer, keras.layers.LSTM))


@requires_tf
def test_a_gru_run_is_called_gru_on_cards_sidebar_downloads_and_backtest() -> None:
    """The recurrent network is named by its architecture wherever the page shows it: a 2-layer
    GRU is "GRU ×2" on its metric card and download, "2×8 GRU" in the sidebar, never "LSTM"."""
    # one network on a plainly named transform: "GRU ×2", not "ES-GRU ×2 (3 seeds)"
    params = {**QUICK, "architecture": "gru", "layers": "2", "models": "lstm,naive",
              "tuning": "off", "test_size": "12", "members": "1",
              "transform": "log_seasonal_diff"}
    first = make_app(params)    # AppTest keeps the sidebar of a session's first run only
    first.switch_page("pages/train.py").run()
    assert "window 12 · horizon 1 · 2×8 GRU · 8 epochs · seed 0 · 80/95% bands" in texts(first.sidebar.markdown)
    at = _view("Compare", params)
    at.button(key="FormSubmitter:train_form-Train").click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    labels = [m.label.replace(" ★", "") for m in at.metric]
    assert labels == ["Naive (last value)", "GRU ×2"]
    assert labels[1] == list(at.session_state["lab.runs"].values())[-1].label("lstm")
    downloads = [b.label for b in at.get("download_button")]
    assert "Trained GRU ×2 (.keras)" in downloads
    assert not [label for label in [*labels, *downloads] if "LSTM" in label]
    assert "GRU ×2" in at.dataframe[0].value.index.str.replace(" ★", "").tolist()

    at.segmented_control(key="train.view").set_value("Backtest").run()
    (run,) = [b for b in at.button if b.label == "Run backtest"]
    run.click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    assert list(at.dataframe[0].value.index) == ["Naive (last value)", "GRU ×2"]
