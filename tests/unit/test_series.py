"""Series: invariants checked on construction, season inference, fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import Series, infer_freq
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
