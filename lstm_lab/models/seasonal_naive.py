"""The seasonal-naive forecast: every step repeats the value one season earlier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_lab.errors import ConfigError
from lstm_lab.limits import Limits
from lstm_lab.models.base import RunConfig, check_fitted, plain_state, restore_plain


class SeasonalNaiveForecaster:
    """Repeats the value one season earlier (for steps beyond a season, the last observed season)."""

    name = "seasonal_naive"

    def __init__(self, horizon: int = 1, season: int = 12) -> None:
        self.horizon, self.season = horizon, season

    @classmethod
    def for_run(cls, config: RunConfig, season: int, limits: Limits,
                positive: bool) -> SeasonalNaiveForecaster:
        return cls(config.horizon, season)

    def fit(self, values: np.ndarray, **_: object) -> SeasonalNaiveForecaster:
        if self.season < 1:
            raise ConfigError(f"season must be >= 1. Received: season={self.season}")
        self.first_origin_ = self.season
        return self

    def predict(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        check_fitted(self, "first_origin_")
        values = np.asarray(values, dtype="float64")
        k = np.arange(self.horizon)
        # step k after origin o looks back a whole number of seasons to an observed point
        back = self.season * (k // self.season + 1) - k          # (horizon,)
        return values[np.asarray(origins)[:, None] - back[None, :]]

    def get_state(self) -> dict[str, Any]:
        return plain_state(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> SeasonalNaiveForecaster:
        return restore_plain(cls, state)
