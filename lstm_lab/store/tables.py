"""Runs as tables: the history table the pages and the command line show, and its CSV."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.export import defuse
from lstm_lab.experiments.metrics import METRICS
from lstm_lab.experiments.training import MODEL_LABELS
from lstm_lab.store.records import RunSummary

TABLE_MODELS = ("lstm", "mlp", "naive", "seasonal_naive", "holt_winters", "sarima")


def runs_frame(summaries: Sequence[RunSummary], me: str | None = None, all_metrics: bool = False,
               full_config: bool = False) -> pd.DataFrame:
    """The history table: one row per run, the settings people compare and RMSE per model.

    Args:
        me: the viewing session's owner key; fills the ``mine`` column.
        all_metrics: every metric per model (RMSE, MAE, MAPE %, MASE), not RMSE alone.
        full_config: every config field, not the usual few (for the CSV export).
    """
    keys = ([f.name for f in fields(ExperimentConfig)] if full_config else
            ["dataset", "window", "horizon", "layers", "units", "epochs", "seed"])
    present = [m for m in TABLE_MODELS if any(m in s.metrics for s in summaries)]
    metric_names = METRICS if all_metrics else ("rmse",)
    rows = []
    for s in summaries:
        row: dict[str, Any] = {"id": s.id, "when": s.when, "series": s.series_name}
        for key in keys:
            value = getattr(s.config, key)
            row[key] = ",".join(value) if isinstance(value, tuple) else value
        for model in present:
            for metric in metric_names:
                value = s.metrics.get(model, {}).get(metric)
                row[f"{metric.upper()} {MODEL_LABELS[model]}"] = \
                    np.nan if value is None else float(value)
        best = s.best_model()
        row["best"] = MODEL_LABELS.get(best, "") if best else ""
        row["time s"] = np.nan if s.total_s is None else float(s.total_s)
        row["shared"] = s.shared
        if me is not None:
            row["mine"] = s.owner == me
        if full_config:
            row.update(uid=s.uid, sweep=s.sweep, data_fingerprint=s.data_fingerprint,
                       stopped_by_user=s.stopped_by_user)
        rows.append(row)
    columns = (["id", "when", "series", *keys]
               + [f"{metric.upper()} {MODEL_LABELS[m]}" for m in present for metric in metric_names]
               + ["best", "time s", "shared"] + (["mine"] if me is not None else [])
               + (["uid", "sweep", "data_fingerprint", "stopped_by_user"] if full_config else []))
    return pd.DataFrame(rows, columns=columns)


def runs_csv(summaries: Sequence[RunSummary], owner: str | None = None) -> str:
    """A spreadsheet-friendly summary, one row per run, oldest first (cells that a spreadsheet
    would run as formulas are defused)."""
    frame = runs_frame(sorted(summaries, key=lambda s: s.id), owner, all_metrics=True,
                       full_config=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([defuse(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v))
                         else defuse(v) if isinstance(v, str) else v for v in row])
    return buffer.getvalue()
