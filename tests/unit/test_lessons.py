"""The Learn page's experiments show what they claim."""

from __future__ import annotations

import pytest

from lstm_lab.data.datasets import load_air_passengers
from lstm_lab.lessons import experiments as lessons
from tests.conftest import requires_tf


def test_mlp_is_blind_to_the_order_of_its_inputs() -> None:
    table = lessons.order_experiment(load_air_passengers(), epochs=5).set_index(["model", "inputs"])
    rmse = table["test RMSE"]
    assert len(rmse) == 4
    assert rmse["MLP", "points shuffled"] == pytest.approx(rmse["MLP", "in time order"], rel=1e-4)
    assert rmse["LSTM", "points shuffled"] != pytest.approx(rmse["LSTM", "in time order"], rel=1e-4)


def test_parameter_table_grows_for_the_mlp_only_with_the_window() -> None:
    small, large = lessons.parameter_table(window=6), lessons.parameter_table(window=24)
    assert (large["MLP weights"] > small["MLP weights"]).all()
    assert (large["LSTM weights"] == small["LSTM weights"]).all()
    # 1 series, window 12, 32 units: 12*32+32 hidden + 32+1 output
    assert lessons.mlp_params(1, 12, 32) == 12 * 32 + 32 + 33
    assert lessons.lstm_params(1, 32) == 4 * 32 * (1 + 32 + 1) + 33


@requires_tf
def test_the_live_experiments_training_loop_stops_between_chunks() -> None:
    """Stop (or a job's time limit) ends training after the chunk in progress: a run stopped
    after two chunks is the same network as one asked for two chunks' steps."""
    import keras
    import numpy as np

    from lstm_lab.lessons import tasks

    X = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = X.sum(axis=1, keepdims=True)

    def train(steps: int, should_stop=None) -> list:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        tasks._train(model, X, y, "mse", steps, 8, 0.01, 0, should_stop)
        return [w.copy() for w in model.get_weights()]

    looks = []

    def stop_after_two_chunks() -> bool:
        looks.append(1)
        return len(looks) > 2

    stopped = train(10 * tasks.CHUNK_STEPS, stop_after_two_chunks)
    assert len(looks) == 3                      # looked before chunks 1, 2 and 3
    two_chunks, all_steps = train(2 * tasks.CHUNK_STEPS), train(10 * tasks.CHUNK_STEPS)
    for a, b in zip(stopped, two_chunks):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, c) for a, c in zip(stopped, all_steps))
