"""Did a network beat seasonal naive on its own validation windows? Said before the test part is.

A network holds out its latest training windows to stop training early. Those windows are
several rolling forecast origins whose futures lie inside the training part, so the network's
forecasts from them can be scored on the original scale against the seasonal-naive forecast from
the same origins, without touching the test part. When the network does worse there, the result
says so plainly: a learner sees it before reading the test metrics, and an analyst knows the
simple forecast is the safer choice for this series.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_lab.models.seasonal_naive import SeasonalNaiveForecaster


def validation_origins(model: Any, n_train: int, horizon: int) -> np.ndarray:
    """The network's validation origins whose whole horizon lies in the training part (the
    latest ``n_val_`` windows' origins, fewer for a recursive network's longer forecasts)."""
    k = int(getattr(model, "n_val_", 0) or 0)
    end = n_train - horizon                   # the latest origin whose horizon fits
    first = max(model.first_origin_, end - k + 1, 1)
    return np.arange(first, end + 1) if k else np.arange(0)


def compare(model: Any, train: np.ndarray, season: int, horizon: int) -> dict[str, Any] | None:
    """RMSE of the fitted network and of seasonal naive (season 1: the last value) from the
    network's validation origins; None when it held out none (validation fraction 0)."""
    train = np.asarray(train, dtype="float64")
    origins = validation_origins(model, len(train), horizon)
    origins = origins[origins >= season]
    if not origins.size:
        return None
    actual = np.stack([train[o:o + horizon] for o in origins])
    network = np.asarray(model.predict(train, origins), dtype="float64")
    naive = SeasonalNaiveForecaster(horizon, max(1, season)).fit(train).predict(train, origins)
    return {"origins": int(origins.size),
            "rmse": float(np.sqrt(np.mean((network - actual) ** 2))),
            "seasonal_naive_rmse": float(np.sqrt(np.mean((naive - actual) ** 2)))}


def worse_note(label: str, check: dict[str, Any] | None, season: int) -> str | None:
    """The plain sentence for a network that did worse than seasonal naive on validation."""
    if not check or not check["rmse"] > check["seasonal_naive_rmse"]:
        return None
    simple = "seasonal naive" if season > 1 else "the naive forecast (last value)"
    return (f"{label} did worse than {simple} on its validation windows (RMSE "
            f"{check['rmse']:.4g} against {check['seasonal_naive_rmse']:.4g}, from "
            f"{check['origins']} forecast origins at the end of the training part): expect it "
            f"to do worse on new data too, and prefer {simple} for this series, or try "
            "another transform, window or ensemble size.")
