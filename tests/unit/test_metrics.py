"""Accuracy metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstm_lab.experiments.metrics import (
    METRIC_HELP,
    METRICS,
    evaluate,
    fmt_delta,
    fmt_number,
    fmt_percent,
    mae,
    mape,
    mase,
    rmse,
)

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


# --- numbers for people ------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "text"), [
    (1793.4, "1,793"), (1787.0, "1,787"), (52.123, "52.1"), (39.5, "39.5"), (23.44, "23.4"),
    (0.012345, "0.0123"), (0.5, "0.500"), (9.99996, "10.0"), (999.7, "1,000"), (0.0, "0"),
    (-3567.2, "\u22123,567"), (1e11, "100 billion"), (1.234e11, "123 billion"),
    (2.5e12, "2.50 trillion"), (1.5e-7, "1.50 × 10⁻⁷"), (float("nan"), "—"), (None, "—")])
def test_fmt_number_reads_like_a_person_writes(value, text) -> None:
    assert fmt_number(value) == text


def test_fmt_number_never_writes_a_python_literal() -> None:
    for value in (1.8e3, 1.79e3, 1e11, -3.57e3, 123456789.0, 3e-9, 1e20, float("inf")):
        shown = fmt_number(value)
        assert "e+" not in shown and "e-" not in shown and "inf" not in shown
        assert shown != "None" and shown != "nan"


def test_fmt_percent_and_fmt_delta() -> None:
    assert fmt_percent(31.94) == "31.9%"
    assert fmt_percent(-48.04, signed=True) == "\u221248.0%"
    assert fmt_percent(12.0, signed=True) == "+12.0%"
    assert fmt_percent(248.2) == "248%"
    assert fmt_percent(float("nan")) == "—"
    # the card: "-3.57e+03 vs naive" becomes a difference and its relative size
    assert fmt_delta(3863.0, 7430.0) == "\u22123,567 (\u221248.0%)"
    assert fmt_delta(52.1, 39.5) == "+12.6 (+31.9%)"
    assert fmt_delta(5.0, 0.0) == "+5.00"
    assert fmt_delta(5.0, 5.0) == "0 (0%)"
