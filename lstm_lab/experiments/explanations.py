"""Sentences that explain a finished run, built once from the result so the command line and
the dashboard only print or draw them."""

from __future__ import annotations

from lstm_lab.data.windows import direct, explain_auto_transform
from lstm_lab.experiments.training import ExperimentResult


def transform_reason(result: ExperimentResult) -> str:
    """Why ``transform=auto`` chose the run's transform (``"auto: all values are positive,
    ..."``), from the training part the choice looked at; "" when auto chose nothing."""
    if not (result.transform and result.config.transform == "auto"
            and result.transform_from_auto):
        return ""
    train = result.predictions["actual"].to_numpy()[: result.n_train]
    return explain_auto_transform(train, result.season, direct(result.config.strategy))
