"""Classical forecasters: textbook behaviour on hand series, no look-ahead, the airline numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from lstm_lab.data.datasets import load_air_passengers
from lstm_lab.errors import ConfigError, DataError, NotFittedError
from lstm_lab.models.classical import HoltWintersForecaster, SarimaForecaster
from lstm_lab.models.naive import NaiveForecaster
from lstm_lab.models.seasonal_naive import SeasonalNaiveForecaster

ROOT = Path(__file__).resolve().parents[2]
AIR = load_air_passengers().values
LINE = 5.0 + 0.5 * np.arange(40)
PATTERN = np.array([3.0, 5.0, 9.0, 6.0, 4.0, 2.0])


def rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean((forecast - actual) ** 2)))


def seasonal_random_walk(n: int = 72, season: int = 12, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.empty(n)
    values[:season] = 10 + rng.normal(0, 1, season)
    for t in range(season, n):
        values[t] = values[t - season] + rng.normal(0, 1)
    return values


@pytest.fixture(scope="module")
def airline_hw() -> HoltWintersForecaster:
    return HoltWintersForecaster(horizon=12).fit(AIR[:132])


@pytest.fixture(scope="module")
def airline_sarima() -> SarimaForecaster:
    return SarimaForecaster(horizon=12).fit(AIR[:132])


# --- textbook behaviour on hand series ---------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(season=1), dict(seasonal=None)])
def test_holt_forecasts_a_straight_line_exactly(kwargs) -> None:
    model = HoltWintersForecaster(horizon=6, **kwargs).fit(LINE[:30])
    origins = np.arange(model.first_origin_, 35)
    expected = 5.0 + 0.5 * (origins[:, None] + np.arange(6))
    np.testing.assert_allclose(model.predict(LINE, origins), expected, atol=1e-6)
    assert model.seasonal_ is None and model.trend_ == "add" and model.first_origin_ == 2


@pytest.mark.parametrize("seasonal", ["add", "mul"])
def test_holt_winters_repeats_a_pure_seasonal_pattern(seasonal: str) -> None:
    values = np.tile(PATTERN, 8)
    model = HoltWintersForecaster(horizon=9, season=6, seasonal=seasonal).fit(values[:36])
    assert model.fallback_ is None and model.first_origin_ == 12
    forecast = model.predict(values, np.array([12, 36, 42]))
    np.testing.assert_allclose(forecast, np.tile(np.tile(PATTERN, 2)[:9], (3, 1)), atol=1e-3)


def test_holt_winters_follows_a_trending_multiplicative_season() -> None:
    t = np.arange(60.0)
    values = (20 + t) * np.tile([0.8, 1.0, 1.3, 1.1, 0.9, 0.9], 10)
    model = HoltWintersForecaster(horizon=6, season=6).fit(values[:48])
    np.testing.assert_allclose(model.predict(values, np.array([48, 54])),
                               np.stack([values[48:54], values[54:60]]), rtol=1e-3)


def test_holt_winters_matches_the_textbook_recursion(airline_hw) -> None:
    """FPP 7.3 by hand; at steps 12 and 24 the latest seasonal index is used (statsmodels 0.15's
    own forecast uses the one from a season earlier there, issue #9538)."""
    p, m = airline_hw.params_, 12
    level, trend, seasons = p["initial_level"], p["initial_trend"], list(p["initial_seasons"])
    for t, y in enumerate(AIR[:132]):
        new_level = p["alpha"] * y / seasons[t] + (1 - p["alpha"]) * (level + trend)
        seasons.append(p["gamma"] * y / (level + trend) + (1 - p["gamma"]) * seasons[t])
        trend = p["beta"] * (new_level - level) + (1 - p["beta"]) * trend
        level = new_level
    steps = np.arange(1, 25)
    expected = (level + steps * trend) * np.array(seasons)[132 + (steps - 1) % m]
    model = HoltWintersForecaster(horizon=24).fit(AIR[:132])
    np.testing.assert_allclose(model.predict(AIR, np.array([132]))[0], expected, rtol=1e-10)


def test_sarima_seasonal_random_walk_is_the_seasonal_naive_forecast() -> None:
    values = seasonal_random_walk()
    model = SarimaForecaster(horizon=15, order=(0, 0, 0), seasonal_order=(0, 1, 0),
                             log=False).fit(values[:48])
    origins = np.array([13, 30, 48, 57])
    assert model.first_origin_ == 13
    np.testing.assert_allclose(model.predict(values, origins),
                               SeasonalNaiveForecaster(15, 12).fit(values).predict(values, origins),
                               atol=1e-6)


def test_arima_010_is_the_naive_forecast() -> None:
    values = seasonal_random_walk()
    model = SarimaForecaster(horizon=4, order=(0, 1, 0), seasonal_order=(0, 0, 0),
                             log=False).fit(values[:48])
    origins = np.array([2, 30, 48, 68])
    np.testing.assert_allclose(model.predict(values, origins),
                               NaiveForecaster(4).fit(values).predict(values, origins), atol=1e-6)


def test_airline_model_on_a_seasonal_random_walk_stays_near_the_last_season() -> None:
    values = seasonal_random_walk(96)
    model = SarimaForecaster(horizon=12, log=False).fit(values[:72])
    assert model.fallback_ is None
    forecast = model.predict(values, np.array([72]))[0]
    assert rmse(forecast, values[72:84]) < 2.5
    assert rmse(forecast, values[60:72]) < 1.5       # a smoothed repeat of the last season


def test_sarima_per_origin_forecasts_match_statsmodels_filter_and_forecast(airline_sarima) -> None:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    origins = np.array([20, 77, 132, 140])
    forecast = airline_sarima.predict(AIR, origins)
    params = np.fromiter(airline_sarima.params_.values(), float)
    for row, origin in zip(forecast, origins):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = SARIMAX(np.log(AIR[:origin]), order=(0, 1, 1),
                             seasonal_order=(0, 1, 1, 12)).filter(params)
        np.testing.assert_allclose(row, np.exp(result.forecast(12)), rtol=1e-9)


# --- contract: shapes, no look-ahead, fit once -------------------------------------------------
@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
@pytest.mark.parametrize("horizon", [1, 5, 13])
def test_output_shape_for_several_origins(cls, horizon: int) -> None:
    model = cls(horizon=horizon).fit(AIR[:96])
    origins = np.array([model.first_origin_, 50, 96, 144 - horizon, 144])
    out = model.predict(AIR, origins)
    assert out.shape == (5, horizon) and np.all(np.isfinite(out)) and out.min() > 0
    assert model.predict(AIR, np.array([], dtype=int)).shape == (0, horizon)


@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
def test_no_lookahead_values_at_or_after_an_origin_do_not_matter(cls) -> None:
    model = cls(horizon=6).fit(AIR[:96])
    for origin in (30, 96, 120):
        changed = AIR.copy()
        changed[origin:] *= np.linspace(3.0, 0.2, len(AIR) - origin)
        np.testing.assert_array_equal(model.predict(AIR, np.array([origin])),
                                      model.predict(changed, np.array([origin])))
        assert not np.array_equal(model.predict(AIR, np.array([origin + 1])),
                                  model.predict(changed, np.array([origin + 1])))


@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
def test_predict_does_not_refit(cls) -> None:
    model = cls(horizon=3).fit(AIR[:96])
    params = {k: np.copy(v) for k, v in model.params_.items()}
    together = model.predict(AIR, np.array([40, 96, 130]))
    alone = np.vstack([model.predict(AIR[:o], np.array([o])) for o in (40, 96, 130)])
    np.testing.assert_allclose(together, alone, rtol=1e-12)
    assert {k: np.copy(v) for k, v in model.params_.items()}.keys() == params.keys()
    for key, value in params.items():
        np.testing.assert_array_equal(model.params_[key], value)


def test_init_stores_arguments_unchanged() -> None:
    hw = HoltWintersForecaster(horizon=3, season=4, trend=None, seasonal="add", damped=True,
                               log=True)
    assert (hw.horizon, hw.season, hw.trend, hw.seasonal, hw.damped, hw.log) == \
        (3, 4, None, "add", True, True)
    sarima = SarimaForecaster(horizon=2, season=4, order=(1, 1, 0), seasonal_order=(0, 1, 0),
                              log=False)
    assert (sarima.horizon, sarima.season, sarima.order, sarima.seasonal_order, sarima.log) == \
        (2, 4, (1, 1, 0), (0, 1, 0), False)
    assert (HoltWintersForecaster.name, SarimaForecaster.name) == ("holt_winters", "sarima")


# --- the airline numbers -----------------------------------------------------------------------
def test_airline_1960_twelve_step_rmse(airline_hw, airline_sarima) -> None:
    origin = np.array([132])
    hw = rmse(airline_hw.predict(AIR, origin)[0], AIR[132:])
    sarima = rmse(airline_sarima.predict(AIR, origin)[0], AIR[132:])
    assert 15.0 < hw < 16.2, hw              # measured 15.58
    assert 18.0 < sarima < 19.2, sarima      # measured 18.59
    assert airline_hw.fallback_ is None and airline_sarima.fallback_ is None
    assert airline_hw.first_origin_ == 24 and airline_sarima.first_origin_ == 14
    assert airline_sarima.description_ == "SARIMA(0,1,1)(0,1,1)12 on log values"


def test_airline_one_step_ahead_over_the_last_third() -> None:
    origins = np.arange(96, 144)
    hw = rmse(HoltWintersForecaster().fit(AIR[:96]).predict(AIR, origins)[:, 0], AIR[96:])
    sarima = rmse(SarimaForecaster().fit(AIR[:96]).predict(AIR, origins)[:, 0], AIR[96:])
    assert 16.0 < hw < 18.5, hw              # measured 17.16
    assert 12.8 < sarima < 14.8, sarima      # measured 13.75 (seasonal naive: 41.85)


# --- fallbacks and refusals --------------------------------------------------------------------
def test_short_series_falls_back_to_non_seasonal_models() -> None:
    hw = HoltWintersForecaster(horizon=3).fit(AIR[:20])
    assert hw.seasonal_ is None and hw.trend_ == "add" and hw.first_origin_ == 2
    assert "fewer than two seasons" in hw.fallback_
    sarima = SarimaForecaster(horizon=3).fit(AIR[:20])
    assert sarima.seasonal_order_ == (0, 0, 0, 0) and "ARIMA(0, 1, 1)" in sarima.fallback_
    assert sarima.description_ == "ARIMA(0,1,1) on log values" and sarima.first_origin_ == 2
    assert hw.predict(AIR, np.array([2, 20])).shape == sarima.predict(AIR, np.array([2, 20])).shape


def test_season_one_falls_back_to_non_seasonal_models() -> None:
    assert "Season 1" in HoltWintersForecaster(season=1).fit(AIR[:60]).fallback_
    assert "Season 1" in SarimaForecaster(season=1).fit(AIR[:60]).fallback_


def test_multiplicative_seasonality_falls_back_to_additive_for_non_positive_values() -> None:
    model = HoltWintersForecaster(horizon=2).fit(AIR[:60] - 200)
    assert model.seasonal_ == "add" and "additive seasonality" in model.fallback_
    assert np.all(np.isfinite(model.predict(AIR - 200, np.array([30, 60]))))


@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
def test_log_refuses_non_positive_values_and_says_use_log_false(cls) -> None:
    with pytest.raises(DataError, match="log=False"):
        cls(log=True).fit(np.r_[AIR[:40], 0.0])
    model = cls(log=True).fit(AIR[:40])
    with pytest.raises(DataError, match="log=False"):
        model.predict(np.r_[AIR[:50], -1.0, AIR[51:]], np.array([60]))


def test_refusals_for_bad_settings_short_data_and_early_origins() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        SarimaForecaster().predict(AIR, np.array([50]))
    with pytest.raises(ConfigError, match="trend"):
        HoltWintersForecaster(trend="mul").fit(AIR)
    with pytest.raises(ConfigError, match="order"):
        SarimaForecaster(order=(0, 1)).fit(AIR)
    with pytest.raises(ConfigError, match="horizon"):
        HoltWintersForecaster(horizon=0).fit(AIR)
    with pytest.raises(DataError, match="at least 4"):
        HoltWintersForecaster().fit(AIR[:3])
    with pytest.raises(DataError, match="at least"):
        SarimaForecaster().fit(AIR[:3])
    with pytest.raises(DataError, match="finite"):
        HoltWintersForecaster().fit(np.r_[AIR[:40], np.nan])
    with pytest.raises(DataError, match="needs 24 earlier points"):
        HoltWintersForecaster().fit(AIR[:60]).predict(AIR, np.array([10]))


def test_statsmodels_failures_become_data_errors(monkeypatch) -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(ExponentialSmoothing, "fit", broken)
    with pytest.raises(DataError, match=r"Fitting Holt-Winters .*Singular matrix.*Try"):
        HoltWintersForecaster().fit(AIR[:60])


def test_statsmodels_warnings_are_kept_not_shown(monkeypatch) -> None:
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    original = SARIMAX.fit

    def noisy(self, *args, **kwargs):
        warnings.warn("Maximum Likelihood optimization failed to converge.", ConvergenceWarning,
                      stacklevel=2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SARIMAX, "fit", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SarimaForecaster().fit(AIR[:60])
    assert any("ConvergenceWarning" in w for w in model.warnings_)


def test_importing_the_module_does_not_load_statsmodels() -> None:
    script = ("import json, sys\nimport lstm_lab.models.classical\n"
              "print(json.dumps('statsmodels' in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) is False


def test_a_model_forecasting_log_values_is_calibrated_on_log_errors(tmp_path) -> None:
    """SARIMA on a positive series forecasts log values: its conformal band is the forecast
    times exp(-q) .. exp(q) (q from log(actual / forecast) in the calibration tail), kept
    through the run store; on a series with values <= 0 it is forecast +/- q, as Holt-Winters'
    (raw values) is."""
    from lstm_lab.data.series import Series
    from lstm_lab.experiments.config import ExperimentConfig
    from lstm_lab.experiments.training import run_experiment
    from lstm_lab.store import RunStore

    assert SarimaForecaster().error_scale == "log"
    assert SarimaForecaster(log=False).error_scale == "absolute"
    assert HoltWintersForecaster().error_scale == "absolute"
    assert HoltWintersForecaster(log=True).error_scale == "log"

    air = load_air_passengers()
    config = ExperimentConfig(test_size=12, horizon=12, models=("holt_winters", "sarima"))
    result = run_experiment(config, air)
    assert result.calibration["sarima"].error_scale == "log"
    assert result.calibration["holt_winters"].error_scale == "absolute"
    test = (result.predictions["split"] == "test").to_numpy()
    for model, expected in (("sarima", "log"), ("holt_winters", "absolute")):
        forecast = result.predictions[model].to_numpy()[test]
        q = result.calibration[model].halfwidth(0.8)
        band = result.intervals[model]["80"]
        low, high = band["low"][test], band["high"][test]
        if expected == "log":
            np.testing.assert_allclose(low, forecast * np.exp(-q))
            np.testing.assert_allclose(high, forecast * np.exp(q))
            assert np.all(high - forecast > forecast - low)
        else:
            np.testing.assert_allclose(high - forecast, q)
            np.testing.assert_allclose(forecast - low, q)

    store = RunStore(tmp_path / "runs.sqlite3")
    doc = json.loads(store.export_runs([store.save_run(result, "a" * 32)]))
    assert doc["runs"][0]["result"]["calibration"]["sarima"]["error_scale"] == "log"
    ids = store.import_runs(json.dumps(doc), "b" * 32).ids
    loaded = store.load_run(ids[0], "b" * 32)
    assert loaded.calibration["sarima"].to_dict() == result.calibration["sarima"].to_dict()
    doc["runs"][0]["result"]["calibration"]["sarima"]["error_scale"] = "square"
    with pytest.raises(DataError, match=r"calibration\.sarima\.error_scale must be one of "
                                        r"absolute, log; got 'square'"):
        store.import_runs(json.dumps(doc), "b" * 32)

    shifted = Series(air.values - 200.0, air.index, name="shifted", freq=air.freq)
    below = run_experiment(config.replace(models=("sarima",)), shifted)
    assert below.calibration["sarima"].error_scale == "absolute"
