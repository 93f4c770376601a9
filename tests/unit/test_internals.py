"""Inside the LSTM: the NumPy replay of the gates reproduces Keras' own LSTM output."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lstm_lab.errors import ConfigError, DataError, NotFittedError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.models import architectures
from lstm_lab.models.internals import (
    internals_figure,
    internals_for_result,
    lstm_internals,
    recurrent_layers,
)
from lstm_lab.models.networks import build_lstm
from lstm_lab.models.neural import LSTMForecaster
from tests.conftest import FAST, make_tiny_series, requires_tf

pytestmark = requires_tf


def _keras_output(model, layer_name: str, window: np.ndarray) -> np.ndarray:
    import keras

    sub = keras.Model(model.input, model.get_layer(layer_name).output)
    return np.asarray(sub(window[None], training=False))[0]


@pytest.fixture(scope="module")
def trained():
    """A small LSTM trained for 3 epochs on the tiny series, and one of its input windows."""
    from tests.conftest import make_tiny_values

    values = make_tiny_values()
    forecaster = LSTMForecaster(window=6, horizon=2, transform="none", units=5, epochs=3,
                                batch_size=8, learning_rate=0.05, patience=0,
                                validation_fraction=0.0).fit(values)
    window = forecaster.scaler_.transform(values[10:16])[:, None]    # [6, 1]
    return forecaster, window


def test_last_hidden_state_matches_keras_to_1e5(trained) -> None:
    forecaster, window = trained
    found = lstm_internals(forecaster.model_, window)
    keras_h = _keras_output(forecaster.model_, "lstm_1", window)      # [units]: the last step
    assert found["h"].shape == (6, 5)
    np.testing.assert_allclose(found["h"][-1], keras_h, atol=1e-5)
    # ...and the forecast is the Dense layer applied to that last hidden state
    kernel, bias = forecaster.model_.get_layer("forecast").get_weights()
    np.testing.assert_allclose(found["prediction"], found["h"][-1] @ kernel + bias, atol=1e-5)
    np.testing.assert_allclose(found["prediction"],
                               np.asarray(forecaster.model_(window[None]))[0], atol=1e-6)


def test_every_step_and_the_cell_state_match_keras() -> None:
    import keras

    rng = np.random.default_rng(0)
    layer = keras.layers.LSTM(4, return_sequences=True, return_state=True,
                              bias_initializer=keras.initializers.RandomNormal(seed=3))
    x = rng.normal(size=(1, 9, 3)).astype("float32")
    sequence, h_last, c_last = (np.asarray(a)[0] for a in layer(x))
    found = lstm_internals(layer, x)
    np.testing.assert_allclose(found["h"], sequence, atol=1e-5)
    np.testing.assert_allclose(found["h"][-1], h_last, atol=1e-5)
    np.testing.assert_allclose(found["c"][-1], c_last, atol=1e-5)
    assert found["prediction"] is None and found["x"].shape == (9, 3)


def test_the_arrays_obey_the_lstm_equations(trained) -> None:
    forecaster, window = trained
    f = lstm_internals(forecaster.model_, window)
    for gate in ("i", "f", "o"):
        assert ((f[gate] > 0) & (f[gate] < 1)).all()
    assert (np.abs(f["g"]) < 1).all() and (np.abs(f["h"]) < 1).all()
    c_prev = np.vstack([np.zeros((1, 5)), f["c"][:-1]])
    np.testing.assert_allclose(f["c"], f["f"] * c_prev + f["i"] * f["g"], atol=1e-12)
    np.testing.assert_allclose(f["h"], f["o"] * np.tanh(f["c"]), atol=1e-12)


def test_stacked_layers_feed_each_other() -> None:
    model = build_lstm(8, 1, layers=2, units=3, dropout=0.2, seed=4)
    window = np.sin(np.arange(8) / 2)
    assert recurrent_layers(model) == ["lstm_1", "lstm_2"]
    lower, upper = lstm_internals(model, window, layer=0), lstm_internals(model, window)
    assert (lower["layer"], upper["layer"]) == ("lstm_1", "lstm_2")
    np.testing.assert_allclose(upper["x"], lower["h"], atol=1e-5)   # dropout is off at inference
    np.testing.assert_allclose(lower["h"], _keras_output(model, "lstm_1", window[:, None]),
                               atol=1e-5)
    np.testing.assert_allclose(upper["h"][-1], _keras_output(model, "lstm_2", window[:, None]),
                               atol=1e-5)
    assert lstm_internals(model, window, layer="lstm_1")["layer"] == "lstm_1"


def test_the_default_layer_is_the_last_one_reading_the_window() -> None:
    from lstm_lab.models.internals import default_layer

    encdec = architectures.build_encoder_decoder(6, 2, layers=2, units=2)
    assert recurrent_layers(encdec) == ["encoder_1", "encoder_2", "decoder"]
    assert default_layer(encdec) == "encoder_2"
    assert lstm_internals(encdec, np.zeros(6))["layer"] == "encoder_2"
    assert default_layer(build_lstm(6, 1, layers=3, units=2)) == "lstm_3"
    with pytest.raises(ConfigError, match="has none"):
        default_layer(architectures.build_gru(6, 1, units=2))


@pytest.mark.parametrize("name, layer", [("cnn_lstm", "lstm_1"), ("encoder_decoder", "encoder_1"),
                                         ("encoder_decoder", "decoder")])
def test_lstm_layers_inside_other_architectures(name: str, layer: str) -> None:
    model = architectures.build(name, 12, 3, units=4, seed=2)
    window = np.cos(np.arange(12) / 3)
    found = lstm_internals(model, window, layer=layer)
    keras_out = _keras_output(model, layer, window[:, None])
    np.testing.assert_allclose(found["h"][-1], keras_out if keras_out.ndim == 1 else keras_out[-1],
                               atol=1e-5)
    assert found["prediction"].shape == (3,)


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_bidirectional_directions_match_keras(direction: str) -> None:
    model = architectures.build_bilstm(7, 1, layers=2, units=3, seed=1)
    window = np.linspace(-1, 1, 7)
    for layer in ("bilstm_1", "bilstm_2"):
        found = lstm_internals(model, window, layer=layer, direction=direction)
        out = _keras_output(model, layer, window[:, None])           # [..., 2 * units]
        half = out[..., :3] if direction == "forward" else out[..., 3:]
        if half.ndim == 2:       # a sequence, in time order for both directions
            np.testing.assert_allclose(found["h"], half, atol=1e-5)
        else:                    # final state: forwards after step T-1, backwards after step 0
            np.testing.assert_allclose(found["h"][-1 if direction == "forward" else 0], half,
                                       atol=1e-5)
        assert found["direction"] == direction


def test_models_without_an_lstm_are_refused() -> None:
    with pytest.raises(ConfigError, match="has none"):
        lstm_internals(architectures.build_gru(5, 1, units=2), np.zeros(5))
    with pytest.raises(ConfigError, match="Choose one of lstm_1"):
        lstm_internals(build_lstm(5, 1, units=2), np.zeros(5), layer="lstm_9")
    with pytest.raises(DataError, match="takes 1 input"):
        lstm_internals(build_lstm(5, 1, units=2).get_layer("lstm_1"), np.zeros((5, 2)))


@pytest.fixture(scope="module")
def run():
    from lstm_lab.experiments.training import run_experiment

    config = ExperimentConfig(window=4, test_size=6, transform="log_diff", models=("lstm",),
                              **FAST)
    return run_experiment(config, make_tiny_series())


@pytest.fixture(scope="module")
def lone_run():
    """The same run with a lone LSTM (``run`` trains the default ensemble)."""
    from lstm_lab.experiments.training import run_experiment

    config = ExperimentConfig(window=4, test_size=6, transform="log_diff", models=("lstm",),
                              members=1, **FAST)
    return run_experiment(config, make_tiny_series())


@pytest.mark.parametrize("which", ["run", "lone_run"])
def test_internals_for_a_run_use_the_window_predict_uses(which, request) -> None:
    run = request.getfixturevalue(which)
    forecaster = run.forecasters["lstm"]
    for origin in (forecaster.first_origin_, run.n_train, run.n_points - 1):
        found = internals_for_result(run, origin)
        # the prediction in original units is the one the run scored
        assert found["prediction"].shape == (1,)
        assert found["prediction"][0] == pytest.approx(run.predictions["lstm"].iloc[origin],
                                                       rel=1e-6)
        assert found["actual"][0] == run.predictions["actual"].iloc[origin]
        np.testing.assert_array_equal(found["window"],
                                      run.predictions["actual"].to_numpy()[origin - 4:origin])
        # the raw network output is the Dense layer on the replayed last hidden state (of an
        # ensemble: member 1's output, from its block of the wide layer)
        kernel, bias = forecaster.model_.get_layer("forecast").get_weights()
        k = found["members"]
        assert k == run.config.members
        units, outputs = kernel.shape[0] // k, kernel.shape[1] // k
        assert units == FAST["units"] and outputs == run.config.horizon
        np.testing.assert_allclose(found["prediction_model"],
                                   found["h"][-1] @ kernel[:units, :outputs] + bias[:outputs],
                                   atol=1e-5)
        assert found["x"].shape == (4, 1) and found["origin"] == origin


def test_internals_for_a_run_default_to_the_first_test_point(run) -> None:
    found = internals_for_result(run)
    assert found["origin"] == run.n_train
    assert found["forecast_time"][0] == run.predictions["time"].iloc[run.n_train]


def test_internals_for_a_run_refuse_bad_origins_and_runs_without_weights(run) -> None:
    from lstm_lab.experiments.training import ExperimentResult

    with pytest.raises(DataError, match="origin must be between"):
        internals_for_result(run, 1)
    with pytest.raises(DataError, match="origin must be between"):
        internals_for_result(run, run.n_points + 1)
    with pytest.raises(NotFittedError, match="Train it again"):
        internals_for_result(ExperimentResult.from_dict(run.to_dict()))


def test_the_figure_labels_every_gate_and_shows_the_prediction(run) -> None:
    found = internals_for_result(run)
    fig = internals_figure(found)
    assert isinstance(fig, go.Figure)
    heatmaps = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert [t.name for t in heatmaps] == ["f", "i", "g", "c", "o", "h"]
    assert all(t.z.shape == (FAST["units"], 4) for t in heatmaps)   # [units, steps]
    titles = " ".join(a.text for a in fig.layout.annotations)
    for words in ("forget gate", "input gate", "candidate", "cell state", "output gate",
                  "hidden state"):
        assert words in titles
    names = [t.name for t in fig.data]
    assert "prediction" in names and "actual" in names
    prediction = next(t for t in fig.data if t.name == "prediction")
    assert prediction.y[0] == pytest.approx(found["prediction"][0])
