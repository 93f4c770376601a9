"""Datasets and live experiments for the MLP's limits: echo, parallel series, variable lengths,
output lengths; and the Learn page's figures and helpers built on them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from lstm_lab.errors import ConfigError
from lstm_lab.lessons import experiments as lessons
from lstm_lab.lessons import tasks
from tests.conftest import requires_tf

# --- echo ----------------------------------------------------------------------------------------


def test_echo_targets_by_hand() -> None:
    X, y = tasks.make_echo(2, 6, 3, k=2, seed=0)
    assert X.shape == (2, 6, 3) and X.dtype == np.float32
    assert (X.sum(axis=-1) == 1).all()                         # one-hot: one 1 per step
    # the sequences this seed draws, read back from the one-hot encoding...
    np.testing.assert_array_equal(X.argmax(-1), [[2, 1, 1, 0, 0, 0],
                                                 [0, 0, 0, 2, 1, 2]])
    np.testing.assert_array_equal(X[0, 0], [0, 0, 1])         # 2 -> [0, 0, 1]
    # ...and the value two steps back at every step (-1: nothing two steps back yet)
    np.testing.assert_array_equal(y, [[-1, -1, 2, 1, 1, 0],
                                      [-1, -1, 0, 0, 0, 2]])


def test_echo_k0_is_the_current_value_and_the_same_seed_gives_the_same_sequences() -> None:
    X, y = tasks.make_echo(5, 10, 4, k=0, seed=3)
    np.testing.assert_array_equal(y, X.argmax(-1))
    X7, y7 = tasks.make_echo(5, 10, 4, k=7, seed=3)
    np.testing.assert_array_equal(X7, X)
    np.testing.assert_array_equal(y7[:, 7:], y[:, :3])
    assert (y7[:, :7] == -1).all()


@pytest.mark.parametrize("kwargs, message", [(dict(k=6), "k must be between 0 and length - 1"),
                                             (dict(k=-1), "k must be between"),
                                             (dict(k=1, n_values=1), "n_values must be at least 2")])
def test_echo_refuses_impossible_settings(kwargs: dict, message: str) -> None:
    args = dict(n_sequences=2, length=6, n_values=3) | kwargs
    with pytest.raises(ConfigError, match=message):
        tasks.make_echo(**args)


@requires_tf
def test_echo_experiment_table_shape() -> None:
    table = tasks.echo_experiment(ks=(1, 2, 4), length=8, window=2, n_values=3, units=4,
                                  n_train=64, n_test=16, steps=3)
    assert list(table.columns) == ["k", "model", "accuracy", "in MLP window"]
    assert table["k"].tolist() == [1, 1, 2, 2, 4, 4]
    assert table["model"].tolist() == ["LSTM", "MLP"] * 3
    assert table["in MLP window"].tolist() == [True, True, False, False, False, False]
    assert table["accuracy"].between(0, 1).all()
    assert table.attrs["chance"] == pytest.approx(1 / 3) and table.attrs["window"] == 2


@requires_tf
@pytest.mark.parametrize("ks, window", [((0, 8), 5), ((1, 9), 10)])
def test_echo_experiment_refuses_k_or_window_beyond_the_sequence(ks, window) -> None:
    with pytest.raises(ConfigError):
        tasks.echo_experiment(ks=ks, length=8, window=window, steps=1)


@requires_tf
@pytest.mark.slow
def test_echo_sweep_the_lstm_carries_what_the_mlp_window_drops() -> None:
    table = tasks.echo_experiment()  # the Learn page's settings: length 25, window 5, k 1..10
    acc = table.pivot(index="k", columns="model", values="accuracy")
    assert (acc.loc[1:4, "MLP"] > 0.95).all()                  # inside its window: perfect
    assert (acc.loc[5:10, "MLP"] < 0.35).all()                 # beyond: chance is 0.25
    assert (acc["LSTM"] > 0.8).all()                           # the LSTM carries every k
    assert table.attrs["seconds"] < 30                         # ~2-3 s on 2 cores


# --- order: the latest spike ------------------------------------------------------------------------


def _latest_spike_by_hand(window: np.ndarray) -> int:
    """Read the answer back from the values: the rightmost value beyond the noise."""
    spikes = [v for v in window if abs(v) > 1.9]        # spikes are 2..3 high, the noise 0.3
    return int(spikes[-1] > 0)


def test_latest_spike_windows_and_answers_by_hand() -> None:
    X, y = tasks.make_latest_spike(400, 12, seed=3, spikes=(2, 5))
    assert X.shape == (400, 12) and X.dtype == np.float32 and y.shape == (400,)
    counts = (np.abs(X) >= 2).sum(axis=1)
    assert counts.min() >= 2 and counts.max() <= 5
    assert [_latest_spike_by_hand(w) for w in X] == y.tolist()
    assert 0.35 < y.mean() < 0.65                       # up and down about equally often
    np.testing.assert_array_equal(tasks.make_latest_spike(400, 12, seed=3)[0], X)


def test_latest_spike_the_order_decides_the_answer() -> None:
    """The same values in another order give another answer for many windows: the target is a
    function of the order, not of the set of values."""
    X, y = tasks.make_latest_spike(500, 16, seed=0)
    reversed_answers = np.array([_latest_spike_by_hand(w) for w in X[:, ::-1]])
    changed = (reversed_answers != y).mean()
    assert changed > 0.3                                # first and latest spike disagree
    perm = np.random.default_rng(1).permutation(16)
    shuffled_answers = np.array([_latest_spike_by_hand(w) for w in X[:, perm]])
    assert (shuffled_answers != y).mean() > 0.2


@pytest.mark.parametrize("spikes", [(0, 2), (3, 2), (1, 20)])
def test_latest_spike_refuses_impossible_spike_counts(spikes) -> None:
    with pytest.raises(ConfigError, match="Need 1 <= fewest spikes <= most spikes <= window"):
        tasks.make_latest_spike(5, 8, spikes=spikes)


@requires_tf
def test_order_experiment_table_and_the_mlp_learns_the_same_either_way() -> None:
    table = tasks.order_experiment(seeds=(0, 1), window=8, units=4, n_train=128, n_test=200,
                                   steps=30)
    assert list(table.columns) == ["model", "inputs", "seed", "accuracy"]
    assert table["model"].tolist() == ["MLP"] * 4 + ["LSTM"] * 4
    assert table["inputs"].tolist() == ["in time order", "steps shuffled"] * 4
    assert table["seed"].tolist() == [0, 0, 1, 1] * 2
    assert table["accuracy"].between(0, 1).all()
    acc = table.set_index(["model", "seed", "inputs"])["accuracy"]
    for seed in (0, 1):   # the shuffled MLP starts as the same network and sees the same batches
        assert acc["MLP", seed, "steps shuffled"] == pytest.approx(
            acc["MLP", seed, "in time order"], abs=0.011)
    assert table.attrs["chance"] == 0.5 and table.attrs["window"] == 8


def test_order_experiment_needs_a_seed() -> None:
    with pytest.raises(ConfigError, match="at least one seed"):
        tasks.order_experiment(seeds=())


@requires_tf
@pytest.mark.slow
def test_order_the_lstm_reads_the_order_and_the_mlp_cannot_across_seeds() -> None:
    table = tasks.order_experiment()    # the Learn page's settings: 3 seeds, window 12
    acc = table.pivot_table(index="seed", columns=["model", "inputs"], values="accuracy")
    lstm, mlp = acc["LSTM"], acc["MLP"]
    assert (lstm["in time order"] > 0.97).all()                     # it reads the order
    assert (lstm["in time order"] > mlp["in time order"] + 0.04).all()
    assert (lstm["steps shuffled"] < lstm["in time order"] - 0.05).all()   # the shuffle hurts
    assert ((mlp["steps shuffled"] - mlp["in time order"]).abs() < 0.011).all()   # no change


# --- parallel series -------------------------------------------------------------------------------


def test_parallel_series_and_windows_line_up() -> None:
    frame = tasks.make_parallel_series(n_series=3, length=60, seed=1)
    assert list(frame.columns) == ["x1", "x2", "x3", "target"]
    X, y = tasks.parallel_windows(frame, window=10)
    assert X.shape == (50, 10, 3) and y.shape == (50,)
    np.testing.assert_allclose(X[7, -1], frame.iloc[16, :3].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(X[7, 0], frame.iloc[7, :3].to_numpy(), rtol=1e-6)
    assert y[7] == pytest.approx(frame["target"].iloc[17], rel=1e-6)
    # the target is built from the inputs' past, at lags inside a window of max_lag
    lags, weights = frame.attrs["lags"], frame.attrs["weights"]
    assert all(1 <= lag <= 8 for lag in lags)
    rebuilt = sum(w * frame[f"x{j + 1}"].shift(lag) for j, (lag, w) in
                  enumerate(zip(lags, weights))) / np.sqrt(3)
    residual = (frame["target"] - rebuilt).iloc[max(lags):]
    assert residual.abs().max() < 0.3                          # only the small added noise


@requires_tf
def test_parallel_parameter_table_formulas_match_keras() -> None:
    table = tasks.parallel_parameter_table(window=6, units=5, n_series=(1, 3, 7), verify=True)
    assert table["MLP input width"].tolist() == [6, 18, 42]
    assert table["LSTM inputs per step"].tolist() == [1, 3, 7]
    assert table["MLP weights"].tolist() == table["MLP weights (Keras)"].tolist()
    assert table["LSTM weights"].tolist() == table["LSTM weights (Keras)"].tolist()


def test_parallel_parameter_table_without_keras_has_formulas_only() -> None:
    table = tasks.parallel_parameter_table(window=12, units=32)
    assert "MLP weights (Keras)" not in table
    assert table["MLP weights"].is_monotonic_increasing


@requires_tf
def test_parallel_experiment_reports_shapes_and_weights() -> None:
    table = tasks.parallel_experiment(n_series=4, window=6, units=4, length=80, epochs=2)
    rows = table.set_index("model")
    assert rows.loc["MLP", "one sample"] == "(24,)" and rows.loc["LSTM", "one sample"] == "(6, 4)"
    assert rows.loc["MLP", "first-layer input width"] == 24
    assert rows.loc["LSTM", "first-layer input width"] == 4
    assert (table["weights (Keras)"] == table["weights (formula)"]).all()
    assert np.isfinite(table["test RMSE"]).all()


# --- variable-length inputs ----------------------------------------------------------------------


def test_variable_length_sequences_are_padded_at_the_end_and_averaged() -> None:
    X, y, lengths = tasks.make_variable_length(50, 2, 7, seed=0)
    assert X.shape == (50, 7, 1) and y.shape == (50,)
    assert lengths.min() >= 2 and lengths.max() <= 7
    for row, n, target in zip(X[..., 0], lengths, y):
        assert (row[n:] == tasks.PAD).all() and (row[:n] >= 0).all()
        assert target == pytest.approx(row[:n].mean(), rel=1e-5)
    with pytest.raises(ConfigError):
        tasks.make_variable_length(5, 4, 3)


@requires_tf
def test_variable_length_demo_one_lstm_takes_every_length() -> None:
    table = tasks.variable_length_demo(train_lengths=(2, 5), test_lengths=(2, 5, 9), units=4,
                                       n_train=64, n_test=20, steps=5)
    assert table["length"].tolist() == [2, 5, 9]
    assert table["trained on this length"].tolist() == [True, True, False]
    assert table["MLP can take it"].tolist() == [True, True, False]
    assert np.isfinite(table["LSTM MAE"]).all()                # even length 9, never seen
    assert np.isfinite(table["MLP MAE"].iloc[:2]).all() and np.isnan(table["MLP MAE"].iloc[2])


# --- output sequences of any length --------------------------------------------------------------


@requires_tf
def test_output_length_demo_same_weights_any_length() -> None:
    forecasts, errors = tasks.output_length_demo(window=8, horizon=4, lengths=(2, 4, 8), units=4,
                                                 n_points=80, epochs=2)
    assert forecasts["step"].tolist() == list(range(1, 9))
    columns = ["encoder-decoder, 2 steps", "encoder-decoder, 4 steps", "encoder-decoder, 8 steps",
               "MLP, 4 steps"]
    assert list(forecasts.columns) == ["step", "actual", *columns]
    assert forecasts[columns].notna().sum().tolist() == [2, 4, 8, 4]
    # the decoder reads its steps in order: a shorter output is the start of a longer one
    np.testing.assert_allclose(forecasts[columns[0]][:2], forecasts[columns[2]][:2], atol=1e-6)
    np.testing.assert_allclose(forecasts[columns[1]][:4], forecasts[columns[2]][:4], atol=1e-6)
    assert errors["output steps"].tolist() == [2, 4, 8, 4]
    beyond = errors["RMSE steps 5+ (never trained)"]
    assert np.isfinite(beyond.iloc[2]) and beyond.drop(index=2).isna().all()


@requires_tf
def test_the_training_loop_knows_two_losses() -> None:
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ConfigError, match="loss must be"):
        tasks._train(model, np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), "mae",
                     1, 2, 0.1, 0)
    loss = tasks._train(model, np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), "mse",
                        5, 2, 0.1, 0)
    assert np.isfinite(loss)


# --- the Learn page's figures and helpers ----------------------------------------------------------


def _echo_table() -> pd.DataFrame:
    table = pd.DataFrame({"k": [1, 1, 6, 6], "model": ["LSTM", "MLP"] * 2,
                          "accuracy": [1.0, 1.0, 0.9, 0.25],
                          "in MLP window": [True, True, False, False]})
    table.attrs.update(chance=0.25, seconds=1.0, window=5)
    return table


def test_learn_figures_are_plotly_figures_with_both_models() -> None:
    fig = lessons.echo_figure(_echo_table())
    assert isinstance(fig, go.Figure) and [t.name for t in fig.data] == ["LSTM", "MLP (window 5)"]
    varlen = pd.DataFrame({"length": [3, 12, 20], "trained on this length": [True, True, False],
                           "LSTM MAE": [0.01, 0.02, 0.04], "MLP MAE": [0.01, 0.02, np.nan],
                           "MLP can take it": [True, True, False],
                           "guess 0.5 MAE": [0.1, 0.06, 0.05]})
    assert len(lessons.variable_length_figure(varlen).data) == 3
    forecasts = pd.DataFrame({"step": [1, 2], "actual": [0.0, 1.0],
                              "encoder-decoder, 2 steps": [0.1, 0.9], "MLP, 2 steps": [0.0, 1.1]})
    names = [t.name for t in lessons.output_length_figure(forecasts, horizon=2).data]
    assert names == ["actual", "encoder-decoder, 2 steps", "MLP, 2 steps"]


def test_architecture_table_lists_the_family_with_weights() -> None:
    table = lessons.architecture_table(window=12, units=8)
    assert table["name"].tolist() == ["lstm", "gru", "bilstm", "cnn_lstm", "encoder_decoder"]
    assert table.loc[0, "weights"] == lessons.lstm_params(1, 8)
    assert table["what it does"].str.len().gt(20).all()
    prime = lessons.architecture_table(window=7, units=8)
    assert pd.isna(prime.set_index("name").loc["cnn_lstm", "weights"])   # cannot split 7 steps
    lines = lessons.architecture_lines(prime)
    assert len(lines) == 5 and lines[0].startswith("- **LSTM (vanilla / stacked)** (")
    assert "cannot split this window" in lines[3]


class _Run:
    """A stand-in for an ExperimentResult: what the Learn page reads of one."""

    def __init__(self, architecture: str = "lstm", layers: int = 1, model=None,
                 models=("lstm", "naive"), fitted: bool = True) -> None:
        from lstm_lab.experiments.config import ExperimentConfig

        self.config = ExperimentConfig(architecture=architecture, layers=layers, members=1,
                                       models=tuple(models))
        self.models, self.series_name = list(models), "airline passengers"
        self.forecasters = ({"lstm": type("F", (), {"model_": model})()}
                            if fitted and "lstm" in models else {})

    def label(self, key: str) -> str:
        from lstm_lab.models.registry import model_label

        return model_label(key, self.config)


@requires_tf
def test_latest_run_is_shown_only_when_it_is_an_lstm_and_says_why_not() -> None:
    from lstm_lab.models.architectures import build_gru
    from lstm_lab.models.networks import build_lstm

    lstm = _Run(model=build_lstm(4, 1, units=2))
    gru = _Run("gru", layers=2, model=build_gru(4, 1, units=2))
    assert lessons.latest_lstm_run({}) is None and lessons.latest_run_note({}) is None
    assert lessons.latest_lstm_run({"a": lstm}) is lstm
    assert lessons.latest_run_note({"a": lstm}) is None
    assert lessons.run_description(lstm) == "LSTM on airline passengers"
    # the latest run is a GRU: no older LSTM in its place, and a sentence naming the GRU
    assert lessons.latest_lstm_run({"a": lstm, "b": gru}) is None
    note = lessons.latest_run_note({"a": lstm, "b": gru})
    assert note.startswith("Your latest run (GRU ×2 on airline passengers) has no LSTM cell "
                           "state or gates to show here: a GRU is not an LSTM;")
    assert "LSTM ×" not in note
    baselines = _Run(models=("naive", "seasonal_naive"))
    note = lessons.latest_run_note({"a": lstm, "b": baselines})
    assert "trained no recurrent network (only Naive" in note and "seasonal_naive" not in note
    read_back = _Run(fitted=False)
    assert "loaded without its trained network" in lessons.latest_run_note({"b": read_back})
    assert lessons.small_lstm_config().models == ("lstm",)
