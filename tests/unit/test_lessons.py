"""The Learn page's experiments show what they claim."""

from __future__ import annotations

import pandas as pd
import pytest

from lstm_lab.lessons import experiments as lessons
from tests.conftest import requires_tf


def _order_table() -> pd.DataFrame:
    rows = []
    for seed, (mlp, lstm_time, lstm_shuffled) in enumerate([(0.91, 1.0, 0.84), (0.93, 1.0, 0.9),
                                                          (0.92, 0.998, 0.8)]):
        rows += [{"model": "MLP", "inputs": "in time order", "seed": seed, "accuracy": mlp},
                 {"model": "MLP", "inputs": "steps shuffled", "seed": seed, "accuracy": mlp},
                 {"model": "LSTM", "inputs": "in time order", "seed": seed, "accuracy": lstm_time},
                 {"model": "LSTM", "inputs": "steps shuffled", "seed": seed,
                  "accuracy": lstm_shuffled}]
    table = pd.DataFrame(rows)
    table.attrs.update(chance=0.5, seconds=3.24, window=16)
    return table


def test_order_caption_states_the_result_in_numbers_with_the_seeds_spread() -> None:
    caption = lessons.order_caption(_order_table())
    assert caption == (
        "Shuffled the window's steps: MLP 91–93% → 91–93% right (no change: it never knew which "
        "step came first); LSTM 100% → 80–90% (15 points lower on average: it reads the steps "
        "in order, and the order was the answer). Ranges: the lowest and highest of 3 seeds; "
        "chance is 50%. Trained in 3.2 s.")


def test_order_figure_bars_are_means_with_the_seeds_range() -> None:
    fig = lessons.order_figure(_order_table())
    ordered, shuffled = fig.data
    assert ordered.name == "in time order" and list(ordered.x) == ["MLP", "LSTM"]
    assert list(shuffled.y) == pytest.approx([0.92, (0.84 + 0.9 + 0.8) / 3])
    assert list(shuffled.error_y.arrayminus) == pytest.approx([0.01, 0.8467 - 0.8], abs=1e-3)
    assert "3 seeds" in fig.layout.title.text


def test_echo_caption_explains_k_with_numbers() -> None:
    table = pd.DataFrame({"k": [1, 1, 4, 4, 5, 5, 10, 10], "model": ["LSTM", "MLP"] * 4,
                          "accuracy": [1.0, 1.0, 0.99, 1.0, 0.98, 0.27, 0.97, 0.24],
                          "in MLP window": [True, True, True, True, False, False, False, False]})
    table.attrs.update(chance=0.25, seconds=2.04, window=5)
    assert lessons.echo_caption(table) == (
        "The MLP (window 5) sees the symbols of k = 0 … 4 and recalls them 100% of the time; "
        "for k ≥ 5 the symbol has left its window: 24–27%, chance is 25%; the LSTM recalls "
        "97–100% for k = 1 … 10, carrying the symbol in its state. Trained in 2.0 s.")
    fig = lessons.echo_figure(table)
    assert fig.layout.xaxis.title.text.startswith("k = steps back to recall")
    assert [t.name for t in fig.data] == ["LSTM", "MLP (window 5)"]
    texts = [a.text for a in fig.layout.annotations]
    assert "the MLP's window of 5 holds k = 0 … 4" in texts and "chance (25%)" in texts


def test_weights_crossing_is_where_the_mlp_overtakes_the_lstm() -> None:
    crossing = lessons.weights_crossing(12, 32)
    assert crossing == pytest.approx(131 / 8)
    assert lessons.mlp_params(16, 12, 32) < lessons.lstm_params(16, 32)
    assert lessons.mlp_params(17, 12, 32) > lessons.lstm_params(17, 32)
    assert lessons.weights_crossing(4, 32) is None             # never: 4 x units per series each
    caption = lessons.scaling_caption(12, 32)
    assert ("stays larger up to 16 series; from 17 series on the MLP is larger, and at 64 "
            "series it has 2.0× the LSTM's weights") in caption
    assert "adds 384 weights to the MLP (window 12 × 32 units) and 128 to the LSTM" in caption
    assert "stays the smaller network for any number of series" in lessons.scaling_caption(3, 32)
    assert "would overtake it at 33 series" in lessons.scaling_caption(8, 32, largest=16)
    table = lessons.parameter_table(12, 32)
    fig = lessons.weights_figure(table, "parallel series", "t", crossing=crossing)
    assert fig.layout.shapes[0].x0 == pytest.approx(crossing)
    assert fig.layout.annotations[0].text == "MLP larger from 17 parallel series on"
    assert table["parallel series"].max() == 64


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


def test_variable_length_and_output_length_captions_state_numbers() -> None:
    import numpy as np

    varlen = pd.DataFrame({"length": [3, 12, 20], "trained on this length": [True, True, False],
                           "LSTM MAE": [0.01, 0.03, 0.05], "MLP MAE": [0.02, 0.04, np.nan],
                           "MLP can take it": [True, True, False],
                           "guess 0.5 MAE": [0.1, 0.06, 0.05]})
    assert lessons.variable_length_caption(varlen) == (
        "Mean absolute error: the LSTM 0.020 on the lengths it trained on (3–12) and 0.050 on "
        "lengths it never saw (20); the MLP 0.030 on the lengths it can take, and it cannot "
        "read 20 at all: it is sized for 12 inputs. Always guessing 0.5 errs 0.070. The LSTM "
        "gets less exact far outside its training lengths, but one network reads them all.")
    errors = pd.DataFrame({
        "model": ["encoder-decoder, 6 steps", "encoder-decoder, 12 steps",
                  "encoder-decoder, 24 steps", "MLP, 12 steps"],
        "output steps": [6, 12, 24, 12],
        "RMSE steps 1-12 (trained)": [0.05, 0.1, 0.1, 0.08],
        "RMSE steps 13+ (never trained)": [np.nan, np.nan, 0.4, np.nan]})
    assert lessons.output_length_caption(errors, 12) == (
        "The same encoder-decoder weights gave 6, 12, 24 steps. RMSE over the 12 steps it "
        "trained for: encoder-decoder 0.100, MLP 0.080; past step 12 the decoder keeps going "
        "but drifts (RMSE 0.400), where the MLP gives nothing: its output layer has exactly 12 "
        "outputs.")
