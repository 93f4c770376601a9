"""Jobs and results as plain data: what crosses a process or machine boundary, never a pickle.

A job (its ``TaskSpec``, config, series and owner) and a result are each ONE JSON document
(UTF-8). Plain JSON values stay as they are; everything else is a tagged object, a dict with a
single key ``"__tag__"``:

- ``__float__``: a non-finite float ("nan", "inf", "-inf"); ``__tuple__``: a tuple;
  ``__dict__``: a dict whose keys are not all strings (or that looks like a tag), as pairs;
- ``__array__``: a numpy array of a numeric or bool dtype: dtype, shape, base64 of its raw bytes;
- ``__frame__`` / ``__pdseries__`` / ``__index__``: pandas objects, column by column (numbers
  as arrays, dates as int64 nanoseconds with their dtype, text as lists of strings);
- ``__bytes__``: base64 of binary data (a network's ``.keras`` file);
- ``__config__`` (ExperimentConfig), ``__series__`` (Series), ``__result__`` (an
  ExperimentResult: its fields, and its trained networks as state + ``.keras`` bytes, which come
  back as ``ShippedNetwork``), ``__object__`` (one of the allow-listed result dataclasses:
  ``OBJECT_CLASSES``).

Anything else (an unknown class, a tag nobody wrote, bad base64, an array of objects, a
document over ``MAX_DOCUMENT_BYTES``) raises ``WireError``, a ``LabError`` whose text says what
was wrong, on either side.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.data.series import Series
from lstm_lab.errors import LabError
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.models.base import EpochInfo, to_plain
from lstm_lab.store.stored_network import ShippedNetwork

__all__ = ["MAX_DOCUMENT_BYTES", "OBJECT_CLASSES", "ShippedNetwork", "WireError", "decode_job",
           "decode_result", "encode_job", "encode_result", "event_from_plain", "event_to_plain"]

WIRE_VERSION = 1
# The largest document either side accepts: a result with its networks is a few MB; a sweep's
# result holds no networks. Far above that, a document is a bug or an attack, not a run.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

_NUMERIC_KINDS = "biufc"   # bool, signed, unsigned, float, complex


class WireError(LabError):
    """A job or result could not be turned into plain data, or plain data back into one."""


def _object_classes() -> dict[str, type]:
    """The result dataclasses a document may name (imported late: evaluation and sweep import
    much of the project)."""
    from lstm_lab.experiments.evaluation import BacktestResult, FutureForecast
    from lstm_lab.experiments.inputs_effect import InputsComparison
    from lstm_lab.experiments.intervals import Calibration
    from lstm_lab.experiments.sweep import SweepResult, SweepRun

    return {cls.__name__: cls for cls in (BacktestResult, FutureForecast, SweepResult, SweepRun,
                                          Calibration, EpochInfo, InputsComparison)}


OBJECT_CLASSES = ("BacktestResult", "FutureForecast", "SweepResult", "SweepRun", "Calibration",
                  "EpochInfo", "InputsComparison")


# --- the documents -------------------------------------------------------------------------------

def encode_job(spec: TaskSpec, config: ExperimentConfig | None, series: Series | None,
               owner: str | None) -> bytes:
    """A job as one JSON document: what ``decode_job`` gives back on the worker."""
    if owner is not None and not isinstance(owner, str):
        raise WireError(f"A job's owner must be a text or None, not {type(owner).__name__}.")
    return _dump({"wire": WIRE_VERSION, "kind": "job", "spec": _enc(spec.to_dict()),
                  "config": _enc(config), "series": _enc(series), "owner": owner})


def decode_job(data: bytes) -> tuple[TaskSpec, ExperimentConfig | None, Series | None, str | None]:
    doc = _load(data, "job")
    try:
        spec = TaskSpec.from_dict(_dec(doc["spec"]))
    except WireError:
        raise
    except (KeyError, TypeError, AttributeError, LabError) as err:
        raise WireError(f"The job names no task this server knows ({_why(err)}).") from None
    config, series, owner = _dec(doc.get("config")), _dec(doc.get("series")), doc.get("owner")
    if config is not None and not isinstance(config, ExperimentConfig):
        raise WireError("The job's config is not an experiment config.")
    if series is not None and not isinstance(series, Series):
        raise WireError("The job's series is not a series.")
    if owner is not None and not isinstance(owner, str):
        raise WireError("The job's owner is not a text.")
    return spec, config, series, owner


def encode_result(result: Any) -> bytes:
    """A job's result (any allow-listed result, DataFrames, tuples, arrays...) as one JSON
    document."""
    return _dump({"wire": WIRE_VERSION, "kind": "result", "value": _enc(result)})


def decode_result(data: bytes) -> Any:
    doc = _load(data, "result")
    try:
        return _dec(doc["value"])
    except (KeyError, RecursionError):
        raise WireError("The result received holds no value a job returns, or one nested too "
                        "deeply; it was refused.") from None


def event_to_plain(info: EpochInfo) -> dict[str, Any]:
    """A per-epoch event as a dict of JSON values (a NaN loss as ``{"__float__": "nan"}``)."""
    return {f.name: _enc(getattr(info, f.name)) for f in dataclasses.fields(EpochInfo)}


def event_from_plain(d: Mapping[str, Any]) -> EpochInfo:
    names = {f.name for f in dataclasses.fields(EpochInfo)}
    if not isinstance(d, Mapping) or not set(d) <= names:
        raise WireError("A progress event from a worker had fields no epoch report has.")
    try:
        return EpochInfo(**{k: _dec(v) for k, v in d.items()})
    except TypeError as err:
        raise WireError(f"A progress event from a worker was incomplete ({err}).") from None


def _dump(doc: dict[str, Any]) -> bytes:
    data = json.dumps(doc, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise WireError(f"The {doc['kind']} is {len(data) / 2**20:,.1f} MB as plain data, over "
                        f"the {MAX_DOCUMENT_BYTES / 2**20:,.0f} MB a job or result may take; "
                        "make the run smaller (fewer points, models or runs).")
    return data


def _load(data: bytes, kind: str) -> dict[str, Any]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError(f"A {kind} must arrive as bytes, not {type(data).__name__}.")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise WireError(f"The {kind} received is {len(data) / 2**20:,.1f} MB, over the "
                        f"{MAX_DOCUMENT_BYTES / 2**20:,.0f} MB a job or result may take; it was "
                        "refused unread.")
    try:
        doc = json.loads(bytes(data).decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as err:
        raise WireError(f"The {kind} received is not a JSON document ({_why(err)}).") from None
    except RecursionError:
        raise WireError(f"The {kind} received is nested too deeply to be a job or a result; it "
                        "was refused.") from None
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        raise WireError(f"The document received is not a {kind}.")
    if doc.get("wire") != WIRE_VERSION:
        raise WireError(f"The {kind} was written in wire format {doc.get('wire')!r}, this server "
                        f"reads {WIRE_VERSION}; run the same LSTM Lab version on every machine.")
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"bare {name} is not JSON")


def _why(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


# --- values --------------------------------------------------------------------------------------

def _tag(name: str, value: Any) -> dict[str, Any]:
    return {f"__{name}__": value}


def _enc(obj: Any) -> Any:
    """``obj`` as JSON values with tags (module docstring)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else _tag("float", repr(value))
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (bytes, bytearray)):
        return _tag("bytes", base64.b64encode(bytes(obj)).decode("ascii"))
    if isinstance(obj, list):
        return [_enc(v) for v in obj]
    if isinstance(obj, tuple):
        return _tag("tuple", [_enc(v) for v in obj])
    if isinstance(obj, Mapping):
        return _enc_dict(obj)
    if isinstance(obj, np.ndarray):
        return _enc_array(obj)
    if isinstance(obj, pd.DataFrame):
        return _tag("frame", {"columns": [_enc(c) for c in obj.columns],
                              "columns_name": _enc(obj.columns.name),
                              "data": [_enc_column(obj.iloc[:, i]) for i in range(obj.shape[1])],
                              "index": _enc_index(obj.index), "attrs": _enc(dict(obj.attrs))})
    if isinstance(obj, pd.Series):
        return _tag("pdseries", {"name": _enc(obj.name), "data": _enc_column(obj),
                                 "index": _enc_index(obj.index)})
    if isinstance(obj, pd.Index):
        return _tag("index", _enc_index(obj))
    if isinstance(obj, ExperimentConfig):
        return _tag("config", _enc(obj.to_dict()))
    if isinstance(obj, Series):
        return _tag("series", {"values": _enc_array(np.asarray(obj.values)),
                               "index": _enc_index(obj.index), "name": obj.name,
                               "freq": obj.freq, "source": obj.source,
                               "season_override": _enc(obj.season_override),
                               "inputs": None if obj.inputs is None else _enc_array(obj.inputs),
                               "input_names": list(obj.input_names)})
    from lstm_lab.experiments.training import ExperimentResult

    if isinstance(obj, ExperimentResult):
        return _enc_result(obj)
    name = type(obj).__name__
    if dataclasses.is_dataclass(obj) and name in OBJECT_CLASSES and \
            _object_classes().get(name) is type(obj):
        return _tag("object", {"class": name, "fields": {
            f.name: _enc(getattr(obj, f.name)) for f in dataclasses.fields(obj)}})
    raise WireError(f"A {name} cannot be sent between processes: a job's result must be plain "
                    "data, a table or one of the lab's results.")


def _enc_dict(obj: Mapping) -> Any:
    if all(isinstance(k, str) for k in obj) and not (
            len(obj) == 1 and next(iter(obj)).startswith("__")):
        return {k: _enc(v) for k, v in obj.items()}
    return _tag("dict", [[_enc(k), _enc(v)] for k, v in obj.items()])


def _enc_array(arr: np.ndarray) -> dict[str, Any]:
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise WireError(f"An array of {arr.dtype} cannot be sent between processes: only numbers "
                        "and booleans can.")
    data = np.ascontiguousarray(arr)
    return _tag("array", {"dtype": data.dtype.str, "shape": list(data.shape),
                          "data": base64.b64encode(data.tobytes()).decode("ascii")})


def _enc_column(column: pd.Series) -> dict[str, Any]:
    """One column's values: numbers as an array, naive dates as int64 nanoseconds-or-units
    with their dtype, anything else (text, nullable types) as a list of plain values."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in _NUMERIC_KINDS:
        return {"kind": "array", "values": _enc_array(column.to_numpy())}
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        return {"kind": "time", "dtype": str(dtype),
                "values": _enc_array(column.to_numpy().view("int64"))}
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {"kind": "time", "dtype": str(dtype),
                "values": _enc_array(column.dt.tz_convert("UTC").dt.tz_localize(None)
                                     .to_numpy().view("int64"))}
    values = [None if _missing(v) else v for v in column.tolist()]
    return {"kind": "list", "dtype": str(dtype), "values": [_enc(v) for v in values]}


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT


def _enc_index(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        raise WireError("A table with a multi-level index cannot be sent between processes.")
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": _enc(index.name)}
    freq = getattr(index, "freqstr", None)
    return {"values": _enc_column(pd.Series(index, copy=False)), "name": _enc(index.name),
            "freq": freq}


def _enc_result(result: Any) -> dict[str, Any]:
    from lstm_lab.store.records import networks_of

    fields = {f.name: _enc(getattr(result, f.name)) for f in dataclasses.fields(result)
              if f.name != "forecasters"}
    networks = {name: {"state": _enc(to_plain(state)), "keras": _enc(bytes(blob))}
                for name, (state, blob) in networks_of(result).items()}
    return _tag("result", {"fields": fields, "networks": networks})


# --- back ----------------------------------------------------------------------------------------

def _dec(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_dec(v) for v in obj]
    if not isinstance(obj, dict):
        raise WireError(f"The document holds a {type(obj).__name__}, which plain data never has.")
    if len(obj) == 1:
        (key, value), = obj.items()
        if key.startswith("__") and key.endswith("__") and len(key) > 4:
            decode = _DECODERS.get(key[2:-2])
            if decode is None:
                raise WireError(f"The document holds a value tagged {key!r}, which this server "
                                "does not know; run the same LSTM Lab version on every machine.")
            try:
                return decode(value)
            except WireError:
                raise
            except (KeyError, TypeError, ValueError, AttributeError, IndexError,
                    LabError) as err:
                raise WireError(f"The document's {key[2:-2]} value is malformed "
                                f"({_why(err)}).") from None
    return {k: _dec(v) for k, v in obj.items()}


def _dec_float(text: str) -> float:
    if text not in ("nan", "inf", "-inf"):
        raise ValueError(f"{text!r} is not nan, inf or -inf")
    return float(text)


def _dec_bytes(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, AttributeError):
        raise WireError("The document holds binary data that is not valid base64.") from None


def _dec_array(spec: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(str(spec["dtype"]))
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject:
        raise WireError(f"The document holds an array of {dtype}; only arrays of numbers and "
                        "booleans may be sent.")
    shape = tuple(int(n) for n in spec["shape"])
    if any(n < 0 for n in shape):
        raise WireError("The document holds an array of negative size.")
    raw = _dec_bytes(spec["data"])
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError(f"The document holds an array whose data ({len(raw):,} bytes) does not "
                        f"fill its shape {shape} of {dtype}.")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _dec_column(spec: Mapping[str, Any]) -> Any:
    kind = spec["kind"]
    if kind == "array":
        return _dec(spec["values"]) if "__array__" in spec["values"] else _bad("column")
    if kind == "time":
        ints = _dec(spec["values"])
        dtype = str(spec["dtype"])
        if not isinstance(ints, np.ndarray) or ints.dtype != np.int64:
            raise WireError("The document's dates are not whole numbers.")
        if "," in dtype:   # datetime64[ns, tz]
            unit, tz = dtype[len("datetime64["):-1].split(",", 1)
            naive = pd.Series(ints.view(f"datetime64[{unit.strip()}]"))
            return naive.dt.tz_localize("UTC").dt.tz_convert(tz.strip()).array
        np_dtype = np.dtype(dtype)
        if np_dtype.kind not in "mM":
            raise WireError(f"The document's dates have the dtype {dtype}, not a date.")
        return ints.view(np_dtype)
    if kind == "list":
        values = [_dec(v) for v in spec["values"]]
        if any(isinstance(v, (list, dict, np.ndarray)) for v in values):
            raise WireError("A table column of the document holds nested values.")
        dtype = str(spec["dtype"])
        return pd.array(values, dtype=None if dtype == "object" else dtype) \
            if dtype != "object" else np.array(values, dtype=object)
    raise WireError(f"The document holds a table column of kind {kind!r}.")


def _bad(what: str) -> Any:
    raise WireError(f"The document's {what} is malformed.")


def _dec_index(spec: Mapping[str, Any]) -> pd.Index:
    name = _dec(spec.get("name"))
    if "range" in spec:
        start, stop, step = (int(n) for n in spec["range"])
        return pd.RangeIndex(start, stop, step, name=name)
    values = _dec_column(spec["values"])
    index = pd.Index(values, name=name)
    freq = spec.get("freq")
    if freq and isinstance(index, pd.DatetimeIndex):
        # dates that do not follow the frequency (never written so) keep no frequency
        with contextlib.suppress(ValueError, TypeError):
            index = pd.DatetimeIndex(index, freq=freq)
    return index


def _dec_frame(spec: Mapping[str, Any]) -> pd.DataFrame:
    columns = [_dec(c) for c in spec["columns"]]
    data = [_dec_column(c) for c in spec["data"]]
    if len(columns) != len(data):
        raise WireError("The document holds a table with more names than columns.")
    index = _dec_index(spec["index"])
    frame = pd.DataFrame({i: pd.Series(d, index=index, copy=False) for i, d in enumerate(data)},
                         index=index)
    frame.columns = pd.Index(columns, name=_dec(spec.get("columns_name")))
    frame.attrs.update(_dec(spec.get("attrs") or {}))   # a lesson's chance, window, seconds...
    return frame


def _dec_pdseries(spec: Mapping[str, Any]) -> pd.Series:
    return pd.Series(_dec_column(spec["data"]), index=_dec_index(spec["index"]),
                     name=_dec(spec.get("name")))


def _dec_series(spec: Mapping[str, Any]) -> Series:
    season = _dec(spec.get("season_override"))
    inputs = spec.get("inputs")
    return Series(_dec_array(spec["values"]["__array__"]), _dec_index(spec["index"]),
                  name=str(spec["name"]), freq=spec.get("freq"), source=str(spec.get("source", "")),
                  season_override=season,
                  inputs=None if inputs is None else _dec_array(inputs["__array__"]),
                  input_names=tuple(str(n) for n in spec.get("input_names") or ()))


def _dec_object(spec: Mapping[str, Any]) -> Any:
    name = spec["class"]
    cls = _object_classes().get(name) if name in OBJECT_CLASSES else None
    if cls is None:
        raise WireError(f"The document holds a {name!r}, which is not one of the results a job "
                        f"may return ({', '.join(OBJECT_CLASSES)}).")
    return cls(**_fields_of(cls, spec["fields"]))


def _fields_of(cls: type, raw: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise WireError(f"The document's {cls.__name__} has fields it does not have: "
                        f"{', '.join(unknown)}.")
    return {k: _dec(v) for k, v in raw.items()}


def _dec_result(spec: Mapping[str, Any]) -> Any:
    from lstm_lab.experiments.training import ExperimentResult

    fields = _fields_of(ExperimentResult, spec["fields"])
    fields.pop("forecasters", None)
    result = ExperimentResult(**fields)
    for name, net in dict(spec.get("networks") or {}).items():
        state, blob = _dec(net["state"]), _dec(net["keras"])
        if not isinstance(state, dict) or not isinstance(blob, bytes):
            raise WireError(f"The document's {name} network is not a state and a .keras file.")
        result.forecasters[str(name)] = ShippedNetwork(str(name), state, blob)
    return result


def _dec_dict(pairs: list) -> dict:
    return {_hashable(_dec(k)): _dec(v) for k, v in pairs}


def _hashable(key: Any) -> Any:
    hash(key)
    return key


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "float": _dec_float,
    "tuple": lambda v: tuple(_dec(x) for x in v),
    "dict": _dec_dict,
    "bytes": _dec_bytes,
    "array": _dec_array,
    "frame": _dec_frame,
    "pdseries": _dec_pdseries,
    "index": _dec_index,
    "config": lambda v: ExperimentConfig.from_dict(_dec(v)),
    "series": _dec_series,
    "result": _dec_result,
    "object": _dec_object,
}
