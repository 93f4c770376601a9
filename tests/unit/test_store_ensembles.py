"""Ensembles and the ES hybrid in saved runs, runs files, the Keras code and Learn's internals view.

Two module-scoped tiny runs (2 epochs, 4 units): an ensemble of 3 (LSTM and MLP) and an ES-LSTM.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_lab.errors import DataError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import count_weights, run_experiment
from lstm_lab.limits import get_limits
from lstm_lab.store import RunStore, keras_check
from tests.conftest import FAST, make_tiny_series, requires_tf

ALICE, BOB = "a" * 32, "b" * 32
TINY = {**FAST, "epochs": 2}
ORIGINS = np.arange(34, 40)


@pytest.fixture(scope="module")
def ensemble():
    """An LSTM and an MLP ensemble of 3 seeds each."""
    pytest.importorskip("tensorflow")
    cfg = ExperimentConfig(window=4, test_size=6, models=("lstm", "mlp", "naive"), members=3,
                           **TINY)
    return run_experiment(cfg, make_tiny_series())


@pytest.fixture(scope="module")
def hybrid():
    """A lone ES-LSTM (the ES hybrid transform)."""
    pytest.importorskip("tensorflow")
    cfg = ExperimentConfig(window=4, test_size=6, models=("lstm", "naive"), members=1,
                           transform="es", **TINY)
    return run_experiment(cfg, make_tiny_series())


def _same_forecasts(restored, original) -> None:
    values = make_tiny_series().values
    np.testing.assert_allclose(restored.predict_members(values, ORIGINS),
                               original.predict_members(values, ORIGINS), rtol=1e-6)
    np.testing.assert_allclose(restored.predict(values, ORIGINS),
                               original.predict(values, ORIGINS), rtol=1e-6)


# --- saved runs ----------------------------------------------------------------------------------

@requires_tf
def test_a_saved_ensemble_reloads_with_the_same_members_and_spread(store, ensemble) -> None:
    assert set(ensemble.spread) == {"lstm", "mlp"}
    run_id = store.save_run(ensemble, ALICE)
    loaded = store.load_run(run_id, ALICE)
    assert loaded.to_dict() == ensemble.to_dict()
    for model in ("lstm", "mlp"):
        np.testing.assert_array_equal(loaded.spread[model]["low"], ensemble.spread[model]["low"])
        network = store.load_weights(run_id, model)
        assert network.output_shape == (None, 3, 1)                  # [batch, members, horizon]
        restored = loaded.forecasters[model]
        _same_forecasts(restored, ensemble.forecasters[model])
        assert restored.predict_members(make_tiny_series().values, ORIGINS).shape == (6, 3, 1)


@requires_tf
def test_an_ensemble_passes_the_keras_check_with_the_weights_training_counts(ensemble) -> None:
    from lstm_lab.experiments.export import model_bytes

    counted = count_weights(ensemble.config, ensemble.season)
    for model in ("lstm", "mlp"):
        blob = model_bytes(ensemble, model)
        keras_check.check_keras_file(blob, model, get_limits())
        config, _ = keras_check._read_archive(blob, model, get_limits())
        weights = keras_check._check_config(config, model, get_limits())
        assert weights == counted[model] == ensemble.forecasters[model].model_.count_params()


# --- runs files ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(ensemble, hybrid, tmp_path_factory) -> str:
    source = RunStore(tmp_path_factory.mktemp("db") / "runs.sqlite3")
    ids = [source.save_run(ensemble, ALICE), source.save_run(hybrid, ALICE)]
    return source.export_runs(ids, ALICE)


@requires_tf
def test_export_then_import_keeps_ensembles_and_the_es_hybrid(store, exported, ensemble,
                                                              hybrid) -> None:
    ids = store.import_runs(exported, BOB).ids
    assert len(ids) == 2
    for run_id, original in zip(ids, (ensemble, hybrid), strict=True):
        loaded = store.load_run(run_id, BOB)
        assert loaded.to_dict() == original.to_dict()
        assert loaded.validation == json.loads(json.dumps(original.to_dict()))["validation"]
        _same_forecasts(loaded.forecasters["lstm"], original.forecasters["lstm"])
    es_state = json.loads(exported)["runs"][1]["networks"]["lstm"]["state"]["transform"]
    assert es_state["kind"] == "es" and len(es_state["indices"]) <= es_state["season"]


def _spoil_run(key: str, change):
    def spoil(doc: dict) -> None:
        change(doc["runs"][0 if key == "ensemble" else 1])
    return spoil


def _transform(run: dict) -> dict:
    return run["networks"]["lstm"]["state"]["transform"]


@requires_tf
@pytest.mark.parametrize("spoil, message", [
    (_spoil_run("ensemble", lambda r: r["result"]["spread"]["lstm"]["low"].pop()),
     r"spread\.lstm\.low must be a list of 40 values"),
    (_spoil_run("ensemble", lambda r: r["result"]["spread"]["lstm"]["high"].__setitem__(
        0, "1; DROP")), r"spread\.lstm\.high must be a number"),
    (_spoil_run("ensemble", lambda r: r["result"]["spread"].update(arima={"low": []})),
     "unknown spread entry 'arima'"),
    (_spoil_run("ensemble", lambda r: r["result"]["spread"]["mlp"].update(mid=[])),
     "unknown spread.mlp entry 'mid'"),
    (_spoil_run("ensemble", lambda r: r["result"]["validation"].update(
        lstm={"origins": 3, "rmse": -1, "seasonal_naive_rmse": 1.0})),
     r"validation\.lstm\.rmse must be at least 0"),
    (_spoil_run("ensemble", lambda r: r["result"]["validation"].update(
        lstm={"rmse": 1.0, "seasonal_naive_rmse": 1.0})),
     r"validation\.lstm has no origins"),
    (_spoil_run("ensemble", lambda r: r["result"]["config"].update(members=21)),
     "members"),
    (_spoil_run("ensemble", lambda r: r["result"]["config"].update(combine="vote")),
     "combine"),
    (_spoil_run("es", lambda r: _transform(r).update(alpha=1.5)),
     "transform alpha must be between 0 and 1"),
    (_spoil_run("es", lambda r: _transform(r).update(phi="x")), "transform phi must be a number"),
    (_spoil_run("es", lambda r: _transform(r).update(indices=[0.0] * 13)),
     "indices must be a list of at most 12"),
    (_spoil_run("es", lambda r: _transform(r).update(indices="0.1")), "indices must be a list"),
    (_spoil_run("es", lambda r: _transform(r).update(level0=None)),
     "transform level0 must be a number"),
    (_spoil_run("es", lambda r: _transform(r).update(kind="holt")), "unknown transform 'holt'"),
    (_spoil_run("es", lambda r: _transform(r).update(gamma=0.5)), "unknown .* entry 'gamma'"),
])
def test_import_refuses_junk_spread_validation_and_transforms(store, exported, spoil,
                                                             message) -> None:
    doc = json.loads(exported)
    spoil(doc)
    with pytest.raises(DataError, match=message):
        store.import_runs(json.dumps(doc), BOB)
    assert store.list_runs(BOB, include_shared=False) == []


@requires_tf
def test_import_counts_spread_values_among_the_prediction_points(store, exported,
                                                                 monkeypatch) -> None:
    runs = json.loads(exported)["runs"]
    rows = sum(len(run["result"]["predictions"]["time"]) for run in runs)
    spread = sum(len(v) for run in runs for bands in run["result"]["spread"].values()
                 for v in bands.values())
    assert spread == 4 * len(runs[0]["result"]["predictions"]["time"])   # 2 networks x low, high
    bands = sum(len(v) for run in runs for levels in run["result"]["intervals"].values()
                for band in levels.values() for v in band.values())    # prediction intervals
    assert bands > 0
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", str(rows + spread + bands - 1))
    with pytest.raises(DataError, match="prediction points"):
        store.import_runs(exported, BOB)
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", str(rows + spread + bands))
    assert len(store.import_runs(exported, BOB).ids) == 2


@requires_tf
def test_a_network_too_wide_for_this_server_is_refused_on_import(store, exported,
                                                                 monkeypatch) -> None:
    """The settings check counts the wide model: 3 members of 4 units weigh as one of 12."""
    doc = json.loads(exported)
    lstm_weights = count_weights(ExperimentConfig.from_dict(doc["runs"][0]["result"]["config"]),
                                 12)["lstm"]
    alone = count_weights(ExperimentConfig.from_dict(
        {**doc["runs"][0]["result"]["config"], "members": 1}), 12)["lstm"]
    assert lstm_weights > 3 * alone
    monkeypatch.setenv("LSTM_LAB_MAX_WEIGHTS", str(lstm_weights - 1))
    with pytest.raises(DataError, match=f"LSTM.* network of {lstm_weights:,} weights"):
        store.import_runs(json.dumps({**doc, "runs": doc["runs"][:1]}), BOB)


# --- the Keras code ------------------------------------------------------------------------------

@pytest.mark.parametrize("architecture, transform, combine", [
    ("lstm", "log_es", "mean"), ("gru", "none", "median")])
def test_the_exported_ensemble_script_trains_each_seed_and_combines(architecture, transform,
                                                                   combine, capsys) -> None:
    pytest.importorskip("tensorflow")
    from lstm_lab.models.architectures import architecture_keras_code, count_params

    config = ExperimentConfig(window=5, horizon=2, layers=1, units=3, epochs=40, members=3,
                              architecture=architecture, transform=transform, combine=combine)
    code = architecture_keras_code(config)
    assert "for seed in range(members):" in code and f"np.{combine}(forecasts, axis=1)" in code
    assert ("Holt-Winters" in code) == (transform == "log_es")
    assert "epochs=40" in code
    namespace: dict = {}
    exec(compile(code.replace("epochs=40", "epochs=1"), "<export>", "exec"), namespace)
    assert namespace["members"] == 3
    forecasts = namespace["forecasts"]
    assert forecasts.shape == (1, 3, 2) and np.isfinite(forecasts).all()
    assert not np.allclose(forecasts[:, 0], forecasts[:, 1])          # different seeds
    assert namespace["model"].count_params() == count_params(architecture, 5, 2, 1, 3)
    combined = getattr(np, combine)(forecasts, axis=1)
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(combined)


def test_a_lone_network_or_an_architecture_that_does_not_ensemble_trains_once() -> None:
    from lstm_lab.models.architectures import architecture_keras_code

    for config in (ExperimentConfig(window=6, members=1),
                   ExperimentConfig(window=6, members=3, architecture="bilstm")):
        code = architecture_keras_code(config)
        assert "for seed" not in code and "members" not in code and "model.fit(" in code


# --- Learn's internals view ----------------------------------------------------------------------

@requires_tf
@pytest.mark.parametrize("layer", ["lstm_1", "lstm_2"])
def test_internals_open_member_one_of_an_ensemble(layer: str) -> None:
    from lstm_lab.models import internals
    from lstm_lab.models.ensembles import member_seed
    from lstm_lab.models.networks import build_lstm

    seed, k, u = 4, 3, 5
    wide = build_lstm(6, 2, layers=2, units=u, seed=seed, members=k)
    rng = np.random.default_rng(1)         # weights of a trained-looking ensemble, zeros between
    wide.set_weights([w + rng.normal(scale=0.3, size=w.shape) * (w != 0)
                      for w in wide.get_weights()])
    lone = build_lstm(6, 2, layers=2, units=u, seed=member_seed(seed, 0), members=1)
    for name in ("lstm_1", "lstm_2"):
        kernel, recurrent, bias = internals._weights(wide.get_layer(name))
        sliced = internals.member_weights(kernel, recurrent, bias, k, wide_input=name != "lstm_1")
        lone.get_layer(name).set_weights([w.astype("float32") for w in sliced])
    dense_k, dense_b = wide.get_layer("forecast").get_weights()
    lone.get_layer("forecast").set_weights([dense_k[:u, :2], dense_b[:2]])
    window = rng.normal(size=6).astype("float32")
    found = internals.lstm_internals(wide, window, layer=layer)
    assert found["h"].shape == (6, u) and found["members"] == k
    import keras

    own = keras.Model(lone.input, lone.get_layer(layer).output)
    expected = np.asarray(own(window[None, :, None], training=False))[0]
    expected = expected[-1] if expected.ndim == 2 else expected
    np.testing.assert_allclose(found["h"][-1], expected, atol=1e-5)
    np.testing.assert_allclose(found["prediction"],
                               np.asarray(lone(window[None, :, None], training=False))[0],
                               atol=1e-5)
    figure = internals.internals_figure(found)
    assert "member 1 of 3" in figure.layout.title.text
    alone = internals.lstm_internals(lone, window, layer=layer)
    assert "member" not in internals.internals_figure(alone).layout.title.text
