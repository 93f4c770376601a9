"""The LSTM family: one builder per architecture, all with ``build_lstm``'s signature.

Every builder takes ``(window, horizon, layers, units, dropout, learning_rate, n_features=1,
seed=0)`` and returns a compiled Keras model mapping ``[B, window, n_features]`` to
``[B, horizon]``, so the same windows, training loop, evaluation and charts serve them all.
Keras is imported inside the builders only, so importing this module stays cheap.

``ARCHITECTURES`` maps each name to its label, builder and a one-line explanation::

    >>> ARCHITECTURES["gru"].label
    'GRU'
    >>> model = ARCHITECTURES["cnn_lstm"].build(12, 1, units=8)   # 4 sub-windows of 3 steps
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lstm_lab.errors import ConfigError
from lstm_lab.models.networks import _dropout, _finish, _seeded, build_lstm, keras_code, lstm_params

if TYPE_CHECKING:
    import keras


def build_gru(window: int, horizon: int, layers: int = 1, units: int = 32, dropout: float = 0.0,
              learning_rate: float = 1e-3, n_features: int = 1, seed: int = 0) -> keras.Model:
    """Stacked GRU: like the LSTM but with two gates (reset, update) and no separate cell state."""
    import keras

    inputs = keras.Input((window, n_features), name="window")      # [B, window, features]
    x = inputs
    for i in range(layers):
        x = keras.layers.GRU(units, return_sequences=i < layers - 1, name=f"gru_{i + 1}",
                             **_seeded(seed, i, recurrent=True))(x)
        x = _dropout(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **_seeded(seed, layers))(x)  # [B, horizon]
    return _finish(inputs, outputs, "gru", learning_rate)


def build_bilstm(window: int, horizon: int, layers: int = 1, units: int = 32,
                 dropout: float = 0.0, learning_rate: float = 1e-3, n_features: int = 1,
                 seed: int = 0) -> keras.Model:
    """Bidirectional LSTM: one LSTM reads the window forwards, another backwards; their
    outputs are concatenated (2 x units per step)."""
    import keras

    inputs = keras.Input((window, n_features), name="window")      # [B, window, features]
    x = inputs
    for i in range(layers):
        seq = i < layers - 1
        forward = keras.layers.LSTM(units, return_sequences=seq, name=f"forward_{i + 1}",
                                    **_seeded(seed, i, recurrent=True))
        # its own seeds: a copy of the forward layer would start with the very same weights
        backward = keras.layers.LSTM(units, return_sequences=seq, go_backwards=True,
                                     name=f"backward_{i + 1}",
                                     **_seeded(seed + 7919, i, recurrent=True))
        x = keras.layers.Bidirectional(forward, backward_layer=backward,
                                       name=f"bilstm_{i + 1}")(x)  # [B, (window,) 2 * units]
        x = _dropout(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **_seeded(seed, layers))(x)  # [B, horizon]
    return _finish(inputs, outputs, "bilstm", learning_rate)


def build_cnn_lstm(window: int, horizon: int, layers: int = 1, units: int = 32,
                   dropout: float = 0.0, learning_rate: float = 1e-3, n_features: int = 1,
                   seed: int = 0) -> keras.Model:
    """CNN-LSTM: the window is cut into equal sub-windows (see ``sub_window_length``); one 1-D
    convolution (``units`` filters, kernel 2, ReLU) reads each sub-window, and the LSTM reads
    the sequence of sub-window features.

    Example: window 12 -> 4 sub-windows of 3 steps -> conv features [B, 4, 2 * units] -> LSTM.

    Raises:
        ConfigError: the window cannot be split into at least 2 sub-windows of at least 2 steps.
    """
    import keras

    length = sub_window_length(window)
    n_sub = window // length
    inputs = keras.Input((window, n_features), name="window")      # [B, window, features]
    x = keras.layers.Reshape((n_sub, length, n_features), name="sub_windows")(inputs)
    conv = keras.layers.Conv1D(units, 2, activation="relu", name="conv",
                               **_seeded(seed, 90))
    x = keras.layers.TimeDistributed(conv, name="conv_per_sub_window")(x)  # [B, n_sub, len-1, units]
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="features")(x)  # [B, n_sub, (len-1)*units]
    for i in range(layers):
        x = keras.layers.LSTM(units, return_sequences=i < layers - 1, name=f"lstm_{i + 1}",
                              **_seeded(seed, i, recurrent=True))(x)
        x = _dropout(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **_seeded(seed, layers))(x)  # [B, horizon]
    return _finish(inputs, outputs, "cnn_lstm", learning_rate)


def build_encoder_decoder(window: int, horizon: int, layers: int = 1, units: int = 32,
                          dropout: float = 0.0, learning_rate: float = 1e-3, n_features: int = 1,
                          seed: int = 0) -> keras.Model:
    """Encoder-decoder LSTM: the encoder (``layers`` stacked LSTMs) reads the window into one
    vector; ``RepeatVector`` hands it to every output step; a decoder LSTM unrolls it into an
    output sequence and one shared ``Dense(1)`` turns each decoder step into a value.

    The decoder's weights do not depend on ``horizon``: the same trained weights can emit a
    sequence of any length (see ``tasks.output_length_demo``).
    """
    import keras

    inputs = keras.Input((window, n_features), name="window")      # [B, window, features]
    x = inputs
    for i in range(layers):
        x = keras.layers.LSTM(units, return_sequences=i < layers - 1, name=f"encoder_{i + 1}",
                              **_seeded(seed, i, recurrent=True))(x)
        x = _dropout(x, dropout, seed, i)
    x = keras.layers.RepeatVector(horizon, name="repeat")(x)            # [B, horizon, units]
    x = keras.layers.LSTM(units, return_sequences=True, name="decoder",
                          **_seeded(seed, layers, recurrent=True))(x)  # [B, horizon, units]
    step = keras.layers.Dense(1, name="step", **_seeded(seed, layers + 1))
    x = keras.layers.TimeDistributed(step, name="per_step")(x)          # [B, horizon, 1]
    outputs = keras.layers.Reshape((horizon,), name="forecast")(x)      # [B, horizon]
    return _finish(inputs, outputs, "encoder_decoder", learning_rate)


@dataclass(frozen=True)
class Architecture:
    """One member of the family: how to call it, build it, and explain it in one line."""

    name: str
    label: str
    build: Callable[..., Any]
    help: str


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("lstm", "LSTM (vanilla / stacked)", build_lstm,
                 "One LSTM layer reads the window step by step (layers > 1 stacks them, each "
                 "reading the sequence of the one below)."),
    Architecture("gru", "GRU", build_gru,
                 "A lighter LSTM: two gates instead of three and no separate cell state; often "
                 "as accurate with fewer weights."),
    Architecture("bilstm", "Bidirectional LSTM", build_bilstm,
                 "Two LSTMs read the window, one forwards and one backwards, and the forecast "
                 "sees both summaries."),
    Architecture("cnn_lstm", "CNN-LSTM", build_cnn_lstm,
                 "A 1-D convolution extracts local patterns from equal sub-windows of the window; "
                 "an LSTM reads the sequence of those patterns."),
    Architecture("encoder_decoder", "Encoder-decoder LSTM", build_encoder_decoder,
                 "An encoder LSTM reads the window into one vector; a decoder LSTM unrolls it "
                 "into the multi-step output sequence (RepeatVector + decoder)."),
)}
ARCHITECTURE_NAMES: tuple[str, ...] = tuple(ARCHITECTURES)


def get_architecture(name: str) -> Architecture:
    """The architecture called ``name``; ConfigError listing the choices otherwise."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise ConfigError(f"`architecture` must be one of {', '.join(ARCHITECTURE_NAMES)}. "
                          f"Received: architecture={name!r}") from None


def build(architecture: str, window: int, horizon: int, layers: int = 1, units: int = 32,
          dropout: float = 0.0, learning_rate: float = 1e-3, n_features: int = 1,
          seed: int = 0) -> keras.Model:
    """Build ``architecture`` after checking that it can take this window."""
    check_window(architecture, window)
    return get_architecture(architecture).build(window, horizon, layers, units, dropout,
                                                learning_rate, n_features=n_features, seed=seed)


def sub_window_length(window: int) -> int:
    """CNN-LSTM sub-window length: the largest divisor of ``window`` between 2 and sqrt(window),
    so the window splits into at least as many sub-windows as each has steps (12 -> 4 x 3,
    24 -> 6 x 4, 8 -> 4 x 2).

    Raises:
        ConfigError: ``window`` is below 4 or prime, so no such split exists.
    """
    for length in range(math.isqrt(max(window, 0)), 1, -1):
        if window % length == 0:
            return length
    raise ConfigError(
        "architecture=cnn_lstm cuts the window into at least 2 equal sub-windows of at least 2 "
        "steps, so the window must be a whole multiple of a number from 2 up to its square root "
        f"(4, 6, 8, 9, 10, 12, ...). Received: window={window}. Try window="
        f"{_nearest_composite(window)}.")


def check_window(architecture: str, window: int) -> None:
    """Raise ConfigError when ``architecture`` cannot take a window of this length (only the
    CNN-LSTM has a constraint: see ``sub_window_length``)."""
    get_architecture(architecture)
    if architecture == "cnn_lstm":
        sub_window_length(window)


def count_params(architecture: str, window: int, horizon: int = 1, layers: int = 1,
                 units: int = 32, n_features: int = 1) -> int:
    """Trainable weights of ``architecture``, by formula (the tests check Keras' count).

    LSTM: 4 gates x (inputs + units + 1) x units per layer. GRU: 3 x (inputs + units + 2) x units
    (Keras' GRU has two bias vectors, ``reset_after=True``). Bidirectional: two LSTMs, and the next
    layer reads 2 x units. CNN-LSTM: conv (2 x features + 1) x units, then the LSTM reads
    (sub-window - 1) x units per step. Encoder-decoder: the encoder stack, a decoder LSTM reading
    units, and Dense(1) shared over the output steps.
    """
    get_architecture(architecture)

    def lstm_stack(inputs: int, depth: int, gates: int = 4, biases: int = 1) -> tuple[int, int]:
        total = 0
        for _ in range(depth):
            total += gates * units * (inputs + units + biases)
            inputs = units
        return total, inputs

    if architecture == "lstm":
        return lstm_params(n_features, units, layers, horizon)
    if architecture == "gru":
        total, last = lstm_stack(n_features, layers, gates=3, biases=2)
        return total + last * horizon + horizon
    if architecture == "bilstm":
        total, inputs = 0, n_features
        for _ in range(layers):
            total += 2 * 4 * units * (inputs + units + 1)
            inputs = 2 * units
        return total + inputs * horizon + horizon
    if architecture == "cnn_lstm":
        length = sub_window_length(window)
        conv = 2 * n_features * units + units
        total, last = lstm_stack((length - 1) * units, layers)
        return conv + total + last * horizon + horizon
    # encoder_decoder
    encoder, last = lstm_stack(n_features, layers)
    decoder = 4 * units * (last + units + 1)
    return encoder + decoder + units + 1


def architecture_keras_code(config) -> str:
    """``models.keras_code`` for any architecture: a runnable script rebuilding the config's
    network with plain Keras. Reads ``config.architecture`` (``"lstm"`` when the config has no
    such field)."""
    architecture = getattr(config, "architecture", "lstm")
    get_architecture(architecture)
    code = keras_code(config)
    if architecture == "lstm":
        return code
    lines = code.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("x = inputs"))
    end = next(i for i, line in enumerate(lines) if line.startswith("model = keras.Model"))
    body = _code_body(architecture, config)
    lines[0] = f"# LSTM Lab export: rebuilds the {ARCHITECTURES[architecture].label} of this " \
               "experiment with plain Keras."
    return "\n".join(lines[:start] + body + lines[end:]) + "\n"


def _code_body(architecture: str, config) -> list[str]:
    """The lines between ``inputs = keras.Input(...)`` and ``model = keras.Model(...)``."""
    units, layers, dropout = config.units, config.layers, config.dropout
    drop = [f"x = keras.layers.Dropout({dropout})(x)"] if dropout else []
    body = ["x = inputs"]
    if architecture == "cnn_lstm":
        length = sub_window_length(config.window)
        body += [f"# {config.window // length} sub-windows of {length} steps each",
                 f"x = keras.layers.Reshape(({config.window // length}, {length}, 1))(x)",
                 "x = keras.layers.TimeDistributed(keras.layers.Conv1D("
                 f"{units}, 2, activation='relu'))(x)",
                 "x = keras.layers.TimeDistributed(keras.layers.Flatten())(x)"]
    for i in range(layers):
        seq = i < layers - 1
        if architecture == "gru":
            body.append(f"x = keras.layers.GRU({units}, return_sequences={seq})(x)")
        elif architecture == "bilstm":
            body.append(f"x = keras.layers.Bidirectional(keras.layers.LSTM({units}, "
                        f"return_sequences={seq}))(x)")
        else:  # cnn_lstm, encoder_decoder: plain LSTM layers
            body.append(f"x = keras.layers.LSTM({units}, return_sequences={seq})(x)")
        body += drop
    if architecture == "encoder_decoder":
        body += ["x = keras.layers.RepeatVector(horizon)(x)          # [B, horizon, units]",
                 f"x = keras.layers.LSTM({units}, return_sequences=True)(x)",
                 "x = keras.layers.TimeDistributed(keras.layers.Dense(1))(x)",
                 "outputs = keras.layers.Reshape((horizon,))(x)      # [B, horizon]"]
    else:
        body.append("outputs = keras.layers.Dense(horizon)(x)")
    return body


def _nearest_composite(window: int) -> str:
    """The closest windows the CNN-LSTM accepts, e.g. '6 or 8' for 7."""
    def ok(w: int) -> bool:
        return w >= 4 and any(w % d == 0 for d in range(2, math.isqrt(w) + 1))

    below = next((w for w in range(window - 1, 3, -1) if ok(w)), None)
    above = next(w for w in range(max(window + 1, 4), window + 100) if ok(w))
    return f"{below} or {above}" if below else str(above)
