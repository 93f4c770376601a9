"""Series: invariants checked on construction, season inference, fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import (
    Series,
    freq_words,
    infer_freq,
    infer_season,
    max_season,
    season_refusal,
    season_words,
)
from lstm_lab.errors import DataError


def _monthly(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2000-01-01", periods=n, freq="MS")


def test_values_become_read_only_float64() -> None:
    series = Series([1, 2, 3], _monthly(3), name="x", freq="MS")
    assert series.values.dtype == np.float64
    assert len(series) == 3
    with pytest.raises(ValueError):
        series.values[0] = 10.0


def test_to_frame_has_time_and_named_column() -> None:
    series = Series([1.0, 2.0], _monthly(2), name="sales")
    frame = series.to_frame()
    assert list(frame.columns) == ["time", "sales"]
    assert frame["sales"].tolist() == [1.0, 2.0]
    assert frame["time"].iloc[0] == pd.Timestamp("2000-01-01")


@pytest.mark.parametrize(
    ("values", "index", "message"),
    [
        ([[1.0, 2.0], [3.0, 4.0]], range(2), "A series must be 1-D. Received shape=(2, 2)."),
        ([1.0], range(1), "A series needs at least 2 points. Received 1."),
        ([1.0, np.nan, 3.0, np.inf], range(4),
         "The series has 2 missing or infinite value(s), first at position 1. "
         "Clean or fill them before training."),
        ([1.0, 2.0, 3.0], range(2), "Index length 2 differs from values length 3."),
        ([1.0, 2.0, 3.0], [0, 2, 1],
         "The time index must be strictly increasing (sorted, no duplicates)."),
        ([1.0, 2.0, 3.0], [0, 1, 1],
         "The time index must be strictly increasing (sorted, no duplicates)."),
    ],
)
def test_invalid_series_raise_data_error(values, index, message) -> None:
    with pytest.raises(DataError) as info:
        Series(values, pd.Index(index))
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("freq", "season"),
    [("MS", 12), ("ME", 12), ("2MS", 12), ("BMS", 12), ("BME", 12), ("QS-OCT", 4), ("QE-DEC", 4),
     ("BQS-JAN", 4), ("W-SUN", 52), ("D", 7), ("B", 5), ("h", 24), ("min", 60), ("YS-JAN", 1),
     ("s", 1), (None, 1)],
)
def test_season_is_inferred_from_frequency(freq, season) -> None:
    assert Series([1.0, 2.0], range(2), freq=freq).season == season


def test_business_month_dates_get_a_monthly_season() -> None:
    index = pd.date_range("2001-01-01", periods=30, freq="BMS")
    freq = infer_freq(index)
    assert freq == "BMS"
    assert Series(np.arange(30.0), index, freq=freq).season == 12


def test_infer_freq() -> None:
    assert infer_freq(_monthly(5)) == "MS"
    assert infer_freq(pd.date_range("2000-01-01", periods=5, freq="D")) == "D"
    assert infer_freq(_monthly(2)) is None                       # too short to tell
    assert infer_freq(pd.RangeIndex(5)) is None                  # no dates
    irregular = pd.DatetimeIndex(["2000-01-01", "2000-01-02", "2000-01-05", "2000-02-01"])
    assert infer_freq(irregular) is None


def test_fingerprint_tracks_values_and_dates() -> None:
    base = Series([1.0, 2.0, 3.0], _monthly(3))
    same = Series([1.0, 2.0, 3.0], _monthly(3), name="other name")
    changed_value = Series([1.0, 2.0, 3.5], _monthly(3))
    shifted = Series([1.0, 2.0, 3.0], pd.date_range("2001-01-01", periods=3, freq="MS"))
    assert len(base.fingerprint()) == 16
    assert base.fingerprint() == same.fingerprint()
    assert base.fingerprint() != changed_value.fingerprint()
    assert base.fingerprint() != shifted.fingerprint()


# --- season found in the values of an undated series; frequency and season in words ----------

def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


def _ar1(phi: float, n: int, seed: int) -> np.ndarray:
    shocks, out = _noise(n, seed), np.zeros(n)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


@pytest.mark.parametrize("period", [12, 25, 40, 60])
def test_a_repeating_undated_series_gets_its_period_as_season(period) -> None:
    from lstm_lab.data.datasets import make_damped_sine

    for seed in range(3):
        series = make_damped_sine(length=10 * period, period=period, noise=0.2, seed=seed)
        assert abs(series.season - period) <= 1, (period, seed, series.season)
        assert series.season_source == "pattern"


def test_the_default_damped_sine_has_season_40_and_its_backtest_heads_keep_it() -> None:
    from lstm_lab.data.datasets import make_damped_sine

    series = make_damped_sine()
    assert series.season == 40
    assert series.head(100).season == 40          # not looked for again in 100 points


@pytest.mark.parametrize("values", [
    _noise(200, 0), _noise(5000, 1), np.cumsum(_noise(300, 2)), np.cumsum(_noise(3000, 3)),
    _ar1(0.9, 500, 4), np.arange(100.0), np.full(50, 3.0), 5 + 0.1 * np.arange(80.0)])
def test_no_clear_repetition_gives_no_season(values) -> None:
    assert infer_season(values) == 1
    series = Series(values, pd.RangeIndex(len(values)))
    assert series.season == 1 and series.season_source == "none"


def test_dates_decide_the_season_before_the_values() -> None:
    from lstm_lab.data.datasets import make_damped_sine

    sine = make_damped_sine()
    dated = Series(sine.values, pd.date_range("2000-01-01", periods=400, freq="D"), freq="D")
    assert dated.season == 7 and dated.season_source == "dates"
    irregular = Series(sine.values, pd.date_range("2000-01-01", periods=400, freq="D"))
    assert irregular.season == 1                      # dates that tell no season: not guessed
    assert Series(sine.values, range(400), season_override=20).season == 20


def test_a_season_longer_than_the_classical_limit_is_not_inferred(monkeypatch) -> None:
    from lstm_lab.data.datasets import make_damped_sine

    values = make_damped_sine(length=800, period=80, seed=0).values
    assert infer_season(values) == 80
    assert Series(values, range(800)).season == 1     # above the 60 Holt-Winters fits
    monkeypatch.setenv("LSTM_LAB_MAX_CLASSICAL_SEASON", "100")
    assert Series(values, range(800)).season == 80


@pytest.mark.parametrize(("freq", "words"), [
    ("MS", "monthly (month start)"), ("ME", "monthly (month end)"), ("2MS", "every 2 months (month start)"),
    ("QS-OCT", "quarterly (quarter start, years starting in October)"),
    ("QE-DEC", "quarterly (quarter end)"), ("W-SUN", "weekly (weeks ending Sunday)"),
    ("D", "daily"), ("B", "business days"), ("h", "hourly"), ("15min", "every 15 minutes"),
    ("YS-JAN", "yearly (year start)"), ("s", "every second"),
    (None, "no dates (the row order is the time)")])
def test_frequency_in_words(freq, words) -> None:
    assert freq_words(freq) == words


def test_irregular_dates_in_words() -> None:
    assert freq_words(None, dated=True) == "irregular dates"


def test_season_in_words_says_where_it_comes_from() -> None:
    from lstm_lab.data.datasets import load_air_passengers, make_damped_sine

    air, sine = load_air_passengers(), make_damped_sine()
    assert season_words(air) == "12 (monthly data, a year)"
    assert season_words(sine) == "40 (the values repeat about every 40 points)"
    daily = Series(np.arange(400.0), pd.date_range("2000-01-01", periods=400), freq="D")
    assert season_words(daily) == "7 (daily data, a week)"
    assert season_words(daily, 365) == "365 (daily data, a year)"
    assert season_words(sine, 20) == "20 points"
    flat = Series(_noise(100, 0), range(100))
    assert season_words(flat) == "none (no dates and no repeating pattern in the values)"


def test_a_season_the_training_part_cannot_hold_twice_is_refused_in_a_sentence() -> None:
    assert max_season(120) == 60 and season_refusal(60, 120) is None
    assert season_refusal(80, 120) == (
        "A season of 80 points cannot be seen in a training part of 120 points, which must hold "
        "it at least twice: set a season of 60 or less, or 0 to detect it.")
    assert season_refusal(365, 3626) is None


def test_dated_series_without_a_season_say_so_without_claiming_a_pattern_search() -> None:
    irregular = Series(np.arange(5.0), pd.DatetimeIndex(
        ["2000-01-01", "2000-01-03", "2000-01-04", "2000-01-09", "2000-01-10"]))
    assert season_words(irregular) == "none (irregular dates: set it if the values repeat)"
    yearly = Series(np.arange(5.0), pd.date_range("2000", periods=5, freq="YS"), freq="YS-JAN")
    assert season_words(yearly) == "none (yearly data: set it if the values repeat)"
