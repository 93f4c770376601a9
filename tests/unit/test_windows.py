"""Splits, sliding windows, scaling fitted on training data only, and target transforms."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lab.data.windows import (
    Scaler,
    TargetTransform,
    make_windows,
    recent_windows,
    split_by_time,
    windows_at,
)
from lstm_lab.errors import ConfigError, DataError

KINDS = ("none", "log", "diff", "log_diff", "seasonal_diff", "log_seasonal_diff", "detrend",
         "log_detrend")


# --- split ------------------------------------------------------------------------------------
def test_split_by_time_holds_out_the_tail() -> None:
    assert split_by_time(10, 3) == 7
    assert split_by_time(10, 9) == 1


@pytest.mark.parametrize("test_size", [0, 10, 11])
def test_split_by_time_must_leave_a_training_point(test_size) -> None:
    with pytest.raises(ConfigError) as info:
        split_by_time(10, test_size)
    assert str(info.value) == ("test_size must leave at least one training point: the series has "
                               f"10 points. Received: test_size={test_size}")


# --- windows ----------------------------------------------------------------------------------
def test_make_windows_horizon_1() -> None:
    X, y = make_windows(np.arange(6), window=2, horizon=1)
    np.testing.assert_array_equal(X, [[0, 1], [1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(y, [[2], [3], [4], [5]])
    assert X.dtype == np.float32 and y.dtype == np.float32


def test_make_windows_horizon_2() -> None:
    X, y = make_windows(np.arange(6), window=2, horizon=2)
    np.testing.assert_array_equal(X, [[0, 1], [1, 2], [2, 3]])
    np.testing.assert_array_equal(y, [[2, 3], [3, 4], [4, 5]])


def test_make_windows_start_offset() -> None:
    X, y = make_windows(np.arange(6), window=2, horizon=1, start=1)
    np.testing.assert_array_equal(X, [[1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(y, [[3], [4], [5]])
    X, y = make_windows(np.arange(10, 16), window=3, horizon=2, start=1)
    np.testing.assert_array_equal(X, [[11, 12, 13]])
    np.testing.assert_array_equal(y, [[14, 15]])


def test_make_windows_exactly_one_pair() -> None:
    X, y = make_windows(np.arange(3), window=2, horizon=1)
    np.testing.assert_array_equal(X, [[0, 1]])
    np.testing.assert_array_equal(y, [[2]])


def test_make_windows_too_short() -> None:
    with pytest.raises(DataError) as info:
        make_windows(np.arange(3), window=3, horizon=1)
    assert str(info.value) == ("Need a 1-D series of at least start + window + horizon = 4 points. "
                               "Received shape=(3,)")
    with pytest.raises(DataError, match="at least start \\+ window \\+ horizon = 7 points"):
        make_windows(np.arange(6), window=3, horizon=2, start=2)


def test_make_windows_refuses_2d_input() -> None:
    with pytest.raises(DataError, match=r"Received shape=\(10, 2\)"):
        make_windows(np.zeros((10, 2)), window=2)


@pytest.mark.parametrize(("window", "horizon", "start"), [(3, 1, 0), (5, 2, 1), (1, 4, 12)])
def test_recent_windows_are_the_latest_of_all_windows_and_build_no_more(window, horizon,
                                                                         start) -> None:
    """A series just above the cap: the kept pairs equal the old path (all windows, then the
    latest ``keep``), and the arrays built hold ``keep`` rows, not the whole series' count."""
    values = np.random.default_rng(1).normal(size=60)
    keep = 40
    X_all, y_all = make_windows(values, window, horizon, start=start)
    assert keep < len(X_all) < keep + 20            # just above the cap
    X, y, total = recent_windows(values, window, horizon, start=start, keep=keep)
    assert total == len(X_all)
    assert X.shape == (keep, window) and y.shape == (keep, horizon)
    np.testing.assert_array_equal(X, X_all[-keep:])
    np.testing.assert_array_equal(y, y_all[-keep:])


def test_recent_windows_keep_all_when_the_series_is_within_the_cap() -> None:
    values = np.arange(10.0)
    X_all, y_all = make_windows(values, 3, 2)
    for keep in (None, len(X_all), 1000):
        X, y, total = recent_windows(values, 3, 2, keep=keep)
        assert total == len(X_all) == 6
        np.testing.assert_array_equal(X, X_all)
        np.testing.assert_array_equal(y, y_all)


def test_recent_windows_of_a_long_series_stay_at_the_cap() -> None:
    values = np.arange(1_000_000, dtype="float64")
    X, y, total = recent_windows(values, 100, 1, keep=50)
    assert total == 1_000_000 - 100 and X.shape == (50, 100) and y.shape == (50, 1)
    assert X[-1, -1] == 999_998 and y[-1, 0] == 999_999 and X[0, 0] == 999_850


def test_recent_windows_too_short_is_the_same_data_error() -> None:
    with pytest.raises(DataError, match="at least start \\+ window \\+ horizon = 6 points"):
        recent_windows(np.arange(5.0), 4, 2, keep=10)


def test_windows_at_ends_just_before_each_origin() -> None:
    X = windows_at(np.arange(10), np.array([3, 5, 10]), window=2)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [8, 9]])
    # the same pairs as make_windows, origin by origin
    Xm, _ = make_windows(np.arange(10), window=3)
    np.testing.assert_array_equal(windows_at(np.arange(10), np.arange(3, 10), 3), Xm)


# --- scaler -----------------------------------------------------------------------------------
def test_scaler_uses_training_statistics() -> None:
    train = np.array([2.0, 4.0, 6.0, 8.0])
    scaler = Scaler().fit(train)
    assert scaler.mean == 5.0
    assert scaler.scale == pytest.approx(np.sqrt(5.0))          # population std (ddof=0)
    np.testing.assert_allclose(scaler.transform(train), (train - 5) / np.sqrt(5), rtol=1e-6)
    assert scaler.transform(train).dtype == np.float32


def test_scaler_fitted_on_train_ignores_test_values() -> None:
    """Fit on the training part: whatever the test part holds, the statistics are the same."""
    rng = np.random.default_rng(1)
    series = rng.normal(50, 5, 60)
    other = series.copy()
    other[45:] = 1e6                                # a wildly different test part
    a = Scaler().fit(series[:45])
    b = Scaler().fit(other[:45])
    assert (a.mean, a.scale) == (b.mean, b.scale)
    assert a.mean == pytest.approx(series[:45].mean())
    leaky = Scaler().fit(other)                     # what fitting on everything would give
    assert leaky.mean != pytest.approx(a.mean)


def test_scaler_round_trip() -> None:
    values = np.array([-3.0, 0.5, 7.25, 100.0])
    scaler = Scaler().fit(values[:3])
    np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values, rtol=1e-6)


# --- target transforms -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "season", "lag", "uses_log"),
    [("none", 12, 0, False), ("log", 12, 0, True), ("diff", 12, 1, False),
     ("log_diff", 12, 1, True), ("seasonal_diff", 12, 12, False),
     ("log_seasonal_diff", 4, 4, True), ("seasonal_diff", 0, 1, False)],
)
def test_transform_lag_and_log(kind, season, lag, uses_log) -> None:
    transform = TargetTransform(kind, season)
    assert transform.lag == lag
    assert transform.uses_log is uses_log


def test_forward_values() -> None:
    values = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    np.testing.assert_array_equal(TargetTransform("none").forward(values), values)
    np.testing.assert_array_equal(TargetTransform("diff").forward(values),
                                  [np.nan, 1.0, 2.0, 4.0, 8.0])
    np.testing.assert_array_equal(TargetTransform("seasonal_diff", 2).forward(values),
                                  [np.nan, np.nan, 3.0, 6.0, 12.0])
    np.testing.assert_allclose(TargetTransform("log_diff").forward(values)[1:], np.log(2.0))
    np.testing.assert_allclose(TargetTransform("log").forward(values), np.log(values))


def _positive_series(n: int = 40) -> np.ndarray:
    t = np.arange(n)
    return 20 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 4) + np.random.default_rng(2).uniform(0, 1, n)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("horizon", [1, 3, 9])              # 9 > season 4: builds on forecasts
def test_inverse_of_true_future_reproduces_values(kind, horizon) -> None:
    values = _positive_series()
    transform = TargetTransform(kind, season=4).fitted(values[:24])   # a trend from training only
    z = transform.forward(values)
    origins = np.array([transform.lag + 1, 12, 20, len(values) - horizon])
    z_hat = np.stack([z[o:o + horizon] for o in origins])
    expected = np.stack([values[o:o + horizon] for o in origins])
    np.testing.assert_allclose(transform.inverse(z_hat, values, origins), expected,
                               rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_inverse_never_reads_values_at_or_after_the_origin(kind) -> None:
    values = _positive_series()
    transform = TargetTransform(kind, season=4).fitted(values[:24])
    z = transform.forward(values)
    horizon = 6
    for origin in (8, 17, 30):
        hidden = values.copy()
        hidden[origin:] = np.nan                      # the future is unknown at forecast time
        restored = transform.inverse(z[None, origin:origin + horizon], hidden, np.array([origin]))
        np.testing.assert_allclose(restored[0], values[origin:origin + horizon], rtol=1e-12)


def test_inverse_of_zero_change_is_naive_and_seasonal_naive() -> None:
    values = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0])
    origins = np.array([6])
    zeros = np.zeros((1, 5))
    np.testing.assert_array_equal(TargetTransform("diff").inverse(zeros, values, origins),
                                  [[60.0] * 5])
    np.testing.assert_array_equal(TargetTransform("seasonal_diff", 3).inverse(zeros, values, origins),
                                  [[40.0, 50.0, 60.0, 40.0, 50.0]])


def test_detrend_removes_the_training_line_and_extends_it() -> None:
    """A straight line detrends to zeros; forecasting zero change continues the training line."""
    values = 5.0 + 2.0 * np.arange(10.0)
    transform = TargetTransform("detrend").fitted(values[:6])
    assert transform.trend == pytest.approx((5.0, 2.0))
    np.testing.assert_allclose(transform.forward(values), 0.0, atol=1e-12)
    restored = transform.inverse(np.zeros((2, 3)), values, np.array([6, 7]))
    np.testing.assert_allclose(restored, [[17.0, 19.0, 21.0], [19.0, 21.0, 23.0]])
    growth = np.exp(0.1 * np.arange(12.0))                    # steady 10 % log growth
    log_line = TargetTransform("log_detrend").fitted(growth)
    assert log_line.trend == pytest.approx((0.0, 0.1))
    assert TargetTransform("log_diff").fitted(growth) == TargetTransform("log_diff")


@pytest.mark.parametrize("kind", ["log", "log_diff", "log_seasonal_diff", "log_detrend"])
@pytest.mark.parametrize("bad", [0.0, -2.5])
def test_log_transforms_refuse_non_positive_values(kind, bad) -> None:
    values = np.array([3.0, 1.0, bad, 4.0])
    with pytest.raises(DataError) as info:
        TargetTransform(kind, 2).forward(values)
    message = str(info.value)
    assert message == (f"The '{kind}' transform needs positive values; the smallest is {bad:g}. "
                       "Choose transform 'none' or 'diff'.")


@pytest.mark.parametrize("kind", ["none", "diff", "seasonal_diff", "detrend"])
def test_non_log_transforms_accept_zero_and_negative_values(kind) -> None:
    values = np.array([0.0, -1.0, 2.0, -3.0])
    z = TargetTransform(kind, 2).forward(values)
    assert np.isfinite(z[TargetTransform(kind, 2).lag:]).all()


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(ConfigError, match="Unknown transform 'cube'. Choose one of auto, none, log, diff"):
        TargetTransform("cube")


def _seasonal(n: int, offset: float) -> np.ndarray:
    """A rising series with a strong 12-step cycle: its changes repeat every 12 steps."""
    t = np.arange(n, dtype="float64")
    return offset + 0.02 * t + np.sin(2 * np.pi * t / 12)


_NOISE = np.random.default_rng(0).normal(size=120)


@pytest.mark.parametrize(("values", "season", "expected"), [
    (np.exp(_seasonal(48, 3.0) / 10), 12, "log_seasonal_diff"),  # positive, 4 real seasons
    (np.exp(_seasonal(30, 3.0) / 10), 12, "log_diff"),           # positive, under 3 seasons
    (np.exp(_seasonal(48, 3.0) / 10), 1, "log_diff"),            # positive, no season given
    (10 + np.cumsum(_NOISE) * 0.1 + 20, 12, "log_diff"),         # positive, a calendar season
                                                                 # the data do not have
    (_seasonal(48, -1.0), 12, "seasonal_diff"),                  # crosses zero, seasonal
    (np.cumsum(_NOISE) - 5, 12, "diff"),                         # crosses zero, no real season
    (np.sin(np.arange(48.0)), 1, "none"),                        # crosses zero, no season
])
def test_auto_transform_is_chosen_from_the_data(values, season, expected) -> None:
    from lstm_lab.data.windows import resolve_transform

    assert resolve_transform("auto", values, season) == expected
    assert resolve_transform("diff", values, season) == "diff"   # explicit choices are kept


def test_seasonal_autocorrelation_separates_real_from_calendar_seasons() -> None:
    """Airline passengers repeat their monthly changes every 12 months; white noise does not."""
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.data.windows import SEASONAL_ACF_THRESHOLD, seasonal_autocorrelation

    air = load_air_passengers().values
    assert seasonal_autocorrelation(air, 12) == pytest.approx(0.83, abs=0.03)
    noise = np.random.default_rng(1).normal(10, 1, size=400)
    assert abs(seasonal_autocorrelation(noise, 7)) < SEASONAL_ACF_THRESHOLD
    # the standard sample ACF (statsmodels' definition) on the first differences
    d = np.diff(np.log(air))
    d = d - d.mean()
    assert seasonal_autocorrelation(air, 12) == pytest.approx(d[12:] @ d[:-12] / (d @ d))
    assert seasonal_autocorrelation(np.ones(30), 12) == 0.0        # no changes at all
    assert seasonal_autocorrelation(air[:10], 12) == 0.0            # shorter than a season


def test_auto_explains_its_choice_in_words() -> None:
    from lstm_lab.data.datasets import load_air_passengers
    from lstm_lab.data.windows import explain_auto_transform

    air = load_air_passengers().values[:120]
    assert explain_auto_transform(air, 12) == (
        "auto: all values are positive, so it models their logarithm (growth becomes additive); "
        "the changes repeat every 12 points (autocorrelation 0.81 > 0.3), so it models the "
        "change from one season ago.")
    noise = np.random.default_rng(0).normal(10, 1, 400)
    assert "do not repeat every 7 points (autocorrelation 0.02 ≤ 0.3)" in \
        explain_auto_transform(noise, 7)
    assert "fewer than 3 seasons of 12" in explain_auto_transform(air[:30], 12)
    assert explain_auto_transform(np.sin(np.arange(50.0)), 1) == (
        "auto: no season is known and the values cross zero, so it models them as they are.")
