"""Keras model builders (LSTM, MLP) and the layers every network of the lab shares.

Nothing is fitted here. Keras is imported inside each function, never at the top: importing the
lab (and opening the app) must not load TensorFlow until a network is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

# An LSTM ensemble with a window up to this long trains with batched weights (ensembles.py); a
# longer one as the wide model (its unrolled graph would grow with the window).
MAX_BATCHED_STEPS = 48


def build_lstm(window: int, horizon: int, layers: int = 1, units: int = 32, dropout: float = 0.0,
               learning_rate: float = 1e-3, n_features: int = 1, seed: int = 0,
               members: int = 1) -> keras.Model:
    """Stacked LSTM: input (batch, window, n_features) -> output (batch, horizon).

    ``return_sequences`` is on for every LSTM layer but the last, so each layer hands the next a
    whole sequence of hidden states (a coarser time scale per layer). ``members`` > 1: an
    ensemble in one model (see ``build_stacked``), output (batch, members, horizon).
    """
    return build_stacked("LSTM", window, horizon, layers, units, dropout, learning_rate,
                         n_features, seed, members)


def build_stacked(cell: str, window: int, horizon: int, layers: int, units: int, dropout: float,
                  learning_rate: float, n_features: int, seed: int,
                  members: int = 1) -> keras.Model:
    """Stacked recurrent layers of Keras' ``cell`` ("LSTM" or "GRU"), then Dense(horizon); the
    layers are named ``lstm_1``... / ``gru_1``... and the model ``lstm`` / ``gru``.

    ``members`` > 1 builds an ensemble of that many networks side by side in one model: each
    layer has ``members * units`` units, and ``MemberBlocks`` keeps every weight between two
    different members at zero, so the members never mix (each is exactly a network of ``units``
    units with its own seed) but train in one pass: on a CPU, a step of 5 members costs about
    what a step of one does. Output: [B, members, horizon] (see ``ensembles.py``).
    """
    import keras

    name = cell.lower()
    gates = {"LSTM": 4, "GRU": 3}[cell]
    inputs = keras.Input((window, n_features), name="window")      # [B, window, features]
    x = inputs
    for i in range(layers):
        x = getattr(keras.layers, cell)(units * members, return_sequences=i < layers - 1,
                                        name=f"{name}_{i + 1}",
                                        **member_weights(seed, i, members, gates, wide_input=i > 0,
                                                         recurrent=True))(x)
        x = dropout_after(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon * members, name="forecast",
                                 **member_weights(seed, layers, members, 1, wide_input=True))(x)
    return compiled(inputs, as_members(outputs, members, horizon), name, learning_rate)


def build_mlp(window: int, horizon: int, layers: int = 1, units: int = 32, dropout: float = 0.0,
              learning_rate: float = 1e-3, n_features: int = 1, seed: int = 0,
              members: int = 1) -> keras.Model:
    """MLP sliding-window baseline: the window flattened to window * n_features inputs
    (``members`` > 1: an ensemble side by side, as in ``build_stacked``)."""
    import keras

    inputs = keras.Input((window * n_features,), name="window")   # [B, window * features]
    x = inputs
    for i in range(layers):
        x = keras.layers.Dense(units * members, activation="relu", name=f"dense_{i + 1}",
                               **member_weights(seed, i, members, 1, wide_input=i > 0))(x)
        x = dropout_after(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon * members, name="forecast",
                                 **member_weights(seed, layers, members, 1, wide_input=True))(x)
    return compiled(inputs, as_members(outputs, members, horizon), "mlp", learning_rate)


def member_weights(seed: int, layer: int, members: int, gates: int, wide_input: bool,
                   recurrent: bool = False) -> dict:
    """A layer's initializers (``seeded``), and for an ensemble the member-block constraints."""
    if members == 1:
        return seeded(seed, layer, recurrent=recurrent)
    from lstm_lab.models.ensembles import member_layer_weights

    return member_layer_weights(seed, layer, members, gates, wide_input, recurrent)


def as_members(outputs, members: int, horizon: int):
    """An ensemble's flat output [B, members * horizon] as [B, members, horizon]."""
    if members == 1:
        return outputs
    import keras

    return keras.layers.Reshape((members, horizon), name="members")(outputs)


def build_batched_lstm(window: int, horizon: int, layers: int, units: int, dropout: float,
                       learning_rate: float, seed: int, members: int, n_features: int = 1):
    """The ensemble of ``networks.build_lstm(..., members=members)`` with batched weights, for
    training; ``ensembles.wide_weights`` turns its weights into the wide model's."""
    import keras

    from lstm_lab.models.ensembles import MemberDense, MemberLSTM

    inputs = keras.Input((window, n_features), name="window")
    x = inputs
    for i in range(layers):
        x = MemberLSTM(units, members, seed, i, return_sequences=i < layers - 1,
                       shared_input=i == 0, name=f"lstm_{i + 1}")(x)
        x = dropout_after(x, dropout, seed, i)
    outputs = MemberDense(horizon, members, seed, layers, name="members")(x)
    return compiled(inputs, outputs, "lstm", learning_rate)


def seeded(seed: int, layer: int, recurrent: bool = False) -> dict:
    """Initializers with explicit seeds: the same weights whatever else runs in the process
    (concurrent trainings in one server would otherwise share Keras' global seed state)."""
    import keras

    base = seed * 1000 + layer * 10
    kwargs = {"kernel_initializer": keras.initializers.GlorotUniform(seed=base)}
    if recurrent:
        kwargs["recurrent_initializer"] = keras.initializers.Orthogonal(seed=base + 1)
    return kwargs


def dropout_after(x, dropout: float, seed: int, i: int):
    """Dropout after layer ``i`` (seeded, so concurrent trainings do not share a stream)."""
    import keras

    if not dropout:
        return x
    return keras.layers.Dropout(dropout, seed=seed + 100 + i, name=f"dropout_{i + 1}")(x)


def compiled(inputs, outputs, name: str, learning_rate: float) -> keras.Model:
    """The model from ``inputs`` to ``outputs``, compiled with Adam and MSE."""
    import keras

    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


def lstm_params(n_features: int, units: int, layers: int = 1, horizon: int = 1) -> int:
    """Weights of a stacked LSTM: 4 gates x (inputs + recurrent + bias) per layer, plus Dense."""
    total, inputs = 0, n_features
    for _ in range(layers):
        total += 4 * units * (inputs + units + 1)
        inputs = units
    return total + units * horizon + horizon


def mlp_params(n_features: int, window: int, units: int, layers: int = 1, horizon: int = 1) -> int:
    """Weights of the MLP: its first layer sees window x features inputs at once."""
    total, inputs = 0, window * n_features
    for _ in range(layers):
        total += inputs * units + units
        inputs = units
    return total + units * horizon + horizon


def keras_code(config, body: list[str] | None = None, label: str = "LSTM",
               members: int | None = None) -> str:
    """A short, runnable script that rebuilds and trains this config's LSTM on its own data.

    ``body``: the lines from ``x = inputs`` to ``outputs = ...`` (default: the stacked LSTM;
    ``architectures.architecture_keras_code`` passes the other architectures'), ``label`` the
    network's name in the first comment, ``members`` the ensemble size (default
    ``config.members``). An ensemble (members > 1) is written plainly: a ``build_model(seed)``
    function, one network trained per seed in a loop, and the forecasts' mean or median per
    ``config.combine`` (the lab trains the same networks side by side in one wide model). The
    ES hybrid (transform es / log_es) gets a comment on what the lab does to the series first.
    """
    if body is None:
        body = []
        for i in range(config.layers):
            seq = i < config.layers - 1
            body.append(f"x = keras.layers.LSTM({config.units}, return_sequences={seq})(x)")
            if config.dropout:
                body.append(f"x = keras.layers.Dropout({config.dropout})(x)")
        body.append("outputs = keras.layers.Dense(horizon)(x)")
    members = int(getattr(config, "members", 1) or 1) if members is None else members
    network = [
        "inputs = keras.Input((window, 1))",
        "x = inputs",
        *body,
        "model = keras.Model(inputs, outputs)",
        f"model.compile(optimizer=keras.optimizers.Adam({config.learning_rate}), loss='mse')",
    ]
    fit = [f"model.fit(X, y, epochs={config.epochs}, batch_size={config.batch_size}, verbose=0,",
           f"          validation_split={config.validation_fraction}, callbacks=["
           f"keras.callbacks.EarlyStopping(patience={max(config.patience, 1)}, "
           "restore_best_weights=True)])"]
    lines = [
        f"# LSTM Lab export: rebuilds the {label} of this experiment with plain Keras.",
        "import numpy as np",
        "import keras",
        "",
        f"window, horizon = {config.window}, {config.horizon}",
    ]
    if members > 1:
        combine = getattr(config, "combine", "mean")
        lines += [
            f"members = {members}      # an ensemble: {members} networks, each from its own seed",
            "",
            "",
            "def build_model(seed):",
            "    keras.utils.set_random_seed(seed)     # each member starts from its own weights",
            *[f"    {line}" for line in network],
            "    return model",
            "",
            "",
            "model = build_model(0)",
        ]
    else:
        lines += network
    lines += ["model.summary()", "", *_es_comment(config),
              "# Your series, already transformed and scaled (LSTM Lab uses "
              f"transform={config.transform!r}, standardised on the training part):",
              "values = np.sin(np.arange(200) / 6).astype('float32')",
              "n = len(values) - window - horizon + 1",
              "idx = np.arange(n)[:, None]",
              "X = values[idx + np.arange(window)][..., None]     # [n, window, 1]",
              "y = values[idx + window + np.arange(horizon)]       # [n, horizon]"]
    if members > 1:
        how = "median" if combine == "median" else "mean"
        lines += [
            "forecasts = []",
            "for seed in range(members):",
            "    model = build_model(seed)",
            *[f"    {line}" for line in fit],
            "    forecasts.append(model.predict(X[-1:], verbose=0))     # [1, horizon]",
            "forecasts = np.stack(forecasts, axis=1)                  # [1, members, horizon]",
            f"# the ensemble's forecast: the {how} of its members' (LSTM Lab: combine={how!r})",
            f"print(np.{how}(forecasts, axis=1))",
        ]
    else:
        lines += [*fit, "print(model.predict(X[-1:], verbose=0))"]
    return "\n".join(lines) + "\n"


def _es_comment(config) -> list[str]:
    """What the ES hybrid (transform es / log_es) does to the series before a network sees it."""
    if getattr(config, "transform", "") not in ("es", "log_es"):
        return []
    log = "the log of " if config.transform == "log_es" else ""
    return [
        f"# The ES hybrid (transform={config.transform!r}): LSTM Lab fitted Holt-Winters "
        "exponential smoothing",
        "# (damped trend, additive seasonal indices) on the training part only, then normalised",
        f"# {log}the series by it: the seasonal index of each step is subtracted, every input",
        "# window is read relative to the smoothed level at its last point, and the targets",
        "# relative to the smoothing's own forecast (that level carried on by the damped trend).",
        "# The network learns what the smoothing misses; a forecast adds the level, trend and",
        "# season back. To repeat it, fit e.g. statsmodels' ExponentialSmoothing on your training",
        "# part and normalise your windows the same way before the lines below.",
        *_es_weight_comment(config),
    ]


def _es_weight_comment(config) -> list[str]:
    """How the lab combined the network's forecast with the smoothing's (``es_weight``)."""
    weight = float(getattr(config, "es_weight", 0.0) or 0.0)
    if not weight:
        return []
    return [f"# LSTM Lab's forecast is then {1 - weight:g} x the network's + {weight:g} x the "
            f"smoothing's own (es_weight={weight:g})."]
