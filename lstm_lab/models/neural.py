"""The networks in scikit-learn style: the LSTM family (one class, any architecture) and the MLP.

They share windowing, scaling, the compiled training loop and forecasting (``NeuralForecaster``);
each says how to build its Keras model and how to feed it windows. Keras itself is imported in
``fit`` only: importing this module (and opening the app) stays fast until a network trains.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_lab.data.windows import (
    Scaler,
    TargetTransform,
    direct,
    recent_windows,
    resolve_transform,
    window_count,
    windows_at,
)
from lstm_lab.errors import ConfigError, DataError, TrainingError
from lstm_lab.limits import Limits
from lstm_lab.models.architectures import build, ensemble_size
from lstm_lab.models.base import (
    EpochHook,
    EpochInfo,
    RunConfig,
    StopFlag,
    check_fitted,
    plain_state,
    restore_plain,
)
from lstm_lab.models.classical import FitStopped
from lstm_lab.models.fitting import fit_compiled
from lstm_lab.models.networks import MAX_BATCHED_STEPS, build_mlp

# restored from their own entries of a saved state (or, model_, from the .keras file)
RESTORED_SEPARATELY = ("model_", "transform_", "scaler_")
# never saved: a run's input columns are data, not settings (see ``NeuralForecaster.inputs``)
NOT_SAVED = ("inputs",)
INPUTS_NEED_DIRECT = ("Input columns need the direct strategy: a recursive forecast would need "
                      "the inputs' future values for its later steps. Set the strategy to "
                      "direct, or clear the inputs.")


class NeuralForecaster:
    """Shared fit/predict for the Keras networks; subclasses say how to build and feed the model."""

    name = "neural"

    def __init__(self, window: int = 12, horizon: int = 1, transform: str = "none",
                 season: int = 1, layers: int = 1, units: int = 32, dropout: float = 0.0,
                 epochs: int = 200, batch_size: int = 16, learning_rate: float = 1e-3,
                 patience: int = 0, validation_fraction: float = 0.0, seed: int = 0,
                 max_windows: int | None = None, max_seconds: float | None = None,
                 strategy: str = "direct", architecture: str = "lstm",
                 validation_windows: int | None = None, members: int = 1,
                 combine: str = "mean", inputs: np.ndarray | None = None,
                 es_weight: float = 0.0) -> None:
        self.window, self.horizon, self.transform, self.season = window, horizon, transform, season
        # validation_windows: hold out exactly this many latest windows (overrides the fraction;
        # tuning gives all its variants the same number, so they share one validation boundary)
        self.validation_windows = validation_windows
        self.layers, self.units, self.dropout = layers, units, dropout
        self.epochs, self.batch_size, self.learning_rate = epochs, batch_size, learning_rate
        self.patience, self.validation_fraction, self.seed = patience, validation_fraction, seed
        self.max_windows, self.max_seconds = max_windows, max_seconds
        self.strategy, self.architecture = strategy, architecture
        # members > 1: an ensemble of that many networks of different seeds, trained side by
        # side in one Keras model (models/ensembles.py); forecasts are their median or mean
        self.members, self.combine = members, combine
        # es_weight: the ES hybrid's forecast is (1 - es_weight) x the network's + es_weight x
        # the exponential smoothing's own (0: the network alone; older saves have no entry)
        self.es_weight = es_weight
        # inputs: the run's input columns over the whole series, [points, k] (``Series.inputs``),
        # or None. Only rows before an origin are ever read: fit(values) reads the first
        # len(values) rows (and scales them with those rows' statistics), a forecast from
        # origin t the window's rows t - window .. t - 1. The network sees, at every step, the
        # target and each input; the MLP's input width becomes window x (1 + k).
        self.inputs = inputs

    @property
    def output_steps(self) -> int:
        """Steps the network itself outputs: the whole horizon (direct) or one (recursive)."""
        return 1 if self.strategy == "recursive" else self.horizon

    # --- subclass hooks ------------------------------------------------------------------------
    def _build(self):
        raise NotImplementedError

    def _trained(self, model):
        """The Keras model to keep after training ``model`` (an ensemble trained with batched
        weights becomes the equivalent plain Keras model)."""
        return model

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # --- fitting ---------------------------------------------------------------------------------

    def fit(self, values: np.ndarray, on_epoch: EpochHook | None = None,
            should_stop: StopFlag | None = None) -> NeuralForecaster:
        values = np.asarray(values, dtype="float64")
        self._fit_inputs(len(values))
        hybrid = direct(self.strategy)
        self.transform_ = TargetTransform(resolve_transform(self.transform, values, self.season,
                                                            hybrid),
                                          self.season).fitted(values)
        z = self.transform_.forward(values)
        lag = self.transform_.lag
        self.scaler_ = Scaler().fit(self.transform_.centred(values)[lag:])
        scaled = np.where(np.isnan(z), 0.0, self.scaler_.transform(np.nan_to_num(z)))
        n_windows = window_count(len(values), self.window, self.output_steps, start=lag)
        if n_windows < 2:
            raise DataError(
                f"The training part has {len(values)} points: with window {self.window}, horizon "
                f"{self.horizon} and transform '{self.transform_.kind}' that leaves "
                f"{max(n_windows, 0)} "
                "training window(s); at least 2 are needed. Lower the window or the test size.")
        # only the most recent max_windows pairs are built: a long series never materialises
        # more windows than training keeps
        X, y, self.n_windows_total_ = recent_windows(scaled, self.window, self.output_steps,
                                                     start=lag, keep=self.max_windows)
        last = len(values) - self.output_steps          # the latest window's origin
        origins = np.arange(last - len(X) + 1, last + 1)
        x_shift, y_shift = self._shift(values, origins)
        X = self.with_inputs((X - x_shift).astype("float32"), origins)
        y = (y - y_shift).astype("float32")
        if self.members > 1:      # every member learns the same targets: [n, members, steps]
            y = np.repeat(y[:, None, :], self.members, axis=1)
        self.first_origin_ = lag + self.window  # the earliest origin with a full input window
        self.n_windows_used_ = len(X)
        n_val = int(round(len(X) * self.validation_fraction)) if self.validation_fraction else 0
        if self.validation_windows is not None:
            n_val = self.validation_windows
        n_val = min(n_val, len(X) - 1)
        self.n_val_ = n_val
        X_fit, y_fit = X[: len(X) - n_val], y[: len(y) - n_val]
        validation = (self._inputs(X[len(X) - n_val:]), y[len(y) - n_val:]) if n_val else None

        import keras  # deferred: see the module docstring

        keras.utils.set_random_seed(self.seed)
        self.model_ = self._build()
        if self.transform_.smooths:
            start_from_smoothing(self.model_)

        def report(epoch: int, loss: float, val_loss: float | None) -> None:
            if on_epoch is not None:
                on_epoch(EpochInfo(self.name, epoch, self.epochs, loss, val_loss))

        start = time.perf_counter()
        outcome = fit_compiled(self.model_, self._inputs(X_fit), y_fit,
                               *(validation if validation else (None, None)),
                               epochs=self.epochs, batch_size=self.batch_size,
                               patience=self.patience, seed=self.seed, report=report,
                               should_stop=should_stop, max_seconds=self.max_seconds,
                               reuse_key=self._graph_key())
        self.fit_seconds_ = time.perf_counter() - start
        if outcome.diverged:
            raise TrainingError(
                f"The {self.name.upper()} diverged: its loss became NaN or infinite at epoch "
                f"{outcome.epochs_run + 1}. Lower the learning rate (now {self.learning_rate}) "
                "or choose a transform such as log_diff.")
        self.history_ = outcome.history
        self.epochs_run_ = outcome.epochs_run
        self.best_epoch_ = outcome.best_epoch
        self.stopped_by_user_ = outcome.stopped_by_user
        self.timed_out_ = outcome.timed_out
        self.n_train_windows_ = len(X_fit)
        if self.members > 1:      # plain Keras from here on: saved, downloaded, checked alike
            from lstm_lab.models.ensembles import plain_copy

            self.model_ = plain_copy(self._trained(self.model_))
        self.n_params_ = int(self.model_.count_params())
        return self

    def _shift(self, values: np.ndarray, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What each origin's scaled window [n, 1] and targets [n, steps] are read relative to
        (the ES hybrid's level and forecast: ``TargetTransform.offsets``; zeros otherwise)."""
        x_off, y_off = self.transform_.offsets(values, origins, self.output_steps)
        return x_off / self.scaler_.scale, y_off / self.scaler_.scale

    def _graph_key(self) -> tuple:
        """Everything that shapes this network's graph: fits with equal keys (and data shapes)
        reuse one traced training loop (``fitting.fit_compiled``)."""
        return (type(self), self.architecture, self.window, self.output_steps, self.layers,
                self.units, self.dropout, self.learning_rate, self.members, self.n_features)

    # --- input columns ---------------------------------------------------------------------------
    @property
    def n_features(self) -> int:
        """Values per time step of a window: the target and each input column."""
        return 1 + int(getattr(self, "n_inputs_", 0) or 0)

    def _fit_inputs(self, n_train: int) -> None:
        """Learn how to present the inputs from their first ``n_train`` rows (the training part
        only: nothing of the test part leaks in): which ones to difference (``input_diff_``:
        those whose training part wanders like a random walk, by an augmented Dickey-Fuller
        test, as auto-ARIMA picks its differences) and each one's scaling."""
        if self.inputs is None or not np.shape(self.inputs)[-1]:
            self.n_inputs_, self.input_mean_, self.input_scale_ = 0, [], []
            self.input_diff_ = []
            return
        if self.strategy == "recursive" and self.horizon > 1:
            raise ConfigError(INPUTS_NEED_DIRECT)
        rows = self._input_rows(n_train)
        self.n_inputs_ = rows.shape[1]
        self.input_diff_ = [wanders(rows[:, j]) for j in range(self.n_inputs_)]
        from sklearn.preprocessing import StandardScaler

        shown = self._presented(rows)[1:]        # a differenced row 0 has no change to show
        scaler = StandardScaler().fit(shown)     # a constant column keeps scale 1
        self.input_mean_ = [float(v) for v in scaler.mean_]
        self.input_scale_ = [float(v) for v in scaler.scale_]

    def _presented(self, rows: np.ndarray) -> np.ndarray:
        """The input rows as the network reads them before scaling: a differenced column's
        row t is its change from row t - 1 (both before any origin that reads row t)."""
        out = np.array(rows, dtype="float64")
        for j, differenced in enumerate(getattr(self, "input_diff_", []) or []):
            if differenced:
                out[1:, j] = np.diff(rows[:, j])
                out[0, j] = np.nan
        return out

    def _input_rows(self, upto: int) -> np.ndarray:
        """The input columns' rows before ``upto``: [upto, k]."""
        if self.inputs is None:
            raise DataError(f"This {self.name.upper()} reads {self.n_inputs_} input column(s) "
                            "beside the target: give it their values (inputs=).")
        rows = np.asarray(self.inputs, dtype="float64")
        if rows.ndim != 2 or len(rows) < upto:
            raise DataError(f"The input columns have {len(rows)} rows; {upto} are needed (one "
                            "per point of the series, up to the forecast origin).")
        return rows[:upto]

    def with_inputs(self, X: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Scaled target windows X [n, window] with each origin's input windows beside them:
        [n, window, 1 + k] (X itself when the run has no inputs)."""
        if not self.n_inputs_:
            return X
        upto = int(origins.max()) if len(origins) else 0
        scaled = (self._presented(self._input_rows(upto)) - np.asarray(self.input_mean_)) / \
            np.asarray(self.input_scale_)
        scaled = np.nan_to_num(scaled)           # a differenced row 0: no change, the mean
        steps = origins[:, None] - self.window + np.arange(self.window)      # [n, window]
        windows = scaled[steps].astype("float32")                           # [n, window, k]
        return np.concatenate([X[..., None], windows], axis=-1)

    def predict(self, values: np.ndarray, origins: np.ndarray,
                should_stop: StopFlag | None = None, deadline: float | None = None,
                deadline_text: str = "its time limit") -> np.ndarray:
        """Forecasts [len(origins), horizon] from each origin: an ensemble's members combined
        by ``combine`` (see ``predict_members``)."""
        return combine_members(self.predict_members(values, origins, should_stop, deadline,
                                                    deadline_text), self.combine)

    def predict_members(self, values: np.ndarray, origins: np.ndarray,
                        should_stop: StopFlag | None = None, deadline: float | None = None,
                        deadline_text: str = "its time limit") -> np.ndarray:
        """Each member's forecasts [len(origins), members, horizon] from each origin, in chunks
        of ``predict_chunk`` (a lone network is one member; a recursive ensemble feeds back
        its combined step, so it has one combined member).

        Args:
            should_stop: polled between chunks (never before the first, so a run stopped while
                training still forecasts up to one chunk of origins with what it learned).
            deadline: a ``time.monotonic()`` value, checked between chunks like ``should_stop``.
            deadline_text: how the message names the deadline ("the time limit of 900 s
                (LSTM_LAB_MAX_JOB_SECONDS)").

        Raises:
            FitStopped: ``should_stop()`` turned true (``by_user``), or the deadline passed,
                before the last chunk; no forecast of this call is kept.
        """
        check_fitted(self, "model_")
        values = np.asarray(values, dtype="float64")
        origins = np.asarray(origins, dtype=int)
        if origins.size and origins.min() < self.first_origin_:
            raise DataError(f"A forecast needs {self.first_origin_} earlier points; origin "
                            f"{origins.min()} has fewer.")
        z = self.transform_.forward(values[: origins.max()] if origins.size else values)
        scaled = self.scaler_.transform(np.nan_to_num(z))
        x_shift, y_shift = self._shift(values, origins)
        # in chunks of at most the training cap: never more windows at once than training held
        size = self.predict_chunk
        chunks = []
        for i in range(0, len(origins), size):
            if i:
                self._check_stop(should_stop, deadline, deadline_text, i, len(origins))
            part = slice(i, i + size)
            X = (windows_at(scaled, origins[part], self.window) - x_shift[part]).astype("float32")
            X = self.with_inputs(X, origins[part])
            chunks.append(self._forecast(X) + y_shift[part][:, None, :])
        z_hat = np.concatenate(chunks or [np.empty((0, 1, self.horizon), dtype="float32")])
        n, k, h = z_hat.shape                     # each member undone like a forecast of its own
        flat = self.transform_.inverse(self.scaler_.inverse(z_hat.reshape(n * k, h)), values,
                                       np.repeat(origins, k))
        return self._with_smoothing(flat.reshape(n, k, h), values, origins,
                                    y_shift * self.scaler_.scale)

    def _with_smoothing(self, members: np.ndarray, values: np.ndarray, origins: np.ndarray,
                        level: np.ndarray) -> np.ndarray:
        """The ES hybrid's members [n, members, horizon] combined with the smoothing forecast
        they correct: (1 - es_weight) x member + es_weight x smoothing. A forecast combination:
        on short series the network's correction is learnt from few windows, and averaging it
        with the smoothing it starts from was steadier than either alone (docs/quality.md).
        ``level``: the smoothing forecast on the modelling scale, [n, horizon] (``offsets``)."""
        weight = float(getattr(self, "es_weight", 0.0) or 0.0)
        if not weight or not self.transform_.smooths or not direct(self.strategy) \
                or not len(origins):
            return members
        smoothing = self.transform_.inverse(level, values, origins)          # [n, horizon]
        return (1.0 - weight) * members + weight * smoothing[:, None, :]

    def _check_stop(self, should_stop: StopFlag | None, deadline: float | None,
                    deadline_text: str, done: int, total: int) -> None:
        """Between two chunks of ``predict``: Stop or the deadline end it with ``FitStopped``."""
        label = self.name.upper()
        if should_stop is not None and should_stop():
            raise FitStopped(f"{label} was stopped on request while forecasting ({done:,} of "
                             f"{total:,} forecast origins done), so it has no results.",
                             by_user=True)
        if deadline is not None and time.monotonic() > deadline:
            raise FitStopped(f"{label} stopped at {deadline_text} while forecasting ({done:,} of "
                             f"{total:,} forecast origins done), so it has no results. A smaller "
                             "test size forecasts faster.", by_user=False)

    def model_inputs(self, X: np.ndarray) -> np.ndarray:
        """What the Keras model reads for scaled input windows X [n, window] (the LSTM family:
        [n, window, 1]; the MLP: X itself). The internals view feeds its window through it."""
        return self._inputs(X)

    @property
    def predict_chunk(self) -> int:
        """Most windows one forward pass of ``predict`` takes: the training cap."""
        return self.max_windows or Limits().max_train_windows

    def _forecast(self, X: np.ndarray) -> np.ndarray:
        """Scaled forecasts [n, members, horizon] from scaled input windows X [n, window]."""
        if self.strategy != "recursive":
            return self._forward(X)                                   # [n, members, horizon]
        steps = []                        # one step at a time, each prediction fed back
        for _ in range(self.horizon):
            step = combine_members(self._forward(X)[:, :, :1], self.combine)[:, 0]   # [n]
            steps.append(step)
            X = np.concatenate([X[:, 1:], step[:, None].astype(X.dtype)], axis=1)  # slide
        return np.stack(steps, axis=1)[:, None, :]                    # [n, 1, horizon]

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """The Keras model's output on scaled windows, as [n, members, steps]."""
        out = self.model_(self._inputs(X), training=False)
        out = out.numpy() if hasattr(out, "numpy") else np.asarray(out)
        return out if out.ndim == 3 else out[:, None, :]

    # --- saved state -----------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """What ``predict`` needs besides the Keras model (saved as a .keras file), as plain
        JSON values: the parameters, the plain fitted values, the transform and the scaler."""
        check_fitted(self, "model_")
        state = plain_state(self, skip=RESTORED_SEPARATELY)
        for name in NOT_SAVED:
            state["params"].pop(name, None)
        return {**state, "transform": self.transform_.components(),
                "scaler": self.scaler_.get_state()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], network: Any = None) -> NeuralForecaster:
        """The fitted network ``get_state`` describes, predicting with ``network`` (its Keras
        model). Raises KeyError / TypeError / ValueError on an incomplete state."""
        forecaster = restore_plain(cls, state, skip=RESTORED_SEPARATELY)
        forecaster.transform_ = TargetTransform.from_components(state["transform"])
        forecaster.scaler_ = Scaler.from_state(state["scaler"])
        forecaster.model_ = network
        return forecaster

    @staticmethod
    def run_settings(config: RunConfig, season: int, limits: Limits) -> dict[str, Any]:
        """The settings every network of a run shares, from its config."""
        return dict(window=config.window, horizon=config.horizon, transform=config.transform,
                    season=season, dropout=config.dropout, epochs=config.epochs,
                    batch_size=config.batch_size, learning_rate=config.learning_rate,
                    patience=config.patience, validation_fraction=config.validation_fraction,
                    seed=config.seed, max_windows=limits.max_train_windows,
                    strategy=config.strategy, members=config.members, combine=config.combine,
                    es_weight=config.es_weight)


class LSTMForecaster(NeuralForecaster):
    """Stacked LSTM over sliding windows: one value per time step, state carried through time."""

    name = "lstm"

    @classmethod
    def for_run(cls, config: RunConfig, season: int, limits: Limits,
                positive: bool) -> LSTMForecaster:
        settings = cls.run_settings(config, season, limits)
        settings["members"] = ensemble_size(config.architecture, config.members)
        return cls(layers=config.layers, units=config.units, architecture=config.architecture,
                   **settings)

    @property
    def _batched(self) -> bool:
        """Train an LSTM ensemble with batched weights (``ensembles.MemberLSTM``): each step is
        one einsum for all members; the wide model's zeros between members would cost
        members² times the recurrent work. Long windows keep the wide model (an unrolled
        graph grows with the window)."""
        return self.members > 1 and self.architecture == "lstm" and \
            self.window <= MAX_BATCHED_STEPS

    def _build(self):
        if self._batched:
            from lstm_lab.models.networks import build_batched_lstm

            return build_batched_lstm(self.window, self.output_steps, self.layers, self.units,
                                      self.dropout, self.learning_rate, self.seed, self.members,
                                      n_features=self.n_features)
        return self._build_wide()

    def _build_wide(self):
        return build(self.architecture, self.window, self.output_steps, self.layers, self.units,
                     self.dropout, self.learning_rate, n_features=self.n_features,
                     seed=self.seed, members=self.members)

    def _trained(self, model):
        if not self._batched:
            return model
        from lstm_lab.models.ensembles import wide_weights

        wide = self._build_wide()
        wide.set_weights(wide_weights(model))
        return wide

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        return X[..., None] if X.ndim == 2 else X                  # [n, window, 1 + inputs]


class MLPForecaster(NeuralForecaster):
    """Dense ReLU network on the flattened window: sees all points at once, with no notion of order."""

    name = "mlp"

    @classmethod
    def for_run(cls, config: RunConfig, season: int, limits: Limits,
                positive: bool) -> MLPForecaster:
        return cls(layers=config.mlp_layers, units=config.mlp_units,
                   **cls.run_settings(config, season, limits))

    def _build(self):
        return build_mlp(self.window, self.output_steps, self.layers, self.units, self.dropout,
                         self.learning_rate, n_features=self.n_features, seed=self.seed,
                         members=self.members)

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        return X if X.ndim == 2 else X.reshape(len(X), -1)    # [n, window x (1 + inputs)]


def bind_inputs(model: Any, inputs: np.ndarray | None) -> None:
    """Give a network (or each variant of a tuned one) the run's input columns over the
    series it will forecast (``NeuralForecaster.inputs``)."""
    for network in getattr(model, "candidates", [model]):
        network.inputs = inputs


def wanders(values: np.ndarray, level: float = 0.05) -> bool:
    """Whether a series wanders like a random walk (a unit root the augmented Dickey-Fuller
    test cannot reject at ``level``): its changes, not its levels, are what a network trained
    on the past can read in the future (a trending input's test part lies beyond its
    training range). Too short or constant a series: False."""
    values = np.asarray(values, dtype="float64")
    if len(values) < 12 or np.ptp(values) == 0:
        return False
    from statsmodels.tsa.stattools import adfuller

    try:
        return bool(adfuller(values, autolag="AIC", result_object=False)[1] > level)
    except (ValueError, np.linalg.LinAlgError):
        return False


def combine_members(forecasts: np.ndarray, how: str = "median") -> np.ndarray:
    """The forecast [n, horizon] of members' forecasts [n, members, horizon]: their median or
    mean (a lone network's single member as it is)."""
    forecasts = np.asarray(forecasts, dtype="float64")
    if forecasts.shape[1] == 1:
        return forecasts[:, 0, :]
    return np.median(forecasts, axis=1) if how == "median" else forecasts.mean(axis=1)


def start_from_smoothing(model) -> None:
    """Zero the output layer's weights: an ES hybrid network then starts by forecasting the
    exponential-smoothing forecast itself (its targets are read relative to it), and training
    and early stopping move it only as far as the training windows show corrections pay."""
    for layer in reversed(model.layers):
        if layer.trainable_weights:
            kernel = layer.trainable_weights[0]
            kernel.assign(np.zeros(kernel.shape, dtype="float32"))
            return
