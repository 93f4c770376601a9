"""The ES weight (issue #15): an ES hybrid's forecast is (1 - w) x the network's + w x the
exponential smoothing's own. Checked against the smoothing forecast computed by hand from the
fitted components; older saves (no weight) forecast as the network alone; the config, CLI,
links, notes and sweeps name it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_lab.cli.main import main
from lstm_lab.data.windows import TargetTransform
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.sweep import setting_matters
from lstm_lab.experiments.training import es_weight_notes, run_experiment
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf

N, TEST, SEASON = 72, 12, 12
ORIGINS = np.array([N - TEST - 3, N - TEST])


def _smoothing_forecast(transform: TargetTransform, values: np.ndarray,
                        origins: np.ndarray, steps: int) -> np.ndarray:
    """The ES forecast from each origin, by hand: level carried on by the damped trend, then
    the season put back (what the network's targets are read relative to)."""
    levels, trends = transform.smoothed(values[: origins.max()])
    level, trend = levels[origins - 1][:, None], trends[origins - 1][:, None]
    path = level + trend * np.cumsum(transform.phi ** np.arange(1, steps + 1))[None, :]
    season = np.asarray(transform.indices)[(origins[:, None] + np.arange(steps)) % SEASON]
    return path * np.exp(season) if transform.uses_log else path + season


@pytest.fixture(scope="module")
def fitted():
    pytest.importorskip("tensorflow")
    from lstm_lab.models.neural import MLPForecaster

    values = make_tiny_values(N)
    model = MLPForecaster(window=12, horizon=12, season=SEASON, transform="auto", members=3,
                          epochs=4, batch_size=8, units=4, seed=1).fit(values[:N - TEST])
    return model, values


def _members(model, values: np.ndarray, weight: float) -> np.ndarray:
    model.es_weight = weight
    try:
        return model.predict_members(values, ORIGINS)
    finally:
        model.es_weight = 0.0


@requires_tf
def test_the_blend_is_the_weighted_mean_of_network_and_smoothing(fitted) -> None:
    model, values = fitted
    assert model.transform_.kind == "log_es"
    alone = _members(model, values, 0.0)
    smoothing = _smoothing_forecast(model.transform_, values, ORIGINS, 12)
    for weight in (0.25, 0.5):
        np.testing.assert_allclose(_members(model, values, weight),
                                   (1 - weight) * alone + weight * smoothing[:, None, :],
                                   rtol=1e-9)
    # the members still differ (their spread shrinks by 1 - w), and w = 1 is the smoothing alone
    assert np.ptp(alone, axis=1).max() > 1e-3
    np.testing.assert_allclose(np.ptp(_members(model, values, 0.5), axis=1),
                               0.5 * np.ptp(alone, axis=1), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(_members(model, values, 1.0),
                               np.repeat(smoothing[:, None, :], 3, axis=1), rtol=1e-9)
    # the smoothing forecast reads nothing at or after its origin
    other = values.copy()
    other[ORIGINS.min():] *= 1.5
    np.testing.assert_allclose(_smoothing_forecast(model.transform_, other, ORIGINS[:1], 12),
                               smoothing[:1], rtol=1e-12)


@requires_tf
def test_the_weight_leaves_other_transforms_alone() -> None:
    from lstm_lab.models.neural import MLPForecaster

    values = make_tiny_values(N)
    model = MLPForecaster(window=12, horizon=12, season=SEASON, transform="log_diff",
                          epochs=2, batch_size=8, units=4).fit(values[:N - TEST])
    np.testing.assert_array_equal(_members(model, values, 0.0), _members(model, values, 0.8))


@requires_tf
def test_a_saved_network_keeps_its_weight_and_an_older_save_has_none(fitted) -> None:
    from lstm_lab.models.neural import MLPForecaster

    model, values = fitted
    model.es_weight = 0.5
    try:
        state = model.get_state()
    finally:
        model.es_weight = 0.0
    assert state["params"]["es_weight"] == 0.5
    restored = MLPForecaster.from_state(json.loads(json.dumps(state)), model.model_)
    np.testing.assert_allclose(restored.predict_members(values, ORIGINS),
                               _members(model, values, 0.5), rtol=1e-9)
    del state["params"]["es_weight"]                       # saved before the weight existed
    older = MLPForecaster.from_state(state, model.model_)
    np.testing.assert_allclose(older.predict_members(values, ORIGINS),
                               _members(model, values, 0.0), rtol=1e-9)


@requires_tf
def test_a_run_uses_the_configs_weight_and_says_so() -> None:
    series = make_tiny_series(make_tiny_values(N))
    config = ExperimentConfig(**{**FAST, "window": 12, "horizon": 12, "test_size": TEST,
                                 "season": SEASON, "models": ("mlp",), "members": 2,
                                 "intervals": ()})
    blended, alone = (run_experiment(config.replace(es_weight=w), series) for w in (0.5, 0.0))
    assert blended.forecasters["mlp"].es_weight == 0.5
    assert blended.metrics["mlp"]["rmse"] != alone.metrics["mlp"]["rmse"]
    note = [n for n in blended.notes if "ES weight 0.5" in n]
    assert note and note[0].startswith("ES-MLP (2 seeds): each forecast is 0.5 x the network's")
    assert not [n for n in alone.notes if "ES weight" in n]
    # the Keras code of the run explains the hybrid auto chose, and the weight
    from lstm_lab.models.architectures import architecture_keras_code

    code = architecture_keras_code(blended.network_config("lstm"))
    assert "The ES hybrid (transform='log_es')" in code
    assert "0.5 x the network's + 0.5 x the smoothing's own (es_weight=0.5)" in code
    assert "es_weight" not in architecture_keras_code(alone.network_config("lstm"))


def test_the_note_only_for_an_es_hybrid_with_a_weight() -> None:
    config = ExperimentConfig()
    assert es_weight_notes(config, "log_es", ["lstm", "mlp"])
    assert not es_weight_notes(config, "log_diff", ["lstm"])
    assert not es_weight_notes(config.replace(es_weight=0.0), "es", ["lstm"])
    assert not es_weight_notes(config, "es", [])


def test_the_config_checks_and_carries_the_weight() -> None:
    assert ExperimentConfig().es_weight == 0.5
    config = ExperimentConfig(es_weight=0.2)
    assert ExperimentConfig.from_json(config.to_json()).es_weight == 0.2
    parsed, problems = ExperimentConfig.from_query_params(config.to_query_params())
    assert parsed.es_weight == 0.2 and not problems
    with pytest.raises(ConfigError, match="es_weight"):
        ExperimentConfig(es_weight=1.5)
    _, problems = ExperimentConfig.from_query_params({"es_weight": "2"})
    assert problems and "es_weight" in problems[0]


def test_the_cli_refuses_a_weight_out_of_range(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--es-weight", "1.5"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == ("error: `es_weight` must be between 0.0 and 1.0. "
                                               "Received: es_weight=1.5")


def test_the_weight_matters_only_for_a_direct_hybrid() -> None:
    config = ExperimentConfig()
    assert setting_matters("es_weight", config)
    assert not setting_matters("es_weight", config.replace(transform="log_diff"))
    assert not setting_matters("es_weight", config.replace(strategy="recursive", horizon=3,
                                                          transform="log_diff"))
    assert not setting_matters("es_weight", config.replace(models=("naive",)))
