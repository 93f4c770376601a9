"""The Series value object: one regularly ordered time series, with optional input columns.

Invariants (checked in ``__post_init__``; build a Series only through it):
- ``values`` is a 1-D float64 array of finite numbers, at least 2 long;
- ``index`` is a pandas Index of the same length, strictly increasing (a DatetimeIndex, a
  PeriodIndex converted to timestamps, or integer positions when the data has no dates);
- ``name`` is the display name of the value column;
- ``freq`` is a pandas offset alias ("MS", "D", ...) when the dates are regular, else None;
- ``inputs``, when given, is a [len, k] float64 array of finite numbers: other columns measured
  at the same times (a CSV's price and promotion beside its sales), named by ``input_names``.
  The networks read their past values beside the target's; the baselines never do;
- ``season_override``, when given, is the seasonal period (>= 1) for data whose index cannot
  tell it, e.g. 12 for year-index/month data such as "1-01".."3-12" kept on an integer index.

The season is otherwise read from the frequency (12 for monthly data) and, for a series without
dates, from the values' autocorrelation when it clearly repeats (``infer_season``, up to the
longest season Holt-Winters and SARIMA fit on this server; a longer one is the user's to set). ``freq_words`` and ``season_words`` say both in words.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from lstm_lab.errors import DataError
from lstm_lab.limits import get_limits

# Seasonal period per pandas frequency prefix, for seasonal naive, MASE and seasonal differencing.
# Keys are base aliases: multiplier digits and anchors ("-SUN", "-JAN") are stripped before lookup.
_SEASON_BY_FREQ = {"MS": 12, "ME": 12, "M": 12, "BMS": 12, "BME": 12, "BM": 12,
                   "QS": 4, "QE": 4, "Q": 4, "BQS": 4, "BQE": 4, "BQ": 4, "W": 52, "D": 7,
                   "B": 5, "h": 24, "H": 24, "min": 60}


@dataclass(frozen=True, eq=False)
class Series:
    values: np.ndarray
    index: pd.Index
    name: str = "value"
    freq: str | None = None
    source: str = field(default="", compare=False)
    season_override: int | None = None
    inputs: np.ndarray | None = field(default=None, compare=False)
    input_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype="float64")
        if values.ndim != 1:
            raise DataError(f"A series must be 1-D. Received shape={values.shape}.")
        if len(values) < 2:
            raise DataError(f"A series needs at least 2 points. Received {len(values)}.")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise DataError(f"The series has {bad.size} missing or infinite value(s), first at "
                            f"position {bad[0]}. Clean or fill them before training.")
        index = pd.Index(self.index)
        if len(index) != len(values):
            raise DataError(f"Index length {len(index)} differs from values length {len(values)}.")
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise DataError("The time index must be strictly increasing (sorted, no duplicates).")
        if self.season_override is not None and (
                not isinstance(self.season_override, (int, np.integer)) or self.season_override < 1):
            raise DataError("season_override must be a whole number >= 1 or None. "
                            f"Received: season_override={self.season_override!r}")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "input_names", tuple(self.input_names))
        object.__setattr__(self, "inputs", self._checked_inputs())

    def _checked_inputs(self) -> np.ndarray | None:
        if self.inputs is None:
            if self.input_names:
                raise DataError("input_names were given without their inputs.")
            return None
        inputs = np.asarray(self.inputs, dtype="float64")
        if inputs.ndim != 2 or inputs.shape != (len(self.values), len(self.input_names)):
            raise DataError(f"inputs must be [{len(self.values)}, {len(self.input_names)}] (a "
                            f"column per input name). Received shape={inputs.shape}.")
        if not inputs.shape[1]:
            return None
        bad = np.argwhere(~np.isfinite(inputs))
        if bad.size:
            raise DataError(f"Input column '{self.input_names[bad[0][1]]}' has a missing or "
                            f"infinite value at position {bad[0][0]}. Clean or fill it first.")
        inputs.setflags(write=False)
        return inputs

    def __len__(self) -> int:
        return len(self.values)

    @property
    def season(self) -> int:
        """Seasonal period: ``season_override`` when set, else inferred from the frequency (12 for
        monthly), else, without dates, from the values' autocorrelation when it clearly repeats
        (``infer_season``); 1 when there is none."""
        return self._season[0]

    @property
    def season_source(self) -> str:
        """Where ``season`` comes from: "set", "dates", "pattern" (the autocorrelation) or
        "none"."""
        return self._season[1]

    @cached_property
    def _season(self) -> tuple[int, str]:
        if self.season_override is not None:
            return int(self.season_override), "set"
        by_dates = season_of_freq(self.freq)
        if by_dates > 1:
            return by_dates, "dates"
        if isinstance(self.index, pd.DatetimeIndex):    # dates, but none that tell a season
            return 1, "none"
        found = infer_season(self.values, get_limits().max_classical_season)
        return (found, "pattern") if found > 1 else (1, "none")

    def head(self, n: int) -> Series:
        """The first ``n`` points, same name, frequency and season (for backtest folds: a season
        found in the whole series' values is kept, not looked for again in the shorter head)."""
        keep = self.season_override if self.season_source != "pattern" else self.season
        return Series(self.values[:n], self.index[:n], self.name, self.freq, self.source, keep,
                      None if self.inputs is None else self.inputs[:n], self.input_names)

    def target_only(self) -> Series:
        """The same series without its input columns (the run "without inputs")."""
        return Series(self.values, self.index, self.name, self.freq, self.source,
                      self.season_override)

    def future_index(self, steps: int) -> pd.Index:
        """Time stamps of the ``steps`` points after the last one (same spacing)."""
        if isinstance(self.index, pd.DatetimeIndex):
            if self.freq:
                return pd.date_range(self.index[-1], periods=steps + 1, freq=self.freq)[1:]
            step = pd.Series(self.index).diff().median()
            return pd.DatetimeIndex([self.index[-1] + step * (i + 1) for i in range(steps)])
        last = self.index[-1]
        return pd.RangeIndex(int(last) + 1, int(last) + 1 + steps, name=self.index.name)

    def to_frame(self) -> pd.DataFrame:
        """time, the target, then each input column."""
        frame = pd.DataFrame({"time": self.index, self.name: self.values})
        for j, name in enumerate(self.input_names):
            frame[name] = self.inputs[:, j]
        return frame

    def fingerprint(self) -> str:
        """A short content hash, so saved runs can tell which data they were trained on."""
        digest = hashlib.sha256(self.values.tobytes())
        if self.inputs is not None:      # the same target with other inputs is other data
            digest.update(np.ascontiguousarray(self.inputs).tobytes())
            digest.update("\x1f".join(self.input_names).encode())
        digest.update(str(list(self.index[:1]) + list(self.index[-1:])).encode())
        return digest.hexdigest()[:16]


def infer_freq(index: pd.Index) -> str | None:
    """pandas' frequency alias for a regular DatetimeIndex, else None (needs 3+ points)."""
    if isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        try:  # opt in to pandas 4's behaviour (an offset object) and keep the alias string
            with pd.option_context("future.infer_freq_returns_offset", True):
                offset = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
        return None if offset is None else offset.freqstr
    return None


def season_of_freq(freq: str | None) -> int:
    """The seasonal period a pandas frequency implies (12 for "MS", 7 for "D"); 1 for none."""
    if not freq:
        return 1
    base = freq.lstrip("0123456789").split("-")[0]
    return _SEASON_BY_FREQ.get(base, 1)


MAX_INFERRED_SEASON = 1000   # the config's largest season
_ACF_PEAK = 0.4              # a season's autocorrelation must reach this ...
_ACF_SWING = 0.4             # ... after falling at least this much below it at shorter lags


def infer_season(values: np.ndarray, max_season: int = MAX_INFERRED_SEASON) -> int:
    """The period after which the values clearly repeat, from their autocorrelation; 1 if none.

    The values are linearly detrended, then the autocorrelation is read up to a third of the
    series (a season must be seen at least three times). A lag is a candidate when it is a local
    peak of at least 0.4 that the autocorrelation reached after dropping at least 0.4 below it
    (a swing, not the slow decay of a trend or a random walk); the highest candidate wins (the
    first one among equals, so a season's multiples lose to it) and its broad peak is centred.
    White noise, random walks and AR(1) data give 1; a damped sine of period 40 gives 40; daily
    temperatures over ten years give about 365.
    """
    x = np.asarray(values, dtype="float64")
    n = len(x)
    max_lag = min(n // 3, max_season)
    if max_lag < 4 or not np.isfinite(x).all():
        return 1
    t = np.arange(n, dtype="float64")
    x = x - np.polyval(np.polyfit(t, x, 1), t)
    if np.ptp(x) <= 1e-12 * max(1.0, float(np.abs(values).max())):
        return 1
    r = _autocorrelation(x, max_lag + 1)
    lags = np.arange(2, max_lag + 1)
    peaks = lags[(r[lags] > r[lags - 1]) & (r[lags] >= r[lags + 1])]
    best = None
    for lag in peaks:
        if r[lag] >= _ACF_PEAK and r[lag] - r[1:lag].min() >= _ACF_SWING and \
                (best is None or r[lag] > r[best] + 0.05):
            best = int(lag)
    if best is None:
        return 1
    near = np.arange(int(best * 0.9), min(int(np.ceil(best * 1.1)), max_lag + 1) + 1)
    weight = np.clip(r[near] - (r[best] - 0.05), 0.0, None)
    return max(2, int(round(float((near * weight).sum() / weight.sum()))))


def _autocorrelation(x: np.ndarray, nlags: int) -> np.ndarray:
    """Sample autocorrelation at lags 0..nlags (as statsmodels' ``acf``, by FFT)."""
    x = x - x.mean()
    size = 1 << int(2 * len(x) - 1).bit_length()
    spectrum = np.fft.rfft(x, size)
    r = np.fft.irfft(spectrum * np.conj(spectrum), size)[:nlags + 1]
    return r / r[0]


# --- in words, for people ---------------------------------------------------------------------

_FREQ_WORDS = {   # base alias -> (adjective, unit for "every 3 ...", anchor note)
    "MS": ("monthly", "months", "month start"), "ME": ("monthly", "months", "month end"),
    "M": ("monthly", "months", "month end"),
    "BMS": ("monthly", "months", "first business day"),
    "BME": ("monthly", "months", "last business day"),
    "BM": ("monthly", "months", "last business day"),
    "QS": ("quarterly", "quarters", "quarter start"), "QE": ("quarterly", "quarters", "quarter end"),
    "Q": ("quarterly", "quarters", "quarter end"),
    "BQS": ("quarterly", "quarters", "first business day"),
    "BQE": ("quarterly", "quarters", "last business day"),
    "BQ": ("quarterly", "quarters", "last business day"),
    "YS": ("yearly", "years", "year start"), "YE": ("yearly", "years", "year end"),
    "Y": ("yearly", "years", "year end"), "AS": ("yearly", "years", "year start"),
    "A": ("yearly", "years", "year end"), "BYS": ("yearly", "years", "first business day"),
    "BYE": ("yearly", "years", "last business day"),
    "W": ("weekly", "weeks", ""), "D": ("daily", "days", ""), "B": ("business days", "business days", ""),
    "C": ("business days", "business days", ""), "h": ("hourly", "hours", ""),
    "H": ("hourly", "hours", ""), "bh": ("business hours", "business hours", ""),
    "min": ("every minute", "minutes", ""), "T": ("every minute", "minutes", ""),
    "s": ("every second", "seconds", ""), "S": ("every second", "seconds", ""),
    "ms": ("every millisecond", "milliseconds", ""), "us": ("every microsecond", "microseconds", ""),
    "ns": ("every nanosecond", "nanoseconds", ""),
}
_MONTHS = {m[:3].upper(): m for m in ("January", "February", "March", "April", "May", "June",
                                      "July", "August", "September", "October", "November",
                                      "December")}
_DAYS = {d[:3].upper(): d for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                    "Saturday", "Sunday")}
NO_DATES = "no dates (the row order is the time)"
IRREGULAR = "irregular dates"


def freq_words(freq: str | None, dated: bool = False) -> str:
    """A pandas frequency alias in words: "MS" -> "monthly (month start)", "W-SUN" -> "weekly
    (weeks ending Sunday)", "15min" -> "every 15 minutes", "QS-OCT" -> "quarterly (quarter
    start, years starting in October)". None says there are no dates, or with ``dated`` that the
    dates are irregular. An alias it does not know is returned as it is."""
    if not freq:
        return IRREGULAR if dated else NO_DATES
    match = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-([A-Za-z]+))?", freq.strip())
    if not match or match.group(2) not in _FREQ_WORDS:
        return freq
    count, base, anchor = int(match.group(1) or 1), match.group(2), (match.group(3) or "").upper()
    adjective, unit, note = _FREQ_WORDS[base]
    if base == "W":
        note = f"weeks ending {_DAYS[anchor]}" if anchor in _DAYS else ""
    elif anchor in _MONTHS and base.lstrip("B").startswith(("Q", "Y", "A")):
        kind = "years starting" if base.endswith("S") else "years ending"
        if base.lstrip("B").startswith("Q"):
            note = f"{note}, {kind} in {_MONTHS[anchor]}" if anchor not in ("JAN", "DEC") else note
        else:
            note = f"{note} in {_MONTHS[anchor]}" if anchor not in ("JAN", "DEC") else note
    head = adjective if count == 1 else f"every {count} {unit}"
    return f"{head} ({note})" if note else head


_SEASON_SPAN = {("monthly", 12): "a year", ("quarterly", 4): "a year", ("weekly", 52): "a year",
                ("daily", 7): "a week", ("business days", 5): "a week", ("hourly", 24): "a day",
                ("every minute", 60): "an hour", ("daily", 365): "a year",
                ("hourly", 168): "a week", ("monthly", 3): "a quarter"}


def season_words(series: Series, season: int | None = None) -> str:
    """The season in words, with where it comes from.

    ``season_words(airline)`` -> "12 (monthly data, a year)"; a damped sine of period 40 ->
    "40 (the values repeat about every 40 points)"; no pattern -> "none (no season in the dates
    and no repeating pattern in the values)". ``season`` (a setting) is described instead of
    the series' own, in the same words when it matches the dates ("365 (daily data, a year)").
    """
    value = series.season if season is None else int(season)
    dated = isinstance(series.index, pd.DatetimeIndex)
    adjective = freq_words(series.freq, dated).split(" (")[0]
    if value <= 1:
        if season is not None:
            return "none (1: each point is compared with the one before)"
        if not dated:
            return "none (no dates and no repeating pattern in the values)"
        return f"none ({f'{adjective} data' if series.freq else IRREGULAR}: set it if the values repeat)"
    span = _SEASON_SPAN.get((adjective, value))
    if series.freq and (season is not None or series.season_source == "dates"):
        return f"{value:,} ({adjective} data{', ' + span if span else ''})"
    if season is None and series.season_source == "pattern":
        return f"{value:,} (the values repeat about every {value:,} points)"
    if season is None and series.season_source == "set":
        return f"{value:,} (given with the data)"
    return f"{value:,} points"


def max_season(n_train: int) -> int:
    """The longest season a training part of ``n_train`` points can show: it must be seen at
    least twice (seasonal naive, Holt-Winters and seasonal differences all need one whole season
    before the one they fit)."""
    return max(1, n_train // 2)


def season_refusal(season: int, n_train: int) -> str | None:
    """None when ``season`` fits a training part of ``n_train`` points, else the sentence that
    says why not and what to do."""
    limit = max_season(n_train)
    if season <= limit:
        return None
    return (f"A season of {season:,} points cannot be seen in a training part of {n_train:,} "
            f"points, which must hold it at least twice: set a season of {limit:,} or less, or "
            "0 to detect it.")
