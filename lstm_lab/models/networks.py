"""Keras model builders (LSTM, MLP) and the layers every network of the lab shares.

Nothing is fitted here. Keras is imported inside each function, never at the top: importing the
lab (and opening the app) must not load TensorFlow until a network is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras


def build_lstm(window: int, horizon: int, layers: int = 1, units: int = 32, dropout: float = 0.0,
               learning_rate: float = 1e-3, n_features: int = 1, seed: int = 0) -> keras.Model:
    """Stacked LSTM: input (batch, window, n_features) -> output (batch, horizon).

    ``return_sequences`` is on for every LSTM layer but the last, so each layer hands the next a
    whole sequence of hidden states (a coarser time scale per layer).
    """
    return build_stacked("LSTM", window, horizon, layers, units, dropout, learning_rate,
                         n_features, seed)


def build_stacked(cell: str, window: int, horizon: int, layers: int, units: int, dropout: float,
                  learning_rate: float, n_features: int, seed: int) -> keras.Model:
    """Stacked recurrent layers of Keras' ``cell`` ("LSTM" or "GRU"), then Dense(horizon); the
    layers are named ``lstm_1``... / ``gru_1``... and the model ``lstm`` / ``gru``."""
    import keras

    name = cell.lower()
    inputs = keras.Input((window, n_features), name="window")      # [B, window, features]
    x = inputs
    for i in range(layers):
        x = getattr(keras.layers, cell)(units, return_sequences=i < layers - 1,
                                        name=f"{name}_{i + 1}",
                                        **seeded(seed, i, recurrent=True))(x)
        x = dropout_after(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **seeded(seed, layers))(x)  # [B, horizon]
    return compiled(inputs, outputs, name, learning_rate)


def build_mlp(window: int, horizon: int, layers: int = 1, units: int = 32, dropout: float = 0.0,
              learning_rate: float = 1e-3, n_features: int = 1, seed: int = 0) -> keras.Model:
    """MLP sliding-window baseline: the window flattened to window * n_features inputs."""
    import keras

    inputs = keras.Input((window * n_features,), name="window")   # [B, window * features]
    x = inputs
    for i in range(layers):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i + 1}",
                               **seeded(seed, i))(x)
        x = dropout_after(x, dropout, seed, i)
    outputs = keras.layers.Dense(horizon, name="forecast", **seeded(seed, layers))(x)  # [B, horizon]
    return compiled(inputs, outputs, "mlp", learning_rate)


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


def keras_code(config) -> str:
    """A short, runnable script that rebuilds and trains this config's LSTM on its own data."""
    lines = [
        "# LSTM Lab export: rebuilds the LSTM of this experiment with plain Keras.",
        "import numpy as np",
        "import keras",
        "",
        f"window, horizon = {config.window}, {config.horizon}",
        "inputs = keras.Input((window, 1))",
        "x = inputs",
    ]
    for i in range(config.layers):
        seq = i < config.layers - 1
        lines.append(f"x = keras.layers.LSTM({config.units}, return_sequences={seq})(x)")
        if config.dropout:
            lines.append(f"x = keras.layers.Dropout({config.dropout})(x)")
    lines += [
        "outputs = keras.layers.Dense(horizon)(x)",
        "model = keras.Model(inputs, outputs)",
        f"model.compile(optimizer=keras.optimizers.Adam({config.learning_rate}), loss='mse')",
        "model.summary()",
        "",
        "# Your series, already transformed and scaled (LSTM Lab uses "
        f"transform={config.transform!r}, standardised on the training part):",
        "values = np.sin(np.arange(200) / 6).astype('float32')",
        "n = len(values) - window - horizon + 1",
        "idx = np.arange(n)[:, None]",
        "X = values[idx + np.arange(window)][..., None]     # [n, window, 1]",
        "y = values[idx + window + np.arange(horizon)]       # [n, horizon]",
        f"model.fit(X, y, epochs={config.epochs}, batch_size={config.batch_size}, verbose=0,",
        f"          validation_split={config.validation_fraction}, callbacks=["
        f"keras.callbacks.EarlyStopping(patience={max(config.patience, 1)}, "
        "restore_best_weights=True)])",
        "print(model.predict(X[-1:], verbose=0))",
    ]
    return "\n".join(lines) + "\n"
