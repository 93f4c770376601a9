"""Ensembles of networks trained side by side in one Keras model, and how their forecasts combine.

An ensemble of K networks of ``units`` units is one model whose layers have K x units units: the
k-th block of units in every layer is member k. Two Keras-standard hooks keep the members apart:

- ``MemberInit`` gives each member's block the weights a lone network of that seed would start
  from (Glorot / orthogonal, member k seeded with ``member_seed(seed, k)``) and zeros between
  members;
- ``MemberBlocks`` (a kernel constraint, applied by the optimizer after every step) sets the
  weights between two members back to zero.

So member k never reads another member's units: the model computes K independent networks, each
with its own initial weights, and the loss is their mean squared error, so each member's
gradient is its own (scaled by 1/K, which Adam ignores). Why one model: on a CPU a training step
of a small network is mostly per-operation overhead, and a step of one wide layer costs about
what a step of one narrow layer does; K separate models, or K branches in one graph, cost K
times as much (bench/ensemble_speed.py measures both).

After training, ``plain_copy`` returns the same network with only Keras' own initializers and no
constraints: what is saved, downloaded and checked on import is plain Keras, loadable anywhere.
Importing this module loads Keras: the lab imports it only when it builds an ensemble.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

MEMBER_SEED_STEP = 7919    # member k of seed s starts from seed s + 7919 k


def member_seed(seed: int, member: int) -> int:
    """The seed member ``member`` of an ensemble of seed ``seed`` is initialised with."""
    return seed + MEMBER_SEED_STEP * member


def member_layer_weights(seed: int, layer: int, members: int, gates: int, wide_input: bool,
                         recurrent: bool = False) -> dict[str, Any]:
    """Initializers and constraints of layer ``layer`` of an ensemble (see the module doc).

    ``gates``: blocks of units per member in the layer's output (4 for an LSTM, 3 for a GRU,
    1 for Dense); ``wide_input``: the layer reads the previous ensemble layer (members x units
    inputs), rather than the shared window.
    """
    kwargs: dict[str, Any] = {
        "kernel_initializer": MemberInit("glorot", seed, layer, members, gates, wide_input),
    }
    if wide_input:
        kwargs["kernel_constraint"] = MemberBlocks(members, gates)
    if recurrent:
        kwargs["recurrent_initializer"] = MemberInit("orthogonal", seed, layer, members, gates,
                                                     True)
        kwargs["recurrent_constraint"] = MemberBlocks(members, gates)
    return kwargs


def block_mask(shape: tuple[int, int], members: int, gates: int, wide_input: bool) -> np.ndarray:
    """1 where a kernel of ``shape`` (inputs, gates x members x units) joins a member's inputs
    to the same member's units, else 0. Without ``wide_input`` every input is shared."""
    rows, cols = shape
    per_gate = cols // gates
    col_member = (np.arange(cols) % per_gate) // (per_gate // members)
    if not wide_input:
        return np.ones(shape, dtype="float32")
    row_member = np.arange(rows) // (rows // members)
    return (row_member[:, None] == col_member[None, :]).astype("float32")


@keras.saving.register_keras_serializable(package="lstm_lab")
class MemberBlocks(keras.constraints.Constraint):
    """Zeroes a kernel's weights between different members (see ``block_mask``)."""

    def __init__(self, members: int, gates: int = 1) -> None:
        self.members, self.gates = int(members), int(gates)

    def __call__(self, w):
        mask = block_mask(tuple(w.shape), self.members, self.gates, True)
        return w * keras.ops.convert_to_tensor(mask, dtype=w.dtype)

    def get_config(self) -> dict[str, int]:
        return {"members": self.members, "gates": self.gates}


@keras.saving.register_keras_serializable(package="lstm_lab")
class MemberInit(keras.initializers.Initializer):
    """Each member's block initialised as a lone network of its seed would be; zeros between."""

    def __init__(self, kind: str, seed: int, layer: int, members: int, gates: int,
                 wide_input: bool) -> None:
        self.kind, self.seed, self.layer = kind, int(seed), int(layer)
        self.members, self.gates, self.wide_input = int(members), int(gates), bool(wide_input)

    def __call__(self, shape, dtype=None):
        rows, cols = shape
        per_gate = cols // self.gates
        units = per_gate // self.members
        member_rows = rows // self.members if self.wide_input else rows
        out = np.zeros((rows, cols), dtype="float32")
        for k in range(self.members):
            base = member_seed(self.seed, k) * 1000 + self.layer * 10
            init = (keras.initializers.Orthogonal(seed=base + 1) if self.kind == "orthogonal"
                    else keras.initializers.GlorotUniform(seed=base))
            block = keras.ops.convert_to_numpy(init((member_rows, self.gates * units)))
            r0 = k * member_rows if self.wide_input else 0
            for g in range(self.gates):
                out[r0:r0 + member_rows, g * per_gate + k * units:g * per_gate + (k + 1) * units] \
                    = block[:, g * units:(g + 1) * units]
        return keras.ops.convert_to_tensor(out, dtype=dtype or "float32")

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed, "layer": self.layer,
                "members": self.members, "gates": self.gates, "wide_input": self.wide_input}


def plain_copy(model):
    """The same trained network with only Keras' own objects: the member initializers become
    zeros (the weights are copied in anyway) and the constraints go. Compiled alike, with the
    optimizer's state copied, so a saved file is what training left."""
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        settings = layer.get("config", {})
        for key in list(settings):
            if key.endswith("_constraint"):
                settings[key] = None
            elif key.endswith("_initializer") and isinstance(settings[key], dict) and \
                    settings[key].get("class_name") == "MemberInit":
                settings[key] = {"module": "keras.initializers", "class_name": "Zeros",
                                 "config": {}, "registered_name": None}
    copy = keras.Model.from_config(config)
    copy.set_weights(model.get_weights())
    copy.compile(optimizer=type(model.optimizer).from_config(model.optimizer.get_config()),
                 loss="mse")
    if model.optimizer.built:
        copy.optimizer.build(copy.trainable_variables)
        for theirs, mine in zip(copy.optimizer.variables, model.optimizer.variables,
                                strict=True):
            theirs.assign(mine)
    return copy


# --- training fast: members with batched weights ------------------------------------------------
@keras.saving.register_keras_serializable(package="lstm_lab")
class MemberLSTM(keras.layers.Layer):
    """``members`` LSTMs of ``units`` units with batched weights, unrolled over the window.

    Weights: kernel [members, inputs, 4 units], recurrent [members, units, 4 units], bias
    [members, 4 units], Keras' gate order (i, f, c, o) and initial values (the member blocks of
    ``MemberInit``; forget-gate bias 1). Each step is one einsum for all members, so a step
    costs about what one member's does; a wide LSTM with zeros between members costs members²
    times the recurrent work. Input [B, T, features] (shared) or, after another MemberLSTM,
    [B, T, members * units]; output the same layout (member k's units in block k).
    """

    def __init__(self, units: int, members: int, seed: int, layer: int,
                 return_sequences: bool = False, shared_input: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units, self.members, self.seed, self.layer = units, members, seed, layer
        self.return_sequences, self.shared_input = return_sequences, shared_input

    def build(self, input_shape) -> None:
        k, u = self.members, self.units
        inputs = input_shape[-1] if self.shared_input else input_shape[-1] // k
        wide = MemberInit("glorot", self.seed, self.layer, k, 4, not self.shared_input)(
            (inputs * (1 if self.shared_input else k), 4 * k * u))
        rec = MemberInit("orthogonal", self.seed, self.layer, k, 4, True)((k * u, 4 * k * u))
        self.kernel = self.add_weight(name="kernel", shape=(k, inputs, 4 * u),
                                      initializer=_batched(wide, k, u, not self.shared_input))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(k, u, 4 * u),
                                                initializer=_batched(rec, k, u, True))
        bias = np.zeros((k, 4 * u), dtype="float32")
        bias[:, u:2 * u] = 1.0                                    # Keras' unit_forget_bias
        self.bias = self.add_weight(name="bias", shape=(k, 4 * u),
                                    initializer=keras.initializers.Constant(bias))

    def call(self, x):
        # TensorFlow ops and a ``tf.scan`` over the steps (the backend is TensorFlow by design):
        # tracing an unrolled Keras-ops loop cost ~4 s of the default CLI run's 5.6 s LSTM fit;
        # the scan traces in ~2.5 s and trains about as fast (bench/ensemble_speed.py)
        import tensorflow as tf

        k, u = self.members, self.units
        batch, steps = tf.shape(x)[0], x.shape[1]
        if self.shared_input:       # every step's input projection in one einsum
            projected = tf.einsum("btf,kfg->tkbg", x, self.kernel)
        else:
            xk = tf.reshape(x, (batch, steps, k, u))
            projected = tf.einsum("btku,kug->tkbg", xk, self.kernel)
        projected = projected + self.bias[None, :, None, :]          # [T, members, B, 4u]
        hs = scan_lstm_cells(projected, self.recurrent_kernel, k, batch, u)  # [T, members, B, u]
        if self.return_sequences:                        # [B, T, members * units]
            return tf.reshape(tf.transpose(hs, (2, 0, 1, 3)), (batch, steps, k * u))
        return tf.reshape(tf.transpose(hs[-1], (1, 0, 2)), (batch, k * u))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "members": self.members,
                "seed": self.seed, "layer": self.layer,
                "return_sequences": self.return_sequences, "shared_input": self.shared_input}


def scan_lstm_cells(projected, recurrent, groups: int, batch, units: int):
    """Independent LSTM cells side by side, run over the steps with ``tf.scan``: ``projected``
    [T, groups, B, 4 units] is each step's input share of the gates (bias included),
    ``recurrent`` [groups, units, 4 units]; states start at zero. Returns the hidden states
    [T, groups, B, units]. Gates in Keras' order: input, forget, cell, output."""
    import tensorflow as tf

    def step(state, z_input):
        h, c = state
        i, f, g, o = tf.split(z_input + tf.matmul(h, recurrent), 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    zeros = tf.zeros((groups, batch, units), dtype=projected.dtype)
    hs, _ = tf.scan(step, projected, initializer=(zeros, zeros))
    return hs


@keras.saving.register_keras_serializable(package="lstm_lab")
class MemberDense(keras.layers.Layer):
    """Each member's Dense(outputs) on its own block of units: [B, members * units] ->
    [B, members, outputs]."""

    def __init__(self, outputs: int, members: int, seed: int, layer: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.outputs, self.members, self.seed, self.layer = outputs, members, seed, layer

    def build(self, input_shape) -> None:
        k = self.members
        u = input_shape[-1] // k
        wide = MemberInit("glorot", self.seed, self.layer, k, 1, True)((k * u, k * self.outputs))
        self.kernel = self.add_weight(name="kernel", shape=(k, u, self.outputs),
                                      initializer=_batched(wide, k, u, True, gates=1,
                                                           outputs=self.outputs))
        self.bias = self.add_weight(name="bias", shape=(k, self.outputs), initializer="zeros")

    def call(self, x):
        ops, k = keras.ops, self.members
        xk = ops.reshape(x, (ops.shape(x)[0], k, -1))                     # [B, members, units]
        return ops.einsum("bku,kuo->bko", xk, self.kernel) + self.bias[None]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "outputs": self.outputs, "members": self.members,
                "seed": self.seed, "layer": self.layer}


def _batched(wide, members: int, units: int, wide_input: bool, gates: int = 4,
             outputs: int | None = None):
    """An initializer returning the member blocks of the wide matrix ``wide`` stacked:
    [members, inputs, gates * units] (the layout of ``MemberLSTM`` / ``MemberDense``)."""
    blocks = to_batched(keras.ops.convert_to_numpy(wide), members, outputs or units, wide_input,
                        gates)
    return keras.initializers.Constant(blocks)


def to_batched(wide: np.ndarray, members: int, units: int, wide_input: bool,
               gates: int) -> np.ndarray:
    """Member k's block of a wide kernel [inputs, gates * members * units] (rows k's own inputs
    when ``wide_input``): [members, inputs per member, gates * units]."""
    rows, cols = wide.shape
    per_gate = cols // gates
    r = rows // members if wide_input else rows
    out = np.empty((members, r, gates * units), dtype="float32")
    for k in range(members):
        rows_k = slice(k * r, (k + 1) * r) if wide_input else slice(0, rows)
        for g in range(gates):
            out[k, :, g * units:(g + 1) * units] = \
                wide[rows_k, g * per_gate + k * units:g * per_gate + (k + 1) * units]
    return out


def to_wide(batched: np.ndarray, wide_input: bool, gates: int) -> np.ndarray:
    """The inverse of ``to_batched``: a wide kernel with zeros between members."""
    members, r, cols = batched.shape
    units = cols // gates
    rows = r * members if wide_input else r
    out = np.zeros((rows, gates * members * units), dtype="float32")
    per_gate = members * units
    for k in range(members):
        rows_k = slice(k * r, (k + 1) * r) if wide_input else slice(0, rows)
        for g in range(gates):
            out[rows_k, g * per_gate + k * units:g * per_gate + (k + 1) * units] = \
                batched[k, :, g * units:(g + 1) * units]
    return out


def wide_weights(batched_model) -> list[np.ndarray]:
    """The batched ensemble's weights in the order and layout of the wide model's
    ``get_weights()`` (kernel, recurrent kernel, bias per LSTM layer; kernel, bias of Dense)."""
    out = []
    for layer in batched_model.layers:
        if isinstance(layer, MemberLSTM):
            kernel, rec, bias = (keras.ops.convert_to_numpy(w) for w in
                                 (layer.kernel, layer.recurrent_kernel, layer.bias))
            out += [to_wide(kernel, not layer.shared_input, 4), to_wide(rec, True, 4),
                    to_wide(bias[:, None, :], False, 4)[0]]
        elif isinstance(layer, MemberDense):
            kernel, bias = (keras.ops.convert_to_numpy(w) for w in (layer.kernel, layer.bias))
            out += [to_wide(kernel, True, 1), to_wide(bias[:, None, :], False, 1)[0]]
    return out
