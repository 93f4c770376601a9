"""Problems an MLP on sliding windows struggles with, as datasets and small live experiments.

- ``make_echo`` / ``echo_experiment``: repeat the value seen k steps ago. The MLP only sees its
  window; the LSTM reads the whole sequence one step at a time and can carry a value in its state.
- ``make_parallel_series`` / ``parallel_parameter_table`` / ``parallel_experiment``: several input
  series predict one target. The MLP's input is window x series wide; the LSTM takes one vector
  of series values per step.
- ``variable_length_demo``: one LSTM (with ``Masking``) reads sequences of any length; the MLP
  needs every input padded to one fixed size and cannot take a longer one at all.
- ``output_length_demo``: an encoder-decoder LSTM emits output sequences of any length from the
  same weights; the MLP's output layer fixes the number of outputs.

Each experiment trains tiny networks with a compiled loop (random mini-batches inside one
``tf.function``) and runs in a few seconds on two CPU cores. Keras and TensorFlow are imported
inside the functions that train, on purpose: importing them takes seconds and hundreds of MB, and
``import lstm_lab`` (the CLI, the pages that train nothing) must not load them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from lstm_lab.data.windows import make_windows
from lstm_lab.errors import ConfigError
from lstm_lab.models.architectures import build_encoder_decoder
from lstm_lab.models.fitting import fit_compiled
from lstm_lab.models.networks import build_lstm, build_mlp, lstm_params, mlp_params

StopFlag = Callable[[], bool]   # polled between chunks of training steps; True ends training
CHUNK_STEPS = 100               # training steps between two looks at the stop flag

# --- echo: memory beyond the window ------------------------------------------------------------


def make_echo(n_sequences: int, length: int, n_values: int, k: int,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random integer sequences, one-hot encoded; the target at step t is the value at t - k.

    Args:
        n_sequences: how many sequences.
        length: steps per sequence.
        n_values: integers are drawn uniformly from 0 .. n_values - 1 (chance accuracy 1/n_values).
        k: how far back the target looks (Brownlee's ``out_index``), 0 <= k < length.
        seed: same seed, same sequences, whatever ``k`` (so targets for several k line up).

    Returns:
        X: (n_sequences, length, n_values) float32 one-hot; ``X.argmax(-1)`` gives the integers.
        y: (n_sequences, length) int64; ``y[:, t] == seq[:, t - k]`` for t >= k and -1 (no target)
        for the first k steps.

    Example: seq [3, 0, 2, 1] with k=1 gives y [-1, 3, 0, 2].
    """
    if not 0 <= k < length:
        raise ConfigError(f"k must be between 0 and length - 1 = {length - 1}. Received: k={k}")
    if n_values < 2:
        raise ConfigError(f"n_values must be at least 2. Received: n_values={n_values}")
    seq = np.random.default_rng(seed).integers(0, n_values, (n_sequences, length))
    X = np.eye(n_values, dtype="float32")[seq]                         # [n, length, n_values]
    y = np.full((n_sequences, length), -1, dtype="int64")
    y[:, k:] = seq[:, :length - k]
    return X, y


def echo_experiment(ks: Sequence[int] = tuple(range(1, 11)), length: int = 25, window: int = 5,
                    n_values: int = 4, units: int = 32, n_train: int = 2000, n_test: int = 300,
                    steps: int = 400, batch_size: int = 32, learning_rate: float = 0.03,
                    seed: int = 0, should_stop: StopFlag | None = None) -> pd.DataFrame:
    """Accuracy of recalling the value k steps back, for an LSTM and an MLP, as k grows.

    The LSTM reads each whole sequence one step at a time and answers at every step; the MLP
    answers at the same steps from a fixed window of the last ``window`` one-hot values
    (x_{t-window+1} .. x_t). Both are scored at steps t >= max(ks) of fresh test sequences.
    Each network has one softmax head per k and all heads train together (one network per model
    instead of one per k keeps a whole sweep to a few seconds).

    Returns:
        Columns ``k``, ``model`` ("LSTM" | "MLP"), ``accuracy``, ``in MLP window``; ``attrs``
        holds ``chance`` (1 / n_values), ``seconds`` and the settings.
    """
    ks = [int(k) for k in ks]
    k_max = max(ks)
    if min(ks) < 0 or k_max >= length:
        raise ConfigError(f"Every k must be between 0 and length - 1 = {length - 1}. "
                          f"Received: ks={ks}")
    if not 1 <= window <= length:
        raise ConfigError(f"window must be between 1 and length = {length}. "
                          f"Received: window={window}")
    start = time.perf_counter()

    def dataset(n: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
        X = y = None
        targets = []
        for k in ks:  # the same sequences for every k (same seed), targets k steps back
            X, y = make_echo(n, length, n_values, k, data_seed)
            targets.append(y)
        Y = np.stack(targets, axis=-1)                                  # [n, length, K]
        Y[:, :k_max] = -1                                               # score t >= k_max only
        return X, Y

    X, Y = dataset(n_train, seed)
    X_test, Y_test = dataset(n_test, seed + 1)
    n_heads = len(ks)

    import keras

    keras.utils.set_random_seed(seed)
    # LSTM: the whole sequence, one step at a time, an answer at every step
    inputs = keras.Input((None, n_values), name="sequence")            # [B, T, n_values]
    x = keras.layers.LSTM(units, return_sequences=True, name="lstm")(inputs)
    x = keras.layers.Dense(n_heads * n_values, name="heads")(x)        # [B, T, K * n_values]
    lstm = keras.Model(inputs, keras.layers.Reshape((-1, n_heads, n_values))(x))
    _train(lstm, X, Y, "sparse_ce", steps, batch_size, learning_rate, seed, should_stop)
    lstm_hits = _predict(lstm, X_test).argmax(-1) == Y_test             # [n, T, K]

    # MLP: one fixed window of one-hot values ending at each scored step
    positions = np.arange(k_max, length)
    Xw, Yw = _echo_windows(X, Y, positions, window), Y[:, positions].reshape(-1, n_heads)
    Xw_test = _echo_windows(X_test, Y_test, positions, window)
    Yw_test = Y_test[:, positions].reshape(-1, n_heads)
    inputs = keras.Input((window * n_values,), name="window")
    x = keras.layers.Dense(units, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(n_heads * n_values, name="heads")(x)
    mlp = keras.Model(inputs, keras.layers.Reshape((n_heads, n_values))(x))
    _train(mlp, Xw, Yw, "sparse_ce", steps, batch_size * len(positions) // 4, learning_rate,
           seed, should_stop)
    mlp_hits = _predict(mlp, Xw_test).argmax(-1) == Yw_test             # [n * T', K]

    rows = []
    for j, k in enumerate(ks):
        rows.append({"k": k, "model": "LSTM", "in MLP window": k < window,
                     "accuracy": float(lstm_hits[:, positions, j].mean())})
        rows.append({"k": k, "model": "MLP", "in MLP window": k < window,
                     "accuracy": float(mlp_hits[:, j].mean())})
    table = pd.DataFrame(rows)[["k", "model", "accuracy", "in MLP window"]]
    table.attrs.update(chance=1 / n_values, seconds=time.perf_counter() - start, length=length,
                       window=window, n_values=n_values, units=units)
    return table


def _echo_windows(X: np.ndarray, Y: np.ndarray, positions: np.ndarray, window: int) -> np.ndarray:
    """Flattened one-hot windows x_{t-window+1} .. x_t for every sequence and position t."""
    idx = positions[:, None] - np.arange(window)[::-1]                 # [T', window]
    W = X[:, idx]                                                       # [n, T', window, V]
    return W.reshape(-1, window * X.shape[-1])                          # [n * T', window * V]


# --- order: the latest spike -----------------------------------------------------------------------


def make_latest_spike(n_windows: int, window: int, seed: int = 0, spikes: tuple[int, int] = (2, 5),
                      noise: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Windows of small noise with a few spikes, up or down; the answer: was the LATEST spike up?

    Order decides the answer: the same values in another order can have another latest spike.
    Each window holds ``spikes[0]`` to ``spikes[1]`` spikes (height 2 to 3, up or down, at
    distinct random steps) on Gaussian noise of standard deviation ``noise``.

    Returns:
        X: (n_windows, window) float32, time running left to right.
        y: (n_windows,) int64, 1 when the latest (rightmost) spike goes up, else 0.

    Example: [0.1, 2.5, -0.2, -2.8, 0.0] gives 0 (the dip at step 4 came after the spike).
    """
    lo, hi = spikes
    if not 1 <= lo <= hi <= window:
        raise ConfigError(f"Need 1 <= fewest spikes <= most spikes <= window = {window}. "
                          f"Received: spikes={spikes}")
    rng = np.random.default_rng(seed)
    X = rng.normal(0, noise, (n_windows, window)).astype("float32")
    counts = rng.integers(lo, hi + 1, n_windows)
    # distinct random steps per window: the first `count` of a random ordering of the steps
    ranks = rng.random((n_windows, window)).argsort(axis=1).argsort(axis=1)
    spiky = ranks < counts[:, None]                                    # [n, window]
    signs = rng.choice([-1.0, 1.0], (n_windows, window))
    X = np.where(spiky, signs * rng.uniform(2, 3, (n_windows, window)), X).astype("float32")
    latest = window - 1 - spiky[:, ::-1].argmax(axis=1)               # rightmost spike's step
    y = (signs[np.arange(n_windows), latest] > 0).astype("int64")
    return X, y


def order_experiment(seeds: Sequence[int] = (0, 1, 2), window: int = 12, units: int = 12,
                     n_train: int = 2000, n_test: int = 1000, steps: int = 250,
                     batch_size: int = 64, learning_rate: float = 0.02,
                     should_stop: StopFlag | None = None) -> pd.DataFrame:
    """Accuracy of an MLP and an LSTM on ``make_latest_spike``, windows in time order vs with
    their steps shuffled (one fixed permutation per seed, the same in training and test).

    Shuffled, the MLP learns exactly the same function (its first layer's initial weights are
    permuted with the inputs, so it starts as the same network, and it has no notion of which
    input came first); the LSTM reads the steps in the order given, so the shuffle takes away
    what it relies on. Every (model, order, seed) is its own network with its own weights; all of
    one model's networks train side by side as one batched model (one step costs about what one
    network's does), on the same mini-batches.

    Returns:
        Columns ``model`` ("MLP" | "LSTM"), ``inputs`` ("in time order" | "steps shuffled"),
        ``seed``, ``accuracy`` (fresh test windows); ``attrs``: ``chance`` (0.5), ``seconds``,
        ``window``, ``units``, ``steps``.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("Give at least one seed, e.g. seeds=(0, 1, 2).")
    start = time.perf_counter()
    orders = ("in time order", "steps shuffled")
    perms, train_x, test_x, train_y, test_y = [], [], [], [], []
    for seed in seeds:
        perm = np.random.default_rng([seed, 7]).permutation(window)
        X, y = make_latest_spike(n_train, window, seed)
        Xt, yt = make_latest_spike(n_test, window, seed + 10_000)
        for order in orders:
            p = perm if order == "steps shuffled" else np.arange(window)
            perms.append(p)
            train_x.append(X[:, p]), test_x.append(Xt[:, p])
            train_y.append(y), test_y.append(yt)
    X, Xt = np.stack(train_x, axis=1), np.stack(test_x, axis=1)         # [n, G, window]
    Y, Yt = np.stack(train_y, axis=1), np.stack(test_y, axis=1)         # [n, G]
    groups = len(perms)

    import keras

    rows = []
    for label in ("MLP", "LSTM"):
        keras.utils.set_random_seed(seeds[0])
        inputs = keras.Input((groups, window), name="windows")
        if label == "MLP":
            hidden = _GroupDense(2 * units, seeds, perms, activation="relu", name="dense_1")(inputs)
        else:
            hidden = _GroupLSTM(units, seeds, name="lstm")(inputs)
        model = keras.Model(inputs, _GroupDense(2, seeds, name="answer")(hidden))
        _train(model, X, Y, "sparse_ce", steps, batch_size, learning_rate, seeds[0], should_stop)
        hits = _predict(model, Xt).argmax(-1) == Yt                       # [n_test, G]
        for g in range(groups):
            rows.append({"model": label, "inputs": orders[g % 2], "seed": seeds[g // 2],
                         "accuracy": float(hits[:, g].mean())})
    table = pd.DataFrame(rows)
    table.attrs.update(chance=0.5, seconds=time.perf_counter() - start, window=window,
                       units=units, steps=steps)
    return table


def order_summary(table: pd.DataFrame) -> pd.DataFrame:
    """``order_experiment``'s accuracies per model and order over the seeds: mean, min, max."""
    summary = (table.groupby(["model", "inputs"], sort=False)["accuracy"]
               .agg(["mean", "min", "max"]).reset_index())
    summary.attrs.update(table.attrs, seeds=int(table["seed"].nunique()))
    return summary


def _member_init(kind: str, shape: tuple[int, ...], seeds: Sequence[int]) -> np.ndarray:
    """Initial weights of a group of networks: two per seed (time order, shuffled), the pair
    drawn from the same seed, so that both start as the same network."""
    import keras

    make = {"glorot": keras.initializers.GlorotUniform,
            "orthogonal": keras.initializers.Orthogonal}[kind]
    return np.stack([np.asarray(make(seed=1000 * seed + 1)(shape), dtype="float32")
                     for seed in seeds for _ in range(2)])


def _group_layers():
    """The two batched layers of ``order_experiment`` (Keras is imported only when it trains)."""
    import keras
    import tensorflow as tf

    from lstm_lab.models.ensembles import scan_lstm_cells

    class GroupDense(keras.layers.Layer):
        """One Dense per group: [B, G, inputs] -> [B, G, outputs]. With ``perms``, group g's
        initial kernel rows are permuted as its inputs were (the same network, reordered)."""

        def __init__(self, outputs, seeds, perms=None, activation=None, **kwargs):
            super().__init__(**kwargs)
            self.outputs, self.seeds, self.perms = outputs, list(seeds), perms
            self.activation = keras.activations.get(activation)

        def build(self, input_shape):
            kernel = _member_init("glorot", (input_shape[-1], self.outputs), self.seeds)
            if self.perms is not None:
                kernel = np.stack([k[p] for k, p in zip(kernel, self.perms)])
            self.kernel = self.add_weight(name="kernel", shape=kernel.shape,
                                          initializer=keras.initializers.Constant(kernel))
            self.bias = self.add_weight(name="bias", shape=(len(kernel), self.outputs),
                                        initializer="zeros")

        def call(self, x):
            return self.activation(tf.einsum("bgi,gio->bgo", x, self.kernel) + self.bias)

    class GroupLSTM(keras.layers.Layer):
        """One LSTM per group, each reading its own series of one value per step: [B, G, T]
        -> last hidden state [B, G, units]. Keras' LSTM equations, gate order (i, f, c, o) and
        initial weights (Glorot kernel, orthogonal recurrent kernel, forget bias 1)."""

        def __init__(self, units, seeds, **kwargs):
            super().__init__(**kwargs)
            self.units, self.seeds = units, list(seeds)

        def build(self, input_shape):
            u = self.units
            kernel = _member_init("glorot", (1, 4 * u), self.seeds)[:, 0]        # [G, 4u]
            rec = _member_init("orthogonal", (u, 4 * u), self.seeds)            # [G, u, 4u]
            bias = np.zeros((len(kernel), 4 * u), dtype="float32")
            bias[:, u:2 * u] = 1.0
            self.kernel = self.add_weight(name="kernel", shape=kernel.shape,
                                          initializer=keras.initializers.Constant(kernel))
            self.recurrent_kernel = self.add_weight(
                name="recurrent_kernel", shape=rec.shape,
                initializer=keras.initializers.Constant(rec))
            self.bias = self.add_weight(name="bias", shape=bias.shape,
                                        initializer=keras.initializers.Constant(bias))

        def call(self, x):
            u = self.units
            batch = tf.shape(x)[0]
            z = (tf.transpose(x, (2, 1, 0))[..., None] * self.kernel[None, :, None, :]
                 + self.bias[None, :, None, :])                           # [T, G, B, 4u]
            hs = scan_lstm_cells(z, self.recurrent_kernel, len(self.seeds) * 2, batch,
                                 u)                                          # [T, G, B, u]
            return tf.transpose(hs[-1], (1, 0, 2))                         # [B, G, u]

    return GroupDense, GroupLSTM


def _GroupDense(*args, **kwargs):
    return _group_layers()[0](*args, **kwargs)


def _GroupLSTM(*args, **kwargs):
    return _group_layers()[1](*args, **kwargs)


# --- parallel input series: messy scaling --------------------------------------------------------


def make_parallel_series(n_series: int = 4, length: int = 400, seed: int = 0,
                         max_lag: int = 8) -> pd.DataFrame:
    """``n_series`` input columns ``x1 .. xn`` and a ``target`` built from their past.

    Each input is a noisy sine with its own period; ``target[t]`` is a weighted sum of input j at
    t - lag_j (lags between 1 and ``max_lag``) plus a little noise, so a window of at least
    ``max_lag`` steps over all inputs contains what is needed to predict it.
    """
    if n_series < 1 or length < 2 * max_lag + 2:
        raise ConfigError(f"Need n_series >= 1 and length >= {2 * max_lag + 2}. "
                          f"Received: n_series={n_series}, length={length}")
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    periods = rng.uniform(6, 30, n_series)
    phases = rng.uniform(0, 2 * np.pi, n_series)
    inputs = np.sin(2 * np.pi * t[:, None] / periods + phases) + rng.normal(0, 0.2, (length, n_series))
    lags = 1 + (np.arange(n_series) * 3) % max_lag
    weights = rng.uniform(0.5, 1.5, n_series) * rng.choice([-1, 1], n_series)
    target = np.zeros(length)
    for j in range(n_series):
        target[lags[j]:] += weights[j] * inputs[:length - lags[j], j]
    target = target / np.sqrt(n_series) + rng.normal(0, 0.05, length)
    frame = pd.DataFrame(inputs, columns=[f"x{j + 1}" for j in range(n_series)])
    frame["target"] = target
    frame.attrs.update(lags=lags.tolist(), weights=weights.tolist())
    return frame


def parallel_windows(frame: pd.DataFrame, window: int,
                     target: str = "target") -> tuple[np.ndarray, np.ndarray]:
    """Windows of every input column: X (n, window, n_series) for the LSTM (flatten it to
    (n, window * n_series) for the MLP), y (n,) the target right after each window."""
    inputs = frame.drop(columns=[target]).to_numpy(dtype="float32")    # [length, n_series]
    n = len(frame) - window
    if n < 1:
        raise ConfigError(f"window must be below the series length {len(frame)}. "
                          f"Received: window={window}")
    idx = np.arange(n)[:, None] + np.arange(window)                   # [n, window]
    return inputs[idx], frame[target].to_numpy(dtype="float32")[window:]


def parallel_parameter_table(window: int = 12, units: int = 32,
                             n_series: Sequence[int] = (1, 2, 4, 8, 16),
                             verify: bool = False) -> pd.DataFrame:
    """Input widths and trainable weights of the MLP and the LSTM for more and more series.

    With ``verify=True`` both networks are built in Keras and ``count_params()`` is added as
    ``... (Keras)`` columns (the formulas of ``models.lstm_params`` / ``mlp_params`` must match).
    """
    rows = []
    for n in n_series:
        row = {"parallel series": n, "window": window,
               "MLP input width": window * n, "MLP weights": mlp_params(n, window, units),
               "LSTM inputs per step": n, "LSTM weights": lstm_params(n, units)}
        if verify:

            row["MLP weights (Keras)"] = int(build_mlp(window, 1, 1, units, n_features=n)
                                             .count_params())
            row["LSTM weights (Keras)"] = int(build_lstm(window, 1, 1, units, n_features=n)
                                              .count_params())
        rows.append(row)
    return pd.DataFrame(rows)


def parallel_experiment(n_series: int = 6, window: int = 12, units: int = 16,
                        length: int = 400, epochs: int = 40, seed: int = 0,
                        should_stop: StopFlag | None = None) -> pd.DataFrame:
    """Train an LSTM and an MLP on ``make_parallel_series``; compare shapes, weights and error.

    Returns one row per model: the input shape one sample has, the first layer's input width,
    trainable weights (Keras' count and the formula), test RMSE on the last quarter, fit seconds.
    """

    frame = make_parallel_series(n_series, length, seed)
    X, y = parallel_windows(frame, window)                             # [n, window, S], [n]
    n_train = int(len(X) * 0.75)
    rows = []
    for label in ("MLP", "LSTM"):
        import keras

        keras.utils.set_random_seed(seed)
        if label == "MLP":
            model = build_mlp(window, 1, 1, units, learning_rate=0.01, n_features=n_series,
                              seed=seed)
            inputs, shape = X.reshape(len(X), -1), f"({window * n_series},)"
            formula, width = mlp_params(n_series, window, units), window * n_series
        else:
            model = build_lstm(window, 1, 1, units, learning_rate=0.01, n_features=n_series,
                               seed=seed)
            inputs, shape = X, f"({window}, {n_series})"
            formula, width = lstm_params(n_series, units), n_series
        start = time.perf_counter()
        fit_compiled(model, inputs[:n_train], y[:n_train, None], None, None, epochs=epochs,
                     batch_size=32, patience=0, seed=seed, should_stop=should_stop)
        seconds = time.perf_counter() - start
        pred = _predict(model, inputs[n_train:])[:, 0]
        rows.append({"model": label, "one sample": shape, "first-layer input width": width,
                     "weights (Keras)": int(model.count_params()), "weights (formula)": formula,
                     "test RMSE": float(np.sqrt(np.mean((pred - y[n_train:]) ** 2))),
                     "fit s": round(seconds, 2)})
    table = pd.DataFrame(rows)
    table.attrs.update(target_std=float(y[n_train:].std()), n_series=n_series, window=window)
    return table


# --- variable-length inputs ----------------------------------------------------------------------

PAD = -1.0   # the padding value Masking skips (inputs are drawn from [0, 1))


def make_variable_length(n_sequences: int, min_length: int, max_length: int,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sequences of random length in [min_length, max_length] of values in [0, 1); the target is
    their mean. Returns X (n, max_length, 1) padded at the end with ``PAD``, y (n,), lengths (n,).
    """
    if not 1 <= min_length <= max_length:
        raise ConfigError("Need 1 <= min_length <= max_length. Received: "
                          f"min_length={min_length}, max_length={max_length}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, n_sequences)
    values = rng.uniform(0, 1, (n_sequences, max_length)).astype("float32")
    present = np.arange(max_length) < lengths[:, None]                # [n, max_length]
    X = np.where(present, values, PAD).astype("float32")[..., None]   # [n, max_length, 1]
    y = (values * present).sum(axis=1) / lengths
    return X, y.astype("float32"), lengths


def variable_length_demo(train_lengths: tuple[int, int] = (3, 12),
                         test_lengths: Sequence[int] = (2, 3, 6, 9, 12, 16, 20, 30),
                         units: int = 16, n_train: int = 2000, n_test: int = 300,
                         steps: int = 400, seed: int = 0,
                         should_stop: StopFlag | None = None) -> pd.DataFrame:
    """Average a sequence of any length: one LSTM with Masking vs an MLP of fixed input size.

    Both train on sequences of ``train_lengths`` (inclusive range), padded to the longest: the
    LSTM's ``Masking`` layer skips the padding, the MLP sees zeros. At test time each length is
    fed as it is: the LSTM takes it unpadded, whatever its length; the MLP gets it zero-padded to
    its fixed size and cannot take a longer one at all (NaN, ``MLP can take it`` False).

    Returns:
        Columns ``length``, ``trained on this length``, ``LSTM MAE``, ``MLP MAE``,
        ``MLP can take it``, ``guess 0.5 MAE`` (always answering 0.5, for scale).
    """
    lo, hi = train_lengths
    X, y, _ = make_variable_length(n_train, lo, hi, seed)

    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, 1), name="sequence")                   # [B, any length, 1]
    x = keras.layers.Masking(mask_value=PAD, name="masking")(inputs)
    x = keras.layers.LSTM(units, name="lstm")(x)
    lstm = keras.Model(inputs, keras.layers.Dense(1, name="mean")(x))
    _train(lstm, X, y[:, None], "mse", steps, 32, 0.02, seed, should_stop)

    inputs = keras.Input((hi,), name="padded")                         # [B, hi]
    x = keras.layers.Dense(units * 2, activation="relu", name="dense_1")(inputs)
    mlp = keras.Model(inputs, keras.layers.Dense(1, name="mean")(x))
    _train(mlp, np.where(X[..., 0] == PAD, 0.0, X[..., 0]), y[:, None], "mse", steps, 32, 0.01,
           seed, should_stop)

    rows = []
    for length in test_lengths:
        values = np.random.default_rng([seed, length]).uniform(0, 1, (n_test, length))
        values = values.astype("float32")
        truth = values.mean(axis=1)
        lstm_pred = _predict(lstm, values[..., None])[:, 0]           # unpadded
        row = {"length": length, "trained on this length": lo <= length <= hi,
               "LSTM MAE": float(np.abs(lstm_pred - truth).mean()), "MLP MAE": np.nan,
               "MLP can take it": length <= hi,
               "guess 0.5 MAE": float(np.abs(0.5 - truth).mean())}
        if length <= hi:
            padded = np.pad(values, ((0, 0), (0, hi - length)))
            row["MLP MAE"] = float(np.abs(_predict(mlp, padded)[:, 0] - truth).mean())
        rows.append(row)
    return pd.DataFrame(rows)


# --- output sequences of any length ---------------------------------------------------------------


def output_length_demo(window: int = 24, horizon: int = 12, lengths: Sequence[int] = (6, 12, 24),
                       units: int = 16, period: float = 12.0, n_points: int = 300,
                       epochs: int = 30, seed: int = 0, should_stop: StopFlag | None = None,
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One trained encoder-decoder LSTM asked for output sequences of several lengths.

    An encoder-decoder and an MLP both train to output ``horizon`` steps of a noisy sine. The
    decoder's weights do not depend on how many steps it unrolls, so the same weights are loaded
    into copies built with ``RepeatVector(n)`` for every n in ``lengths``; the MLP's output layer
    is ``Dense(horizon)`` and gives exactly ``horizon`` values.

    Returns:
        forecasts: ``step`` (1..max length), ``actual``, one column per output length
        ("encoder-decoder, n steps") and "MLP, {horizon} steps" (NaN where a model gives nothing).
        errors: one row per model and length with RMSE over the steps it was trained for and
        over the steps beyond.
    """

    rng = np.random.default_rng(seed)
    t = np.arange(n_points)
    values = (np.sin(2 * np.pi * t / period) + rng.normal(0, 0.05, n_points)).astype("float32")
    longest = max(max(lengths), horizon)
    origin = n_points - longest
    X, y = make_windows(values[:origin], window, horizon)              # [n, window], [n, horizon]

    import keras

    keras.utils.set_random_seed(seed)
    encdec = build_encoder_decoder(window, horizon, 1, units, learning_rate=0.01, seed=seed)
    fit_compiled(encdec, X[..., None], y, None, None, epochs=epochs, batch_size=32, patience=0,
                 seed=seed, should_stop=should_stop)
    mlp = build_mlp(window, horizon, 1, units * 2, learning_rate=0.01, seed=seed)
    fit_compiled(mlp, X, y, None, None, epochs=epochs, batch_size=32, patience=0, seed=seed,
                 should_stop=should_stop)

    last = values[origin - window:origin]                              # [window]
    actual = values[origin:origin + longest]
    forecasts = pd.DataFrame({"step": np.arange(1, longest + 1), "actual": actual})
    errors = []
    for n in lengths:
        copy = build_encoder_decoder(window, n, 1, units, seed=seed)
        copy.set_weights(encdec.get_weights())                         # same weights, n steps
        out = _predict(copy, last[None, :, None])[0]                   # [n]
        column = f"encoder-decoder, {n} steps"
        forecasts[column] = np.concatenate([out, np.full(longest - n, np.nan)])
        errors.append(_segment_errors(column, out, actual, horizon))
    out = _predict(mlp, last[None])[0]
    column = f"MLP, {horizon} steps"
    forecasts[column] = np.concatenate([out, np.full(longest - horizon, np.nan)])
    errors.append(_segment_errors(column, out, actual, horizon))
    return forecasts, pd.DataFrame(errors)


def _segment_errors(label: str, out: np.ndarray, actual: np.ndarray, horizon: int) -> dict:
    def rmse(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else np.nan

    n = len(out)
    return {"model": label, "output steps": n,
            f"RMSE steps 1-{horizon} (trained)": rmse(out[:horizon], actual[:min(n, horizon)]),
            f"RMSE steps {horizon + 1}+ (never trained)": rmse(out[horizon:], actual[horizon:n])}


# --- shared: a compiled loop for the small networks above ----------------------------------------


def _train(model, X: np.ndarray, y: np.ndarray, loss: str, steps: int, batch_size: int,
           learning_rate: float, seed: int, should_stop: StopFlag | None = None) -> float:
    """Adam on random mini-batches (drawn with replacement) in a ``tf.function``, run in chunks
    of ``CHUNK_STEPS`` steps; a True ``should_stop()`` between chunks ends training early (on a
    shared server, Stop and the job's time limit). Same seed, same batches, whatever the chunks.

    ``loss`` is ``"mse"`` or ``"sparse_ce"`` (logits; integer targets, -1 = no target).
    Returns the last mini-batch loss.
    """
    import keras
    import tensorflow as tf

    if loss not in ("mse", "sparse_ce"):
        raise ConfigError(f"loss must be 'mse' or 'sparse_ce'. Received: loss={loss!r}")
    weights = model.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(weights)
    Xt, yt = tf.constant(X), tf.constant(y)
    n = len(X)
    batch_size = max(1, min(batch_size, n))
    sampler = tf.random.Generator.from_seed(seed)

    def batch_loss(out, target):
        if loss == "mse":
            return tf.reduce_mean(tf.square(out - target))
        mask = tf.cast(target >= 0, out.dtype)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.maximum(target, 0), out)
        return tf.reduce_sum(ce * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)

    @tf.function
    def run(n_steps):
        last = tf.constant(0.0)
        for _ in tf.range(n_steps):
            idx = sampler.uniform([batch_size], maxval=n, dtype=tf.int32)
            xb, yb = tf.gather(Xt, idx), tf.gather(yt, idx)
            with tf.GradientTape() as tape:
                value = batch_loss(model(xb, training=True), yb)
            optimizer.apply_gradients(zip(tape.gradient(value, weights), weights))
            last = value
        return last

    last, done = 0.0, 0
    while done < steps and not (should_stop is not None and should_stop()):
        chunk = min(CHUNK_STEPS, steps - done)
        last, done = float(run(tf.constant(chunk))), done + chunk
    return last


def _predict(model, X: np.ndarray) -> np.ndarray:
    out = model(np.asarray(X), training=False)
    return out.numpy() if hasattr(out, "numpy") else np.asarray(out)
