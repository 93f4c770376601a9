"""The naive forecast: every step of the horizon repeats the last observed value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_lab.limits import Limits
from lstm_lab.models.base import RunConfig, check_fitted, plain_state, restore_plain


class NaiveForecaster:
    """Repeats the last observed value for every step of the horizon."""

    name = "naive"

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    @classmethod
    def for_run(cls, config: RunConfig, season: int, limits: Limits,
                positive: bool) -> NaiveForecaster:
        return cls(config.horizon)

    def fit(self, values: np.ndarray, **_: object) -> NaiveForecaster:
        self.first_origin_ = 1
        return self

    def predict(self, values: np.ndarray, origins: np.ndarray) -> np.ndarray:
        check_fitted(self, "first_origin_")
        last = np.asarray(values, dtype="float64")[np.asarray(origins) - 1]
        return np.repeat(last[:, None], self.horizon, axis=1)

    def get_state(self) -> dict[str, Any]:
        return plain_state(self)

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> NaiveForecaster:
        return restore_plain(cls, state)
