"""The check an imported run's ``.keras`` file must pass before it is stored, without Keras.

``keras.saving.load_model`` builds the model from the archive's ``config.json`` before it reads a
single weight: an 11 KB file declaring a ``Dense`` of 60,000 x 60,000 makes the server allocate
~14 GB, on the page thread, for everyone. So an import opens the zip in memory and refuses it
unless

- its entries are the ones Keras writes (``config.json``, ``metadata.json``,
  ``model.weights.h5``), each unpacking to a bounded size (a zip bomb is refused unread);
- ``config.json`` is a functional model LSTM Lab builds: a chain of the layers
  ``networks.py`` and ``architectures.py`` use (no other class anywhere in the file, layer classes
  only where layers go), whose shapes, walked from the input in order, fit together;
- the weights those layers declare (and the values any layer outputs per window) are at most
  ``max_weights`` (``LSTM_LAB_MAX_WEIGHTS``), and the datasets ``model.weights.h5`` declares hold
  no more than those weights and the optimizer's two slots per weight (read with h5py, which
  reads the file's structure, not its data).

A refusal is a ``DataError`` in one sentence; nothing here imports TensorFlow.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from typing import Any

from lstm_lab.errors import DataError
from lstm_lab.limits import Limits, env_var

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
MAX_JSON_BYTES = 2**20                  # config.json, metadata.json (a real one: ~10 KB)
MAX_LAYERS = 100                        # 8 stacked layers with dropout make 19
OPTIMIZER_SLOTS = 3                     # weights + Adam's two moments, as ``model.save`` writes
# Every class a network LSTM Lab builds holds (``build_*`` in networks.py and architectures.py).
LAYERS = frozenset({"InputLayer", "Dense", "Dropout", "LSTM", "GRU", "Bidirectional", "Conv1D",
                    "Flatten", "TimeDistributed", "RepeatVector", "Reshape"})
OTHER_OBJECTS = frozenset({"DTypePolicy", "GlorotUniform", "Orthogonal", "Zeros", "Adam",
                           "__keras_tensor__"})
RECURRENT = frozenset({"LSTM", "GRU"})
PER_STEP = frozenset({"Conv1D", "Flatten", "Dense"})    # what TimeDistributed wraps
CALL_KWARGS = frozenset({"mask", "training"})

Shape = tuple[int, ...]                  # one window's shape: no batch axis


class _NotOurs(Exception):
    """Why a config is not one LSTM Lab writes (the words after "not a network LSTM Lab builds")."""


def max_entry_bytes(limits: Limits) -> dict[str, int]:
    """The largest each entry of the archive may unpack to."""
    return {CONFIG: MAX_JSON_BYTES, METADATA: MAX_JSON_BYTES,
            WEIGHTS: 4 * limits.max_weights * OPTIMIZER_SLOTS + 2**20}


def check_keras_file(blob: bytes, label: str, limits: Limits) -> None:
    """Refuse a ``.keras`` file LSTM Lab would not have written, or one too big to load.

    Args:
        blob: the file's bytes, as imported.
        label: the network's name in messages ("LSTM", "MLP").
        limits: the limits in force (``max_weights``).

    Raises:
        DataError: one sentence naming what is wrong, e.g. "the LSTM network is not a network
            LSTM Lab builds (layer 'Lambda' is not allowed)".
    """
    what = f"the {label} network"
    config, weights_file = _read_archive(blob, what, limits)
    try:
        weights = _check_config(config, what, limits)
    except _NotOurs as err:
        raise DataError(f"{what} is not a network LSTM Lab builds ({err})") from None
    cap = limits.max_weights
    if weights > cap:
        raise DataError(f"{what} would have {weights:,} weights; one network may have at most "
                        f"{cap:,} ({env_var('max_weights')})")
    _check_weights_file(weights_file, what, weights)


# --- the archive ---------------------------------------------------------------------------------

def _read_archive(blob: bytes, what: str, limits: Limits) -> tuple[bytes, bytes]:
    """config.json and model.weights.h5, after checking the entries and their sizes."""
    if not blob.startswith(b"PK"):
        raise DataError(f"{what} is not a .keras file")
    sizes = max_entry_bytes(limits)
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            for name in names:
                if name not in sizes:
                    raise DataError(
                        f"{what}'s .keras file holds {name[:60]!r}; the .keras files LSTM Lab "
                        f"writes hold only {CONFIG}, {METADATA} and {WEIGHTS}")
            if len(set(names)) != len(names):
                raise DataError(f"{what}'s .keras file holds an entry twice")
            for name in (CONFIG, WEIGHTS):
                if name not in names:
                    raise DataError(f"{what}'s .keras file has no {name}")
            for info in infos:
                if info.file_size > sizes[info.filename]:
                    raise DataError(
                        f"{what}'s .keras file unpacks {info.filename} to "
                        f"{info.file_size / 2**20:,.1f} MiB; at most "
                        f"{sizes[info.filename] / 2**20:,.1f} MiB fit the weights one network "
                        f"may have ({env_var('max_weights')})")
            config = _read_entry(archive, CONFIG, sizes[CONFIG])
            weights = _read_entry(archive, WEIGHTS, sizes[WEIGHTS])
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 - zipfile raises many types for a broken archive
        raise DataError(f"{what} is not a readable .keras file ({type(err).__name__})") from None
    return config, weights


def _read_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with archive.open(name) as f:   # zipfile stops at the declared size; read one byte more
        data = f.read(limit + 1)
    if len(data) > limit:
        raise DataError(f"the .keras file's {name} unpacks to more than {limit:,} bytes")
    return data


# --- config.json ---------------------------------------------------------------------------------

def _check_config(text: bytes, what: str, limits: Limits) -> int:
    """The trainable weights the model in ``text`` would build: _NotOurs unless it is one LSTM
    Lab builds, DataError when a layer outputs more values per window than ``max_weights``."""
    try:
        root = json.loads(text)
    except (RecursionError, ValueError, UnicodeDecodeError):
        raise _NotOurs(f"its {CONFIG} is not valid JSON") from None
    layers = _functional_layers(root)
    _check_classes(root, {id(layer) for layer in _layer_dicts(layers)})
    return _walk_chain(layers, what, limits)


def _functional_layers(root: Any) -> list[dict]:
    if not isinstance(root, dict) or root.get("class_name") != "Functional":
        name = root.get("class_name") if isinstance(root, dict) else None
        raise _NotOurs(f"the model is {_quote(name)}; LSTM Lab builds functional models")
    config = _dict(root.get("config"), "the model's config")
    layers = config.get("layers")
    if not isinstance(layers, list) or not 2 <= len(layers) <= MAX_LAYERS:
        raise _NotOurs(f"the model must list 2 to {MAX_LAYERS} layers")
    for layer in layers:
        _dict(layer, "a layer")
    names = [layer.get("name") for layer in layers]
    if len(set(map(str, names))) != len(names):
        raise _NotOurs("two layers have the same name")
    if config.get("input_layers") not in ([names[0], 0, 0], [[names[0], 0, 0]]) or \
            config.get("output_layers") not in ([names[-1], 0, 0], [[names[-1], 0, 0]]):
        raise _NotOurs("its input and output are not its first and last layers")
    return layers


def _layer_dicts(layers: list[dict]) -> list[dict]:
    """The layers and the layers wrapped inside them: where a layer class may appear."""
    out, stack = [], list(layers)
    while stack:
        layer = stack.pop()
        out.append(layer)
        config = layer.get("config")
        if layer.get("class_name") in ("TimeDistributed", "Bidirectional") and \
                isinstance(config, dict):
            stack.extend(config[k] for k in ("layer", "backward_layer")
                         if isinstance(config.get(k), dict))
    return out


def _check_classes(root: dict, layer_ids: set[int]) -> None:
    """Every object the file names is one LSTM Lab saves, from Keras itself; layer classes only
    where layers go (a Dense hidden in an initializer would be built too)."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        if "class_name" not in node:
            continue
        name = node["class_name"]
        if node is root:
            allowed = name == "Functional"
        elif id(node) in layer_ids:
            allowed = name in LAYERS
        else:
            allowed = name in OTHER_OBJECTS
        if not allowed:
            raise _NotOurs(f"{'layer ' if id(node) in layer_ids else ''}{_quote(name)} is not "
                           "allowed")
        module = node.get("module")
        if name != "__keras_tensor__" and not (
                isinstance(module, str) and (module == "keras" or module.startswith("keras."))):
            raise _NotOurs(f"{_quote(name)} comes from module {_quote(module)}, not Keras")
        if node.get("registered_name") not in (None, name):
            raise _NotOurs(f"{_quote(name)} is registered as {_quote(node['registered_name'])}")


def _walk_chain(layers: list[dict], what: str, limits: Limits) -> int:
    """Walk the layers from the input, each reading the one before: the shapes must fit, and no
    layer may output more than ``max_weights`` values per window. Returns the weights."""
    first = layers[0]
    if first.get("class_name") != "InputLayer":
        raise _NotOurs("its first layer is not its input")
    batch_shape = _dict(first.get("config"), "the input layer").get("batch_shape")
    if not isinstance(batch_shape, list) or len(batch_shape) < 2 or batch_shape[0] is not None:
        raise _NotOurs("its input has no fixed shape")
    shape = _dims(batch_shape[1:], "the input shape")
    if first.get("inbound_nodes") not in ([], None):
        raise _NotOurs("its input layer reads another layer")
    cap = limits.max_weights
    total, previous = 0, first.get("name")
    for layer in [None, *layers[1:]]:
        if layer is not None:
            _check_inbound(layer, previous)
            shape, weights = _apply(layer, shape)
            total += weights
            previous = layer.get("name")
        values = math.prod(shape)
        if values > cap:
            raise DataError(f"{what}'s layer {_quote(previous)} would output {values:,} values "
                            f"per window; at most {cap:,} fit ({env_var('max_weights')})")
    return total


def _check_inbound(layer: dict, previous: Any) -> None:
    """The layer is called once, on the previous layer's output, with no other argument."""
    nodes = layer.get("inbound_nodes")
    node = nodes[0] if isinstance(nodes, list) and len(nodes) == 1 else None
    args = node.get("args") if isinstance(node, dict) else None
    arg = args[0] if isinstance(args, list) and len(args) == 1 else None
    config = arg.get("config") if isinstance(arg, dict) else None
    history = config.get("keras_history") if isinstance(config, dict) else None
    kwargs = node.get("kwargs", {}) if isinstance(node, dict) else None
    if history != [previous, 0, 0] or set(node) - {"args", "kwargs"} or \
            not isinstance(kwargs, dict) or set(kwargs) - CALL_KWARGS or \
            any(v not in (None, True, False) for v in kwargs.values()):
        raise _NotOurs(f"layer {_quote(layer.get('name'))} does not simply read the layer "
                       "before it")


def _apply(layer: dict, shape: Shape) -> tuple[Shape, int]:
    """The output shape of ``layer`` on one window of ``shape``, and the weights it builds."""
    kind = layer.get("class_name")
    name = _quote(layer.get("name"))
    config = _dict(layer.get("config"), f"layer {name}")
    built = layer.get("build_config")
    if built is not None:   # Keras builds a layer from this before it reads its input
        declared = _dict(built, f"layer {name}'s build config").get("input_shape")
        if not isinstance(declared, list) or not declared or declared[0] is not None or \
                tuple(declared[1:]) != shape:
            raise _NotOurs(f"layer {name} is built for a shape its input does not have")
    if kind == "Dropout":
        rate = config.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise _NotOurs(f"layer {name} has no dropout rate between 0 and 1")
        return shape, 0
    if kind == "Dense":
        units = _dim(config.get("units"), f"layer {name}'s units")
        return (*shape[:-1], units), shape[-1] * units + units
    if kind in RECURRENT:
        return _recurrent(kind, config, name, shape)
    if kind == "Bidirectional":
        return _bidirectional(config, name, shape)
    if kind == "TimeDistributed":
        inner = _dict(config.get("layer"), f"layer {name}'s layer")
        if inner.get("class_name") not in PER_STEP or len(shape) < 2:
            raise _NotOurs(f"layer {name} wraps {_quote(inner.get('class_name'))}")
        out, weights = _apply(inner, shape[1:])
        return (shape[0], *out), weights
    if kind == "Conv1D":
        return _conv1d(config, name, shape)
    if kind == "Flatten":
        return (math.prod(shape),), 0
    if kind == "RepeatVector":
        if len(shape) != 1:
            raise _NotOurs(f"layer {name} repeats a sequence, not a vector")
        return (_dim(config.get("n"), f"layer {name}'s n"), shape[0]), 0
    if kind == "Reshape":
        target = config.get("target_shape")
        target = _dims(target if isinstance(target, list) else [], f"layer {name}'s shape")
        if math.prod(target) != math.prod(shape):
            raise _NotOurs(f"layer {name} reshapes {math.prod(shape):,} values into "
                           f"{math.prod(target):,}")
        return target, 0
    raise _NotOurs(f"layer {_quote(kind)} is not allowed here")


def _recurrent(kind: str, config: dict, name: str, shape: Shape) -> tuple[Shape, int]:
    if len(shape) != 2:
        raise _NotOurs(f"layer {name} reads a {len(shape)}-D window; a {kind} reads steps x "
                       "features")
    units = _dim(config.get("units"), f"layer {name}'s units")
    if config.get("return_state") or not isinstance(config.get("return_sequences"), bool):
        raise _NotOurs(f"layer {name} returns its state or no clear output")
    if kind == "LSTM":
        weights = 4 * units * (shape[1] + units + 1)
    else:                                             # reset_after: two bias vectors
        weights = 3 * units * (shape[1] + units + 2)
    return ((shape[0], units) if config["return_sequences"] else (units,)), weights


def _bidirectional(config: dict, name: str, shape: Shape) -> tuple[Shape, int]:
    forward = _dict(config.get("layer"), f"layer {name}'s layer")
    backward = config.get("backward_layer")
    pair = [forward, _dict(backward, f"layer {name}'s backward layer")] \
        if backward is not None else [forward, forward]
    outputs, weights = [], 0
    for inner in pair:
        if inner.get("class_name") not in RECURRENT:
            raise _NotOurs(f"layer {name} wraps {_quote(inner.get('class_name'))}")
        out, count = _apply(inner, shape)
        outputs.append(out)
        weights += count
    if outputs[0] != outputs[1]:
        raise _NotOurs(f"layer {name}'s two directions differ in shape")
    merge = config.get("merge_mode", "concat")
    if merge == "concat":
        return (*outputs[0][:-1], 2 * outputs[0][-1]), weights
    if merge in ("sum", "mul", "ave"):
        return outputs[0], weights
    raise _NotOurs(f"layer {name} merges its directions as {_quote(merge)}")


def _conv1d(config: dict, name: str, shape: Shape) -> tuple[Shape, int]:
    if len(shape) != 2 or config.get("data_format", "channels_last") != "channels_last" or \
            config.get("groups", 1) != 1:
        raise _NotOurs(f"layer {name} is not a plain 1-D convolution over steps x features")
    filters = _dim(config.get("filters"), f"layer {name}'s filters")
    (kernel,), (stride,), (dilation,) = (
        _dims(v if isinstance(v, list) else [v], f"layer {name}'s {k}")
        for k, v in (("kernel_size", config.get("kernel_size")),
                     ("strides", config.get("strides", [1])),
                     ("dilation_rate", config.get("dilation_rate", [1]))))
    padding = config.get("padding", "valid")
    if padding == "valid":
        steps = (shape[0] - dilation * (kernel - 1) - 1) // stride + 1
    elif padding in ("same", "causal"):
        steps = -(-shape[0] // stride)
    else:
        raise _NotOurs(f"layer {name} pads as {_quote(padding)}")
    if steps < 1:
        raise _NotOurs(f"layer {name}'s kernel is longer than its input")
    return (steps, filters), kernel * shape[1] * filters + filters


# --- model.weights.h5 ----------------------------------------------------------------------------

def _check_weights_file(data: bytes, what: str, weights: int) -> None:
    """The datasets the weights file declares hold at most the network's weights and the
    optimizer's slots (a dataset can declare 14 GB and store a few bytes: Keras would read it
    whole before it compares shapes). h5py reads the structure, never the data."""
    import h5py  # deferred: only imports with networks need it

    cap = OPTIMIZER_SLOTS * weights + 1024
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            declared, stack = 0, [f]
            while stack:
                group = stack.pop()
                for key in group:
                    link = group.get(key, getlink=True)
                    if not isinstance(link, h5py.HardLink):
                        raise DataError(f"{what}'s weights file links outside itself")
                    item = group[key]
                    if isinstance(item, h5py.Group):
                        stack.append(item)
                        continue
                    if item.external or item.is_virtual or item.dtype.itemsize > 8:
                        raise DataError(f"{what}'s weights file holds a dataset LSTM Lab does "
                                        "not write")
                    declared += math.prod(item.shape or ())
                    if declared > cap:
                        raise DataError(f"{what}'s weights file declares more than {cap:,} "
                                        f"values; its {weights:,} weights and the optimizer's "
                                        "state need no more")
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 - h5py raises many types for a broken file
        raise DataError(f"{what}'s weights file is not readable ({type(err).__name__})") \
            from None


# --- small helpers -------------------------------------------------------------------------------

def _dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise _NotOurs(f"{what} is not an object")
    return value


def _dim(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _NotOurs(f"{what} must be a whole number >= 1; got {_quote(value)}")
    return value


def _dims(values: list, what: str) -> Shape:
    if not values:
        raise _NotOurs(f"{what} is empty")
    return tuple(_dim(v, what) for v in values)


def _quote(value: Any, chars: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= chars else text[:chars] + "…"
