"""Sentences that explain a finished run, built once from the result so the command line and
the dashboard only print or draw them."""

from __future__ import annotations

from lstm_lab.data.windows import direct, explain_auto_transform
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.experiments.tuning import TRANSFORM_WORDS


def transform_name(kind: str) -> str:
    """A transform as a person reads it, never its key: "Seasonal difference of logs",
    "Auto (chosen from the data)"."""
    if kind == "auto":
        return "Auto (chosen from the data)"
    words = TRANSFORM_WORDS.get(kind, kind.replace("_", " "))
    return words[:1].upper() + words[1:]


def transform_reason(result: ExperimentResult) -> str:
    """Why ``transform=auto`` chose the run's transform (``"auto: all values are positive,
    ..."``), from the training part the choice looked at; "" when auto chose nothing."""
    if not (result.transform and result.config.transform == "auto"
            and result.transform_from_auto):
        return ""
    train = result.predictions["actual"].to_numpy()[: result.n_train]
    return explain_auto_transform(train, result.season, direct(result.config.strategy))
