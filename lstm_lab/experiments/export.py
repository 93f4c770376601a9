"""Files a user downloads or the CLI writes: predictions CSV, metrics JSON, config JSON, and
the forecast-ahead CSV.

The predictions and forecast CSVs carry each model's prediction intervals as two columns per
level after the models' own columns: ``lstm lower 80``, ``lstm upper 80``, ``lstm lower 95``...
(empty where a model has no band: the training rows, steps it could not calibrate).

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) are
prefixed with a single quote, so a hostile column name cannot become a CSV injection.

Files are written atomically (``write_text_atomically``): into a temporary file beside the
target, with a random name ``tempfile.mkstemp`` creates exclusively (nobody can guess it and
plant a link there beforehand), then renamed over the target.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstm_lab.experiments.training import ExperimentResult

if TYPE_CHECKING:    # evaluation imports this module (defuse)
    from lstm_lab.experiments.evaluation import FutureForecast

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """Make a text cell safe to open in a spreadsheet."""
    return "'" + text if isinstance(text, str) and text.startswith(_FORMULA_START) else text


def band_column(model: str, side: str, level: str) -> str:
    """The CSV column of one side ("lower" or "upper") of a model's band at a level key
    ("80"): ``lstm lower 80``."""
    return f"{model} {side} {level}"


def band_columns(bands: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]],
                 models: Sequence[str]) -> dict[str, np.ndarray]:
    """``{"lstm lower 80": low, "lstm upper 80": high, ...}``: ``models``' bands (those that
    have one), each model's levels in the order they are stored (lowest first)."""
    out = {}
    for model in models:
        for level, band in bands.get(model, {}).items():
            out[band_column(model, "lower", level)] = np.asarray(band["low"], dtype="float64")
            out[band_column(model, "upper", level)] = np.asarray(band["high"], dtype="float64")
    return out


def predictions_frame(result: ExperimentResult) -> pd.DataFrame:
    """time, actual, one column per model, their bands' lower and upper columns (see the module
    docstring), split (train|test); models in config order."""
    preds = result.predictions
    models = [m for m in result.config.models if m in preds]
    frame = preds[["time", "actual", *models]].copy()
    frame["time"] = frame["time"].astype(str)
    for column, values in band_columns(result.intervals, models).items():
        frame[column] = values
    frame["split"] = preds["split"].to_numpy()
    return _with_architecture(frame, models, result.label)


def predictions_csv(result: ExperimentResult) -> str:
    return _safe_csv(predictions_frame(result))


def forecast_frame(future: FutureForecast) -> pd.DataFrame:
    """A forecast ahead as its download shows it: time, one column per model, then each model's
    band columns (filled for the first ``horizon`` steps, the ones calibration measured)."""
    frame = future.forecasts.copy()
    frame["time"] = frame["time"].astype(str)
    models = [c for c in frame.columns if c != "time"]
    for column, values in band_columns(future.intervals, models).items():
        frame[column] = values
    return _with_architecture(frame, models, future.label)


def _with_architecture(frame: pd.DataFrame, models: Sequence[str], label) -> pd.DataFrame:
    """The machine keys stay as column names (``lstm`` is the recurrent network whatever its
    architecture); with the network among ``models``, a last ``architecture`` column names it as
    the run did ("GRU ×2") on every row, so a file read on its own still says what ``lstm`` was."""
    if "lstm" in models:
        frame["architecture"] = label("lstm")
    return frame


def forecast_csv(future: FutureForecast) -> str:
    """The Forecast ahead download and the CLI's ``future.csv``, formula-safe."""
    return _safe_csv(forecast_frame(future))


def _safe_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV with every header and text cell defused."""
    frame = frame.copy()
    frame.columns = [defuse(str(c)) for c in frame.columns]
    for col in frame.columns:
        # pandas 3 stores text as the `str` dtype, not object: test for both
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(defuse)
    return frame.to_csv(index=False)


def metrics_json(result: ExperimentResult) -> str:
    """Metrics, config, timings and versions: everything but the per-point predictions (and
    bands); each model's interval calibration (half-widths per level and horizon step) too; the
    network's ``architecture`` and every model's display name (``labels``) beside the keys."""
    data = result.to_dict()
    data["architecture"] = result.config.architecture
    data["labels"] = {m: result.label(m) for m in result.models}   # lstm -> "GRU ×2"
    keep = ("architecture", "labels", "config", "metrics", "timings", "versions", "epochs_run", "n_params", "series_name",
            "data_fingerprint", "n_points", "n_train", "season", "stopped_by_user", "skipped",
            "transform", "tuning", "validation", "calibration")
    return json.dumps({k: data[k] for k in keep}, indent=2, sort_keys=True)


def write_run(result: ExperimentResult, out_dir: str | Path) -> list[Path]:
    """Write metrics.json, config.json and predictions.csv into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"metrics.json": metrics_json(result),
             "config.json": json.dumps(result.config.to_dict(), indent=2, sort_keys=True),
             "predictions.csv": predictions_csv(result)}
    for name, text in files.items():
        write_text_atomically(out / name, text)
    return [out / name for name in files]


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``: a crash never leaves half a file.

    The text goes to a temporary file in the same folder, created by ``tempfile.mkstemp`` (a
    random, unpredictable name, opened with O_EXCL, readable by the user only), then
    ``os.replace`` renames it over ``path``; the folder is created if needed. The new file gets
    the permissions a plain write would give it (0o666 minus the umask).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def model_bytes(result: ExperimentResult, model: str = "lstm") -> bytes:
    """A trained network as a ``.keras`` file (weights + architecture; never a pickle).

    An ensemble is one file holding all its members: a plain Keras model whose output is
    [batch, members, horizon] (its last layer, a Reshape named "members"); the run's forecast
    is the members' mean or median along axis 1, per the config's ``combine``.

    A network that already is a file (a stored run's, or one a worker shipped back) answers with
    its own bytes: the web process never loads Keras to offer a download.
    """
    forecaster = result.forecasters[model]
    if callable(getattr(type(forecaster), "keras_bytes", None)):
        return forecaster.keras_bytes()
    network = forecaster.model_
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{model}.keras"
        network.save(path)
        return path.read_bytes()


def has_network(result, model: str = "lstm") -> bool:
    """``result`` holds ``model``'s trained network, to download or open: decided without
    restoring it (a stored or shipped network counts as it is; a live forecaster by its fitted
    Keras model)."""
    forecaster = (getattr(result, "forecasters", None) or {}).get(model)
    if forecaster is None:
        return False
    if callable(getattr(type(forecaster), "keras_bytes", None)):
        readable = getattr(type(forecaster), "readable", None)
        return bool(readable(forecaster)) if callable(readable) else True
    return hasattr(forecaster, "model_")
