"""Forecast accuracy on the original scale: rmse, mae, mape (%) and mase."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error

METRICS = ("rmse", "mae", "mape", "mase")
METRIC_HELP = {
    "rmse": "root mean squared error, in the series' units; punishes big misses",
    "mae": "mean absolute error, in the series' units",
    "mape": "mean absolute percentage error (%); undefined when an actual value is 0",
    "mase": "MAE divided by the in-sample MAE of seasonal naive; below 1 beats it",
}


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.sqrt(mean_squared_error(actual, predicted)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(mean_absolute_error(actual, predicted))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """In percent. NaN when any actual value is 0 (sklearn would return a huge finite number)."""
    actual = np.asarray(actual, dtype="float64")
    if np.any(actual == 0):
        return float("nan")
    return float(np.mean(np.abs((actual - np.asarray(predicted)) / actual)) * 100)


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray, season: int = 1) -> float:
    """Hyndman & Koehler's MASE: test MAE over the in-sample MAE of the seasonal naive forecast.

    Falls back to lag 1 when the training part is shorter than two seasons; NaN when the
    training part is constant (nothing to scale by).
    """
    train = np.asarray(train, dtype="float64")
    lag = season if len(train) > 2 * season else 1
    scale = np.mean(np.abs(train[lag:] - train[:-lag])) if len(train) > lag else np.nan
    if not np.isfinite(scale) or scale == 0:
        return float("nan")
    return mae(actual, predicted) / float(scale)


def evaluate(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray,
             season: int = 1) -> dict[str, float]:
    """All metrics for one model's test predictions."""
    return {"rmse": rmse(actual, predicted), "mae": mae(actual, predicted),
            "mape": mape(actual, predicted), "mase": mase(actual, predicted, train, season)}
