"""The model registry is the only list of models; every model keeps the Forecaster contract and
saves and restores itself; a new model is one spec away."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lstm_lab.experiments import config as config_module
from lstm_lab.experiments import plots, training
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.limits import get_limits
from lstm_lab.models import registry
from lstm_lab.models.base import Forecaster, plain_state, restore_plain
from lstm_lab.models.registry import ModelSpec
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf


def test_every_list_of_models_comes_from_the_registry() -> None:
    keys = tuple(spec.key for spec in registry.REGISTRY)
    assert config_module.MODELS == registry.MODELS == keys
    assert ExperimentConfig().models == keys
    assert config_module.NEURAL_MODELS == tuple(s.key for s in registry.REGISTRY
                                                if s.kind == "network") == ("lstm", "mlp")
    assert {s.key: s.label for s in registry.REGISTRY} == training.MODEL_LABELS
    assert all(plots.COLORS[s.key] == s.colour for s in registry.REGISTRY)
    assert tuple(s.key for s in sorted(registry.REGISTRY,
                                                             key=lambda s: s.cost)) == registry.FIT_ORDER
    # baselines first and the slow LSTM last: a Stop mostly cuts the LSTM short
    assert registry.FIT_ORDER == ("naive", "seasonal_naive", "holt_winters", "sarima", "mlp",
                                  "lstm")
    assert config_module.ARCHITECTURE_CHOICES == registry.ARCHITECTURE_CHOICES
    config = ExperimentConfig(window=4, test_size=6)
    assert list(training.make_forecasters(config, 12)) == list(registry.FIT_ORDER)


def test_every_spec_is_complete() -> None:
    for spec in registry.REGISTRY:
        assert spec.kind in ("baseline", "classical", "network")
        assert spec.colour.startswith("#") and spec.label
        assert spec.state_class.name == spec.key
        assert spec.capabilities.multi_step and not spec.capabilities.intervals
        assert spec.min_points(ExperimentConfig(window=6), 12, 1) >= 1


@pytest.mark.parametrize("architecture, layers, label", [
    ("lstm", 1, "LSTM"), ("gru", 2, "GRU ×2"), ("bilstm", 3, "BiLSTM ×3"),
    ("encoder_decoder", 2, "Encoder-decoder LSTM")])
def test_the_recurrent_network_is_named_by_its_architecture(architecture, layers, label) -> None:
    config = ExperimentConfig(architecture=architecture, layers=layers, window=12, members=1)
    assert registry.model_label("lstm", config) == label
    assert registry.model_label("lstm") == "LSTM"           # no config: the model's own label
    assert registry.model_label("mlp", config) == "MLP"
    assert registry.model_label("unknown") == "unknown"
    # the default ensemble of 3 adds its size where the architecture ensembles
    ensemble = config.replace(members=3)
    seeds = "" if architecture in ("bilstm", "encoder_decoder") else " (3 seeds)"
    assert registry.model_label("lstm", ensemble) == label + seeds
    assert registry.model_label("mlp", ensemble) == "MLP (3 seeds)"


def test_the_loss_chart_names_a_gru_as_a_gru() -> None:
    fig = plots.loss_figure({"lstm": {"loss": [1.0, 0.5]}},
                            config=ExperimentConfig(architecture="gru", layers=2, members=1))
    assert fig.data[0].name == "GRU ×2 train"


def _fitted(key: str, values: np.ndarray):
    config = ExperimentConfig(window=4, test_size=6, horizon=3, tuning="off", **FAST)
    spec = registry.get_spec(key)
    return spec.factory(config, 12, get_limits(), True).fit(values)


@pytest.mark.parametrize("key", ["naive", "seasonal_naive", "holt_winters", "sarima"])
def test_every_model_keeps_the_contract_and_round_trips_its_state(key) -> None:
    values = make_tiny_values(60)
    model = _fitted(key, values)
    assert isinstance(model, Forecaster)
    state = model.get_state()
    import json
    assert json.loads(json.dumps(state, allow_nan=False)) == state        # plain JSON
    restored = registry.get_spec(key).state_class.from_state(state)
    origins = np.arange(model.first_origin_ + 1, 58, 3)
    np.testing.assert_array_equal(restored.predict(values, origins),
                                  model.predict(values, origins))


@requires_tf
@pytest.mark.parametrize("key", ["lstm", "mlp"])
def test_a_network_round_trips_its_state_with_its_keras_model(key) -> None:
    values = make_tiny_values(60)
    model = _fitted(key, values)
    assert isinstance(model, Forecaster)
    state = model.get_state()
    assert set(state) == {"params", "fitted", "transform", "scaler"}   # the stored format
    assert "model_" not in state["fitted"] and state["params"]["window"] == 4
    restored = registry.get_spec(key).state_class.from_state(state, model.model_)
    origins = np.arange(model.first_origin_, 58, 3)
    np.testing.assert_array_equal(restored.predict(values, origins),
                                  model.predict(values, origins))


class DriftForecaster:
    """A test model: the last value plus the average step so far, for every horizon step."""

    name = "drift"

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    @classmethod
    def for_run(cls, config, season, limits, positive) -> DriftForecaster:
        return cls(config.horizon)

    def fit(self, values, **_: object) -> DriftForecaster:
        self.first_origin_ = 2
        return self

    def predict(self, values, origins):
        values, origins = np.asarray(values, float), np.asarray(origins)
        slope = (values[origins - 1] - values[0]) / (origins - 1)
        return values[origins - 1, None] + slope[:, None] * np.arange(1, self.horizon + 1)

    def get_state(self) -> dict:
        return plain_state(self)

    @classmethod
    def from_state(cls, state, network=None) -> DriftForecaster:
        return restore_plain(cls, state)


@pytest.fixture
def drift_registered(monkeypatch):
    """Registers DriftForecaster the way a new model file would: one spec, nothing else."""
    spec = ModelSpec("drift", "Drift", "#17becf", "baseline", DriftForecaster,
                     lambda config, season, lag: 2, 0)
    monkeypatch.setattr(registry, "REGISTRY", (*registry.REGISTRY, spec))
    monkeypatch.setitem(registry.SPECS, "drift", spec)
    monkeypatch.setattr(registry, "FIT_ORDER", (*registry.FIT_ORDER, "drift"))
    monkeypatch.setattr(config_module, "MODELS", (*config_module.MODELS, "drift"))
    return spec


def test_a_model_added_with_one_spec_runs_end_to_end(drift_registered) -> None:
    config = ExperimentConfig(window=4, test_size=6, models=("naive", "drift"), **FAST)
    result = training.run_experiment(config, make_tiny_series())
    assert result.models == ["naive", "drift"]
    assert result.label("drift") == "Drift"
    assert np.isfinite(result.metrics["drift"]["rmse"])
    assert not result.predictions["drift"].iloc[-6:].isna().any()
    back = training.ExperimentResult.from_dict(result.to_dict())
    assert list(back.predictions.columns) == ["time", "actual", "split", "naive", "drift"]
    assert isinstance(result.forecasters["drift"], Forecaster)


def test_specs_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        registry.REGISTRY[0].label = "x"
