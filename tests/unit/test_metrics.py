"""Accuracy metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_lab.experiments.metrics import METRIC_HELP, METRICS, evaluate, mae, mape, mase, rmse

ACTUAL = np.array([1.0, 2.0, 4.0])
PREDICTED = np.array([2.0, 2.0, 2.0])      # errors 1, 0, -2


def test_rmse() -> None:
    assert rmse(ACTUAL, PREDICTED) == pytest.approx(math.sqrt(5 / 3))
    assert rmse(ACTUAL, ACTUAL) == 0.0


def test_mae() -> None:
    assert mae(ACTUAL, PREDICTED) == pytest.approx(1.0)
    assert mae([10.0, 20.0], [13.0, 16.0]) == pytest.approx(3.5)


def test_mape_is_in_percent() -> None:
    # |1-2|/1 = 1, 0, |4-2|/4 = 0.5 -> mean 0.5 -> 50 %
    assert mape(ACTUAL, PREDICTED) == pytest.approx(50.0)
    assert mape([-4.0], [-3.0]) == pytest.approx(25.0)


def test_mape_is_nan_when_an_actual_is_zero() -> None:
    assert math.isnan(mape([1.0, 0.0, 3.0], [1.0, 0.1, 3.0]))


def test_mase_uses_the_seasonal_lag() -> None:
    train = np.array([1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0, 3.0])   # 9 > 2 seasons of 4
    # lag-4 in-sample errors: 1, 2, 3, 4, 1 -> scale 2.2; test MAE (1 + 2) / 2 = 1.5
    assert mase([10.0, 12.0], [11.0, 10.0], train, season=4) == pytest.approx(1.5 / 2.2)


def test_mase_falls_back_to_lag_1_for_short_training_parts() -> None:
    train = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 28.0])   # 8 = exactly 2 seasons of 4
    # lag-1 errors 1..7 -> scale 4 (lag 4 would give 16)
    assert mase([10.0, 12.0], [11.0, 10.0], train, season=4) == pytest.approx(1.5 / 4)
    assert mase([10.0, 12.0], [11.0, 10.0], train, season=1) == pytest.approx(1.5 / 4)


def test_mase_is_nan_for_constant_or_single_point_training() -> None:
    assert math.isnan(mase([1.0], [2.0], np.array([5.0, 5.0, 5.0, 5.0])))
    assert math.isnan(mase([1.0], [2.0], np.array([5.0])))


def test_evaluate_returns_every_metric() -> None:
    train = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 28.0])
    result = evaluate(ACTUAL, PREDICTED, train, season=4)
    assert list(result) == list(METRICS) == list(METRIC_HELP)
    assert result == pytest.approx({"rmse": math.sqrt(5 / 3), "mae": 1.0, "mape": 50.0,
                                    "mase": 0.25})
    assert all(type(v) is float for v in result.values())
