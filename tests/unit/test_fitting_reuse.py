"""One traced training loop for every data length (models/fitting.py): a network fitted again
on a training part of another length reuses its trace and learns exactly what a fresh trace
would, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_lab.models import fitting
from lstm_lab.models.fitting import clear_trainers, fit_compiled
from lstm_lab.models.networks import build_batched_lstm, build_mlp

WINDOW, HORIZON, K = 6, 3, 2


def _data(n: int, seed: int, members: int = 1, lstm: bool = False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, WINDOW)).astype("float32")
    y = (X[:, -HORIZON:] * 0.5 + rng.normal(scale=0.1, size=(n, HORIZON))).astype("float32")
    if members > 1:
        y = np.repeat(y[:, None, :], members, axis=1)
    return (X[..., None] if lstm else X), y


def _split(X, y, n_val: int):
    if not n_val:
        return X, y, None, None
    return X[:-n_val], y[:-n_val], X[-n_val:], y[-n_val:]


def _mlp():
    return build_mlp(WINDOW, HORIZON, 1, 8, 0.0, 0.01, seed=3)


def _lstm():
    return build_batched_lstm(WINDOW, HORIZON, 1, 4, 0.0, 0.01, 3, K)


def _fit(build, data, key, batch_size=16, patience=0, epochs=12, seed=5):
    model = build()
    outcome = fit_compiled(model, *data, epochs=epochs, batch_size=batch_size,
                           patience=patience, seed=seed, reuse_key=key)
    return outcome, [w.copy() for w in model.get_weights()]


def _trainers() -> list:
    return list(getattr(fitting._LOCAL, "trainers", {}).values())


def _assert_same(a, b) -> None:
    (outcome_a, weights_a), (outcome_b, weights_b) = a, b
    assert outcome_a.history == outcome_b.history              # every epoch's losses, bit for bit
    assert outcome_a.epochs_run == outcome_b.epochs_run
    assert outcome_a.best_epoch == outcome_b.best_epoch
    assert len(weights_a) == len(weights_b)
    for wa, wb in zip(weights_a, weights_b, strict=True):
        np.testing.assert_array_equal(wa, wb)


@pytest.fixture(autouse=True)
def _no_trainers():
    clear_trainers()
    yield
    clear_trainers()


def test_a_second_fit_on_fewer_windows_reuses_the_trace_and_matches_a_fresh_one() -> None:
    first, second = _data(80, 0), _data(60, 1)
    _fit(_mlp, _split(*first, 0), "mlp")
    (trainer,) = _trainers()
    reused = _fit(_mlp, _split(*second, 0), "mlp")
    assert _trainers() == [trainer]                             # the same traced loop
    assert trainer.train_chunk.experimental_get_tracing_count() == 1
    clear_trainers()
    fresh = _fit(_mlp, _split(*second, 0), "mlp")
    assert _trainers()[0] is not trainer
    assert len(reused[0].history["loss"]) == 12
    _assert_same(reused, fresh)


def test_an_ensemble_with_early_stopping_and_another_validation_length_matches_too() -> None:
    """The batched LSTM ensemble, 80 + 20 validation windows then 60 + 10: one trace, the same
    losses, best epoch and restored weights as a fresh trace."""
    first = _split(*_data(100, 0, K, lstm=True), 20)
    second = _split(*_data(70, 1, K, lstm=True), 10)
    _fit(_lstm, first, ("lstm", K), patience=2, epochs=40)
    (trainer,) = _trainers()
    reused = _fit(_lstm, second, ("lstm", K), patience=2, epochs=40)
    assert _trainers() == [trainer]
    assert trainer.train_chunk.experimental_get_tracing_count() == 1
    fresh = _fit(_lstm, second, None, patience=2, epochs=40)      # None: a new trace
    assert reused[0].history["val_loss"] and reused[0].best_epoch is not None
    _assert_same(reused, fresh)
    # and going back to the longer part through the same trace gives the first fit again
    _assert_same(_fit(_lstm, first, ("lstm", K), patience=2, epochs=40),
                 _fit(_lstm, first, None, patience=2, epochs=40))


def test_fewer_windows_than_a_batch_train_in_one_batch_through_the_reused_trace() -> None:
    _fit(_mlp, _split(*_data(80, 0), 0), "mlp", batch_size=16)
    tiny = _split(*_data(5, 2), 0)
    reused = _fit(_mlp, tiny, "mlp", batch_size=16)
    assert len(_trainers()) == 1
    fresh = _fit(_mlp, tiny, None, batch_size=16)
    _assert_same(reused, fresh)
    # one Adam step per epoch: 3 epochs of one batch each move the weights as 3 steps would
    three = _fit(_mlp, tiny, None, batch_size=16, epochs=3)
    also = _fit(_mlp, tiny, None, batch_size=5, epochs=3)
    _assert_same(three, also)


def test_what_shapes_the_graph_still_gets_its_own_trace() -> None:
    """Lengths are shared; the window, having validation data, the batch size and the patience
    are not."""
    data = _data(40, 0)
    _fit(_mlp, _split(*data, 0), "mlp")
    _fit(_mlp, _split(*data, 8), "mlp")                           # with validation
    _fit(_mlp, _split(*data, 0), "mlp", batch_size=8)
    _fit(_mlp, _split(*data, 8), "mlp", patience=3)
    assert len(_trainers()) == 4
    _fit(_mlp, _split(*_data(30, 1), 5), "mlp", patience=3)      # a known shape: reused
    assert len(_trainers()) == 4
    assert all(t.train_chunk.experimental_get_tracing_count() == 1 for t in _trainers())


def test_the_shuffled_order_of_n_windows_is_the_one_a_trace_per_length_gave() -> None:
    """``tf.argsort(generator.uniform([n]))`` with n read from the data inside the graph draws
    the same order as with n a constant of the trace, for every n and seed."""
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(0)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def dynamic(data):
        return tf.argsort(generator.uniform([tf.shape(data)[0]]))

    def constant(n: int):
        return tf.function(lambda: tf.argsort(generator.uniform([n])))()

    for seed in (0, 1, 42):
        for n in (1, 5, 60, 97, 109):
            generator.reset_from_seed(seed)
            want = [constant(n).numpy() for _ in range(2)]        # two epochs in a row
            generator.reset_from_seed(seed)
            got = [dynamic(tf.zeros([n])).numpy() for _ in range(2)]
            for a, b in zip(want, got, strict=True):
                np.testing.assert_array_equal(a, b)
            assert sorted(got[0].tolist()) == list(range(n))
            if n > 5:
                assert not np.array_equal(got[0], got[1])         # each epoch reshuffles
