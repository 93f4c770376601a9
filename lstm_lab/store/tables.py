"""Runs as tables: the history table the pages and the command line show, and its CSV."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.experiments.config import ExperimentConfig, format_levels
from lstm_lab.experiments.export import defuse
from lstm_lab.experiments.intervals import INTERVAL_METRICS
from lstm_lab.experiments.metrics import METRICS
from lstm_lab.experiments.training import MODEL_LABELS
from lstm_lab.models.registry import model_label
from lstm_lab.store.records import RunSummary

TABLE_MODELS = ("lstm", "mlp", "naive", "seasonal_naive", "holt_winters", "sarima")
# an interval score's name, as ``intervals.interval_metric_name`` writes it: ``coverage_80``
INTERVAL_NAME = re.compile(r"^(" + "|".join(INTERVAL_METRICS) + r")_(\d{1,2}(?:\.\d{1,2})?)$")
_INTERVAL_TITLES = {"coverage": "coverage {}%", "width": "width {}%", "winkler": "Winkler {}%"}


def interval_metrics(scores: Iterable[Mapping[str, object]]) -> list[str]:
    """The interval scores (``coverage_80``, ``width_80``, ...) found in any of ``scores`` (one
    model's metrics each), by level and then coverage, width, Winkler: what the tables and the
    metric pickers add to the point metrics."""
    found = {name for one in scores for name in one if INTERVAL_NAME.match(name)}
    return sorted(found, key=lambda name: (float(INTERVAL_NAME.match(name)[2]),
                                           INTERVAL_METRICS.index(INTERVAL_NAME.match(name)[1])))


def interval_levels(scores: Iterable[Mapping[str, object]]) -> list[str]:
    """The level keys ("80", "95") that any of ``scores`` has interval scores for, in order."""
    return list(dict.fromkeys(INTERVAL_NAME.match(n)[2] for n in interval_metrics(scores)))


def metric_title(name: str) -> str:
    """A metric as tables and pickers name it: ``RMSE``, ``coverage 80%``, ``Winkler 95%``."""
    match = INTERVAL_NAME.match(name)
    return _INTERVAL_TITLES[match[1]].format(match[2]) if match else name.upper()


def runs_frame(summaries: Sequence[RunSummary], me: str | None = None, all_metrics: bool = False,
               full_config: bool = False) -> pd.DataFrame:
    """The history table: one row per run, the settings people compare and RMSE per model.

    Args:
        me: the viewing session's owner key; fills the ``mine`` column.
        all_metrics: every metric per model (RMSE, MAE, MAPE %, MASE, and the coverage, width
            and Winkler score of each interval level any of the runs has), not RMSE alone.
        full_config: every config field, not the usual few (for the CSV export).
    """
    keys = ([f.name for f in fields(ExperimentConfig)] if full_config else
            ["dataset", "window", "horizon", "layers", "units", "epochs", "seed"])
    present = [m for m in TABLE_MODELS if any(m in s.metrics for s in summaries)]
    metric_names = ((*METRICS, *interval_metrics(m for s in summaries for m in s.metrics.values()))
                    if all_metrics else ("rmse",))
    rows = []
    for s in summaries:
        row: dict[str, Any] = {"id": s.id, "when": s.when, "series": s.series_name}
        for key in keys:
            value = getattr(s.config, key)
            row[key] = (format_levels(value) if key == "intervals" else
                        ",".join(value) if isinstance(value, tuple) else value)
        for model in present:
            for metric in metric_names:
                value = s.metrics.get(model, {}).get(metric)
                row[f"{metric_title(metric)} {MODEL_LABELS[model]}"] = \
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
               + [f"{metric_title(metric)} {MODEL_LABELS[m]}" for m in present
                  for metric in metric_names]
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


def history_frame(summaries: Sequence[RunSummary], me: str | None = None) -> pd.DataFrame:
    """The History page's table: ``runs_frame`` for people. An ``architecture`` column names
    each run's recurrent network by its architecture and depth ("GRU ×2"; "—" without one), the
    networks' RMSE columns by the architectures present ("RMSE LSTM / GRU"), ``best`` by the
    run's own names, the data in words, scores to three significant digits."""
    from lstm_lab.experiments.sweep import DATA_NAMES, models_label  # plotly: pages only

    frame = runs_frame(summaries, me)
    configs = [s.config for s in summaries]
    frame.insert(frame.columns.get_loc("series") + 1, "architecture",
                 [model_label("lstm", c) if "lstm" in c.models else "—" for c in configs])
    frame["dataset"] = [DATA_NAMES.get(v, v) for v in frame["dataset"]]
    frame["best"] = [model_label(b, s.config) if (b := s.best_model()) else ""
                     for s in summaries]
    renames = {}
    for model in TABLE_MODELS:
        column = f"{metric_title('rmse')} {MODEL_LABELS[model]}"
        if column in frame:
            frame[column] = [round_significant(v) for v in frame[column]]
            used = [c for c in configs if model in c.models] or configs
            renames[column] = f"{metric_title('rmse')} {models_label(model, used)}"
    return frame.rename(columns=renames)


def round_significant(value: Any, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits, its whole part kept (1,719.4 ->
    1,719; 0.012345 -> 0.0123); NaN for no number."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    if not math.isfinite(value) or value == 0:
        return value
    return round(value, max(0, digits - 1 - int(math.floor(math.log10(abs(value))))))
