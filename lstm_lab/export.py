"""Files a user downloads or the CLI writes: predictions CSV, metrics JSON, config JSON.

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are
prefixed with a single quote, so a hostile column name cannot become a CSV injection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lstm_lab.training import ExperimentResult

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """Make a text cell safe to open in a spreadsheet."""
    return "'" + text if isinstance(text, str) and text.startswith(_FORMULA_START) else text


def predictions_frame(result: ExperimentResult) -> pd.DataFrame:
    """time, actual, one column per model, split (train|test); model columns in config order."""
    preds = result.predictions
    columns = ["time", "actual", *[m for m in result.config.models if m in preds], "split"]
    frame = preds[columns].copy()
    frame["time"] = frame["time"].astype(str)
    return frame


def predictions_csv(result: ExperimentResult) -> str:
    frame = predictions_frame(result)
    frame.columns = [defuse(str(c)) for c in frame.columns]
    for col in frame.columns:
        # pandas 3 stores text as the `str` dtype, not object: test for both
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(defuse)
    return frame.to_csv(index=False)


def metrics_json(result: ExperimentResult) -> str:
    """Metrics, config, timings and versions: everything but the per-point predictions."""
    data = result.to_dict()
    keep = ("config", "metrics", "timings", "versions", "epochs_run", "n_params", "series_name",
            "data_fingerprint", "n_points", "n_train", "season", "stopped_by_user", "skipped",
            "transform", "tuning")
    return json.dumps({k: data[k] for k in keep}, indent=2, sort_keys=True)


def write_run(result: ExperimentResult, out_dir: str | Path) -> list[Path]:
    """Write metrics.json, config.json and predictions.csv into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"metrics.json": metrics_json(result),
             "config.json": json.dumps(result.config.to_dict(), indent=2, sort_keys=True),
             "predictions.csv": predictions_csv(result)}
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return [out / name for name in files]


def model_bytes(result: ExperimentResult, model: str = "lstm") -> bytes:
    """A trained network as a ``.keras`` file (weights + architecture; never a pickle)."""
    import tempfile

    network = result.forecasters[model].model_
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{model}.keras"
        network.save(path)
        return path.read_bytes()
