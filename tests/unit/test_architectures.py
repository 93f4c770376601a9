"""The LSTM family: every builder's shapes, weights, seeds, training, and its exported code."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.models import architectures
from lstm_lab.models.architectures import (
    ARCHITECTURE_NAMES,
    ARCHITECTURES,
    architecture_keras_code,
    count_params,
    sub_window_length,
)
from lstm_lab.models.neural import LSTMForecaster
from tests.conftest import requires_tf

pytestmark = requires_tf


def test_the_family_has_five_members_each_explained_in_one_line() -> None:
    assert ARCHITECTURE_NAMES == ("lstm", "gru", "bilstm", "cnn_lstm", "encoder_decoder")
    for name, arch in ARCHITECTURES.items():
        assert arch.name == name and arch.label
        assert "\n" not in arch.help and 20 < len(arch.help) < 160
    assert ARCHITECTURES["lstm"].build is architectures.build_lstm


def test_config_choices_match_the_family() -> None:
    field = {f.name: f for f in dataclasses.fields(ExperimentConfig)}["architecture"]
    assert tuple(field.metadata["choices"]) == ARCHITECTURE_NAMES
    assert field.default == "lstm"


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
@pytest.mark.parametrize("layers, n_features, horizon", [(1, 1, 1), (2, 3, 4)])
def test_shapes_and_weights_match_the_formula(name: str, layers: int, n_features: int,
                                              horizon: int) -> None:
    model = architectures.build(name, 12, horizon, layers, 4, 0.1, 1e-3,
                                n_features=n_features, seed=0)
    assert model.input_shape == (None, 12, n_features)
    assert model.output_shape == (None, horizon)
    out = model(np.zeros((3, 12, n_features), dtype="float32"))
    assert tuple(out.shape) == (3, horizon)
    assert model.count_params() == count_params(name, 12, horizon, layers, 4, n_features)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_same_seed_same_weights(name: str) -> None:
    a, b, c = (architectures.build(name, 8, 2, units=3, seed=s) for s in (5, 5, 6))
    wa, wb, wc = (np.concatenate([w.ravel() for w in m.get_weights()]) for m in (a, b, c))
    np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(wa, wc)


def test_bidirectional_directions_start_from_different_weights() -> None:
    layer = architectures.build_bilstm(6, 1, units=3).get_layer("bilstm_1")
    forward, backward = layer.forward_layer.get_weights(), layer.backward_layer.get_weights()
    assert not np.allclose(forward[0], backward[0])
    assert layer.backward_layer.go_backwards


def test_encoder_decoder_repeats_the_encoding_for_each_output_step() -> None:
    model = architectures.build_encoder_decoder(10, 5, layers=2, units=3)
    assert model.get_layer("repeat").output.shape == (None, 5, 3)
    assert model.get_layer("decoder").return_sequences
    # the decoder's weights do not depend on the horizon: a longer copy takes them as they are
    longer = architectures.build_encoder_decoder(10, 9, layers=2, units=3)
    longer.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 10, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(longer(x))[:, :5], np.asarray(model(x)), atol=1e-6)


@pytest.mark.parametrize("window, length", [(4, 2), (6, 2), (8, 2), (9, 3), (12, 3), (24, 4),
                                            (100, 10)])
def test_cnn_lstm_sub_windows(window: int, length: int) -> None:
    assert sub_window_length(window) == length
    model = architectures.build_cnn_lstm(window, 1, units=2)
    assert model.get_layer("sub_windows").output.shape == (None, window // length, length, 1)


@pytest.mark.parametrize("window, suggestion", [(7, "6 or 8"), (3, "4"), (1, "4"), (13, "12 or 14")])
def test_cnn_lstm_refuses_windows_it_cannot_split(window: int, suggestion: str) -> None:
    with pytest.raises(ConfigError, match=f"Received: window={window}. Try window={suggestion}"):
        architectures.check_window("cnn_lstm", window)
    with pytest.raises(ConfigError):
        architectures.build("cnn_lstm", window, 1)
    architectures.check_window("lstm", window)  # the others take any window


def test_unknown_architecture_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="must be one of lstm, gru, bilstm, cnn_lstm, "
                                          "encoder_decoder. Received: architecture='rnn'"):
        architectures.get_architecture("rnn")


@pytest.mark.parametrize("name, strategy", [(name, "direct") for name in ARCHITECTURE_NAMES]
                         + [("encoder_decoder", "recursive")])  # recursive: one output step
def test_every_architecture_trains_and_forecasts_a_tiny_series(name: str, strategy: str,
                                                               tiny_values, fast_kwargs) -> None:
    forecaster = LSTMForecaster(window=4, horizon=3, transform="none", layers=2,
                                strategy=strategy, architecture=name, **fast_kwargs)
    forecaster.fit(tiny_values[:30])
    assert forecaster.epochs_run_ == 3
    assert len(forecaster.history_["loss"]) == 3
    assert np.isfinite(forecaster.history_["loss"]).all()
    assert forecaster.n_params_ == count_params(name, 4, forecaster.output_steps, 2, 4)
    pred = forecaster.predict(tiny_values, np.array([30, 33]))
    assert pred.shape == (2, 3) and np.isfinite(pred).all()


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_exported_code_rebuilds_the_same_network(name: str) -> None:
    config = ExperimentConfig(window=6, horizon=2, layers=2, units=3, dropout=0.1, epochs=1)
    code = architecture_keras_code(config.replace(architecture=name))
    assert "import keras" in code and "model.fit(" in code
    # build the network only: the data and fit lines are the LSTM's, run by test_models.py
    build_part = code.split("model.summary()")[0]
    namespace: dict = {}
    exec(compile(build_part, f"<export {name}>", "exec"), namespace)
    assert namespace["model"].count_params() == count_params(name, 6, 2, 2, 3)


def test_exported_code_without_an_architecture_field_is_the_lstm_code() -> None:
    from lstm_lab.models.networks import keras_code

    config = ExperimentConfig(window=6, units=3)
    assert architecture_keras_code(config) == keras_code(config)


@pytest.mark.parametrize("name", ARCHITECTURE_NAMES)
def test_keras_files_round_trip(name: str, tmp_path) -> None:
    """Downloads and the run store save networks as .keras files: every layer must load back."""
    import keras

    model = architectures.build(name, 8, 2, layers=2, units=3, seed=0)
    model.save(tmp_path / "net.keras")
    loaded = keras.saving.load_model(tmp_path / "net.keras", compile=False)
    x = np.random.default_rng(0).normal(size=(2, 8, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
