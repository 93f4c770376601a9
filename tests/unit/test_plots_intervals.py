"""Prediction intervals on the charts: translucent fills in each model's colour around its line
(the wider level lighter), only for the models asked for, with a hover that says what the level
means; and their scores in the metrics table (issue #16)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lstm_lab.data.datasets import load_air_passengers
from lstm_lab.experiments import evaluation, plots
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import run_experiment

CONFIG = ExperimentConfig(horizon=12, test_size=12, models=("naive", "seasonal_naive"))


@pytest.fixture(scope="module")
def result():
    return run_experiment(CONFIG, load_air_passengers())


def _by_name(fig) -> dict:
    return {t.name: t for t in fig.data}


def _y(trace) -> np.ndarray:
    return np.asarray(trace.y, dtype="float64")


def test_each_band_is_a_fill_between_its_low_and_high(result) -> None:
    fig = plots.forecast_figure(result, bands=["seasonal_naive"])
    names = [t.name for t in fig.data]
    assert names == ["actual", "Naive (last value)",
                     "Seasonal naive 95% band lower edge", "Seasonal naive 95% band",
                     "Seasonal naive 80% band lower edge", "Seasonal naive 80% band",
                     "Seasonal naive"]                    # widest first, behind; line on top
    traces = _by_name(fig)
    for level in ("80", "95"):
        low, high = traces[f"Seasonal naive {level}% band lower edge"], \
            traces[f"Seasonal naive {level}% band"]
        band = result.intervals["seasonal_naive"][level]
        np.testing.assert_allclose(_y(low), band["low"], equal_nan=True)
        np.testing.assert_allclose(_y(high), band["high"], equal_nan=True)
        assert high.fill == "tonexty" and low.fill is None
        # no legend entries (the caption explains the shading), but grouped with the line:
        # hiding the line in the legend hides its bands
        assert low.showlegend is False and high.showlegend is False
        assert low.hoverinfo == "skip" and low.line.width == 0
        np.testing.assert_allclose(np.asarray(high.customdata, dtype="float64"), band["low"],
                                   equal_nan=True)          # the hover shows low – high
        assert high.hovertemplate == ("%{customdata:.4~g} – %{y:.4~g}: "
                                      f"{level}% of past errors at this step fell inside")
        assert high.legendgroup == low.legendgroup == "seasonal_naive"
    # the test part only: the training rows have no band
    drawn = np.isfinite(_y(traces["Seasonal naive 80% band"]))
    assert drawn.sum() == 12 and drawn[-12:].all()
    # real bands: the 95% one holds the 80% one, which holds the forecast
    line = _y(traces["Seasonal naive"])[-12:]
    lo80, hi80 = _y(traces["Seasonal naive 80% band lower edge"])[-12:], \
        _y(traces["Seasonal naive 80% band"])[-12:]
    lo95, hi95 = _y(traces["Seasonal naive 95% band lower edge"])[-12:], \
        _y(traces["Seasonal naive 95% band"])[-12:]
    assert (lo95 <= lo80).all() and (lo80 < line).all() and (line < hi80).all() \
        and (hi80 <= hi95).all() and (hi95 - lo95 > hi80 - lo80).any()


def test_the_wider_level_is_lighter_in_the_models_colour(result) -> None:
    traces = _by_name(plots.forecast_figure(result, bands=["seasonal_naive"]))
    colour = plots.COLORS["seasonal_naive"]
    assert traces["Seasonal naive 80% band"].fillcolor == plots.band_fill(colour, 0.26)
    assert traces["Seasonal naive 95% band"].fillcolor == plots.band_fill(colour, 0.14)
    assert plots.interval_alpha("80", ["95", "80", "99"]) > \
        plots.interval_alpha("95", ["95", "80", "99"]) > \
        plots.interval_alpha("99", ["95", "80", "99"])


def test_bands_follow_the_toggle_and_the_default_is_best_and_seasonal_naive(result) -> None:
    def shaded(**kwargs) -> list[str]:
        return [t.name for t in plots.forecast_figure(result, **kwargs).data
                if t.fill == "tonexty"]

    assert shaded(bands=[]) == []
    assert shaded(bands=["naive"]) == ["Naive (last value) 95% band", "Naive (last value) 80% band"]
    assert result.best_model("rmse") == "seasonal_naive"
    assert shaded() == ["Seasonal naive 95% band", "Seasonal naive 80% band"]
    # a band is drawn only with its line: hiding the forecast hides its band
    assert shaded(models=["naive"], bands=["seasonal_naive"]) == []
    assert plots.default_bands(["naive", "seasonal_naive", "holt_winters", "mlp", "lstm"],
                               "holt_winters") == ["holt_winters", "seasonal_naive"]
    assert plots.default_bands(["naive", "mlp", "lstm"]) == ["lstm"]       # no best: a network
    assert plots.default_bands(["naive", "seasonal_naive"], "seasonal_naive") == [
        "seasonal_naive"]


def test_zooming_keeps_the_bands_aligned_with_the_dates(result) -> None:
    fig = plots.forecast_figure(result, zoom_test=True, bands=["naive"])
    traces = _by_name(fig)
    high = traces["Naive (last value) 80% band"]
    assert list(high.x) == list(traces["actual"].x)
    n = len(high.x)
    np.testing.assert_allclose(_y(high), result.intervals["naive"]["80"]["high"][-n:],
                               equal_nan=True)


def test_a_model_without_a_band_draws_none_and_a_run_without_levels_neither(result) -> None:
    nan = {lv: {k: np.full(len(result.predictions), np.nan) for k in ("low", "high")}
           for lv in ("80", "95")}
    without = replace(result, intervals={**result.intervals, "naive": nan})
    assert not plots.has_band(without.intervals["naive"])
    assert [t.name for t in plots.forecast_figure(without, bands=["naive"]).data] == [
        "actual", "Naive (last value)", "Seasonal naive"]
    plain = run_experiment(CONFIG.replace(intervals=()), load_air_passengers())
    assert plain.intervals == {}
    assert all(t.fill is None for t in plots.forecast_figure(plain).data)


def test_an_ensembles_spread_is_styled_apart_from_the_interval(result) -> None:
    preds = len(result.predictions)
    line = result.predictions["naive"].to_numpy()
    spread = {"naive": {"low": line - 5.0, "high": line + 5.0}}
    traces = _by_name(plots.forecast_figure(replace(result, spread=spread), bands=["naive"]))
    interval, members = traces["Naive (last value) 80% band"], \
        traces["Naive (last value) members' spread"]
    assert interval.fillpattern.shape is None and interval.fillcolor.startswith("rgba(")
    assert members.fillpattern.shape == "/" and members.fillcolor == "rgba(0, 0, 0, 0)"
    assert members.line.dash == "dot" and interval.line.width == 0
    assert len(members.y) == preds


def test_the_metrics_table_has_coverage_width_and_winkler_per_level(result) -> None:
    table = plots.metrics_table(result)
    assert list(table.columns)[6:] == ["80% coverage", "80% width", "80% Winkler",
                                       "95% coverage", "95% width", "95% Winkler"]
    row = table.loc["Seasonal naive ★"]
    m = result.metrics["seasonal_naive"]
    assert (row["80% coverage"], row["80% width"], row["95% Winkler"]) == (
        m["coverage_80"], m["width_80"], m["winkler_95"])
    # the coverage is the share of the 12 test points inside the band, recomputed here
    band = result.intervals["seasonal_naive"]["80"]
    actual = result.predictions["actual"].to_numpy()[-12:]
    inside = (actual >= band["low"][-12:]) & (actual <= band["high"][-12:])
    assert row["80% coverage"] == pytest.approx(inside.mean() * 100)
    helps = plots.interval_column_help((0.8, 0.95))
    assert helps["95% Winkler"].startswith("95% band: interval score")
    assert set(plots.interval_column_help((0.9,), " mean")) == {
        "90% coverage mean", "90% width mean", "90% Winkler mean"}


def test_the_backtest_draws_each_folds_own_bands() -> None:
    backtest = evaluation.run_backtest(CONFIG, load_air_passengers(), folds=3)
    fig = plots.backtest_figure(backtest, bands=["naive"])
    bands = [t for t in fig.data if t.fill == "tonexty"]
    assert [t.name for t in bands] == ["Naive (last value) 95% band",
                                       "Naive (last value) 80% band"] * 3
    preds = backtest.predictions
    for k, trace in enumerate(bands[1::2]):              # each fold's 80% band, its own dates
        rows = np.flatnonzero(preds["fold"].to_numpy() == k + 1)
        assert list(trace.x) == list(preds["time"].iloc[rows])
        np.testing.assert_allclose(_y(trace), backtest.intervals["naive"]["80"]["high"][rows])
    assert not [t for t in plots.backtest_figure(backtest, bands=[]).data if t.fill]
    assert plots.backtest_best(backtest) == "seasonal_naive"
    default = [t.name for t in plots.backtest_figure(backtest).data if t.fill == "tonexty"]
    assert set(default) == {"Seasonal naive 95% band", "Seasonal naive 80% band"}


def test_forecast_ahead_bands_fan_out_from_the_last_value_for_one_horizon() -> None:
    future = evaluation.forecast_future(CONFIG, load_air_passengers(), 18)
    traces = _by_name(plots.future_figure(future, bands=["seasonal_naive"]))
    low, high = traces["Seasonal naive 95% band lower edge"], traces["Seasonal naive 95% band"]
    last = future.history["actual"].iloc[-1]
    assert _y(low)[0] == _y(high)[0] == last
    band = future.intervals["seasonal_naive"]["95"]
    np.testing.assert_allclose(_y(low)[1:], band["low"], equal_nan=True)
    np.testing.assert_allclose(_y(high)[1:], band["high"], equal_nan=True)
    assert np.isfinite(_y(high)[1:13]).all() and np.isnan(_y(high)[13:]).all()
    assert list(high.x) == list(traces["Seasonal naive"].x)
    assert not [t for t in plots.future_figure(future, bands=[]).data if t.fill]
