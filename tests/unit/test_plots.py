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


def _scored(rmse: float) -> dict[str, float]:
    return {"rmse": rmse, "mae": rmse, "mape": 1.0, "mase": 1.0}


def _with(result, metrics: dict[str, float], horizon: int = 1, season: int = 12,
          architecture: str = "lstm", layers: int = 1):
    from dataclasses import replace

    config = result.config.replace(horizon=horizon, architecture=architecture, layers=layers)
    return replace(result, config=config, season=season,
                   metrics={m: _scored(v) for m, v in metrics.items()})


def test_without_a_season_the_summary_compares_with_repeating_the_last_value(
        naive_result) -> None:
    result = _with(naive_result, {"naive": 50.0, "lstm": 17.0, "mlp": 60.0, "sarima": 50.5},
                   season=1)
    assert plots.reference_baseline(result) == "naive"
    assert plots.reference_sentence(result) == (
        "Against **naive** (repeating the last value), the strongest simple baseline here: the "
        "series has no season.")
    assert plots.skill_sentences(result) == [
        "**LSTM** errs 66.0% less than naive (RMSE 17.0 vs 50.0).",
        "**MLP** is 20.0% *worse* than naive (RMSE 60.0 vs 50.0) — the network has not earned "
        "its cost here.",
        "**SARIMA** is about as good as naive (RMSE 50.5 vs 50.0)."]


def test_a_network_that_loses_to_seasonal_naive_is_told_so_even_when_it_beats_naive(
        naive_result) -> None:
    # the run: 48% better than repeating the last value, 31.9% worse than last season
    result = _with(naive_result, {"naive": 100.2, "seasonal_naive": 39.5, "lstm": 52.1},
                   horizon=12, architecture="gru", layers=2)
    assert plots.reference_baseline(result) == "seasonal_naive"
    assert plots.reference_sentence(result) == (
        "Against **seasonal naive** (repeating the value one season (12 steps) earlier), the "
        "strongest simple baseline here: the horizon covers a whole season.")
    sentences = plots.skill_sentences(result)
    assert sentences[0] == ("**GRU ×2** is 31.9% *worse* than seasonal naive (RMSE 52.1 vs "
                            "39.5) — the network has not earned its cost here.")
    assert sentences[1] == "**Naive (last value)** is 154% *worse* than seasonal naive (RMSE " \
                           "100 vs 39.5)."
    assert not any("less than" in s for s in sentences)


def test_a_short_horizon_compares_with_the_better_of_naive_and_seasonal_naive(
        naive_result) -> None:
    better_naive = _with(naive_result, {"naive": 30.0, "seasonal_naive": 40.0, "lstm": 35.0})
    assert plots.reference_baseline(better_naive) == "naive"
    assert plots.skill_sentences(better_naive)[0].startswith("**LSTM** is 16.7% *worse* than "
                                                             "naive")
    better_seasonal = _with(naive_result, {"naive": 50.0, "seasonal_naive": 40.0, "lstm": 35.0})
    assert plots.reference_baseline(better_seasonal) == "seasonal_naive"
    assert plots.skill_sentences(better_seasonal)[0] == (
        "**LSTM** errs 12.5% less than seasonal naive (RMSE 35.0 vs 40.0).")
    # a horizon of a whole season: seasonal naive, even where naive erred less
    assert plots.reference_baseline(_with(naive_result, {"naive": 30.0, "seasonal_naive": 40.0},
                                          horizon=12)) == "seasonal_naive"


def test_a_long_y_axis_title_is_cut_so_it_stays_clear_of_the_chart_title() -> None:
    name = "Monthly average retail price of unleaded gasoline in US cities (dollars per gallon)"
    series = Series(np.arange(30, dtype=float), pd.RangeIndex(30), name=name)
    fig = plots.series_figure(series)
    shown = fig.layout.yaxis.title.text
    assert shown.endswith("…") and len(shown) <= (380 - 150) // 8
    assert name.startswith(shown[:-1])
    assert name in fig.data[0].hovertemplate            # the full name, in the hover
    short = Series(np.arange(30, dtype=float), pd.RangeIndex(30), name="passengers")
    assert plots.series_figure(short).layout.yaxis.title.text == "passengers"


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
    # the axis shows the name cut to fit (escaped after the cut), the hover the whole of it
    assert series_fig.layout.yaxis.title.text == '&lt;a href="https://x"&gt;y&lt;/a&gt;&lt;b…'
    assert '&lt;b&gt;bold&lt;/b&gt;' in series_fig.data[0].hovertemplate
    assert series_fig.layout.title.text.startswith("&lt;a href=")
    assert plots.safe_text("GRU ×2 & MLP") == "GRU ×2 &amp; MLP"


def test_loss_curves_escape_their_labels() -> None:
    fig = plots.loss_figure({"<i>x</i>": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}})
    assert [t.name for t in fig.data] == ["&lt;i&gt;x&lt;/i&gt; train",
                                          "&lt;i&gt;x&lt;/i&gt; validation"]
