"""The LSTM family: one builder per architecture, all with ``build_lstm``'s signature.

Every builder takes ``(window, horizon, layers, units, dropout, learning_rate, n_features=1,
seed=0)`` and returns a compiled Keras model mapping ``[B, window, n_features]`` to
``[B, horizon]``, so the same windows, training loop, evaluation and charts serve them all.
Keras is imported inside the builders only, so importing this module stays cheap.

``ARCHITECTURES`` holds one spec per architecture: its builder, labels, weight count, exported
Keras code and window rule, so adding one is one builder plus one spec::

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
from lstm_lab.models.networks import (
    build_lstm,
    build_stacked,
    compiled,
    dropout_after,
    keras_code,
    lstm_params,
    seeded,
)

if TYPE_CHECKING:
    import keras


def build_gru(window: int, horizon: int, layers: int = 1, units: int = 32, dropout: float = 0.0,
              learning_rate: float = 1e-3, n_features: int = 1, seed: int = 0,
              members: int = 1) -> keras.Model:
    """Stacked GRU: like the LSTM but with two gates (reset, update) and no separate cell state."""
    return build_stacked("GRU", window, horizon, layers, units, dropout, learning_rate,
                         n_features, seed, members)


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
                                    **seeded(seed, i, recurrent=True))
        # its own seeds: a copy of the forward layer would start with the very same weights
        backward = keras.layers.LSTM(units, return_sequences=seq, go_backwards=True,
                                     name=f"backward_{i + 1}",
                                     **seeded(seed + 7919, i, recurrent=True))
        x = keras.layers.Bidirectional(forward, backward_layer=backward,
                                       name=f"bilstm_{i + 1}")(x)  # [B, (window,) 2 * units]
        x = dropout_after(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **seeded(seed, layers))(x)  # [B, horizon]
    return compiled(inputs, outputs, "bilstm", learning_rate)


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
                               **seeded(seed, 90))
    x = keras.layers.TimeDistributed(conv, name="conv_per_sub_window")(x)  # [B, n_sub, len-1, units]
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="features")(x)  # [B, n_sub, (len-1)*units]
    for i in range(layers):
        x = keras.layers.LSTM(units, return_sequences=i < layers - 1, name=f"lstm_{i + 1}",
                              **seeded(seed, i, recurrent=True))(x)
        x = dropout_after(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **seeded(seed, layers))(x)  # [B, horizon]
    return compiled(inputs, outputs, "cnn_lstm", learning_rate)


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
                              **seeded(seed, i, recurrent=True))(x)
        x = dropout_after(x, dropout, seed, i)
    x = keras.layers.RepeatVector(horizon, name="repeat")(x)            # [B, horizon, units]
    x = keras.layers.LSTM(units, return_sequences=True, name="decoder",
                          **seeded(seed, layers, recurrent=True))(x)  # [B, horizon, units]
    step = keras.layers.Dense(1, name="step", **seeded(seed, layers + 1))
    x = keras.layers.TimeDistributed(step, name="per_step")(x)          # [B, horizon, 1]
    outputs = keras.layers.Reshape((horizon,), name="forecast")(x)      # [B, horizon]
    return compiled(inputs, outputs, "encoder_decoder", learning_rate)


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


# --- weight counts, by formula (the tests check Keras' count) -----------------------------------
def _stack(inputs: int, depth: int, units: int, gates: int = 4, biases: int = 1) -> tuple[int, int]:
    """Weights of ``depth`` stacked recurrent layers, and the width the last one outputs."""
    total = 0
    for _ in range(depth):
        total += gates * units * (inputs + units + biases)
        inputs = units
    return total, inputs


def _lstm_count(window: int, horizon: int, layers: int, units: int, n_features: int) -> int:
    """4 gates x (inputs + units + 1) x units per layer, then Dense(horizon)."""
    return lstm_params(n_features, units, layers, horizon)


def _gru_count(window: int, horizon: int, layers: int, units: int, n_features: int) -> int:
    """3 x (inputs + units + 2) x units per layer (Keras' GRU has two bias vectors,
    ``reset_after=True``), then Dense(horizon)."""
    total, last = _stack(n_features, layers, units, gates=3, biases=2)
    return total + last * horizon + horizon


def _bilstm_count(window: int, horizon: int, layers: int, units: int, n_features: int) -> int:
    """Two LSTMs per layer; the next layer reads 2 x units."""
    total, inputs = 0, n_features
    for _ in range(layers):
        total += 2 * 4 * units * (inputs + units + 1)
        inputs = 2 * units
    return total + inputs * horizon + horizon


def _cnn_lstm_count(window: int, horizon: int, layers: int, units: int, n_features: int) -> int:
    """Conv (2 x features + 1) x units, then the LSTM reads (sub-window - 1) x units per step."""
    conv = 2 * n_features * units + units
    total, last = _stack((sub_window_length(window) - 1) * units, layers, units)
    return conv + total + last * horizon + horizon


def _encoder_decoder_count(window: int, horizon: int, layers: int, units: int,
                           n_features: int) -> int:
    """The encoder stack, a decoder LSTM reading units, and Dense(1) shared over the steps."""
    encoder, last = _stack(n_features, layers, units)
    decoder = 4 * units * (last + units + 1)
    return encoder + decoder + units + 1


# --- the exported Keras code: the lines between ``inputs = ...`` and ``model = ...`` ------------
def _recurrent_code(layer: str) -> Callable[[Any], list[str]]:
    """Code for ``layers`` stacked layers, each written by ``layer.format(units=, seq=)``."""
    def lines(config) -> list[str]:
        drop = [f"x = keras.layers.Dropout({config.dropout})(x)"] if config.dropout else []
        body = []
        for i in range(config.layers):
            body.append(layer.format(units=config.units, seq=i < config.layers - 1))
            body += drop
        return body
    return lines


_LSTM_LAYER = "x = keras.layers.LSTM({units}, return_sequences={seq})(x)"
_DENSE_OUT = ["outputs = keras.layers.Dense(horizon)(x)"]


def _gru_code(config) -> list[str]:
    return _recurrent_code("x = keras.layers.GRU({units}, return_sequences={seq})(x)")(config) \
        + _DENSE_OUT


def _bilstm_code(config) -> list[str]:
    return _recurrent_code("x = keras.layers.Bidirectional(keras.layers.LSTM({units}, "
                           "return_sequences={seq}))(x)")(config) + _DENSE_OUT


def _cnn_lstm_code(config) -> list[str]:
    length = sub_window_length(config.window)
    return [f"# {config.window // length} sub-windows of {length} steps each",
            f"x = keras.layers.Reshape(({config.window // length}, {length}, 1))(x)",
            "x = keras.layers.TimeDistributed(keras.layers.Conv1D("
            f"{config.units}, 2, activation='relu'))(x)",
            "x = keras.layers.TimeDistributed(keras.layers.Flatten())(x)",
            *_recurrent_code(_LSTM_LAYER)(config), *_DENSE_OUT]


def _encoder_decoder_code(config) -> list[str]:
    return [*_recurrent_code(_LSTM_LAYER)(config),
            "x = keras.layers.RepeatVector(horizon)(x)          # [B, horizon, units]",
            f"x = keras.layers.LSTM({config.units}, return_sequences=True)(x)",
            "x = keras.layers.TimeDistributed(keras.layers.Dense(1))(x)",
            "outputs = keras.layers.Reshape((horizon,))(x)      # [B, horizon]"]


def _any_window(window: int) -> None:
    """Every window length works."""


def _cnn_lstm_window(window: int) -> None:
    sub_window_length(window)


@dataclass(frozen=True)
class Architecture:
    """One member of the family, declared once: how to build it, name it, count its weights,
    export it as Keras code, and which windows it takes.

    ``label`` names it in choices ("Bidirectional LSTM"); ``short`` names a trained network in
    results ("BiLSTM", "GRU ×2"). ``code`` writes the lines between ``inputs = keras.Input(...)``
    and ``model = keras.Model(...)`` (None: ``networks.keras_code`` as it is). ``decoder``: a
    decoder unrolls ``horizon`` further steps (so ``layers`` is the encoder's depth).
    """

    name: str
    label: str
    short: str
    build: Callable[..., Any]
    help: str
    count: Callable[[int, int, int, int, int], int]
    code: Callable[[Any], list[str]] | None = None
    check_window: Callable[[int], None] = _any_window
    decoder: bool = False
    ensembles: bool = False   # its builder takes ``members`` (an ensemble in one model)


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("lstm", "LSTM (vanilla / stacked)", "LSTM", build_lstm,
                 "One LSTM layer reads the window step by step (layers > 1 stacks them, each "
                 "reading the sequence of the one below).", _lstm_count, ensembles=True),
    Architecture("gru", "GRU", "GRU", build_gru,
                 "A lighter LSTM: two gates instead of three and no separate cell state; often "
                 "as accurate with fewer weights.", _gru_count, _gru_code, ensembles=True),
    Architecture("bilstm", "Bidirectional LSTM", "BiLSTM", build_bilstm,
                 "Two LSTMs read the window, one forwards and one backwards, and the forecast "
                 "sees both summaries.", _bilstm_count, _bilstm_code),
    Architecture("cnn_lstm", "CNN-LSTM", "CNN-LSTM", build_cnn_lstm,
                 "A 1-D convolution extracts local patterns from equal sub-windows of the window; "
                 "an LSTM reads the sequence of those patterns.", _cnn_lstm_count, _cnn_lstm_code,
                 _cnn_lstm_window),
    Architecture("encoder_decoder", "Encoder-decoder LSTM", "Encoder-decoder LSTM",
                 build_encoder_decoder,
                 "An encoder LSTM reads the window into one vector; a decoder LSTM unrolls it "
                 "into the multi-step output sequence (RepeatVector + decoder).",
                 _encoder_decoder_count, _encoder_decoder_code, decoder=True),
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
          seed: int = 0, members: int = 1) -> keras.Model:
    """Build ``architecture`` after checking that it can take this window; ``members`` > 1
    (for an architecture that ``ensembles``) builds that many side by side in one model."""
    check_window(architecture, window)
    spec = get_architecture(architecture)
    extra = {"members": members} if members > 1 and spec.ensembles else {}
    return spec.build(window, horizon, layers, units, dropout, learning_rate,
                      n_features=n_features, seed=seed, **extra)


def ensemble_size(architecture: str, members: int) -> int:
    """How many networks an ensemble of ``members`` of ``architecture`` trains: ``members`` for
    the architectures that ensemble (LSTM, GRU), else 1."""
    return members if get_architecture(architecture).ensembles else 1


def check_window(architecture: str, window: int) -> None:
    """Raise ConfigError when ``architecture`` cannot take a window of this length (only the
    CNN-LSTM has a constraint: see ``sub_window_length``)."""
    get_architecture(architecture).check_window(window)


def count_params(architecture: str, window: int, horizon: int = 1, layers: int = 1,
                 units: int = 32, n_features: int = 1) -> int:
    """Trainable weights of ``architecture``, by formula (see each ``_*_count``)."""
    return get_architecture(architecture).count(window, horizon, layers, units, n_features)


def steps_per_window(architecture: str, window: int, horizon: int) -> int:
    """Time steps the network runs per window: the window, plus the horizon for a decoder."""
    return window + (horizon if get_architecture(architecture).decoder else 0)


def network_label(config) -> str:
    """How a result names the config's recurrent network: "GRU", "LSTM ×2", "BiLSTM ×3"
    (an encoder-decoder's layers are its encoder's depth, so it keeps its name); the ES hybrid
    is "ES-LSTM", an ensemble adds its size: "ES-LSTM (5 seeds)"."""
    spec = ARCHITECTURES.get(config.architecture, ARCHITECTURES["lstm"])
    name = spec.short
    if config.layers > 1 and not spec.decoder:
        name = f"{name} ×{config.layers}"
    return ensemble_label(config, name, ensemble_size(spec.name, getattr(config, "members", 1)))


def mlp_label(config) -> str:
    """How a result names the config's MLP: "MLP", "ES-MLP (5 seeds)"."""
    return ensemble_label(config, "MLP", getattr(config, "members", 1))


def ensemble_label(config, name: str, members: int) -> str:
    """``name`` with "ES-" for the ES hybrid and "(K seeds)" for an ensemble of K."""
    if getattr(config, "transform", "") in ("es", "log_es"):
        name = f"ES-{name}"
    return f"{name} ({members} seeds)" if members > 1 else name


def architecture_keras_code(config) -> str:
    """``networks.keras_code`` for any architecture: a runnable script rebuilding the config's
    network with plain Keras. Reads ``config.architecture`` (``"lstm"`` when the config has no
    such field); an ensemble trains one network per seed only for the architectures that
    ensemble (``ensemble_size``), as the lab does."""
    spec = get_architecture(getattr(config, "architecture", "lstm"))
    members = ensemble_size(spec.name, int(getattr(config, "members", 1) or 1))
    if spec.code is None:
        return keras_code(config, members=members)
    return keras_code(config, spec.code(config), spec.label, members)


def _nearest_composite(window: int) -> str:
    """The closest windows the CNN-LSTM accepts, e.g. '6 or 8' for 7."""
    def ok(w: int) -> bool:
        return w >= 4 and any(w % d == 0 for d in range(2, math.isqrt(w) + 1))

    below = next((w for w in range(window - 1, 3, -1) if ok(w)), None)
    above = next(w for w in range(max(window + 1, 4), window + 100) if ok(w))
    return f"{below} or {above}" if below else str(above)
