"""The season and test-size inputs, shared by the Data page and the Train form.

Season: 0 is "auto" (from the dates, or from a clearly repeating pattern of an undated series);
any other number overrides it. Test size: one number input that takes both a count of points
(24) and a share of the series below 1 (0.2: the last 20%), as the config's ``test_size`` does.
Each function draws its input in ``column`` (``st`` or a column, also inside a form) and returns
the value; the sentences that refuse a value the series cannot take are here too, so the Data
page and the Train form say the same thing.
"""

from __future__ import annotations

import streamlit as st

from lstm_lab.data.series import Series, max_season, season_refusal, season_words
from lstm_lab.experiments.config import ExperimentConfig, field_range

SEASON_LABEL = "Season (0 = auto)"
TEST_SIZE_LABEL = "Test size (points, or a share below 1)"
MIN_TRAIN = 4          # points the Train form always leaves for training


def season_input(cfg: ExperimentConfig, series: Series, column=st, key: str | None = None) -> int:
    """The season: 0 for auto (the help says what auto finds), or an override.

    Its upper bound is the config's; a season the series cannot hold twice is refused by
    ``season_problem`` (the Data page says so at once, the Train form's help names the limit).
    """
    lo, hi = field_range("season")
    n_train = max(1, len(series) - cfg.test_count(len(series)))
    value = int(min(max(cfg.season, lo), hi))
    help_text = (f"0 detects it; here: {season_words(series)}. Set a number of points to "
                 f"override it (at most {max_season(n_train):,} for this series: the training "
                 "part must hold the season twice). Seasonal naive, MASE, Holt-Winters, SARIMA "
                 "and seasonal differences use it; daily data detected as 7 (a week) can be "
                 "set to 365 (a year).")
    options = {"key": key} if key else {"value": value}
    return int(column.number_input(SEASON_LABEL, int(lo), int(hi), step=1, help=help_text,
                                   **options))


def season_caption(season: int, series: Series) -> str:
    """What the season setting means for this series, in words:
    "auto: 12 (monthly data, a year)" or "set to 365 (daily data, a year); auto would be 7
    (daily data, a week)"."""
    if not season:
        return f"auto: {season_words(series)}"
    return (f"set to {season_words(series, season)}; auto would be "
            f"{season_words(series)}")


def season_problem(season: int, series: Series, cfg: ExperimentConfig) -> str | None:
    """The sentence refusing ``season`` for this series and test size, or None when it fits."""
    if not season:
        return None
    return season_refusal(season, max(1, len(series) - cfg.test_count(len(series))))


def test_size_input(cfg: ExperimentConfig, n: int, column=st, key: str | None = None) -> float:
    """The test part: whole points (>= 1, rounded) or a share of the series (below 1).

    Bounded by the config's smallest share and by ``n - MIN_TRAIN`` points; a fraction gets a
    finer step than a count.
    """
    lo, hi = field_range("test_size")
    top = float(max(1, min(hi, n - MIN_TRAIN)))
    value = float(min(max(cfg.test_size, lo), top))
    help_text = ("The held-out tail the models are scored on: a number of points (e.g. 24), "
                 "or a share of the series below 1 (e.g. 0.2 for the last 20%). "
                 f"At most {int(top):,} points here, so that {MIN_TRAIN} or more are left "
                 "for training.")
    options = {"key": key} if key else {"value": value}
    raw = column.number_input(TEST_SIZE_LABEL, float(lo), top, step=0.05 if value < 1 else 1.0,
                              format="%g", help=help_text, **options)
    return float(round(raw)) if raw >= 1 else float(raw)


def test_size_words(test_size: float, n: int) -> str:
    """The test part in words: "24 points (17% of 144)" or "share 0.2: the last 29 of 144
    points"."""
    count = test_count(test_size, n)
    if test_size >= 1:
        return f"{count:,} points ({count / n:.0%} of {n:,})"
    return f"a share of {test_size:g}: the last {count:,} of {n:,} points"


def test_count(test_size: float, n: int) -> int:
    return ExperimentConfig(test_size=test_size).test_count(n)


def test_size_problem(test_size: float, n: int) -> str | None:
    """The sentence refusing a test part that leaves too little for training, or None."""
    count = test_count(test_size, n)
    if count <= n - MIN_TRAIN:
        return None
    return (f"A test part of {count:,} points leaves {max(0, n - count):,} of the {n:,} points "
            f"for training: hold out at most {n - MIN_TRAIN:,} points (or a smaller share).")
