"""What a run is, as plain JSON values: the record of an ExperimentResult, the summary row the
history lists, and the saved state of its trained networks (what ``predict`` needs besides the
``.keras`` file, stored as a zip archive of architecture + weights and loaded with
``keras.saving.load_model(..., safe_mode=True)``, never unpickled)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.experiments.config import NEURAL_MODELS, ExperimentConfig
from lstm_lab.experiments.export import model_bytes
from lstm_lab.experiments.training import ExperimentResult
from lstm_lab.models.architectures import get_architecture
from lstm_lab.models.base import to_plain

Networks = Mapping[str, tuple[dict[str, Any], bytes]]   # model -> (state, .keras bytes)


# --- plain JSON ----------------------------------------------------------------------------------

def dumps(obj: Any) -> str:
    """Strict JSON; key order kept (the order of models and metrics is the order shown)."""
    return json.dumps(to_plain(obj), allow_nan=False)




def format_when(created_at: Any) -> str:
    """A stored timestamp as local ``YYYY-MM-DD HH:MM:SS``; ``"unknown date"`` when it is not
    a date (NaN, out of the calendar's range, not a number): a table must never fail on it."""
    try:
        return datetime.fromtimestamp(float(created_at)).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError, TypeError):
        return "unknown date"


# --- a run's row ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    """One row of the history table: enough to list, filter and pick runs without their data."""

    id: int
    uid: str
    created_at: float
    owner: str
    shared: bool
    sweep: str
    series_name: str
    data_fingerprint: str
    config: ExperimentConfig
    metrics: dict[str, dict[str, float]]
    total_s: float | None
    stopped_by_user: bool

    @property
    def when(self) -> str:
        """The local date and time; ``"unknown date"`` for a value no calendar holds (a run
        stored before imports checked their dates), so a table never fails on one bad row."""
        return format_when(self.created_at)

    def label(self) -> str:
        """``#12 · Passengers · window 12 · GRU 2×32 · 200 epochs · seed 0``: short, for
        pickers and legends (a run without networks stops after the window)."""
        c = self.config
        text = f"#{self.id} · {self.series_name} · window {c.window:,}"
        if "lstm" in c.models:
            text += f" · {get_architecture(c.architecture).short} {c.layers}×{c.units:,}"
        elif not any(m in NEURAL_MODELS for m in c.models):
            return text
        return text + f" · {c.epochs:,} epochs · seed {c.seed:,}"

    def best_model(self, metric: str = "rmse") -> str | None:
        scored = {m: v.get(metric) for m, v in self.metrics.items()
                  if v.get(metric) is not None and np.isfinite(v.get(metric))}
        return min(scored, key=scored.get) if scored else None


# The columns summary_from_row reads, in its order.
SUMMARY_COLUMNS = ("id, uid, created_at, owner, shared, sweep, series_name, data_fingerprint, "
                   "config_json, metrics_json, total_s, stopped")


def summary_from_row(row: Sequence[Any]) -> RunSummary:
    (run_id, uid, created_at, owner, shared, sweep, series_name, fingerprint, config_json,
     metrics_json, total_s, stopped) = row
    metrics = {m: {k: np.nan if v is None else float(v) for k, v in d.items()}
               for m, d in json.loads(metrics_json).items()}
    return RunSummary(id=run_id, uid=uid, created_at=created_at, owner=owner,
                      shared=bool(shared), sweep=sweep, series_name=series_name,
                      data_fingerprint=fingerprint,
                      config=ExperimentConfig.from_json(config_json), metrics=metrics,
                      total_s=total_s, stopped_by_user=bool(stopped))


@dataclass(frozen=True)
class RunTexts:
    """The JSON texts of one run's row, made once: written as they are, and counted for the
    quota."""

    record: dict[str, Any]
    config_json: str
    metrics_json: str
    result_json: str


def run_texts(record: Mapping[str, Any]) -> RunTexts:
    return RunTexts(dict(record), dumps(record["config"]), dumps(record["metrics"]),
                    dumps(record))


def run_size(texts: RunTexts, networks: Networks) -> int:
    """Bytes a run takes in the store: its texts and its networks (state and .keras file)."""
    size = sum(len(t.encode()) for t in (texts.config_json, texts.metrics_json,
                                         texts.result_json))
    return size + sum(len(dumps(state).encode()) + len(blob)
                      for state, blob in networks.values())


# --- a result and its record ---------------------------------------------------------------------

def result_record(result: ExperimentResult) -> dict[str, Any]:
    """``result.to_dict()`` plus the dtype of its time column, so it comes back the same."""
    record = result.to_dict()
    record["time_dtype"] = str(result.predictions["time"].dtype)
    return record


def result_from_record(record: Mapping[str, Any]) -> ExperimentResult:
    result = ExperimentResult.from_dict(dict(record))
    dtype = record.get("time_dtype", "")
    if dtype.startswith(("datetime64", "int", "float")):
        with contextlib.suppress(ValueError, TypeError):
            times = result.predictions["time"]
            result.predictions["time"] = (pd.to_datetime(times).astype(dtype)
                                          if dtype.startswith("datetime64") else times.astype(dtype))
    return result


# --- trained networks ----------------------------------------------------------------------------

def networks_of(result: ExperimentResult) -> dict[str, tuple[dict[str, Any], bytes]]:
    """The trained networks of a result: (state, .keras bytes) per model."""
    out = {}
    for name, forecaster in result.forecasters.items():
        if name not in NEURAL_MODELS:
            continue
        if callable(getattr(type(forecaster), "saved", None)):  # StoredNetwork, ShippedNetwork
            # a reloaded run saved again, or a worker's result: copy the file (no Keras needed)
            out[name] = forecaster.saved()
        elif hasattr(forecaster, "model_"):
            kept = getattr(forecaster, "chosen_", forecaster)  # with tuning: the variant kept
            out[name] = (_network_state(kept), model_bytes(result, name))
    return out


def fitted_name(key: Any) -> bool:
    """A fitted attribute a stored state may set: ``name_``, never a dunder or a private one."""
    return (isinstance(key, str) and key.endswith("_") and key.isidentifier()
            and not key.startswith("_") and key not in _RESTORED_SEPARATELY)


_RESTORED_SEPARATELY = ("model_", "transform_", "scaler_")


def _network_state(forecaster: Any) -> dict[str, Any]:
    """What predict() needs besides the Keras model, as plain JSON values (the forecaster's own
    ``get_state``)."""
    return forecaster.get_state()
