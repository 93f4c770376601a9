"""run_experiment: every model scored on the same test points, reproducibly, without leakage."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_lab.errors import DataError
from lstm_lab.experiments.config import MODELS, ExperimentConfig
from lstm_lab.experiments.metrics import METRICS
from lstm_lab.experiments.training import ExperimentResult, run_experiment
from lstm_lab.models.base import EpochInfo
from lstm_lab.models.classical import HoltWintersForecaster, SarimaForecaster
from lstm_lab.models.naive import NaiveForecaster
from lstm_lab.models.neural import LSTMForecaster, MLPForecaster
from lstm_lab.models.seasonal_naive import SeasonalNaiveForecaster
from tests.conftest import FAST, TF_AVAILABLE, make_tiny_series, make_tiny_values, requires_tf

ROOT = Path(__file__).resolve().parents[2]
FAST_CONFIG = ExperimentConfig(window=4, test_size=6, **FAST)


@pytest.fixture(scope="module")
def full_run() -> tuple[ExperimentResult, list[EpochInfo]]:
    """All four models on the 40-point tiny series, recording every epoch report."""
    if not TF_AVAILABLE:
        pytest.skip("TensorFlow is not installed")
    epochs: list[EpochInfo] = []
    return run_experiment(FAST_CONFIG, make_tiny_series(), on_epoch=epochs.append), epochs


@requires_tf
def test_all_four_models_are_scored(full_run) -> None:
    result, _ = full_run
    assert set(result.metrics) == set(MODELS)
    bands = ["coverage_80", "width_80", "winkler_80", "coverage_95", "width_95", "winkler_95"]
    for name, scores in result.metrics.items():
        assert list(scores) == ["rmse", "mae", "mape", "mase", *bands], name
        assert all(math.isfinite(scores[m]) and scores[m] >= 0 for m in METRICS), (name, scores)
        for level in ("80", "95"):
            # horizon 1: one half-width for every test point, so the mean width is twice it;
            # a level whose calibration had too few errors has no band and NaN scores
            half = result.calibration[name].halfwidths[level][0]
            if math.isnan(half):
                assert all(math.isnan(scores[f"{m}_{level}"])
                           for m in ("coverage", "width", "winkler")), (name, level)
            elif result.calibration[name].error_scale == "log":   # forecast * exp(+/- half)
                test = (result.predictions["split"] == "test").to_numpy()
                forecast = result.predictions[name].to_numpy()[test]
                assert scores[f"width_{level}"] == pytest.approx(
                    2 * math.sinh(half) * forecast.mean()), (name, level)
            else:
                assert scores[f"width_{level}"] == pytest.approx(2 * half), (name, level)
                assert 0 <= scores[f"coverage_{level}"] <= 100
                assert scores[f"winkler_{level}"] >= scores[f"width_{level}"]
    # 34 training points: Holt-Winters and SARIMA need two seasons to fit, which leaves 8
    # calibration errors - enough for 80% (4), too few for 95% (19); the others calibrate on 19
    assert {m for m in MODELS if math.isnan(result.metrics[m]["coverage_95"])} == {
        "holt_winters", "sarima"}
    assert all(math.isfinite(result.metrics[m]["coverage_80"]) for m in MODELS)
    assert result.n_points == 40 and result.n_train == 34 and result.season == 12
    assert result.best_model() == min(result.metrics, key=lambda m: result.metrics[m]["rmse"])
    assert result.epochs_run == {"mlp": 3, "lstm": 3}
    assert set(result.histories) == set(result.n_params) == {"mlp", "lstm"}
    assert "tensorflow" in result.versions and "keras" in result.versions
    assert result.stopped_by_user is False and result.skipped == []


@requires_tf
def test_predictions_frame_layout(full_run) -> None:
    result, _ = full_run
    preds = result.predictions
    assert set(preds.columns) == {"time", "actual", "split", "lstm", "mlp", "naive",
                                  "seasonal_naive", "holt_winters", "sarima"}
    assert list(preds.columns[:3]) == ["time", "actual", "split"]
    assert len(preds) == 40
    test = preds[preds["split"] == "test"]
    assert len(test) == 6
    assert list(test.index) == list(range(34, 40))
    assert (preds["split"].iloc[:34] == "train").all()
    assert not test[list(MODELS)].isna().any().any()
    np.testing.assert_array_equal(preds["actual"], make_tiny_values())


@requires_tf
def test_train_part_is_predicted_from_the_first_possible_origin(full_run) -> None:
    preds = full_run[0].predictions
    # naive needs 1 point, seasonal naive a season (12), the networks window 4 + log_diff lag 1
    assert preds["naive"].isna().sum() == 1
    assert preds["seasonal_naive"].isna().sum() == 12
    assert preds["mlp"].isna().sum() == preds["lstm"].isna().sum() == 5
    assert preds["lstm"].iloc[:5].isna().all() and preds["lstm"].iloc[5:].notna().all()
    values = make_tiny_values()
    np.testing.assert_array_equal(preds["naive"].iloc[1:], values[:-1])
    np.testing.assert_array_equal(preds["seasonal_naive"].iloc[12:], values[:-12])


@requires_tf
def test_metrics_are_computed_on_the_test_part(full_run) -> None:
    result, _ = full_run
    test = result.predictions.iloc[34:]
    for name in MODELS:
        errors = test["actual"] - test[name]
        assert result.metrics[name]["rmse"] == pytest.approx(np.sqrt(np.mean(errors ** 2)))
        assert result.metrics[name]["mae"] == pytest.approx(np.mean(np.abs(errors)))


@requires_tf
def test_on_epoch_reports_mlp_then_lstm(full_run) -> None:
    _, epochs = full_run
    assert [(e.model, e.epoch, e.epochs) for e in epochs] == [
        ("mlp", 1, 3), ("mlp", 2, 3), ("mlp", 3, 3), ("lstm", 1, 3), ("lstm", 2, 3), ("lstm", 3, 3)]
    assert [e.loss for e in epochs[3:]] == full_run[0].histories["lstm"]["loss"]


@requires_tf
def test_same_config_and_seed_give_identical_results_in_process(full_run) -> None:
    first, _ = full_run
    second = run_experiment(FAST_CONFIG, make_tiny_series())
    np.testing.assert_equal(second.metrics, first.metrics)          # NaN (no 95% band) == NaN
    pd.testing.assert_frame_equal(second.predictions, first.predictions)
    assert second.histories == first.histories
    np.testing.assert_equal(second.intervals, first.intervals)
    assert [c.to_dict() for c in second.calibration.values()] == [
        c.to_dict() for c in first.calibration.values()]


@requires_tf
def test_same_config_and_seed_give_identical_results_in_fresh_processes(full_run) -> None:
    args = [sys.executable, "-m", "lstm_lab", "run", "--window", "4", "--test-size", "12",
            "--epochs", "2", "--units", "4", "--mlp-units", "4", "--batch-size", "16",
            "--patience", "0", "--validation-fraction", "0", "--seed", "3", "--json"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    runs = [subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (_, err) in zip(runs, outputs):
        assert run.returncode == 0, err
    first, second = (json.loads(out) for out, _ in outputs)
    assert set(first["metrics"]) == set(MODELS)
    assert first["metrics"] == second["metrics"]
    # ...and the same numbers as this (long-running, already busy) process computes
    config = ExperimentConfig.from_dict(first["config"])
    from lstm_lab.experiments.sources import load_series

    here = run_experiment(config, load_series(config))
    assert json.loads(json.dumps(here.to_dict()["metrics"])) == first["metrics"]


@requires_tf
def test_result_json_round_trip(full_run) -> None:
    result, _ = full_run
    text = result.to_json()
    data = json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))
    again = ExperimentResult.from_dict(data)
    assert again.to_json() == text
    assert again.config == result.config
    np.testing.assert_equal(again.metrics, result.metrics)           # NaN (no 95% band) == NaN
    assert math.isnan(again.metrics["sarima"]["coverage_95"])
    np.testing.assert_equal(again.intervals, result.intervals)
    assert {m: c.to_dict() for m, c in again.calibration.items()} == {
        m: c.to_dict() for m, c in result.calibration.items()}
    assert again.epochs_run == result.epochs_run
    assert again.predictions["time"].tolist() == result.predictions["time"].astype(str).tolist()
    pd.testing.assert_frame_equal(again.predictions.drop(columns="time"),
                                  result.predictions.drop(columns="time"))


def test_round_trip_keeps_nan_metrics() -> None:
    values = make_tiny_values()
    values[-1] = 0.0                                       # mape is undefined
    result = run_experiment(ExperimentConfig(test_size=6, models=("naive",)),
                            make_tiny_series(values))
    assert math.isnan(result.metrics["naive"]["mape"])
    data = json.loads(result.to_json())
    assert data["metrics"]["naive"]["mape"] is None
    assert math.isnan(ExperimentResult.from_dict(data).metrics["naive"]["mape"])


def _record_origins(monkeypatch) -> list[tuple[str, np.ndarray]]:
    calls: list[tuple[str, np.ndarray]] = []
    for cls in (NaiveForecaster, SeasonalNaiveForecaster, HoltWintersForecaster,
                SarimaForecaster, LSTMForecaster, MLPForecaster):
        # a run reads a network's forecasts member by member (predict_members), any other
        # model's with predict
        method = "predict_members" if cls in (LSTMForecaster, MLPForecaster) else "predict"
        real = getattr(cls, method)

        def spy(self, values, origins, _real=real, **stop):    # networks: Stop and deadline
            calls.append((self.name, np.asarray(origins)))
            return _real(self, values, origins, **stop)

        monkeypatch.setattr(cls, method, spy)
    return calls


@requires_tf
def test_horizon_3_predicts_every_test_point_exactly_once(monkeypatch) -> None:
    calls = _record_origins(monkeypatch)
    config = FAST_CONFIG.replace(horizon=3)
    result = run_experiment(config, make_tiny_series())
    test = result.predictions.iloc[34:]
    assert len(test) == 6 and not test[list(MODELS)].isna().any().any()
    for name in MODELS:
        origins = np.concatenate([o for m, o in calls if m == name and o.min() >= 34])
        covered = sorted((origins[:, None] + np.arange(3)).ravel())
        assert covered == list(range(34, 40)), name
    values = make_tiny_values()
    np.testing.assert_array_equal(test["naive"], [values[33]] * 3 + [values[36]] * 3)


def test_last_origin_may_cover_a_partial_horizon() -> None:
    values = make_tiny_values()
    config = ExperimentConfig(horizon=3, test_size=7, models=("naive", "seasonal_naive"))
    result = run_experiment(config, make_tiny_series(values))
    test = result.predictions.iloc[33:]
    np.testing.assert_array_equal(test["naive"],
                                  [values[32]] * 3 + [values[35]] * 3 + [values[38]])
    # seasonal naive from origins 33, 36, 39: one season back from each target
    np.testing.assert_array_equal(test["seasonal_naive"], values[21:28])


def test_too_short_series_is_a_data_error(tiny_series) -> None:
    with pytest.raises(DataError) as info:
        run_experiment(FAST_CONFIG.replace(window=32), tiny_series)
    message = str(info.value)
    assert message.startswith("'tiny' has 40 points; holding out 6 for testing leaves 34 for "
                              "training, but window 32, horizon 1, season 12")
    assert "Lower the window" in message


def test_a_window_too_long_for_a_short_series_names_the_longest_that_fits() -> None:
    from lstm_lab.data.csv_reader import read_csv_series
    from lstm_lab.experiments.training import preflight

    path = ROOT / "tests" / "data" / "longley.csv"                  # 16 yearly points, 4 held out: 12 to train on
    series = read_csv_series(path, column="col7")
    config = ExperimentConfig(dataset="csv", csv_path=str(path), test_size=4)
    with pytest.raises(DataError) as info:
        preflight(config, series)
    assert str(info.value) == (
        "'col7' has 16 points; holding out 4 for testing leaves 12 for training, but window 12, "
        "horizon 1, season 1 and transform 'log_diff' need more than 14. Lower the window (to 9 "
        "or less), the horizon or the test size.")
    assert preflight(config.replace(window=9), series) == (12, 1)   # the hint is exact
    with pytest.raises(DataError):
        preflight(config.replace(window=10), series)


def test_test_size_must_leave_training_points(tiny_series) -> None:
    with pytest.raises(DataError, match="Lower the window"):
        run_experiment(ExperimentConfig(test_size=30, models=("seasonal_naive",)), tiny_series)


def test_config_season_overrides_the_inferred_one(tiny_series) -> None:
    result = run_experiment(ExperimentConfig(test_size=6, season=4, models=("seasonal_naive",)),
                            tiny_series)
    assert result.season == 4
    np.testing.assert_array_equal(result.predictions["seasonal_naive"].iloc[34:],
                                  make_tiny_values()[30:36])


def test_fractional_test_size(tiny_series) -> None:
    result = run_experiment(ExperimentConfig(test_size=0.25, models=("naive",)), tiny_series)
    assert (result.predictions["split"] == "test").sum() == 10
    assert result.n_train == 30
    assert "tensorflow" not in result.versions            # no network, no TensorFlow


@requires_tf
def test_test_values_do_not_leak_into_training() -> None:
    """Two series that share their training part give identical fitted scalers, identical
    training-part forecasts and an identical first test forecast, whatever the test part holds."""
    values = make_tiny_values()
    other = values.copy()
    other[34:] *= 3.0
    config = FAST_CONFIG.replace(models=("mlp", "naive"), transform="none")
    a = run_experiment(config, make_tiny_series(values))
    b = run_experiment(config, make_tiny_series(other))
    sa, sb = a.forecasters["mlp"].scaler_, b.forecasters["mlp"].scaler_
    assert (sa.mean, sa.scale) == (sb.mean, sb.scale)
    assert sa.mean == pytest.approx(values[:34].mean())
    np.testing.assert_array_equal(a.predictions["mlp"].iloc[:35], b.predictions["mlp"].iloc[:35])
    assert a.predictions["mlp"].iloc[35] != b.predictions["mlp"].iloc[35]


@requires_tf
def test_stop_request_keeps_the_current_network_and_skips_the_rest(tiny_series) -> None:
    epochs: list[object] = []   # Stop is pressed once the MLP (the first network) is training
    result = run_experiment(FAST_CONFIG.replace(epochs=100), tiny_series,
                            on_epoch=epochs.append, should_stop=lambda: bool(epochs))
    assert result.stopped_by_user is True
    assert result.skipped == ["lstm"]
    assert set(result.metrics) == {"naive", "seasonal_naive", "holt_winters", "sarima", "mlp"}
    assert 1 <= result.epochs_run["mlp"] < 100
    assert "lstm" not in result.predictions


@requires_tf
def test_a_network_stopped_while_forecasting_is_left_out(monkeypatch) -> None:
    """With 5 windows per chunk the 6 test origins take two chunks: a Stop pressed during
    training lets the network forecast its first chunk, and ends it at the second."""
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_WINDOWS", "5")
    config = FAST_CONFIG.replace(models=("naive", "mlp"), test_size=6.0, transform="none")
    epochs: list[object] = []
    result = run_experiment(config, make_tiny_series(), on_epoch=epochs.append,
                            should_stop=lambda: bool(epochs))
    assert epochs and result.stopped_by_user is True
    assert result.models == ["naive"] and result.skipped == ["mlp"]
    assert "mlp" not in result.predictions
    assert "MLP was stopped on request while forecasting (5 of 6 forecast origins done), so it " \
           "has no results." in result.notes
