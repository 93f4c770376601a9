"""A compiled training loop: many epochs per TensorFlow call instead of Keras ``fit``.

On small series Keras ``fit`` spends most of its time on per-epoch Python work (iterators,
callbacks, a fresh validation loop). Here whole chunks of epochs (shuffle, mini-batches, Adam
steps, validation loss, early stopping with a best-weights snapshot) run inside one
``tf.function``; between chunks we report each epoch's losses and poll the stop flag, so the live
progress view stays. Chunks are sized to last about ``report_seconds``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np


@dataclass
class FitOutcome:
    history: dict[str, list[float]]
    epochs_run: int
    stopped_by_user: bool
    diverged: bool
    best_epoch: int | None
    timed_out: bool = False


class _Trainer:
    """A network's traced training loop, kept per thread and reused by later fits of the same
    network, whatever their number of windows (a calibration fit on the head of the training
    part, then the final fit; backtest folds of growing length): tracing the default LSTM
    ensemble's loop costs ~2.4 s of Python (holding the GIL, so concurrent trainings cannot
    overlap it), more than its whole reused fit (~3.9 s; bench/training_speed.py, loaded 2-core
    machine).

    The trainer trains its own copy of the network: each fit copies the caller's freshly built
    (seeded) weights in, resets the optimizer, the shuffling generator and the early-stopping
    counters, and copies the trained weights back out -- the same numbers as a fresh trace.
    """

    def __init__(self, model, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None,
                 y_val: np.ndarray | None, batch_size: int, patience: int) -> None:
        import keras
        import tensorflow as tf

        self.model = keras.models.clone_model(model)
        self.model.compile(optimizer=type(model.optimizer).from_config(
            model.optimizer.get_config()), loss="mse")
        self.has_val = has_val = X_val is not None and len(X_val) > 0
        self.use_early_stop = use_early_stop = bool(has_val and patience > 0)
        self.patience = patience
        model_ = self.model
        weights = model_.trainable_variables
        optimizer = model_.optimizer
        optimizer.build(weights)
        self.optimizer_start = [v.numpy() for v in optimizer.variables]
        # a dynamic first dimension: ``start`` assigns data of any number of windows, and the
        # traced loop reads that number from the data, so one trace serves every length
        self.data = [tf.Variable(d, trainable=False, shape=tf.TensorShape([None, *d.shape[1:]]))
                     for d in self._arrays(X, y, X_val, y_val)]
        Xt, yt, Xv, yv = self.data
        self.shuffler = shuffler = tf.random.Generator.from_seed(0)
        self.best_val = best_val = tf.Variable(np.inf, dtype=tf.float32, trainable=False)
        self.best_epoch = best_epoch = tf.Variable(-1, dtype=tf.int32, trainable=False)
        self.epoch_counter = epoch_counter = tf.Variable(0, dtype=tf.int32, trainable=False)
        self.best_weights = best_weights = (
            [tf.Variable(w, trainable=False) for w in weights] if has_val else [])

        @tf.function
        def train_chunk(n_epochs):
            losses = tf.TensorArray(tf.float32, size=n_epochs)
            val_losses = tf.TensorArray(tf.float32, size=n_epochs)
            done = tf.constant(0)
            n = tf.shape(Xt)[0]                            # this fit's number of windows
            size = tf.maximum(1, tf.minimum(batch_size, n))
            n_batches = (n + size - 1) // size
            for e in tf.range(n_epochs):
                order = tf.argsort(shuffler.uniform([n]))
                total = tf.constant(0.0)
                for b in tf.range(n_batches):
                    idx = order[b * size: tf.minimum((b + 1) * size, n)]
                    xb, yb = tf.gather(Xt, idx), tf.gather(yt, idx)
                    with tf.GradientTape() as tape:
                        loss = tf.reduce_mean(tf.square(model_(xb, training=True) - yb))
                    grads = tape.gradient(loss, weights)
                    optimizer.apply_gradients(zip(grads, weights))
                    total += loss * tf.cast(tf.shape(idx)[0], tf.float32)
                val = tf.reduce_mean(tf.square(model_(Xv, training=False) - yv))
                # times 1/n, as TensorFlow's graph optimiser rewrote the division by a
                # constant n of a trace per length: the same losses to the last bit
                losses = losses.write(e, total * (1.0 / tf.cast(n, tf.float32)))
                val_losses = val_losses.write(e, val)
                done = e + 1
                if has_val and val < best_val:
                    best_val.assign(val)
                    best_epoch.assign(epoch_counter)
                    for keep, w in zip(best_weights, weights):
                        keep.assign(w)
                epoch_counter.assign_add(1)
                if not tf.math.is_finite(total):
                    break
                if use_early_stop and epoch_counter - best_epoch > patience:
                    break
            return losses.stack()[:done], val_losses.stack()[:done]

        self.train_chunk = train_chunk

    def _arrays(self, X, y, X_val, y_val) -> tuple:
        """The data the traced loop reads; without validation data one training pair stands in
        (its loss is computed and ignored), so the graph's inputs always exist."""
        return (X, y, X_val if self.has_val else X[:1], y_val if self.has_val else y[:1])

    def start(self, model, X, y, X_val, y_val, seed: int) -> None:
        """Take the caller's initial weights and data; reset every piece of training state."""
        for mine, theirs in zip(self.model.variables, model.variables, strict=True):
            mine.assign(theirs)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_start,
                                   strict=True):
            variable.assign(value)
        for variable, value in zip(self.data, self._arrays(X, y, X_val, y_val), strict=True):
            variable.assign(value)
        self.shuffler.reset_from_seed(seed)
        self.best_val.assign(np.inf)
        self.best_epoch.assign(-1)
        self.epoch_counter.assign(0)

    def finish(self, model) -> None:
        """Hand the trained weights (the best validation epoch's, with early stopping) back."""
        if self.use_early_stop and int(self.best_epoch.numpy()) >= 0:
            for w, keep in zip(self.model.trainable_variables, self.best_weights):
                w.assign(keep)
        for theirs, mine in zip(model.variables, self.model.variables, strict=True):
            theirs.assign(mine)
        # the optimizer's state too, so a saved .keras file is what training left (and reloads
        # without Keras warning about a mismatched optimizer)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        for theirs, mine in zip(model.optimizer.variables, self.model.optimizer.variables,
                                strict=True):
            theirs.assign(mine)


_LOCAL = threading.local()
_TRAINERS_PER_THREAD = 4   # distinct network shapes kept traced in each thread


class _ExpectedRetracing(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning: every new network shape
    gets its own traced loop on purpose (tuning trains three shapes in a row), and the warning
    would only alarm CLI users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


logging.getLogger("tensorflow").addFilter(_ExpectedRetracing())   # TensorFlow's own logger


def _trainer_for(key, model, X, y, X_val, y_val, batch_size: int, patience: int) -> _Trainer:
    """This thread's trainer for ``key`` (a network) and the data's shape past its number of
    windows, traced on first use."""
    trainers = getattr(_LOCAL, "trainers", None)
    if trainers is None:
        trainers = _LOCAL.trainers = OrderedDict()
    has_val = X_val is not None and len(X_val) > 0
    # every shape but the number of windows: one trace serves training parts of any length
    full_key = (key, X.shape[1:], y.shape[1:], X_val.shape[1:] if has_val else None,
                batch_size, patience)
    trainer = trainers.pop(full_key, None) if key is not None else None
    if trainer is None:
        trainer = _Trainer(model, X, y, X_val, y_val, batch_size, patience)
    if key is not None:
        trainers[full_key] = trainer               # most recently used last
        while len(trainers) > _TRAINERS_PER_THREAD:
            trainers.popitem(last=False)
    return trainer


def clear_trainers() -> None:
    """Forget this thread's traced loops: the next fit of every network traces afresh (what
    the benchmark compares a reused trace with)."""
    trainers = getattr(_LOCAL, "trainers", None)
    if trainers is not None:
        trainers.clear()


def fit_compiled(model, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None,
                 y_val: np.ndarray | None, epochs: int, batch_size: int, patience: int, seed: int,
                 report: Callable[[int, float, float | None], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 report_seconds: float = 0.25, max_seconds: float | None = None,
                 reuse_key: Hashable | None = None) -> FitOutcome:
    """Train a compiled Keras model with MSE on (X, y); returns its loss history.

    Args:
        report: called once per epoch with (epoch starting at 1, loss, val_loss or None).
        should_stop: polled between chunks; True ends training, keeping the weights learned.
        max_seconds: wall-clock cap; training ends like a stop once it is reached.
        patience: epochs without a validation improvement before stopping (0: never); the
            weights of the best validation epoch are restored at the end.
        reuse_key: names the network's architecture (everything that shapes its graph); fits
            with the same key, batch size, patience, validation or none, and data shapes past
            the number of windows, in the same thread, reuse one traced loop (with the same
            numbers as a fresh trace, to the last bit). None: trace a new one.
    """
    import tensorflow as tf

    trainer = _trainer_for(reuse_key, model, X, y, X_val, y_val, batch_size, patience)
    trainer.start(model, X, y, X_val, y_val, seed)
    has_val, use_early_stop, patience = trainer.has_val, trainer.use_early_stop, trainer.patience
    train_chunk, epoch_counter, best_epoch = (trainer.train_chunk, trainer.epoch_counter,
                                              trainer.best_epoch)

    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    chunk = 1
    stopped = diverged = timed_out = False
    started_all = time.perf_counter()
    while len(history["loss"]) < epochs:
        started = time.perf_counter()
        losses, val_losses = train_chunk(tf.constant(min(chunk, epochs - len(history["loss"]))))
        per_epoch = (time.perf_counter() - started) / max(1, len(losses))
        for loss, val in zip(losses.numpy().tolist(), val_losses.numpy().tolist()):
            if not math.isfinite(loss):
                diverged = True
                break
            history["loss"].append(loss)
            if has_val:
                history["val_loss"].append(val)
            if report is not None:
                report(len(history["loss"]), loss, val if has_val else None)
        # Early stopping can fire on a chunk's last epoch (always, with one-epoch chunks), so ask
        # the counters rather than infer it from a short chunk.
        early_stopped = (use_early_stop
                         and int(epoch_counter.numpy()) - int(best_epoch.numpy()) > patience)
        if diverged or early_stopped or len(losses) < chunk and len(history["loss"]) < epochs:
            break  # diverged, or early stopping ended the chunk before its end
        if should_stop is not None and len(history["loss"]) < epochs and should_stop():
            stopped = True
            break
        if max_seconds is not None and time.perf_counter() - started_all > max_seconds:
            timed_out = len(history["loss"]) < epochs
            break
        chunk = max(1, min(100, int(report_seconds / max(per_epoch, 1e-6))))
    trainer.finish(model)
    best = int(best_epoch.numpy()) + 1 if use_early_stop and best_epoch.numpy() >= 0 else None
    return FitOutcome(history, len(history["loss"]), stopped, diverged, best, timed_out)
