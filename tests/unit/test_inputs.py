"""Input columns in the networks (issue #19): a target that copies an input two steps late is
learned from that input (and not without it); the inputs' scaling and the forecasts read nothing
from after the origin; the networks' shapes and weight counts follow the number of inputs; the
refusals; and inputs survive the config, the CLI, the store, the wire, the export and backtests.

Tiny networks (epochs 2-3, 4 units) except the lagged-input test, which must learn.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import (
    count_weights,
    preflight,
    run_experiment,
)
from lstm_lab.models.networks import mlp_params
from tests.conftest import FAST, requires_tf

pytestmark = requires_tf

ALICE = "a" * 32
TINY = dict(FAST, members=1, intervals=(), transform="none")


def _lagged_series(n: int = 300, seed: int = 0) -> Series:
    """Daily target[t] = 2 * driver[t - 2] + 10 + noise (sd 0.1), driver ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    driver = rng.normal(size=n)
    target = 10 + rng.normal(0, 0.1, n)
    target[2:] += 2 * driver[:-2]
    return Series(target, pd.date_range("2021-01-01", periods=n, freq="D"), name="sales",
                  freq="D", inputs=driver[:, None], input_names=("driver",))


def _two_input_series(n: int = 60) -> Series:
    """Monthly, with two inputs (price, promo) the target partly follows."""
    rng = np.random.default_rng(1)
    price, promo = rng.normal(5, 1, n), (np.arange(n) % 4 == 0).astype(float)
    values = 50 + 0.3 * np.arange(n) - 2 * np.roll(price, 1) + 3 * np.roll(promo, 1) + \
        rng.normal(0, 0.2, n)
    return Series(values, pd.date_range("2000-01-01", periods=n, freq="MS"), name="sales",
                  freq="MS", inputs=np.column_stack([price, promo]),
                  input_names=("price", "promo"))


# --- the lesson: a lagged input is learned, and without it the target cannot be ----------------

def test_a_target_that_copies_an_input_two_steps_late_is_learned_only_with_it() -> None:
    series = _lagged_series()
    config = ExperimentConfig(inputs=("driver",), window=6, transform="none", members=1,
                              intervals=(), models=("lstm", "mlp", "naive"), epochs=150,
                              patience=20, test_size=60, seed=0)
    with_input = run_experiment(config, series)
    rmse = {m: s["rmse"] for m, s in with_input.metrics.items()}
    assert rmse["lstm"] < 0.35          # 3.5 x the noise (measured 0.17)
    assert rmse["mlp"] < 0.5            # measured 0.27
    assert rmse["naive"] > 2.0          # the target itself is noise around 10 (measured 3.1)
    assert any("read driver beside the target" in note and "stay univariate" in note
               for note in with_input.notes)
    without = run_experiment(config.replace(inputs=()), series.target_only())
    assert without.metrics["lstm"]["rmse"] > 1.0      # measured 2.2: the driver is unknowable
    assert without.metrics["mlp"]["rmse"] > 1.0
    assert without.metrics["naive"]["rmse"] == rmse["naive"]   # the baseline never read it
    assert not any("driver" in note for note in without.notes)


# --- leakage ---------------------------------------------------------------------------------------

def _network(kind: str, inputs: np.ndarray):
    from lstm_lab.models.neural import LSTMForecaster, MLPForecaster

    cls = LSTMForecaster if kind == "lstm" else MLPForecaster
    return cls(window=4, horizon=1, units=4, epochs=2, batch_size=8, seed=0, inputs=inputs)


@pytest.mark.parametrize("kind", ["lstm", "mlp"])
def test_nothing_after_an_origin_is_read(kind) -> None:
    series = _two_input_series()
    values, inputs, n_train = series.values, np.array(series.inputs), 48
    model = _network(kind, inputs).fit(values[:n_train])
    assert model.n_inputs_ == 2
    assert not any(getattr(model, "input_diff_", []))      # both stationary: read as levels
    # the training rows' statistics (not the whole column's: promo's mean is 0.25 over 48 rows)
    np.testing.assert_allclose(model.input_mean_, inputs[:n_train].mean(axis=0), rtol=0.1)
    np.testing.assert_allclose(model.input_scale_, inputs[:n_train].std(axis=0), rtol=0.1)
    assert abs(model.input_mean_[1] - inputs[:, 1].mean()) > 1e-3 or \
        abs(model.input_mean_[0] - inputs[:, 0].mean()) > 1e-3
    trained = inputs.copy()
    trained[10] += 4.0                                      # a training row: the scaling moves
    assert _network(kind, trained).fit(values[:n_train]).input_mean_ != model.input_mean_
    origins = np.arange(n_train, len(values))
    before = model.predict(values, origins)
    first = model.predict(values, origins[:1])      # alone (a batch of one rounds its own way)

    # the test part's inputs changed: the same scaling, the same first forecast
    changed = inputs.copy()
    changed[n_train:] = changed[n_train:] * 3 + 7
    other = _network(kind, changed).fit(values[:n_train])
    assert other.input_mean_ == model.input_mean_
    assert other.input_scale_ == model.input_scale_
    model.inputs = changed
    np.testing.assert_array_equal(model.predict(values, origins[:1]), first)
    np.testing.assert_array_equal(other.predict(values, origins[:1]), first)   # same seed
    assert not np.allclose(model.predict(values, origins[1:]), before[1:])     # it reads them

    # one value at row t: the forecasts from origins t+1 .. t+window change, no others
    t = 52
    poked = inputs.copy()
    poked[t, 1] += 5.0
    model.inputs = poked
    after = model.predict(values, origins)
    moved = np.abs(after - before).ravel() > 1e-6
    expected = (origins > t) & (origins <= t + model.window)
    np.testing.assert_array_equal(moved, expected)


def test_a_network_that_reads_inputs_refuses_to_forecast_without_them() -> None:
    series = _two_input_series()
    model = _network("mlp", np.array(series.inputs)).fit(series.values[:48])
    model.inputs = None
    with pytest.raises(DataError, match=r"reads 2 input column\(s\) beside the target: give it "
                                        r"their values \(inputs=\)"):
        model.predict(series.values, np.arange(48, 50))
    model.inputs = np.array(series.inputs)[:40]
    with pytest.raises(DataError, match="The input columns have 40 rows; 49 are needed"):
        model.predict(series.values, np.arange(48, 50))


# --- shapes and weights ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_input_run():
    config = ExperimentConfig(inputs=("price", "promo"), window=4, test_size=8,
                              models=("lstm", "mlp", "naive"), **TINY)
    return run_experiment(config, _two_input_series())


def test_the_networks_read_window_steps_of_target_and_inputs(two_input_run) -> None:
    result, config = two_input_run, two_input_run.config
    lstm, mlp = result.forecasters["lstm"].model_, result.forecasters["mlp"].model_
    assert tuple(lstm.input_shape) == (None, 4, 3)            # window x (1 + 2 inputs)
    assert tuple(mlp.input_shape) == (None, 12)               # flattened: 4 x 3
    assert result.n_params["mlp"] == mlp_params(3, 4, config.mlp_units, config.mlp_layers, 1)
    # each input adds window x units first-layer weights to the MLP, whatever else
    assert mlp_params(3, 4, 4) - mlp_params(1, 4, 4) == 2 * 4 * 4
    weights = count_weights(config, result.season)
    assert weights == {"lstm": lstm.count_params(), "mlp": mlp.count_params()}
    assert weights == {m: result.n_params[m] for m in ("lstm", "mlp")}
    plain = count_weights(config.replace(inputs=()), result.season)
    assert plain["mlp"] == weights["mlp"] - 2 * 4 * config.mlp_units
    assert plain["lstm"] == weights["lstm"] - 2 * 4 * config.units    # 4 gates x units per input
    assert np.isfinite(result.predictions.loc[result.predictions["split"] == "test",
                                              ["lstm", "mlp", "naive"]].to_numpy()).all()


def test_the_internals_view_opens_a_network_that_reads_inputs(two_input_run) -> None:
    from lstm_lab.models.internals import internals_for_result

    result = two_input_run
    opened = internals_for_result(result)                 # the first test origin
    assert opened["origin"] == result.n_train
    assert opened["prediction"][0] == pytest.approx(
        result.predictions["lstm"].iloc[result.n_train], rel=1e-5)
    later = internals_for_result(result, result.n_train + 3)
    assert later["prediction"][0] == pytest.approx(
        result.predictions["lstm"].iloc[result.n_train + 3], rel=1e-5)


# --- refusals ----------------------------------------------------------------------------------

def test_a_recursive_forecast_of_several_steps_refuses_inputs() -> None:
    series = _two_input_series()
    config = ExperimentConfig(inputs=("price", "promo"), window=4, test_size=8, horizon=2,
                              strategy="recursive", models=("lstm", "naive"), **TINY)
    with pytest.raises(ConfigError, match="Input columns need the direct strategy: a recursive "
                                          "forecast would need the inputs' future values"):
        preflight(config, series)
    preflight(config.replace(strategy="direct"), series)                       # direct: fine
    preflight(config.replace(horizon=1), series)                  # one step: nothing to feed
    preflight(config.replace(models=("naive",)), series)     # no network reads the inputs


def test_a_config_and_a_series_with_other_inputs_are_refused() -> None:
    series = _two_input_series()
    config = ExperimentConfig(inputs=("price",), window=4, test_size=8, models=("mlp",), **TINY)
    with pytest.raises(ConfigError, match="reads input columns price, but 'sales' was loaded "
                                          "with price, promo"):
        preflight(config, series)
    with pytest.raises(ConfigError, match="loaded with none"):
        preflight(config, series.target_only())


def test_a_future_forecast_past_one_horizon_refuses_inputs() -> None:
    from lstm_lab.experiments.evaluation import forecast_future

    series = _two_input_series()
    config = ExperimentConfig(inputs=("price", "promo"), window=4, test_size=8, horizon=2,
                              models=("mlp", "naive"), **TINY)
    with pytest.raises(ConfigError, match=r"reaches one horizon \(2 steps\) past the data.*"
                                          r"Ask for at most 2 steps"):
        forecast_future(config, series, steps=3)
    future = forecast_future(config, series, steps=2)
    assert len(future.forecasts) == 2
    assert np.isfinite(future.forecasts[["mlp", "naive"]].to_numpy()).all()


def test_compare_inputs_needs_inputs_and_a_network() -> None:
    from lstm_lab.experiments.inputs_effect import compare_inputs

    series = _two_input_series()
    with pytest.raises(ConfigError, match="Pick input columns first"):
        compare_inputs(ExperimentConfig(window=4, test_size=8, **TINY), series.target_only())
    with pytest.raises(ConfigError, match="Only the networks read input columns"):
        compare_inputs(ExperimentConfig(inputs=("price",), models=("naive",), window=4,
                                        test_size=8, **TINY), series)


# --- round trips -------------------------------------------------------------------------------

US_CHANGE = ExperimentConfig(dataset="us_change", inputs=("Income", "Production"), window=4,
                             test_size=8, models=("lstm", "mlp", "naive"),
                             **{**TINY, "epochs": 2})


def test_the_cli_runs_with_inputs(capsys) -> None:
    from lstm_lab.cli.main import main

    code = main(["run", "--dataset", "us_change", "--inputs", "Income,Production", "--epochs",
                 "2", "--members", "1", "--interval", "none", "--models", "lstm,mlp,naive",
                 "--units", "4", "--mlp-units", "4", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["inputs"] == ["Income", "Production"]
    assert out["config"]["dataset"] == "us_change"
    assert out["series_name"] == "Consumption"
    assert set(out["metrics"]) == {"lstm", "mlp", "naive"}
    said = [n for n in out["notes"] if "Income, Production beside the target" in n]
    assert len(said) == 1 and "(Naive (last value)) stay univariate" in said[0]
    # and the same flags refused where they cannot apply, in one line
    with pytest.raises(SystemExit) as info:
        main(["run", "--inputs", "Income", "--models", "naive"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Input columns (Income) come from a CSV or a gallery series")
    assert err.count("\n") == 1


def test_the_cli_parses_inputs_into_the_config() -> None:
    from lstm_lab.cli.args import build_parser, config_from_args

    args = build_parser().parse_args(["run", "--dataset", "us_change", "--inputs",
                                      "Income, Savings"])
    assert config_from_args(args).inputs == ("Income", "Savings")
    args = build_parser().parse_args(["run", "--dataset", "us_change"])
    assert config_from_args(args).inputs == ()


@pytest.fixture(scope="module")
def us_change_run():
    from lstm_lab.experiments.sources import load_series

    series = load_series(US_CHANGE)
    return run_experiment(US_CHANGE, series), series


def test_the_store_saves_and_loads_a_run_with_inputs(store, us_change_run) -> None:
    result, series = us_change_run
    run_id = store.save_run(result, ALICE)
    loaded = store.load_run(run_id, ALICE)
    assert loaded.config == result.config and loaded.config.inputs == ("Income", "Production")
    assert loaded.notes == result.notes
    assert loaded.data_fingerprint == series.fingerprint() == result.data_fingerprint
    assert loaded.data_fingerprint != series.target_only().fingerprint()
    pd.testing.assert_frame_equal(loaded.predictions, result.predictions)
    assert loaded.n_params == result.n_params
    # a stored network keeps its inputs' scaling; its inputs are data, given again to forecast
    for model in ("lstm", "mlp"):
        restored = loaded.forecasters[model].restore()
        original = result.forecasters[model]
        assert restored.n_inputs_ == 2
        assert restored.input_mean_ == original.input_mean_
        assert restored.input_scale_ == original.input_scale_
        assert restored.inputs is None
        restored.inputs = series.inputs
        origins = np.arange(result.n_train, len(series))
        np.testing.assert_allclose(restored.predict(series.values, origins),
                                   original.predict(series.values, origins), rtol=1e-6)


def test_the_export_carries_the_inputs(us_change_run, tmp_path) -> None:
    from lstm_lab.experiments.export import metrics_json, write_run

    result, _ = us_change_run
    assert json.loads(metrics_json(result))["config"]["inputs"] == ["Income", "Production"]
    write_run(result, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["inputs"] == ["Income", "Production"]
    assert ExperimentConfig.from_dict(config) == result.config


def test_the_wire_keeps_a_series_with_inputs() -> None:
    from lstm_lab.execution import wire
    from lstm_lab.execution.tasks import TaskSpec

    series = _two_input_series()
    data = wire.encode_job(TaskSpec("inputs_effect", {}), US_CHANGE, series, ALICE)
    spec, config, back, owner = wire.decode_job(data)
    assert config == US_CHANGE and config.inputs == ("Income", "Production")
    assert back.input_names == ("price", "promo")
    np.testing.assert_array_equal(back.inputs, series.inputs)
    assert back.fingerprint() == series.fingerprint()
    plain = wire.decode_job(wire.encode_job(spec, None, series.target_only(), None))[2]
    assert plain.inputs is None and plain.input_names == ()


def test_compare_inputs_on_us_change_crosses_the_wire() -> None:
    from lstm_lab.execution import wire
    from lstm_lab.experiments.inputs_effect import InputsComparison, compare_inputs
    from lstm_lab.experiments.sources import load_series

    stages = []
    comparison = compare_inputs(US_CHANGE, load_series(US_CHANGE),
                                on_stage=lambda *a: stages.append(a))
    assert stages == [("with inputs", 0, 2), ("without inputs", 1, 2)]
    assert comparison.inputs == ("Income", "Production")
    assert comparison.networks == ["lstm", "mlp"]
    assert comparison.without.config.inputs == ()
    assert set(comparison.without.metrics) == {"lstm", "mlp"}
    table = comparison.table()
    assert list(table["Model"])[-1].endswith("(target only)")
    mlp = table.iloc[1]
    assert mlp["Weights with inputs"] - mlp["Weights without"] == 2 * 4 * 4
    back = wire.decode_result(wire.encode_result(comparison))
    assert isinstance(back, InputsComparison)
    assert back.inputs == comparison.inputs and back.networks == comparison.networks
    pd.testing.assert_frame_equal(back.table(), table)
    assert back.verdicts() == comparison.verdicts()
    assert len(back.verdicts()) == 2 and "with Income, Production" in back.verdicts()[0]


def test_a_backtest_without_refits_reads_the_inputs() -> None:
    from lstm_lab.experiments.evaluation import run_backtest

    series = _two_input_series(72)
    config = ExperimentConfig(inputs=("price", "promo"), window=4, test_size=6,
                              models=("lstm", "mlp", "naive"), **TINY)
    backtest = run_backtest(config, series, folds=3, refit=False)
    assert len(backtest.folds) == 3
    for fold in backtest.folds:
        for model in ("lstm", "mlp", "naive"):
            assert np.isfinite(list(fold["metrics"][model].values())).all(), (fold, model)
    assert len(backtest.predictions) == 18
    assert np.isfinite(backtest.predictions[["lstm", "mlp"]].to_numpy()).all()
