"""The ES hybrid (issue #15): Holt-Winters fitted on the training part only carries level, trend
and season, the network learns the rest; auto picks it for season-ahead direct forecasts; the
CLI, JSON and store name it and keep an ensemble's spread and the validation check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstm_lab.cli.main import main
from lstm_lab.data.windows import ES_KINDS, TargetTransform, direct, resolve_transform
from lstm_lab.errors import ConfigError
from lstm_lab.experiments import validation
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import ExperimentResult, preflight, run_experiment
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf

N, TEST, SEASON = 72, 12, 12


def _values(n: int = N) -> np.ndarray:
    return make_tiny_values(n)                     # positive, seasonal 12, rising


def _config(**changes) -> ExperimentConfig:
    return ExperimentConfig(**{**FAST, "window": 12, "horizon": 12, "test_size": TEST,
                               "season": SEASON, "models": ("lstm", "seasonal_naive"),
                               "tuning": "off", "members": 3, "validation_fraction": 0.2,
                               **changes})


# --- the transform: training data only, no look-ahead, exact inverse --------------------------

def test_the_fit_uses_the_training_part_only() -> None:
    values = _values()
    train = values[:N - TEST]
    other = values.copy()
    other[N - TEST:] = other[N - TEST:] * 1.7 + 3.0                   # another future
    fit = TargetTransform("log_es", SEASON).fitted(train).components()
    assert fit == TargetTransform("log_es", SEASON).fitted(other[:N - TEST]).components()
    assert fit["kind"] == "log_es" and len(fit["indices"]) == SEASON
    # what it learns does depend on the data it is given
    assert fit != TargetTransform("log_es", SEASON).fitted(other).components()


@requires_tf
def test_a_networks_transform_is_fitted_on_what_it_trains_on() -> None:
    from lstm_lab.models.neural import MLPForecaster

    values = _values()
    train = values[:N - TEST]
    model = MLPForecaster(window=12, horizon=12, season=SEASON, transform="auto", members=1,
                          epochs=2, batch_size=8, units=4).fit(train)
    assert model.transform_.kind == "log_es"
    assert model.transform_.components() == \
        TargetTransform("log_es", SEASON).fitted(train).components()
    assert model.transform_.components() != \
        TargetTransform("log_es", SEASON).fitted(values).components()


def test_offsets_at_an_origin_use_no_value_at_or_after_it() -> None:
    values = _values()
    transform = TargetTransform("log_es", SEASON).fitted(values[:60])
    for origin in (13, 30, 47, 60, 66):
        changed = values.copy()
        changed[origin:] = changed[origin:] * 2.0 + 5.0
        x, y = transform.offsets(values, np.array([origin]), 12)
        x2, y2 = transform.offsets(changed, np.array([origin]), 12)
        assert x.shape == (1, 1) and y.shape == (1, 12)
        np.testing.assert_array_equal(x2, x)
        np.testing.assert_array_equal(y2, y)
        before = values.copy()
        before[origin - 1] *= 1.5                  # the window's last point does count
        assert not np.allclose(transform.offsets(before, np.array([origin]), 12)[1], y)


@pytest.mark.parametrize("kind,shift", [("log_es", 0.0), ("es", -10.5)])
def test_inverse_undoes_forward(kind, shift) -> None:
    values = _values() + shift
    assert kind == "log_es" or (values.min() < 0 < values.max())
    transform = TargetTransform(kind, SEASON).fitted(values[:60])
    z = transform.forward(values)
    origins = np.array([12, 25, 48, 60])
    z_hat = np.stack([z[o:o + 12] for o in origins])
    restored = transform.inverse(z_hat, values, origins)
    np.testing.assert_allclose(restored, np.stack([values[o:o + 12] for o in origins]),
                               rtol=1e-10, atol=1e-10)
    back = TargetTransform.from_components(transform.components())
    np.testing.assert_array_equal(back.forward(values), z)


def test_auto_picks_the_hybrid_for_a_direct_forecast_of_a_seasonal_series() -> None:
    positive = _values(48)                                  # 4 seasons
    crossing = positive - positive.mean()
    assert crossing.min() < 0 < crossing.max()
    assert direct("direct") and not direct("recursive")
    assert resolve_transform("auto", positive, SEASON, direct("direct")) == "log_es"
    assert resolve_transform("auto", crossing, SEASON, direct("direct")) == "es"
    assert resolve_transform("auto", positive[:30], SEASON, True) not in ES_KINDS  # < 3 seasons
    assert resolve_transform("auto", positive, 1, True) not in ES_KINDS           # no season
    assert resolve_transform("auto", positive, SEASON, direct("recursive")) not in ES_KINDS


@pytest.mark.parametrize("transform", ["es", "log_es"])
def test_the_hybrid_with_a_recursive_forecast_is_refused(transform) -> None:
    series = make_tiny_series(_values())
    with pytest.raises(ConfigError, match="direct"):
        preflight(_config(transform=transform, strategy="recursive"), series)
    preflight(_config(transform=transform), series)                  # direct: accepted
    preflight(_config(transform="auto", strategy="recursive"), series)   # auto avoids it


# --- runs: the transform, the spread, the validation check, the names -------------------------

@pytest.fixture(scope="module")
def es_runs():
    pytest.importorskip("tensorflow")
    values = _values()
    changed = values.copy()
    changed[N - TEST:] = changed[N - TEST:] * 1.3 + 2.0               # another test part only
    return (run_experiment(_config(), make_tiny_series(values)),
            run_experiment(_config(), make_tiny_series(changed)))


@requires_tf
def test_a_runs_hybrid_does_not_see_the_test_part(es_runs) -> None:
    run, changed = es_runs
    assert run.transform == changed.transform == "log_es"
    first = run.forecasters["lstm"].transform_.components()
    assert first == changed.forecasters["lstm"].transform_.components()
    assert first == TargetTransform("log_es", SEASON).fitted(_values()[:N - TEST]).components()
    assert run.label("lstm") == "ES-LSTM (3 seeds)"
    assert run.label("seasonal_naive") == changed.label("seasonal_naive")


@requires_tf
def test_the_validation_check_compares_with_seasonal_naive(es_runs) -> None:
    from lstm_lab.models.seasonal_naive import SeasonalNaiveForecaster

    run = es_runs[0]
    model = run.forecasters["lstm"]
    train = _values()[:N - TEST]
    check = validation.compare(model, train, SEASON, 12)
    assert set(check) == {"origins", "rmse", "seasonal_naive_rmse"}
    origins = validation.validation_origins(model, len(train), 12)
    assert check["origins"] == len(origins) > 0 and origins.max() + 12 <= len(train)
    actual = np.stack([train[o:o + 12] for o in origins])
    rmse = np.sqrt(np.mean((model.predict(train, origins) - actual) ** 2))
    naive = SeasonalNaiveForecaster(12, SEASON).fit(train).predict(train, origins)
    assert check["rmse"] == pytest.approx(rmse, rel=1e-9)
    assert check["seasonal_naive_rmse"] == pytest.approx(
        np.sqrt(np.mean((naive - actual) ** 2)), rel=1e-9)
    assert run.validation["lstm"] == pytest.approx(check)
    worse = any("did worse than seasonal naive" in note for note in run.notes)
    assert worse == (check["rmse"] > check["seasonal_naive_rmse"])


def test_the_worse_note_only_when_the_network_erred_more() -> None:
    worse = {"origins": 5, "rmse": 2.5, "seasonal_naive_rmse": 2.0}
    note = validation.worse_note("ES-LSTM (3 seeds)", worse, SEASON)
    assert note and note.startswith("ES-LSTM (3 seeds) did worse than seasonal naive")
    assert "2.5" in note and "5 forecast origins" in note
    for rmse in (2.0, 1.5):
        assert validation.worse_note("LSTM", {**worse, "rmse": rmse}, SEASON) is None
    assert validation.worse_note("LSTM", None, SEASON) is None
    assert "did worse than the naive forecast" in validation.worse_note("MLP", worse, 1)


@requires_tf
def test_json_round_trip_keeps_the_spread_and_its_gaps(es_runs) -> None:
    run = es_runs[0]
    low = run.spread["lstm"]["low"]
    assert np.isnan(low).any() and np.isfinite(low).any()
    back = ExperimentResult.from_dict(json.loads(run.to_json()))
    for side in ("low", "high"):
        np.testing.assert_array_equal(back.spread["lstm"][side], run.spread["lstm"][side])
        assert back.spread["lstm"][side].dtype == np.float64
    assert back.validation == run.validation and back.transform == "log_es"
    assert back.label("lstm") == "ES-LSTM (3 seeds)"


@requires_tf
def test_the_store_keeps_spread_validation_and_label(es_runs, tmp_path, monkeypatch) -> None:
    from lstm_lab.store import DB_ENV_VAR, get_store

    monkeypatch.setenv(DB_ENV_VAR, str(tmp_path / "db" / "runs.sqlite3"))
    store = get_store()
    run = es_runs[0]
    assert run.validation["lstm"]["origins"] > 0
    loaded = store.load_run(store.save_run(run, "a" * 32), "a" * 32)
    assert set(loaded.spread) == {"lstm"}
    for side in ("low", "high"):
        np.testing.assert_array_equal(loaded.spread["lstm"][side], run.spread["lstm"][side])
    assert loaded.validation == run.validation
    assert loaded.label("lstm") == run.label("lstm") == "ES-LSTM (3 seeds)"
    restored = loaded.forecasters["lstm"]
    origins = np.array([N - TEST])
    np.testing.assert_allclose(restored.predict_members(_values(), origins),
                               run.forecasters["lstm"].predict_members(_values(), origins),
                               rtol=1e-6)


# --- the command line ---------------------------------------------------------------------------

CLI = ["run", "--horizon", "12", "--test-size", "12", "--models", "lstm", "--epochs", "2",
       "--units", "4"]


@requires_tf
def test_the_cli_names_the_es_lstm_ensemble(capsys) -> None:
    assert main(CLI) == 0
    out = capsys.readouterr().out
    metrics, _, interval_table = out.partition("Prediction intervals")
    rows = [line for line in metrics.splitlines() if line.startswith("ES-LSTM (3 seeds)")]
    assert len(rows) == 1                          # one metrics row, then one per level
    assert [line.split()[3] for line in interval_table.splitlines()
            if line.startswith("ES-LSTM (3 seeds)")] == ["80%", "95%"]
    assert "transform: log_es" in out


@requires_tf
def test_the_cli_json_has_members_combine_and_the_transform(capsys) -> None:
    assert main([*CLI, "--members", "2", "--combine", "median", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["members"] == 2 and data["config"]["combine"] == "median"
    assert data["transform"] == "log_es"
    assert set(data["metrics"]) == {"lstm"}
