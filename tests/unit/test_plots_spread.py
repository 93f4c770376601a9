"""An ensemble's members' spread is drawn as a hatched band in its colour, behind its line:
never a plain fill, which is how prediction intervals are drawn (test_plots_intervals.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lab.experiments import plots
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import run_experiment
from tests.conftest import FAST, make_tiny_series, requires_tf


@pytest.fixture(scope="module")
def ensemble_result():
    config = ExperimentConfig(window=4, test_size=6, members=3, transform="none",
                              models=("lstm", "naive"), intervals=(), **FAST)
    return run_experiment(config, make_tiny_series())


def _traces(fig, name: str):
    return [t for t in fig.data if t.name == name]


@requires_tf
def test_forecast_figure_draws_the_members_spread_behind_the_line(ensemble_result) -> None:
    result = ensemble_result
    label = result.label("lstm")
    assert label == "LSTM (3 seeds)"
    fig = plots.forecast_figure(result, bands=["lstm"])
    names = [t.name for t in fig.data]
    band_name = f"{label} members' spread"
    assert names == ["actual", "Naive (last value)", f"{label} lowest member", band_name, label]
    (low,) = _traces(fig, f"{label} lowest member")
    (high,) = _traces(fig, band_name)
    (line,) = _traces(fig, label)
    spread = result.spread["lstm"]
    np.testing.assert_allclose(np.asarray(low.y, dtype=float), spread["low"], equal_nan=True)
    np.testing.assert_allclose(np.asarray(high.y, dtype=float), spread["high"], equal_nan=True)
    # the band really spans the members: somewhere wider than nothing, and around the line
    drawn = ~np.isnan(spread["low"])
    assert drawn[-6:].all() and (spread["high"][drawn] > spread["low"][drawn]).any()
    mean = np.asarray(line.y, dtype=float)[drawn]
    assert (spread["low"][drawn] <= mean + 1e-9).all() and (mean <= spread["high"][drawn] + 1e-9).all()
    # hatched down to the lowest member in the model's colour, dotted edges, no plain fill;
    # grouped with its line
    assert high.fill == "tonexty" and low.fill is None
    assert high.fillpattern.shape == "/" and high.fillpattern.fgcolor == plots.COLORS["lstm"]
    assert high.fillcolor == "rgba(0, 0, 0, 0)"
    assert low.line.dash == high.line.dash == "dot"
    assert "not an interval" in high.hovertemplate
    assert low.showlegend is False and high.showlegend is not False
    assert low.legendgroup == high.legendgroup == line.legendgroup == "lstm"
    # the naive forecast is no ensemble: no band
    assert not any("Naive" in n and "range" in n for n in names)


@requires_tf
def test_zoomed_and_filtered_charts_keep_the_band_aligned(ensemble_result) -> None:
    result = ensemble_result
    label = result.label("lstm")
    zoomed = plots.forecast_figure(result, ["lstm"], zoom_test=True, bands=["lstm"])
    (high,) = _traces(zoomed, f"{label} members' spread")
    (actual,) = _traces(zoomed, "actual")
    n = len(actual.x)
    np.testing.assert_allclose(np.asarray(high.y, dtype=float), result.spread["lstm"]["high"][-n:],
                               equal_nan=True)
    assert list(high.x) == list(actual.x)
    # a chart without the ensemble, or with its bands toggled off, has no band either
    assert [t.name for t in plots.forecast_figure(result, ["naive"], bands=["lstm"]).data] == [
        "actual", "Naive (last value)"]
    assert [t.name for t in plots.forecast_figure(result, bands=["naive"]).data] == [
        "actual", "Naive (last value)", label]


def test_band_fill_is_the_colour_made_light() -> None:
    assert plots.band_fill("#d62728") == f"rgba(214, 39, 40, {plots.BAND_ALPHA})"


@requires_tf
def test_a_chart_with_bands_makes_room_for_its_taller_legend(ensemble_result) -> None:
    fig = plots.forecast_figure(ensemble_result, bands=["lstm"])
    assert fig.layout.margin.t == 110            # the taller legend stays clear of the title
    assert plots.forecast_figure(ensemble_result, ["naive"], bands=["lstm"]).layout.margin.t == 80
    assert plots.forecast_figure(ensemble_result, bands=[]).layout.margin.t == 80
