"""Figures carry the right traces, shading and labels (they are what users read)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import Series
from lstm_lab.experiments import plots
from lstm_lab.experiments.training import run_experiment
from tests.conftest import make_tiny_series


@pytest.fixture(scope="module")
def naive_result():
    from lstm_lab.experiments.config import ExperimentConfig

    config = ExperimentConfig(window=4, test_size=6, members=1,
                              models=("naive", "seasonal_naive"))
    return run_experiment(config, make_tiny_series())


def test_series_figure_shades_the_test_part() -> None:
    series = make_tiny_series()
    fig = plots.series_figure(series, n_test=6)
    assert len(fig.data) == 1 and len(fig.data[0].x) == 40
    (shape,) = fig.layout.shapes
    assert pd.Timestamp(shape.x0) == series.index[34] and pd.Timestamp(shape.x1) == series.index[-1]


def test_long_series_are_downsampled_and_the_title_says_so() -> None:
    n = 12_000
    series = Series(np.arange(n, dtype=float), pd.RangeIndex(n), name="long")
    fig = plots.series_figure(series)
    assert len(fig.data[0].x) == 4000
    assert "showing every 3rd point" in fig.layout.title.text
    assert [plots._every(k) for k in (2, 11, 21, 102)] == [
        " (showing every 2nd point)", " (showing every 11th point)",
        " (showing every 21st point)", " (showing every 102nd point)"]


def test_window_figure_marks_inputs_and_targets() -> None:
    fig = plots.window_figure(make_tiny_series(), window=5, horizon=2, origin=20)
    inputs, targets = fig.data[1], fig.data[2]
    assert len(inputs.x) == 5 and len(targets.x) == 2
    assert inputs.name == "inputs (window = 5)" and targets.name == "targets (horizon = 2)"


def test_forecast_figure_has_actual_and_each_model(naive_result) -> None:
    fig = plots.forecast_figure(naive_result, bands=[])
    assert [t.name for t in fig.data] == ["actual", "Naive (last value)", "Seasonal naive"]
    # by default the best model's and seasonal naive's bands sit behind their lines
    shaded = plots.forecast_figure(naive_result)
    lines = [t.name for t in shaded.data if "band" not in t.name]
    assert lines == ["actual", "Naive (last value)", "Seasonal naive"]
    assert fig.layout.hovermode == "x unified"
    assert fig.layout.xaxis.rangeslider.visible


def test_forecast_figure_options_pick_models_and_zoom_to_the_test_part(naive_result) -> None:
    only_actual = plots.forecast_figure(naive_result, [])
    assert [t.name for t in only_actual.data] == ["actual"]
    zoomed = plots.forecast_figure(naive_result, ["naive"], zoom_test=True, bands=[])
    assert [t.name for t in zoomed.data] == ["actual", "Naive (last value)"]
    # 6 test points and 12 (the minimum context) before them: the last 18 of 40
    assert list(zoomed.data[0].x) == list(naive_result.predictions["time"].iloc[-18:])
    assert not zoomed.layout.xaxis.rangeslider.visible
    assert "test part and the 12 points before it" in zoomed.layout.title.text


def test_results_name_the_recurrent_network_by_its_architecture(naive_result) -> None:
    from dataclasses import replace

    def labelled(**changes):
        return replace(naive_result, config=replace(naive_result.config, **changes)).label("lstm")

    assert labelled() == "LSTM"
    assert labelled(architecture="gru") == "GRU"
    assert labelled(layers=3) == "LSTM ×3"
    assert labelled(members=3) == "LSTM (3 seeds)"
    assert labelled(architecture="bilstm", members=3) == "BiLSTM"   # trains one network
    assert labelled(architecture="encoder_decoder", layers=2) == "Encoder-decoder LSTM"
    assert naive_result.label("seasonal_naive") == "Seasonal naive"


def test_metrics_table_marks_the_best_and_skill(naive_result) -> None:
    table = plots.metrics_table(naive_result)
    best = naive_result.best_model("rmse")
    starred = [name for name in table.index if name.endswith("★")]
    assert len(starred) == 1 and starred[0].startswith(naive_result.label(best))
    assert table.loc["Naive (last value)" + (" ★" if best == "naive" else ""),
                     "skill vs naive %"] == 0


def test_loss_figure_draws_train_and_validation() -> None:
    fig = plots.loss_figure({"lstm": {"loss": [1.0, 0.5], "val_loss": [1.2, 0.8]}})
    assert [t.name for t in fig.data] == ["LSTM train", "LSTM validation"]
    assert fig.layout.yaxis.type == "log"


def test_skill_sentences_say_how_each_model_compares_with_repeating_the_last_value(
        naive_result) -> None:
    from dataclasses import replace

    def scored(rmse: float) -> dict[str, float]:
        return {"rmse": rmse, "mae": rmse, "mape": 1.0, "mase": 1.0}

    result = replace(naive_result, metrics={"naive": scored(50.0), "lstm": scored(17.0),
                                            "mlp": scored(60.0), "sarima": scored(50.5)})
    assert plots.skill_sentences(result) == [
        "**LSTM** errs 66% less than simply repeating the last value (RMSE 17 vs 50).",
        "**MLP** is 20% *worse* than simply repeating the last value — the model has not earned "
        "its cost here.",
        "**SARIMA** is about as good as repeating the last value."]


HOSTILE = '<a href="https://x">y</a>'


def _figure_text(fig) -> str:
    """A figure's JSON as Plotly.js reads it (``to_json`` writes ``<`` as ``\\u003c``)."""
    import json

    return json.dumps(json.loads(fig.to_json()))


def test_user_text_never_reaches_plotly_as_markup() -> None:
    """Plotly renders <a href>, <b> and <span style> in titles, axis titles and legend names:
    a CSV column header like HOSTILE must be drawn as its characters."""
    from lstm_lab.experiments.config import ExperimentConfig

    series = make_tiny_series(name=HOSTILE + "<b>bold</b>")
    result = run_experiment(ExperimentConfig(window=4, test_size=6,
                                             models=("naive", "seasonal_naive")), series)
    assert result.series_name == series.name
    figures = [plots.series_figure(series, n_test=6), plots.window_figure(series, 4, 1),
               plots.forecast_figure(result), plots.residual_figure(result)]
    for fig in figures:
        text = _figure_text(fig)
        assert "<a " not in text and "<b>" not in text
        assert "&lt;a href=" in text
    series_fig = figures[0]
    assert series_fig.data[0].name == plots.safe_text(series.name)
    assert series_fig.layout.yaxis.title.text == '&lt;a href="https://x"&gt;y&lt;/a&gt;&lt;b&gt;bold&lt;/b&gt;'
    assert series_fig.layout.title.text.startswith("&lt;a href=")
    assert plots.safe_text("GRU ×2 & MLP") == "GRU ×2 &amp; MLP"


def test_loss_curves_escape_their_labels() -> None:
    fig = plots.loss_figure({"<i>x</i>": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}})
    assert [t.name for t in fig.data] == ["&lt;i&gt;x&lt;/i&gt; train",
                                          "&lt;i&gt;x&lt;/i&gt; validation"]
