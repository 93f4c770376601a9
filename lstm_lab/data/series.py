"""The Series value object: one univariate, regularly ordered time series.

Invariants (checked in ``__post_init__``; build a Series only through it):
- ``values`` is a 1-D float64 array of finite numbers, at least 2 long;
- ``index`` is a pandas Index of the same length, strictly increasing (a DatetimeIndex, a
  PeriodIndex converted to timestamps, or integer positions when the data has no dates);
- ``name`` is the display name of the value column;
- ``freq`` is a pandas offset alias ("MS", "D", ...) when the dates are regular, else None;
- ``season_override``, when given, is the seasonal period (>= 1) for data whose index cannot
  tell it, e.g. 12 for year-index/month data such as "1-01".."3-12" kept on an integer index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstm_lab.errors import DataError

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

    def __len__(self) -> int:
        return len(self.values)

    @property
    def season(self) -> int:
        """Seasonal period: ``season_override`` when set, else inferred from the frequency (12 for
        monthly); 1 when there is none."""
        if self.season_override is not None:
            return int(self.season_override)
        if not self.freq:
            return 1
        base = self.freq.lstrip("0123456789").split("-")[0]
        return _SEASON_BY_FREQ.get(base, 1)

    def head(self, n: int) -> Series:
        """The first ``n`` points, same name, frequency and season (for backtest folds)."""
        return Series(self.values[:n], self.index[:n], self.name, self.freq, self.source,
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
        return pd.DataFrame({"time": self.index, self.name: self.values})

    def fingerprint(self) -> str:
        """A short content hash, so saved runs can tell which data they were trained on."""
        digest = hashlib.sha256(self.values.tobytes())
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
