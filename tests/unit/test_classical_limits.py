"""Holt-Winters and SARIMA inside the server's limits: the season cap (refused before any fit),
the point cap (fit on the most recent points, said in the notes), Stop and the time limit during
a fit, and no fit holding a lock another session's fit waits for."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.csv_reader import read_csv_series
from lstm_lab.data.datasets import load_air_passengers
from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, TrainingError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import preflight, run_experiment
from lstm_lab.models import classical
from lstm_lab.models.classical import (
    FitStopped,
    HoltWintersForecaster,
    SarimaForecaster,
    check_season,
)

ROOT = Path(__file__).resolve().parents[2]
DAILY = ROOT / "tests" / "data" / "daily-min-temperatures.csv"
AIR = load_air_passengers().values


def long_seasonal(n: int = 5000, season: int = 12) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(3)
    return 50 + 0.01 * t + 5 * np.sin(2 * np.pi * t / season) + rng.normal(0, 0.5, n)


def series_of(values: np.ndarray, season: int = 12) -> Series:
    return Series(values, pd.RangeIndex(len(values)), name="long", season_override=season)


@pytest.fixture
def no_fitting(monkeypatch) -> list[str]:
    """Every classical fit is recorded and refused: shows a refusal came before any fitting."""
    calls: list[str] = []

    def refuse(self, *args, **kwargs):
        calls.append(self.name)
        raise AssertionError(f"{self.name} was fitted")

    monkeypatch.setattr(HoltWintersForecaster, "fit", refuse)
    monkeypatch.setattr(SarimaForecaster, "fit", refuse)
    return calls


@pytest.fixture
def fake_clock(monkeypatch) -> None:
    """Each reading of the time limit's clock is 0.3 s later than the one before."""
    ticks = itertools.count()
    monkeypatch.setattr(classical, "_clock", lambda: 0.3 * next(ticks))


# --- 1. the season cap -------------------------------------------------------------------------
def test_check_season_names_the_season_the_cap_its_variable_and_the_fixes() -> None:
    with pytest.raises(ConfigError) as err:
        check_season(("naive", "holt_winters", "sarima"), 365)
    assert str(err.value) == (
        "Holt-Winters and SARIMA cannot fit season 365 on this server: the longest season they "
        "fit is 60 (set by LSTM_LAB_MAX_CLASSICAL_SEASON). Set a season of 60 or less, or leave "
        "Holt-Winters and SARIMA out of the models.")
    with pytest.raises(ConfigError, match=r"^SARIMA cannot fit the season inferred from the "
                                          r"dates 61 .* it fits is 60"):
        check_season(("sarima",), 61, inferred=True)
    check_season(("holt_winters", "sarima"), 60)                 # at the cap: fits
    check_season(("naive", "seasonal_naive", "lstm"), 365)       # no classical model: no cap


def test_the_season_cap_comes_from_its_environment_variable(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SEASON", "400")
    check_season(("sarima",), 365)
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SEASON", "6")
    with pytest.raises(ConfigError, match="longest season it fits is 6 "):
        check_season(("sarima",), 12)


def test_a_run_with_season_365_is_refused_before_anything_is_fitted(no_fitting) -> None:
    daily = read_csv_series(DAILY)
    config = ExperimentConfig(dataset="csv", csv_path=str(DAILY),
                              models=("naive", "holt_winters", "sarima"), season=365)
    with pytest.raises(ConfigError, match="cannot fit season 365 .* Set a season of 60 or less"):
        run_experiment(config, daily)
    assert no_fitting == []


def test_an_inferred_season_above_the_cap_is_refused_and_says_it_was_inferred(
        monkeypatch, no_fitting) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SEASON", "6")
    config = ExperimentConfig(models=("seasonal_naive", "holt_winters"))
    with pytest.raises(ConfigError, match="Holt-Winters cannot fit the season inferred from the "
                                          "dates 12 on this server"):
        run_experiment(config, load_air_passengers())
    assert no_fitting == []
    assert preflight(config.replace(season=6), load_air_passengers()) == (120, 6)


@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
def test_the_forecasters_refuse_a_season_above_the_cap_themselves(cls) -> None:
    with pytest.raises(ConfigError, match="season 61 .* LSTM_LAB_MAX_CLASSICAL_SEASON"):
        cls(season=61).fit(AIR)


def test_the_cli_refuses_sarima_with_season_365_in_one_line() -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "lstm_lab", "run", "--dataset", str(DAILY),
                           "--models", "sarima", "--season", "365"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: SARIMA cannot fit season 365 on this server: the longest season it fits is 60 "
        "(set by LSTM_LAB_MAX_CLASSICAL_SEASON). Set a season of 60 or less, or leave SARIMA out "
        "of the models."]


# --- 2. the point cap --------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", [(HoltWintersForecaster, {}),
                                         (SarimaForecaster, {"log": False})])
def test_a_long_series_is_fitted_on_exactly_its_most_recent_points(cls, kwargs) -> None:
    values = long_seasonal()
    capped = cls(horizon=6, max_points=300, **kwargs).fit(values)
    alone = cls(horizon=6, **kwargs).fit(values[-300:])
    assert capped.start_ == 4700
    assert capped.first_origin_ == 4700 + alone.first_origin_
    assert capped.params_.keys() == alone.params_.keys()
    for key, value in alone.params_.items():
        np.testing.assert_array_equal(capped.params_[key], value)
    label = "Holt-Winters" if cls is HoltWintersForecaster else "SARIMA"
    assert capped.notes_ == [
        f"{label} estimated its parameters on the most recent 300 of 5,000 training points "
        "(LSTM_LAB_MAX_CLASSICAL_POINTS); the earlier points are not used."]
    assert alone.notes_ == [] and alone.start_ == 0
    # forecasts too are those of the model fitted on the recent part alone
    future = np.r_[values, long_seasonal(5030)[5000:]]
    origins = np.array([capped.first_origin_, 4900, 5000, 5024])
    np.testing.assert_allclose(capped.predict(future, origins),
                               alone.predict(future[4700:], origins - 4700), rtol=1e-12)


@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
def test_predict_never_reads_the_points_before_the_fitted_part(cls) -> None:
    values = long_seasonal()
    model = cls(horizon=3, max_points=240).fit(values)
    origins = np.array([model.first_origin_, 4990, 5000])
    spoiled = values.copy()
    spoiled[: model.start_] = np.nan                  # would fail the finiteness check if read
    np.testing.assert_array_equal(model.predict(spoiled, origins), model.predict(values, origins))


def test_the_server_cap_applies_even_when_a_caller_asks_for_more(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_POINTS", "200")
    values = long_seasonal(1000)
    assert HoltWintersForecaster().fit(values).start_ == 800
    assert HoltWintersForecaster(max_points=5000).fit(values).start_ == 800
    assert HoltWintersForecaster(max_points=100).fit(values).start_ == 900


def test_a_run_says_in_its_notes_that_classical_models_fitted_the_recent_points(
        monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_POINTS", "300")
    config = ExperimentConfig(models=("naive", "holt_winters"), test_size=24.0, horizon=12)
    result = run_experiment(config, series_of(long_seasonal()))
    assert ("Holt-Winters estimated its parameters on the most recent 300 of 4,976 training "
            "points (LSTM_LAB_MAX_CLASSICAL_POINTS); the earlier points are not used."
            in result.notes)
    fitted = result.predictions["holt_winters"].to_numpy()
    first = result.forecasters["holt_winters"].first_origin_
    assert first == 4676 + 24
    assert np.isnan(fitted[:first]).all() and np.isfinite(fitted[first:]).all()
    assert np.isfinite(result.metrics["holt_winters"]["rmse"])


# --- 3. Stop and the time limit during a fit ---------------------------------------------------
@pytest.mark.parametrize("cls", [HoltWintersForecaster, SarimaForecaster])
def test_stop_during_a_fit_ends_it_at_the_next_poll(cls) -> None:
    polls = itertools.count(1)
    with pytest.raises(FitStopped) as err:
        cls().fit(AIR[:120], should_stop=lambda: next(polls) > 3)   # flips at the 4th poll
    assert err.value.by_user
    assert str(err.value).endswith("was stopped on request before its fit finished, so it has "
                                   "no results.")
    assert next(polls) == 5                 # polled 4 times: the optimiser ran, then ended at once


def test_stop_before_a_classical_model_starts_means_statsmodels_is_not_called(
        monkeypatch) -> None:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    monkeypatch.setattr(SARIMAX, "fit", lambda *a, **k: pytest.fail("SARIMAX was fitted"))
    with pytest.raises(FitStopped, match="^SARIMA was stopped on request"):
        SarimaForecaster().fit(AIR, should_stop=lambda: True)


@pytest.mark.parametrize("cls, label", [(HoltWintersForecaster, "Holt-Winters"),
                                        (SarimaForecaster, "SARIMA")])
def test_the_time_limit_ends_a_fit_with_a_readable_message(monkeypatch, fake_clock, cls,
                                                           label) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SECONDS", "1")
    with pytest.raises(FitStopped) as err:
        cls().fit(AIR[:120])
    assert not err.value.by_user
    assert str(err.value).startswith(
        f"{label} stopped at the time limit of 1 s (LSTM_LAB_MAX_CLASSICAL_SECONDS) before its "
        "fit finished, so it has no results. A shorter season")


def test_a_tiny_max_seconds_stops_the_fit_at_the_runs_time_limit() -> None:
    with pytest.raises(FitStopped, match=r"^SARIMA stopped at the run's time limit \(1e-09 s "
                                         r"were left for it\)"):
        SarimaForecaster(max_seconds=1e-9).fit(AIR[:120])


def test_a_caller_cannot_give_a_fit_more_time_than_the_server_allows(monkeypatch,
                                                                     fake_clock) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SECONDS", "1")
    with pytest.raises(FitStopped, match=r"^Holt-Winters stopped at the time limit of 1 s "):
        HoltWintersForecaster(max_seconds=10_000).fit(AIR[:120])


def test_a_run_keeps_the_other_models_when_a_classical_fit_times_out(monkeypatch,
                                                                     fake_clock) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SECONDS", "1")
    config = ExperimentConfig(models=("naive", "seasonal_naive", "sarima"))
    result = run_experiment(config, load_air_passengers())
    assert result.models == ["naive", "seasonal_naive"]
    assert result.skipped == ["sarima"] and not result.stopped_by_user
    assert "sarima" not in result.predictions
    assert any(note.startswith("SARIMA stopped at the time limit of 1 s "
                               "(LSTM_LAB_MAX_CLASSICAL_SECONDS)") for note in result.notes)


def test_a_run_whose_only_model_times_out_is_one_readable_error(monkeypatch, fake_clock) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SECONDS", "1")
    with pytest.raises(TrainingError, match=r"^SARIMA stopped at the time limit of 1 s"):
        run_experiment(ExperimentConfig(models=("sarima",)), load_air_passengers())


def test_stop_during_holt_winters_skips_sarima_and_keeps_the_naive_models() -> None:
    polls = itertools.count(1)
    result = run_experiment(ExperimentConfig(models=("naive", "holt_winters", "sarima")),
                            load_air_passengers(), should_stop=lambda: next(polls) > 3)
    assert result.models == ["naive"]
    assert result.skipped == ["holt_winters", "sarima"] and result.stopped_by_user
    assert "Holt-Winters was stopped on request before its fit finished, so it has no " \
           "results." in result.notes
    assert "SARIMA was stopped on request before its fit finished, so it has no results." \
           in result.notes


# --- 4. one slow fit never blocks another session's --------------------------------------------
def test_a_slow_fit_does_not_make_another_threads_fit_wait(monkeypatch) -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    original = ExponentialSmoothing.fit
    slow_started, fast_done = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def fit(self, *args, **kwargs):
        if len(self.endog) == 96:                    # the slow session's fit
            slow_started.set()
            seen["fast finished during the slow fit"] = fast_done.wait(timeout=60)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ExponentialSmoothing, "fit", fit)
    slow = threading.Thread(target=lambda: HoltWintersForecaster().fit(AIR[:96]))
    slow.start()
    assert slow_started.wait(timeout=60)
    fast = HoltWintersForecaster().fit(AIR[:60])     # would wait here if the slow held a lock
    fast_done.set()
    slow.join(timeout=120)
    assert seen == {"fast finished during the slow fit": True}
    assert np.isfinite(fast.sse_)


def test_blas_stays_limited_to_one_thread_after_a_fit() -> None:
    """Set once for the process and never restored: nothing to lock, nothing to wait for."""
    from threadpoolctl import threadpool_info

    HoltWintersForecaster().fit(AIR[:60])
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and {pool["num_threads"] for pool in blas} == {1}


# --- SARIMA's seasonal part stays short: its filter holds the GIL for seconds at long seasons ---
def test_sarima_drops_a_season_longer_than_its_cap_and_says_so(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_SARIMA_SEASON", "6")
    values = long_seasonal(400, season=12)
    model = SarimaForecaster(horizon=3, season=12, log=False).fit(values)
    assert model.seasonal_order_ == (0, 0, 0, 0)
    assert model.notes_ == [
        "SARIMA: Season 12 is longer than the 6 points SARIMA's seasonal part may span on this "
        "server (its Kalman filter would hold the server for seconds per pass; "
        "LSTM_LAB_MAX_SARIMA_SEASON): fitted the non-seasonal ARIMA(0, 1, 1) instead. "
        "Holt-Winters keeps the season."]
    monkeypatch.setenv("LSTM_LAB_MAX_SARIMA_SEASON", "12")   # at the cap: seasonal as before
    assert SarimaForecaster(horizon=3, season=12, log=False).fit(values).seasonal_order_ == \
        (0, 1, 1, 12)


# --- the test part they forecast -----------------------------------------------------------------
def test_a_test_part_longer_than_the_point_cap_leaves_them_out_before_any_fit(monkeypatch) -> None:
    def no_fit(*args, **kwargs):
        raise AssertionError("a classical model was fitted")

    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_POINTS", "30")
    monkeypatch.setattr(HoltWintersForecaster, "fit", no_fit)
    monkeypatch.setattr(SarimaForecaster, "fit", no_fit)
    config = ExperimentConfig(test_size=31.0, models=("naive", "holt_winters", "sarima"))
    result = run_experiment(config, load_air_passengers())
    assert result.models == ["naive"] and result.skipped == ["holt_winters", "sarima"]
    assert set(result.forecasters) == {"naive"} and not result.stopped_by_user
    assert result.notes == [
        "Holt-Winters and SARIMA were left out: the test part has 31 points and they forecast "
        "at most 30 on this server (set by LSTM_LAB_MAX_CLASSICAL_POINTS); a test size of 30 or "
        "less keeps them."]


def test_a_test_part_within_the_point_cap_keeps_them(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_POINTS", "30")
    result = run_experiment(ExperimentConfig(test_size=30.0, models=("naive", "holt_winters")),
                            load_air_passengers())
    assert result.models == ["naive", "holt_winters"] and result.skipped == []


def test_a_run_of_only_classical_models_with_too_long_a_test_part_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_POINTS", "30")
    with pytest.raises(ConfigError) as info:
        preflight(ExperimentConfig(test_size=31.0, models=("sarima",)), load_air_passengers())
    assert str(info.value) == (
        "SARIMA cannot forecast a test part of 31 points on this server: it forecasts at most "
        "30 (set by LSTM_LAB_MAX_CLASSICAL_POINTS). Set a test size of 30 or less, or add a "
        "network or a baseline to the models.")
