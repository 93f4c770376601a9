"""The runs file: the JSON document ``RunStore.export_runs`` writes, and the strict schema an
imported one must meet before anything is written."""

from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from lstm_lab.errors import DataError, LabError
from lstm_lab.experiments.config import (
    INTERVAL_RANGE,
    MAX_INTERVAL_LEVELS,
    MODELS,
    NEURAL_MODELS,
    TRANSFORMS,
    ExperimentConfig,
    field_range,
)
from lstm_lab.experiments.intervals import ERROR_SCALES, INTERVAL_METRICS, level_key
from lstm_lab.experiments.metrics import METRICS
from lstm_lab.experiments.training import MODEL_LABELS, count_weights
from lstm_lab.limits import env_var, get_limits
from lstm_lab.models.base import to_plain
from lstm_lab.store.keras_check import check_keras_file
from lstm_lab.store.records import fitted_name, format_when, result_from_record
from lstm_lab.store.tables import INTERVAL_NAME

EXPORT_FORMAT = "lstm_lab.runs"
EXPORT_VERSION = 1

MAX_JSON_DEPTH = 32         # an export nests about 9 levels deep
MAX_NAME_CHARS = 200        # series name, config text fields, labels
MAX_NOTE_CHARS = 1000       # one note
MAX_NOTES = 50              # notes of one run
MAX_VERSIONS = 50           # library versions of one run
EARLIEST_RUN = datetime(2000, 1, 1).timestamp()
RESULT_KEYS = frozenset({
    "config", "series_name", "data_fingerprint", "n_points", "n_train", "season", "metrics",
    "predictions", "histories", "epochs_run", "n_params", "timings", "versions",
    "stopped_by_user", "skipped", "notes", "transform", "tuning", "time_dtype", "spread",
    "validation", "intervals", "calibration"})
# older exports lack these
OPTIONAL_RESULT_KEYS = frozenset({"notes", "transform", "tuning", "time_dtype", "spread",
                                  "validation", "intervals", "calibration"})
CALIBRATION_KEYS = ("levels", "points", "counts", "halfwidths", "notes", "error_scale")
MAX_METRICS = len(METRICS) + len(INTERVAL_METRICS) * MAX_INTERVAL_LEVELS   # of one model
TRANSFORM_KEYS = ("kind", "season", "trend", "alpha", "level0", "indices", "beta", "phi",
                  "trend0")
ENTRY_KEYS = frozenset({"uid", "created_at", "sweep", "result", "networks"})
_LABEL = re.compile(r"^[\w .,:;()'+/=-]*$")    # variant labels: no markdown, no HTML
_TOKEN = re.compile(r"^[0-9A-Za-z_-]*$")         # sweep ids, uids, fingerprints
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORMATTING = re.compile(r"[\[\]<>`$]|:/|(?i:www\.)")


def check_size(text: str | bytes) -> None:
    """Refuse a runs file over ``max_upload_mb`` before anything reads it."""
    limit = get_limits().max_upload_bytes
    if len(text) > limit:
        raise DataError(f"The runs file is {len(text) / 2**20:.1f} MiB; the limit is "
                        f"{limit / 2**20:.0f} MiB ({env_var('max_upload_mb')}).")


def parse_export(text: str | bytes) -> list[dict[str, Any]]:
    """Check an export document completely before anything is written: a strict schema.

    The file's size (``max_upload_mb``), its format, version and number of runs
    (``max_import_runs``), the prediction points of all its runs together
    (``max_import_points``: checked before any value is, so a huge file is refused in
    milliseconds, not after seconds of checks on the page thread), its nesting depth (a
    100,000-deep list is one readable error, not a RecursionError), then each run: every field's
    type, enums through ``ExperimentConfig`` and the known models, transforms and metrics,
    finite numbers, dates between 2000-01-01 and tomorrow, text lengths, and its networks'
    ``.keras`` files (see keras_check.py: only networks LSTM Lab builds, within
    ``max_weights``). Unknown fields are refused. Messages quote at most a few characters of
    what the file holds.
    """
    limits = get_limits()
    check_size(text)
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise DataError(f"The runs file nests lists or objects more than {MAX_JSON_DEPTH} levels "
                        "deep; an LSTM Lab export never does. Import a file written by History "
                        "→ Export JSON or `python -m lstm_lab runs export`.") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as err:
        raise DataError(f"The runs file is not valid JSON: {str(err)[:200]}.") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        _check_depth(doc)
        raise DataError(f"This is not an LSTM Lab runs file: expected \"format\": "
                        f"\"{EXPORT_FORMAT}\" (from History → Export JSON or `python -m lstm_lab "
                        "runs export`).")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version > EXPORT_VERSION:
        raise DataError(f"This runs file has format version {_short(version)}; this LSTM "
                        f"Lab reads version {EXPORT_VERSION}.")
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise DataError("The runs file has no list of runs (\"runs\": [...]).")
    if len(runs) > limits.max_import_runs:
        raise DataError(f"The runs file holds {len(runs):,} runs; one import takes at most "
                        f"{limits.max_import_runs:,} ({env_var('max_import_runs')}). Export "
                        "fewer runs at a time.")
    points = sum(_prediction_points(run) for run in runs)
    if points > limits.max_import_points:
        raise DataError(f"The runs file holds {points:,} prediction points; one import takes at "
                        f"most {limits.max_import_points:,} in all its runs together "
                        f"({env_var('max_import_points')}). Export fewer runs at a time, or runs "
                        "on shorter series.")
    _check_depth(doc)
    entries = []
    now = time.time()
    for i, raw in enumerate(runs, 1):
        try:
            entries.append(_parse_entry(raw, now))
        except LabError as err:
            raise DataError(f"Run {i} of the file cannot be imported: {err}") from None
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise DataError(f"Run {i} of the file cannot be imported: missing or malformed "
                            f"{_short(err)}.") from None
    return entries


def _prediction_points(run: Any) -> int:
    """The rows of a run's predictions (its longest column) plus the values of its ensembles'
    spread and of its prediction intervals' bands (each as many as the predictions' rows), read
    without checking a value."""
    result = run.get("result") if isinstance(run, dict) else None
    preds = result.get("predictions") if isinstance(result, dict) else None
    rows = max((len(v) for v in preds.values() if isinstance(v, list)), default=0) \
        if isinstance(preds, dict) else 0
    spread = result.get("spread") if isinstance(result, dict) else None
    extra = sum(len(v) for bands in spread.values() if isinstance(bands, dict)
                for v in bands.values() if isinstance(v, list)) \
        if isinstance(spread, dict) else 0
    intervals = result.get("intervals") if isinstance(result, dict) else None
    extra += sum(len(v) for levels in intervals.values() if isinstance(levels, dict)
                 for band in levels.values() if isinstance(band, dict)
                 for v in band.values() if isinstance(v, list)) \
        if isinstance(intervals, dict) else 0
    return rows + extra


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _check_depth(doc: Any) -> None:
    """Refuse documents nested deeper than MAX_JSON_DEPTH, without recursion."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise DataError(f"The runs file nests lists or objects more than {MAX_JSON_DEPTH} "
                            "levels deep; an LSTM Lab export never does.")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) \
            else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _short(value: Any, chars: int = 40) -> str:
    """A value quoted in a message: its repr, cut to ``chars`` characters."""
    text = repr(value)
    return text if len(text) <= chars else text[:chars] + "…"


def _text(value: Any, what: str, chars: int = MAX_NAME_CHARS, pattern: re.Pattern | None = None,
          empty: bool = True) -> str:
    if not isinstance(value, str):
        raise DataError(f"{what} must be text; got {type(value).__name__}")
    if len(value) > chars:
        raise DataError(f"{what} is {len(value):,} characters long; at most {chars:,} are "
                        "allowed")
    if not empty and not value:
        raise DataError(f"{what} is empty")
    if _CONTROL.search(value):
        raise DataError(f"{what} contains control characters")
    if pattern is not None and not pattern.match(value):
        raise DataError(f"{what} has characters that are not allowed there: {_short(value)}")
    return value


def _number(value: Any, what: str, whole: bool = False, low: float | None = None,
            high: float | None = None, missing: bool = False) -> None:
    """A finite number (None too when ``missing``), whole and within [low, high] if asked."""
    if value is None and missing:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (whole and not float(value).is_integer()):
        raise DataError(f"{what} must be a {'whole ' if whole else ''}number; got {_short(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low:g}" if high is None else f"at most {high:g}" if low is None \
            else f"between {low:g} and {high:g}"
        raise DataError(f"{what} must be {bounds}; got {_short(value)}")


def _mapping(value: Any, what: str, keys: Iterable[str] | None = None,
             max_items: int = 100) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"{what} must be an object; got {type(value).__name__}")
    if len(value) > max_items:
        raise DataError(f"{what} has {len(value):,} entries; at most {max_items} are allowed")
    if keys is not None:
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise DataError(f"unknown {what} entry {_short(unknown[0])}; known: "
                            f"{', '.join(sorted(keys))}")
    return value


def _check_record(record: Any) -> None:
    """Every field of a stored result, as ``ExperimentResult.to_dict`` writes it."""
    _mapping(record, "result", RESULT_KEYS)
    missing = sorted(RESULT_KEYS - OPTIONAL_RESULT_KEYS - set(record))
    if missing:
        raise DataError(f"the result has no {missing[0]}")
    config = _mapping(record["config"], "config")
    for key, value in config.items():
        if isinstance(value, str):
            _text(value, f"config.{key}")
    _text(record["series_name"], "series_name")
    _text(record["data_fingerprint"], "data_fingerprint", 128, _TOKEN)
    max_points = get_limits().max_rows
    _number(record["n_points"], "n_points", whole=True, low=1, high=max_points)
    _number(record["n_train"], "n_train", whole=True, low=0, high=record["n_points"])
    _number(record["season"], "season", whole=True, low=0, high=1000)
    levels = {level_key(v) for v in ExperimentConfig.from_dict(config).intervals}
    for model, scores in _mapping(record["metrics"], "metrics", MODEL_LABELS).items():
        for metric, value in _mapping(scores, f"metrics.{model}", max_items=MAX_METRICS).items():
            _check_metric(model, metric, value, levels)
    _check_predictions(record["predictions"], max_points)
    _check_spread(record.get("spread", {}), record["predictions"], record["metrics"])
    _check_intervals(record.get("intervals", {}), record["predictions"], record["metrics"],
                     levels)
    _check_calibration(record.get("calibration", {}), record["metrics"], levels, max_points)
    _check_validation(record.get("validation", {}), record["metrics"], max_points)
    for model, history in _mapping(record["histories"], "histories", NEURAL_MODELS).items():
        for curve, values in _mapping(history, f"histories.{model}", ("loss", "val_loss")).items():
            if not isinstance(values, list) or len(values) > 5000:
                raise DataError(f"histories.{model}.{curve} must be a list of at most 5,000 "
                                "losses")
            for value in values:
                _number(value, f"histories.{model}.{curve}", missing=True)
    for key in ("epochs_run", "n_params"):
        for name, value in _mapping(record[key], key, MODEL_LABELS).items():
            _number(value, f"{key}.{name}", whole=True, low=0, high=1e12)
    for name, value in _mapping(record["timings"], "timings").items():
        _text(name, "a timing's name", 64, _TOKEN)
        _number(value, f"timings.{name}", low=0, high=1e9, missing=True)
    for name, value in _mapping(record["versions"], "versions", max_items=MAX_VERSIONS).items():
        _text(name, "a library name", 64)
        _text(value, f"versions.{name}", 100)
    if not isinstance(record["stopped_by_user"], bool):
        raise DataError("stopped_by_user must be true or false")
    skipped = record["skipped"]
    if not isinstance(skipped, list) or any(m not in MODELS for m in skipped):
        raise DataError(f"skipped must list models among {', '.join(MODELS)}")
    _check_notes(record.get("notes", []), "notes")
    transform = record.get("transform", "")
    if transform not in ("", *TRANSFORMS):
        raise DataError(f"unknown transform {_short(transform)}; known: {', '.join(TRANSFORMS)}")
    for model, info in _mapping(record.get("tuning", {}), "tuning", NEURAL_MODELS).items():
        _check_tuning(model, info)
    _text(record.get("time_dtype", ""), "time_dtype", 40, re.compile(r"^[0-9a-z\[\], ]*$"))


def _check_notes(notes: Any, what: str) -> None:
    """A list of notes: short plain texts (the Train page shows notes as markdown: none may
    format it)."""
    if not isinstance(notes, list) or len(notes) > MAX_NOTES:
        raise DataError(f"{what} must be a list of at most {MAX_NOTES} texts")
    for note in notes:
        if _FORMATTING.search(_text(note, "a note", MAX_NOTE_CHARS)):
            raise DataError("a note holds characters that would format the page ([ ] < > ` $, "
                            "or a web address); notes LSTM Lab writes never do")


def _check_metric(model: str, metric: Any, value: Any, levels: set[str]) -> None:
    """One test score: a point metric (rmse ...) or an interval score of one of the run's
    levels (coverage_80, a percentage; width_80 and winkler_80, not negative); null allowed."""
    what = f"metrics.{model}.{metric}"
    if metric in METRICS:
        _number(value, what, missing=True)
        return
    match = INTERVAL_NAME.match(metric) if isinstance(metric, str) else None
    if match is None:
        raise DataError(f"unknown metrics.{model} entry {_short(metric)}; known: "
                        f"{', '.join(METRICS)}, and {', '.join(INTERVAL_METRICS)} per interval "
                        "level (e.g. coverage_80)")
    _check_level(match[2], f"the level of {what}", levels)
    _number(value, what, low=0, high=100 if match[1] == "coverage" else None, missing=True)


def _check_level(key: Any, what: str, levels: set[str]) -> None:
    """A level key as results write it ("80", "97.5"): one of the run's config's levels."""
    if not isinstance(key, str) or key not in levels:
        known = ", ".join(sorted(levels, key=float)) or "none"
        low, high = (level_key(v) for v in INTERVAL_RANGE)
        raise DataError(f"{what} must be one of the run's interval levels ({known}: percentages "
                        f"from {low} to {high}, as the config's intervals set them); got "
                        f"{_short(key)}")


def _check_intervals(bands: Any, preds: dict, metrics: dict, levels: set[str]) -> None:
    """Each model's prediction-interval bands per level: "low" and "high", numbers or null, as
    many as the predictions' rows, low never above high, for models the run scored."""
    rows = len(preds["time"])
    for model, per_level in _mapping(bands, "intervals", MODEL_LABELS).items():
        if model not in metrics:
            raise DataError(f"intervals.{model} belongs to no model of the run")
        for key, band in _mapping(per_level, f"intervals.{model}",
                                  max_items=MAX_INTERVAL_LEVELS).items():
            _check_level(key, f"a level of intervals.{model}", levels)
            what = f"intervals.{model}.{key}"
            _check_low_high(band, what, rows, " (null where there is no band)")
            for i, (low, high) in enumerate(zip(band["low"], band["high"], strict=True)):
                if low is not None and high is not None and low > high:
                    raise DataError(f"{what} has its low above its high at prediction row "
                                    f"{i + 1} ({_short(low)} > {_short(high)}); a band's low "
                                    "is never above its high")


def _check_calibration(calibration: Any, metrics: dict, levels: set[str],
                       max_points: int) -> None:
    """How each model's intervals were calibrated: its levels, the training points calibrated
    on, the errors per horizon step and the half-width per level and step (null: no band)."""
    steps = int(field_range("horizon")[1])
    for model, info in _mapping(calibration, "calibration", MODEL_LABELS).items():
        what = f"calibration.{model}"
        if model not in metrics:
            raise DataError(f"{what} belongs to no model of the run")
        _mapping(info, what, CALIBRATION_KEYS)
        for key in CALIBRATION_KEYS[:4]:
            if key not in info:
                raise DataError(f"{what} has no {key}")
        stated = info["levels"]
        if not isinstance(stated, list) or not 1 <= len(stated) <= MAX_INTERVAL_LEVELS:
            raise DataError(f"{what}.levels must be a list of 1 to {MAX_INTERVAL_LEVELS} levels")
        for level in stated:
            _number(level, f"{what}.levels", low=INTERVAL_RANGE[0], high=INTERVAL_RANGE[1])
            _check_level(level_key(level), f"a level of {what}", levels)
        _number(info["points"], f"{what}.points", whole=True, low=0, high=max_points)
        counts = info["counts"]
        if not isinstance(counts, list) or not 1 <= len(counts) <= steps:
            raise DataError(f"{what}.counts must be a list of 1 to {steps} numbers, one per "
                            "horizon step")
        for count in counts:
            _number(count, f"{what}.counts", whole=True, low=0, high=max_points)
        halfwidths = _mapping(info["halfwidths"], f"{what}.halfwidths",
                              max_items=MAX_INTERVAL_LEVELS)
        for key, widths in halfwidths.items():
            _check_level(key, f"a level of {what}.halfwidths", levels)
            if not isinstance(widths, list) or len(widths) != len(counts):
                raise DataError(f"{what}.halfwidths.{key} must be a list of {len(counts)} "
                                "values, one per horizon step")
            for width in widths:
                _number(width, f"{what}.halfwidths.{key}", low=0, missing=True)
        _check_notes(info.get("notes", []), f"{what}.notes")
        if info.get("error_scale", "absolute") not in ERROR_SCALES:
            raise DataError(f"{what}.error_scale must be one of {', '.join(ERROR_SCALES)}; got "
                            f"{_short(info['error_scale'])}")


def _check_predictions(preds: Any, max_points: int) -> None:
    columns = ("time", "actual", "split", *MODELS)
    _mapping(preds, "predictions", columns)
    for column in ("time", "actual", "split"):
        if column not in preds:
            raise DataError(f"predictions have no {column} column")
    lengths = {len(v) if isinstance(v, list) else -1 for v in preds.values()}
    if len(lengths) != 1 or min(lengths) < 1 or max(lengths) > max_points:
        raise DataError(f"predictions must be columns of the same length, 1 to {max_points:,}")
    for value in preds["time"]:
        if isinstance(value, str):
            _text(value, "a prediction's time", 40)
        else:
            _number(value, "a prediction's time")
    if any(v not in ("train", "test") for v in preds["split"]):
        raise DataError("a prediction's split must be train or test")
    for column in preds:
        if column not in ("time", "split"):
            for value in preds[column]:
                _number(value, f"predictions.{column}", missing=True)


def _check_spread(spread: Any, preds: dict, metrics: dict) -> None:
    """An ensemble's lowest and highest member forecast per prediction row: numbers or null,
    as many as the predictions' rows, for networks the run scored."""
    rows = len(preds["time"])
    for model, bands in _mapping(spread, "spread", NEURAL_MODELS).items():
        if model not in metrics:
            raise DataError(f"spread.{model} belongs to no network of the run")
        _check_low_high(bands, f"spread.{model}", rows)


def _check_low_high(band: Any, what: str, rows: int, missing: str = "") -> None:
    """A band (an interval, an ensemble's spread): "low" and "high", each a list of one number
    or null per prediction row."""
    _mapping(band, what, ("low", "high"))
    for side in ("low", "high"):
        values = band.get(side)
        if not isinstance(values, list) or len(values) != rows:
            raise DataError(f"{what}.{side} must be a list of {rows:,} values, one per "
                            f"prediction row{missing}")
        for value in values:
            _number(value, f"{what}.{side}", missing=True)


def _check_validation(checks: Any, metrics: dict, max_points: int) -> None:
    """Each network's validation check: its origins, its RMSE and seasonal naive's there."""
    for model, info in _mapping(checks, "validation", NEURAL_MODELS).items():
        what = f"validation.{model}"
        if model not in metrics:
            raise DataError(f"{what} belongs to no network of the run")
        _mapping(info, what, ("origins", "rmse", "seasonal_naive_rmse"))
        for key in ("origins", "rmse", "seasonal_naive_rmse"):
            if key not in info:
                raise DataError(f"{what} has no {key}")
        _number(info["origins"], f"{what}.origins", whole=True, low=0, high=max_points)
        _number(info["rmse"], f"{what}.rmse", low=0, missing=True)
        _number(info["seasonal_naive_rmse"], f"{what}.seasonal_naive_rmse", low=0,
                missing=True)


def _check_tuning(model: str, info: Any) -> None:
    what = f"tuning.{model}"
    _mapping(info, what, ("chosen", "window", "units", "transform", "scores", "skipped"))
    for key in ("chosen", "window", "units", "transform", "scores"):
        if key not in info:
            raise DataError(f"{what} has no {key}")
    _text(info["chosen"], f"{what}.chosen", MAX_NAME_CHARS, _LABEL, empty=False)
    _number(info["window"], f"{what}.window", whole=True, low=1, high=field_range("window")[1])
    units_field = "units" if model == "lstm" else "mlp_units"
    _number(info["units"], f"{what}.units", whole=True, low=1, high=field_range(units_field)[1])
    if info["transform"] not in TRANSFORMS:
        raise DataError(f"unknown transform {_short(info['transform'])} in {what}; known: "
                        f"{', '.join(TRANSFORMS)}")
    for label, score in _mapping(info["scores"], f"{what}.scores", max_items=10).items():
        _text(label, f"a variant of {what}", MAX_NAME_CHARS, _LABEL, empty=False)
        _number(score, f"{what}.scores", missing=True)
    for label, why in _mapping(info.get("skipped", {}), f"{what}.skipped", max_items=10).items():
        _text(label, f"a variant of {what}", MAX_NAME_CHARS, _LABEL, empty=False)
        _text(why, f"why {what} skipped a variant", MAX_NOTE_CHARS)


def _check_state(model: str, state: Any) -> None:
    """A network's stored state: what ``restore_network`` reads, and nothing it cannot."""
    what = f"the {model} network's state"
    _mapping(state, what, ("params", "fitted", "transform", "scaler"))
    params = _mapping(state.get("params"), f"{what} params")
    for key, value in params.items():
        _text(key, f"a parameter name in {what}", 64, re.compile(r"^[a-z_][a-z0-9_]*$"))
        if isinstance(value, str):
            _text(value, f"{what} params.{key}")
    for key in _mapping(state.get("fitted", {}), f"{what} fitted values"):
        if not fitted_name(key):
            raise DataError(f"{what} sets a value it may not: {_short(key)}")
    _check_transform(_mapping(state.get("transform"), f"{what} transform", TRANSFORM_KEYS),
                     what)
    scaler = _mapping(state.get("scaler"), f"{what} scaler", ("mean", "scale"))
    _number(scaler.get("mean"), f"{what} scaler mean")
    _number(scaler.get("scale"), f"{what} scaler scale")


def _check_transform(transform: dict, what: str) -> None:
    """A saved ``TargetTransform.components()``: its kind and season, the detrend line, and the
    ES hybrid's smoothing weights (0 to 1), damping, start level and trend, and seasonal
    indices (at most one per phase of the season)."""
    kind = transform.get("kind")
    if kind not in TRANSFORMS or kind == "auto":
        raise DataError(f"unknown transform {_short(kind)} in {what}")
    _number(transform.get("season"), f"{what} season", whole=True, low=0, high=1000)
    trend = transform.get("trend", [0.0, 0.0])
    if not isinstance(trend, list) or len(trend) != 2:
        raise DataError(f"{what} trend must be two numbers")
    for value in trend:
        _number(value, f"{what} trend")
    for key in ("alpha", "beta", "phi"):
        if key in transform:
            _number(transform[key], f"{what} transform {key}", low=0, high=1)
    for key in ("level0", "trend0"):
        if key in transform:
            _number(transform[key], f"{what} transform {key}")
    indices = transform.get("indices", [])
    season = max(int(transform["season"]), 1)
    if not isinstance(indices, list) or len(indices) > season:
        raise DataError(f"{what} transform indices must be a list of at most {season} numbers "
                        "(one per phase of the season)")
    for value in indices:
        _number(value, f"{what} transform indices")


def _parse_entry(raw: Any, now: float) -> dict[str, Any]:
    _mapping(raw, "run", ENTRY_KEYS)
    if not isinstance(raw.get("result"), dict):
        raise DataError("each run needs a \"result\" object")
    record = raw["result"]
    _check_record(record)
    result = result_from_record(record)   # validates the config and the predictions
    uid = raw.get("uid") or uuid.uuid4().hex
    _text(uid, "uid", 64, re.compile(r"^[0-9A-Za-z]+$"), empty=False)
    created_at = raw.get("created_at")
    if created_at is None:
        created_at = now
    latest = now + 86400
    _number(created_at, "created_at")
    if not EARLIEST_RUN <= created_at <= latest:
        raise DataError(f"created_at must be a date between 2000-01-01 and tomorrow "
                        f"({EARLIEST_RUN:.0f} to {latest:.0f} seconds since 1970); got "
                        f"{_short(created_at)} ({format_when(created_at)})")
    sweep = _text(raw.get("sweep") or "", "sweep", 64, _TOKEN)
    networks = {}
    limits = get_limits()
    stored = _mapping(raw.get("networks") or {}, "networks", NEURAL_MODELS)
    sizes = count_weights(result.config, int(record["season"])) if stored else {}
    for model, net in stored.items():
        if model not in result.metrics:
            raise DataError(f"unexpected network {model!r}: the run has no {model} results")
        if sizes.get(model, 0) > limits.max_weights:  # its settings must fit this server too
            raise DataError(f"its settings build a {MODEL_LABELS[model]} network of "
                            f"{sizes[model]:,} weights; one network may have at most "
                            f"{limits.max_weights:,} ({env_var('max_weights')})")
        _mapping(net, f"the {model} network", ("state", "keras_base64"))
        encoded = _text(net.get("keras_base64"), f"the {model} network's file",
                        2**31, empty=False)
        blob = base64.b64decode(encoded, validate=True)
        _check_state(model, net.get("state"))
        check_keras_file(blob, MODEL_LABELS[model], limits)
        networks[model] = (net["state"], blob)
    return {"uid": uid, "created_at": float(created_at), "sweep": sweep,
            "result": to_plain(record), "networks": networks}
