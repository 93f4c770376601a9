"""Conformal prediction intervals: the quantile by hand, the coverage they reach on a series of
known Gaussian noise, no use of the test part, honest refusals, backtests, forecasts ahead and
JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import Series
from lstm_lab.experiments import intervals as conformal
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.evaluation import fold_bounds, forecast_future, run_backtest
from lstm_lab.experiments.training import ExperimentResult, run_experiment
from lstm_lab.models.naive import NaiveForecaster
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf

BASELINES = ("naive", "seasonal_naive", "holt_winters")


# --- the conformal quantile, by hand ------------------------------------------------------------

def test_errors_needed_is_the_fewest_errors_with_a_finite_quantile() -> None:
    # ceil((n + 1) L) <= n  <=>  n >= L / (1 - L)
    assert conformal.errors_needed(0.8) == 4
    assert conformal.errors_needed(0.95) == 19
    assert conformal.errors_needed(0.9) == 9
    assert conformal.errors_needed(0.5) == 1
    assert conformal.errors_needed(0.99) == 99
    for level in (0.5, 0.8, 0.9, 0.95, 0.99):
        n = conformal.errors_needed(level)
        assert math.isfinite(conformal.conformal_halfwidth(np.arange(1.0, n + 1), level))
        assert math.isnan(conformal.conformal_halfwidth(np.arange(1.0, n), level))


def test_conformal_halfwidth_is_the_ceil_n_plus_1_times_level_th_smallest_absolute_error() -> None:
    # n = 4 at 80%: ceil(5 * 0.8) = 4 -> the 4th smallest |error|, the largest
    assert conformal.conformal_halfwidth(np.array([3.0, -1.0, 2.0, -4.0]), 0.8) == 4.0
    assert math.isnan(conformal.conformal_halfwidth(np.array([3.0, -1.0, 2.0]), 0.8))
    # n = 10 at 80%: ceil(11 * 0.8) = 9 -> the 9th smallest
    assert conformal.conformal_halfwidth(-np.arange(1.0, 11), 0.8) == 9.0
    # n = 19 at 95%: ceil(20 * 0.95) = 19 -> the largest; 18 errors are too few
    assert conformal.conformal_halfwidth(np.arange(1.0, 20), 0.95) == 19.0
    assert math.isnan(conformal.conformal_halfwidth(np.arange(1.0, 19), 0.95))
    # n = 39 at 95%: ceil(40 * 0.95) = 38
    assert conformal.conformal_halfwidth(np.arange(1.0, 40)[::-1], 0.95) == 38.0
    # NaN errors (steps past the end of the training part) are not counted
    assert conformal.conformal_halfwidth(np.array([1.0, np.nan, 2.0, 3.0, 4.0]), 0.8) == 4.0
    assert math.isnan(conformal.conformal_halfwidth(np.array([1.0, np.nan, 2.0, 3.0]), 0.8))


def test_level_keys_and_metric_names() -> None:
    assert [conformal.level_key(v) for v in (0.8, 0.95, 0.975, 0.5)] == ["80", "95", "97.5", "50"]
    assert conformal.interval_metric_name("coverage", 0.8) == "coverage_80"
    assert conformal.interval_metric_name("winkler", 0.975) == "winkler_97.5"


def test_calibration_points_a_fifth_at_least_enough_at_most_what_leaves_the_head() -> None:
    levels = (0.8, 0.95)
    assert conformal.calibration_points(100, 1, levels, 10) == 20        # a fifth
    assert conformal.calibration_points(50, 1, levels, 10) == 19         # enough for 95% at step 1
    assert conformal.calibration_points(50, 6, levels, 10) == 24         # ...and at step 6
    assert conformal.calibration_points(50, 1, (0.8,), 10) == 10         # a fifth; 4 would do
    assert conformal.calibration_points(5000, 1, levels, 10) == 200      # at most 200 origins
    assert conformal.calibration_points(5000, 12, levels, 10) == 211     # 200 origins + 11 steps
    assert conformal.calibration_points(30, 1, levels, 20) == 10         # the head keeps 20
    assert conformal.calibration_points(20, 1, levels, 25) == 0
    assert conformal.calibration_points(100, 1, (), 10) == 0


def test_score_by_hand() -> None:
    actual = np.array([1.0, 2.0, 3.0, 4.0, 9.0])
    low = np.array([0.0, 0.0, 0.0, 0.0, np.nan])          # the last point has no band
    high = np.array([2.0, 2.0, 2.0, 5.0, np.nan])
    scores = conformal.score(actual, low, high, 0.8)
    # inside: 1, 2 (on the edge), 4; 3 misses by 1 -> Winkler adds 2 / 0.2 * 1 = 10
    assert scores == pytest.approx({"coverage_80": 75.0, "width_80": 2.75,
                                    "winkler_80": (2 + 2 + 12 + 5) / 4})
    below = conformal.score(np.array([-1.0]), np.array([0.0]), np.array([1.0]), 0.95)
    assert below == pytest.approx({"coverage_95": 0.0, "width_95": 1.0,
                                   "winkler_95": 1.0 + 40.0})
    nothing = conformal.score(actual, np.full(5, np.nan), np.full(5, np.nan), 0.8)
    assert list(nothing) == ["coverage_80", "width_80", "winkler_80"]
    assert all(math.isnan(v) for v in nothing.values())


def test_band_is_the_forecast_plus_minus_its_steps_halfwidth() -> None:
    cal = conformal.Calibration((0.8,), 10, [10, 9, 8], {"80": [1.0, 2.0, np.nan]})
    low, high = cal.band(np.array([10.0, 10.0, 10.0, 10.0, 10.0]), np.array([0, 1, 2, 0, 5]), 0.8)
    np.testing.assert_array_equal(low, [9.0, 8.0, np.nan, 9.0, np.nan])
    np.testing.assert_array_equal(high, [11.0, 12.0, np.nan, 11.0, np.nan])
    plain = json.loads(json.dumps(cal.to_dict(), allow_nan=False))
    assert plain["halfwidths"] == {"80": [1.0, 2.0, None]}
    again = conformal.Calibration.from_dict(plain)
    np.testing.assert_array_equal(again.halfwidth(0.8), [1.0, 2.0, np.nan])
    assert (again.levels, again.points, again.counts) == ((0.8,), 10, [10, 9, 8])


def test_a_log_scale_band_is_the_forecast_times_exp_of_minus_and_plus_its_halfwidth() -> None:
    cal = conformal.Calibration((0.8,), 10, [10, 9], {"80": [0.1, np.nan]}, error_scale="log")
    low, high = cal.band(np.array([100.0, 100.0, 50.0]), np.array([0, 1, 0]), 0.8)
    np.testing.assert_allclose(low, [100 * math.exp(-0.1), np.nan, 50 * math.exp(-0.1)])
    np.testing.assert_allclose(high, [100 * math.exp(0.1), np.nan, 50 * math.exp(0.1)])
    assert high[0] - 100 > 100 - low[0]             # wider above: a ratio, not a difference
    plain = json.loads(json.dumps(cal.to_dict(), allow_nan=False))
    assert plain["error_scale"] == "log"
    assert conformal.Calibration.from_dict(plain).band(np.array([100.0]), np.array([0]),
                                                       0.8)[1][0] == pytest.approx(high[0])
    del plain["error_scale"]                         # a run saved before error scales
    assert conformal.Calibration.from_dict(plain).error_scale == "absolute"


class _LogNaive(NaiveForecaster):
    """Naive, calibrated on log errors (as a model that forecasts log values is)."""

    error_scale = "log"


def test_calibrate_measures_a_log_models_errors_as_log_ratios() -> None:
    """On 1, 2, 4, 8, ... naive's forecast h + 1 steps ahead is off by a factor 2 ** (h + 1)
    at every origin, while its absolute error doubles from one origin to the next."""
    train = 2.0 ** np.arange(50)
    cal = conformal.calibrate(lambda: _LogNaive(horizon=2), train, 2, (0.8,), 5, "Naive")
    assert cal.error_scale == "log" and cal.counts == [10, 9]
    np.testing.assert_allclose(cal.halfwidths["80"], [math.log(2), 2 * math.log(2)])
    plain = conformal.calibrate(lambda: NaiveForecaster(horizon=2), train, 2, (0.8,), 5,
                                "Naive")
    assert plain.error_scale == "absolute"
    assert plain.halfwidths["80"][0] == 2.0 ** 47    # the 9th smallest of 2 ** 39 ... 2 ** 48


def test_log_errors_cover_a_growing_series_where_absolute_errors_do_not() -> None:
    """A series growing 1% a step with 5% noise (multiplicative): a naive forecast's absolute
    errors grow with the level, so half-widths from the calibration tail are too small for the
    test part that follows; its relative errors do not grow, and their band covers its level."""
    n_train, n_test, seeds = 400, 100, range(8)
    covered = {("log", 0.8): [], ("log", 0.95): [], ("absolute", 0.8): [],
               ("absolute", 0.95): []}
    for seed in seeds:
        t = np.arange(n_train + n_test)
        values = 100 * np.exp(0.01 * t + np.random.default_rng(seed).normal(0, 0.05, t.size))
        train, test = values[:n_train], values[n_train:]
        forecast = values[n_train - 1:-1]                         # naive, one step ahead
        for model in (_LogNaive, NaiveForecaster):
            cal = conformal.calibrate(lambda m=model: m(horizon=1), train, 1, (0.8, 0.95), 5,
                                      "Naive")
            for level in (0.8, 0.95):
                low, high = cal.band(forecast, np.zeros(n_test, dtype=int), level)
                covered[cal.error_scale, level].append(np.mean((test >= low) & (test <= high)))
    n_cal = len(seeds) * conformal.calibration_points(n_train, 1, (0.95,), 5)
    for level in (0.8, 0.95):
        tolerance = _tolerance(level, len(seeds) * n_test, n_cal)
        assert abs(np.mean(covered["log", level]) - level) <= tolerance, covered["log", level]
        assert np.mean(covered["absolute", level]) < level - tolerance


class _Recording(NaiveForecaster):
    """Naive, remembering the length of what it was fitted on."""

    fitted_on: list[int] = []

    def fit(self, values, **kwargs):
        type(self).fitted_on.append(len(values))
        return super().fit(values, **kwargs)


def test_calibrate_fits_on_the_head_and_forecasts_every_origin_of_the_tail() -> None:
    """On 0, 1, 2, ... naive's error at horizon step h is h + 1, whatever the origin."""
    _Recording.fitted_on = []
    train = np.arange(50.0)
    cal = conformal.calibrate(lambda: _Recording(horizon=2), train, 2, (0.8,), 5, "Naive")
    assert _Recording.fitted_on == [40]               # the head: all but the last fifth (10)
    assert cal.points == 10 and cal.counts == [10, 9]  # the last origin's step 2 is past the end
    assert cal.halfwidths == {"80": [1.0, 2.0]}
    assert cal.notes == []
    assert cal.to_dict()["levels"] == [0.8]


def test_calibrate_refuses_with_a_note_when_the_tail_is_too_short() -> None:
    _Recording.fitted_on = []
    cal = conformal.calibrate(lambda: _Recording(horizon=2), np.arange(8.0), 2, (0.8, 0.95), 5,
                              "Naive")
    assert _Recording.fitted_on == []                 # no copy is fitted for nothing
    assert cal.points == 0 and cal.counts == [0, 0]
    assert all(math.isnan(x) for v in cal.halfwidths.values() for x in v)
    assert cal.notes == [
        "Naive: no prediction interval. Its 80% band needs at least 4 forecast errors from the "
        "end of the training part, and 8 training points leave only 3 beside the 5 it needs to "
        "fit. Use a longer series or a smaller test size, window or horizon."]


def test_calibrate_names_the_horizon_steps_left_without_a_band() -> None:
    # 12 points, head 5: 7 calibration points; step 4 of 5 has 4 errors, step 5 has 3
    cal = conformal.calibrate(lambda: NaiveForecaster(horizon=5), np.arange(12.0), 5, (0.8,), 5,
                              "Naive")
    assert cal.counts == [7, 6, 5, 4, 3]
    np.testing.assert_array_equal(cal.halfwidth(0.8), [1.0, 2.0, 3.0, 4.0, np.nan])
    assert cal.notes == [
        "Naive: no 80% band at horizon step 5 of 5: that needs 4 calibration errors per step and "
        "the training part gives 3. Use a longer series, a smaller horizon or a lower level."]


# --- coverage on a series of known Gaussian noise -----------------------------------------------

NOISE = 0.5
N_POINTS, N_TEST = 600, 96


def _gaussian_series(seed: int) -> Series:
    """A monthly seasonal mean plus N(0, NOISE) noise: the errors of a good forecaster are
    Gaussian and exchangeable, so its bands must cover their level."""
    t = np.arange(N_POINTS)
    values = (10 + 2 * np.sin(2 * np.pi * t / 12)
              + np.random.default_rng(seed).normal(0, NOISE, N_POINTS))
    return Series(values, pd.date_range("2000-01-01", periods=N_POINTS, freq="MS"),
                  name=f"gaussian {seed}", freq="MS")


def _pooled_coverage(config: ExperimentConfig, seeds: range
                     ) -> tuple[dict[str, dict[float, float]], int, int, list[ExperimentResult]]:
    """Each model's coverage per level over the test points of every seed's run, the number of
    test points and of calibration errors (step 1) behind it, and the runs."""
    runs = [run_experiment(config.replace(seed=seed), _gaussian_series(seed)) for seed in seeds]
    coverage: dict[str, dict[float, float]] = {}
    for model in config.models:
        for level in config.intervals:
            inside = []
            for run in runs:
                band = run.intervals[model][conformal.level_key(level)]
                test = run.predictions["split"] == "test"
                y = run.predictions["actual"][test].to_numpy()
                low, high = band["low"][test.to_numpy()], band["high"][test.to_numpy()]
                assert np.isfinite(low).all() and np.isfinite(high).all(), model
                inside.append((y >= low) & (y <= high))
            coverage.setdefault(model, {})[level] = float(np.concatenate(inside).mean())
    n_test = sum(int((r.predictions["split"] == "test").sum()) for r in runs)
    n_cal = sum(r.calibration[config.models[0]].counts[0] for r in runs)
    return coverage, n_test, n_cal, runs


def _tolerance(level: float, n_test: int, n_cal: int) -> float:
    """Three standard deviations of a pooled coverage: the binomial spread of n_test test points
    plus that of a quantile set by n_cal calibration errors (a conformal band's coverage, given
    its calibration, is Beta-distributed with variance ~ L(1 - L) / n_cal)."""
    return 3 * math.sqrt(level * (1 - level) * (1 / n_test + 1 / n_cal))


def test_baselines_cover_their_level_on_gaussian_noise() -> None:
    config = ExperimentConfig(test_size=N_TEST, models=BASELINES)
    coverage, n_test, n_cal, runs = _pooled_coverage(config, range(5))
    assert n_test == 5 * N_TEST and n_cal == 5 * 101        # a fifth of 504 training points
    for model, per_level in coverage.items():
        for level, covered in per_level.items():
            assert abs(covered - level) <= _tolerance(level, n_test, n_cal), (model, level,
                                                                                covered)
    # the widths are those of the noise: seasonal naive's error y_t - y_(t-12) is N(0, 2 s^2)
    # (its 80% half-width 1.2816 sqrt(2) s); Holt-Winters' is about the noise itself
    z = {0.8: 1.2816, 0.95: 1.96}
    for level in (0.8, 0.95):
        seasonal = np.mean([r.calibration["seasonal_naive"].halfwidth(level)[0] for r in runs])
        assert seasonal == pytest.approx(z[level] * math.sqrt(2) * NOISE, rel=0.2)
        hw = np.mean([r.calibration["holt_winters"].halfwidth(level)[0] for r in runs])
        assert hw == pytest.approx(z[level] * NOISE, rel=0.25)


def test_bands_widen_per_horizon_step_and_still_cover() -> None:
    """Horizon 3: each step gets its own half-width from its own errors."""
    config = ExperimentConfig(test_size=N_TEST, horizon=3, models=("naive", "seasonal_naive"))
    coverage, n_test, n_cal, runs = _pooled_coverage(config, range(5))
    for model, per_level in coverage.items():
        for level, covered in per_level.items():
            assert abs(covered - level) <= _tolerance(level, n_test, n_cal), (model, level,
                                                                                covered)
    for run in runs:
        cal = run.calibration["naive"]
        assert cal.counts == [101, 100, 99]        # a fifth of 504; fewer at later steps
        # naive's error grows with the step on a sine of period 12 (before its turn)
        widths = cal.halfwidth(0.8)
        assert widths[0] < widths[1] < widths[2]
        # each test row's band uses its own step's half-width
        test = (run.predictions["split"] == "test").to_numpy()
        half = (run.intervals["naive"]["80"]["high"] - run.predictions["naive"].to_numpy())[test]
        np.testing.assert_allclose(half, np.resize(widths, test.sum()))


@requires_tf
def test_a_small_network_covers_its_level_on_gaussian_noise() -> None:
    config = ExperimentConfig(test_size=N_TEST, models=("mlp",), members=1, mlp_units=8,
                              epochs=20, batch_size=32, patience=0, validation_fraction=0.0)
    coverage, n_test, n_cal, _ = _pooled_coverage(config, range(4))
    for level, covered in coverage["mlp"].items():
        assert abs(covered - level) <= _tolerance(level, n_test, n_cal), (level, covered)


# --- the test part is never read ----------------------------------------------------------------

def _changed_test_part(values: np.ndarray, n_test: int) -> np.ndarray:
    out = values.copy()
    out[-n_test:] = out[-n_test:] * 5.0 + 50.0
    return out


def _assert_same_bands(a: ExperimentResult, b: ExperimentResult) -> None:
    assert set(a.calibration) == set(b.calibration) == set(a.metrics)
    for model in a.metrics:
        assert a.calibration[model].to_dict() == b.calibration[model].to_dict(), model
        np.testing.assert_equal(a.intervals[model], b.intervals[model], err_msg=model)


@pytest.mark.parametrize("models", [
    BASELINES + ("sarima",),
    pytest.param(("mlp", "lstm"), marks=requires_tf)])
def test_changing_the_test_part_changes_no_band_and_no_calibration(models) -> None:
    """Horizon = test size: the test part is forecast from one origin, so its forecasts, and
    the bands around them, must not move when the test values do (the networks are ensembles
    of 3, as by default)."""
    values = make_tiny_values(80)
    config = ExperimentConfig(window=4, test_size=6, horizon=6, models=models, **FAST)
    a = run_experiment(config, make_tiny_series(values))
    b = run_experiment(config, make_tiny_series(_changed_test_part(values, 6)))
    assert set(a.metrics) == set(models)
    _assert_same_bands(a, b)
    for model in models:
        band = a.intervals[model]["80"]
        assert np.isfinite(band["low"][-6:]).all() and np.isnan(band["low"][:-6]).all(), model
    # ...while the scores, which do read the test part, move
    assert a.metrics[models[0]]["coverage_80"] != b.metrics[models[0]]["coverage_80"] or \
        a.metrics[models[0]]["winkler_80"] != b.metrics[models[0]]["winkler_80"]


# --- honest when it cannot ----------------------------------------------------------------------

def test_too_few_training_points_give_a_note_and_no_band() -> None:
    values = make_tiny_values(10)
    result = run_experiment(ExperimentConfig(test_size=4, models=("naive",)),
                            make_tiny_series(values))
    note = ("Naive (last value): no prediction interval. Its 80% band needs at least 4 forecast "
            "errors from the end of the training part, and 6 training points leave only 3 "
            "beside the 3 it needs to fit. Use a longer series or a smaller test size, window "
            "or horizon.")
    assert result.notes == [note]
    for level in ("80", "95"):
        assert np.isnan(result.intervals["naive"][level]["low"]).all()
        assert np.isnan(result.intervals["naive"][level]["high"]).all()
        assert all(math.isnan(result.metrics["naive"][f"{m}_{level}"])
                   for m in conformal.INTERVAL_METRICS)
    assert math.isfinite(result.metrics["naive"]["rmse"])       # the forecast itself stays


def test_a_level_with_too_few_errors_gets_no_band_while_the_lower_one_does() -> None:
    """40 points, 6 held out: Holt-Winters needs two seasons and the horizon to fit, which
    leaves 8 calibration errors: enough for 80% (4), too few for 95% (19)."""
    result = run_experiment(ExperimentConfig(test_size=6, models=("naive", "holt_winters")),
                            make_tiny_series())
    cal = result.calibration["holt_winters"]
    assert cal.points == 8 and cal.counts == [8]
    assert math.isfinite(cal.halfwidths["80"][0]) and math.isnan(cal.halfwidths["95"][0])
    assert result.notes == [
        "Holt-Winters: no 95% band at horizon step 1 of 1: that needs 19 calibration errors per "
        "step and the training part gives 8. Use a longer series, a smaller horizon or a lower "
        "level."]
    assert np.isfinite(result.intervals["holt_winters"]["80"]["low"][34:]).all()
    assert np.isnan(result.intervals["holt_winters"]["95"]["low"]).all()
    assert math.isnan(result.metrics["holt_winters"]["coverage_95"])
    assert math.isfinite(result.metrics["naive"]["coverage_95"])       # 19 points: just enough
    assert result.calibration["naive"].counts == [19]


def test_no_levels_means_no_calibration_at_all() -> None:
    result = run_experiment(ExperimentConfig(test_size=6, models=("naive",), intervals=()),
                            make_tiny_series())
    assert result.intervals == {} and result.calibration == {}
    assert list(result.metrics["naive"]) == ["rmse", "mae", "mape", "mase"]
    assert "naive_calibrate_s" not in result.timings


# --- backtests ----------------------------------------------------------------------------------

def test_each_backtest_fold_is_calibrated_on_its_own_training_part() -> None:
    values = make_tiny_values(80)
    series = make_tiny_series(values)
    config = ExperimentConfig(test_size=6, horizon=3, models=BASELINES)
    result = run_backtest(config, series, folds=3, refit=True)
    bounds = fold_bounds(len(values), 6, 3)
    for k, (start, end) in enumerate(bounds, start=1):
        alone = run_experiment(config, series.head(end))     # what fold k fits, on its own
        rows = (result.predictions["fold"] == k).to_numpy()
        for model in BASELINES:
            for level in ("80", "95"):
                for side in ("low", "high"):
                    np.testing.assert_array_equal(
                        result.intervals[model][level][side][rows],
                        alone.intervals[model][level][side][start:end],
                        err_msg=f"{model} {level} {side} fold {k}")
            fold = result.folds[k - 1]["metrics"][model]
            np.testing.assert_equal({m: fold[m] for m in fold if "_" in m},
                                    {m: alone.metrics[model][m]
                                     for m in alone.metrics[model] if "_" in m})
    # the folds' calibrations differ (each saw a longer training part)
    widths = [result.intervals["naive"]["80"]["high"][(result.predictions["fold"] == k)
                                                      .to_numpy()]
              - result.predictions.loc[result.predictions["fold"] == k, "naive"].to_numpy()
              for k in (1, 2, 3)]
    assert not np.allclose(widths[0], widths[2])
    summary = result.summary()
    assert summary.loc["naive", "coverage_80 mean"] == pytest.approx(
        np.mean([f["metrics"]["naive"]["coverage_80"] for f in result.folds]))
    assert {"width_95 mean", "winkler_95 std"} <= set(summary.columns)


def test_a_backtest_fold_never_reads_its_own_test_block_for_its_band() -> None:
    values = make_tiny_values(80)
    config = ExperimentConfig(test_size=6, horizon=6, models=BASELINES)
    result = run_backtest(config, make_tiny_series(values), folds=3)
    for k, (start, _end) in enumerate(fold_bounds(len(values), 6, 3), start=1):
        poisoned = values.copy()
        poisoned[start:] = poisoned[start:] * 7.0 + 100.0
        changed = run_backtest(config, make_tiny_series(poisoned), folds=3)
        rows = (result.predictions["fold"] == k).to_numpy()
        for model in BASELINES:
            np.testing.assert_equal(
                {lv: {s: b[s][rows] for s in b} for lv, b in result.intervals[model].items()},
                {lv: {s: b[s][rows] for s in b} for lv, b in changed.intervals[model].items()},
                err_msg=f"{model} fold {k}")


def test_refit_false_keeps_fold_1s_calibration_for_every_fold() -> None:
    values = make_tiny_values(80)
    config = ExperimentConfig(test_size=6, horizon=3, models=("naive", "seasonal_naive"))
    reused = run_backtest(config, make_tiny_series(values), folds=3, refit=False)
    first = run_experiment(config, make_tiny_series(values).head(fold_bounds(80, 6, 3)[0][1]))
    steps = np.arange(6) % 3
    for k in (1, 2, 3):
        block = reused.predictions[reused.predictions["fold"] == k]
        rows = (reused.predictions["fold"] == k).to_numpy()
        for model in ("naive", "seasonal_naive"):
            for level in (0.8, 0.95):
                half = first.calibration[model].halfwidth(level)[steps]
                band = reused.intervals[model][conformal.level_key(level)]
                np.testing.assert_allclose(band["low"][rows], block[model] - half)
                np.testing.assert_allclose(band["high"][rows], block[model] + half)
            scores = conformal.score(block["actual"], band["low"][rows], band["high"][rows], 0.95)
            assert {m: reused.folds[k - 1]["metrics"][model][m] for m in scores} == \
                pytest.approx(scores)


def test_backtest_json_carries_the_bands_with_none_for_no_band() -> None:
    config = ExperimentConfig(test_size=6, models=("naive", "holt_winters"))
    result = run_backtest(config, make_tiny_series(make_tiny_values(54)), folds=2)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    # Holt-Winters keeps 26 points to fit (two seasons, the horizon and one): fold 1's 42
    # training points leave 16 calibration errors, too few for 95% (19); fold 2's 48 give 19
    hw = data["intervals"]["holt_winters"]
    assert hw["95"]["low"][:6] == [None] * 6
    assert None not in hw["95"]["low"][6:]
    assert None not in hw["80"]["low"]
    assert [f["metrics"]["holt_winters"]["coverage_95"] is None for f in data["folds"]] == [
        True, False]
    np.testing.assert_allclose(data["intervals"]["naive"]["80"]["high"],
                               result.intervals["naive"]["80"]["high"])
    assert len(hw["80"]["low"]) == len(data["predictions"]["actual"]) == 12


# --- forecasts ahead ----------------------------------------------------------------------------

def test_forecast_ahead_bands_cover_the_first_horizon_only() -> None:
    values = make_tiny_values(80)
    config = ExperimentConfig(test_size=6, horizon=3, models=("naive", "seasonal_naive"))
    future = forecast_future(config, make_tiny_series(values), 9)
    assert set(future.intervals) == {"naive", "seasonal_naive"}
    # naive, calibrated by hand on all 80 points: the last 21 origins (3 - 1 + 19 > 80 / 5),
    # each forecasting the value before it, errors per step where the target is known
    origins = np.arange(80 - 21, 80)
    expected = {}
    for level in (0.8, 0.95):
        expected[level] = [conformal.conformal_halfwidth(np.array(
            [values[o + h] - values[o - 1] for o in origins if o + h < 80]), level)
            for h in range(3)]
    forecast = future.forecasts["naive"].to_numpy()
    np.testing.assert_array_equal(forecast, [values[-1]] * 9)
    for level in (0.8, 0.95):
        band = future.intervals["naive"][conformal.level_key(level)]
        np.testing.assert_allclose(band["high"][:3] - forecast[:3], expected[level])
        np.testing.assert_allclose(forecast[:3] - band["low"][:3], expected[level])
        assert np.isnan(band["low"][3:]).all() and np.isnan(band["high"][3:]).all()
    assert future.notes == [
        "Prediction intervals cover the first 3 steps (one horizon, what calibration measured); "
        "later steps are forecast from earlier forecasts, whose errors add up in ways those "
        "errors do not show, so they get no band."]
    within = forecast_future(config, make_tiny_series(values), 3)
    assert within.notes == [] and np.isfinite(within.intervals["seasonal_naive"]["95"]["low"]).all()


@requires_tf
def test_forecast_ahead_gives_an_ensemble_both_its_band_and_its_members_spread() -> None:
    config = ExperimentConfig(window=4, test_size=6, horizon=3, models=("mlp",), **FAST)
    assert config.members == 3
    future = forecast_future(config, make_tiny_series(make_tiny_values(80)), 3)
    band = future.intervals["mlp"]["80"]
    forecast = future.forecasts["mlp"].to_numpy()
    assert np.isfinite(band["low"]).all() and (band["low"] < forecast).all()
    assert (band["high"] > forecast).all()
    spread = future.spread["mlp"]                 # the members' own lowest and highest
    assert (spread["low"] <= forecast + 1e-9).all() and (spread["high"] >= forecast - 1e-9).all()
    assert not np.allclose(spread["low"], band["low"])


# --- saved and restored -------------------------------------------------------------------------

def test_result_json_round_trip_keeps_bands_and_calibration() -> None:
    result = run_experiment(ExperimentConfig(test_size=6, horizon=2, models=BASELINES),
                            make_tiny_series())
    text = result.to_json()
    data = json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))
    assert data["intervals"]["holt_winters"]["95"]["low"][-1] is None      # no 95% band
    assert data["calibration"]["naive"]["counts"] == [20, 19]   # 1 + 19 origins
    again = ExperimentResult.from_dict(data)
    assert again.to_json() == text
    np.testing.assert_equal(again.intervals, result.intervals)
    np.testing.assert_equal(again.metrics, result.metrics)
    for model in BASELINES:
        assert again.calibration[model].to_dict() == result.calibration[model].to_dict()
        np.testing.assert_array_equal(again.calibration[model].halfwidth(0.95),
                                      result.calibration[model].halfwidth(0.95))



def test_a_model_that_cannot_fit_the_head_gets_a_note_and_no_band() -> None:
    """A model needing more points than the head leaves (a tuned variant's longer window) gets
    no band and says why; it never falls back to in-sample errors."""
    from lstm_lab.errors import DataError

    class TooShort(NaiveForecaster):
        def fit(self, values, on_epoch=None, should_stop=None):
            raise DataError(f"needs 99 points, has {len(values)}")

    calibration = conformal.calibrate(lambda: TooShort(horizon=2), np.arange(60.0), 2,
                                      (0.8, 0.95), head_needed=5, label="Picky")
    assert calibration.points == 0 and calibration.counts == [0, 0]
    assert all(np.isnan(calibration.halfwidth(v)).all() for v in (0.8, 0.95))
    assert calibration.notes == ["Picky: no prediction interval. Fitted on the 40 training "
                                 "points before its calibration tail, it could not start: "
                                 "needs 99 points, has 40"]
