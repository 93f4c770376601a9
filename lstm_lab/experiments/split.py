"""Where a config cuts a series: the size of the training part and the season length.

Decided here once, so a single run (``training.preflight``) and a sweep's budget check
(``sweep.plan_sweep``) can never cut the same series differently.
"""

from __future__ import annotations

from lstm_lab.data.series import Series
from lstm_lab.data.windows import split_by_time
from lstm_lab.experiments.config import ExperimentConfig


def training_size(config: ExperimentConfig, n_points: int) -> int:
    """Points before the held-out tail (ConfigError when the test part leaves none)."""
    return split_by_time(n_points, config.test_count(n_points))


def season_of(config: ExperimentConfig, series: Series) -> int:
    """The config's season, or the one the series' dates give when the config says 0."""
    return config.season or series.season
