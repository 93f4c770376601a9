"""Small experiments for the Learn page: each makes one limitation of the MLP visible."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_lab.forecasters import LSTMForecaster, MLPForecaster
from lstm_lab.metrics import rmse
from lstm_lab.models import lstm_params, mlp_params
from lstm_lab.series import Series


def parameter_table(window: int = 12, units: int = 32, max_series: int = 16) -> pd.DataFrame:
    """How each network grows with parallel input series and with the window."""
    rows = []
    for n in (1, 2, 4, 8, max_series):
        rows.append({"parallel series": n, "window": window,
                     "MLP inputs": window * n, "MLP weights": mlp_params(n, window, units),
                     "LSTM inputs per step": n, "LSTM weights": lstm_params(n, units)})
    return pd.DataFrame(rows)


def window_growth(windows=(3, 6, 12, 24, 48, 96), units: int = 32) -> pd.DataFrame:
    return pd.DataFrame({"window": list(windows),
                         "MLP weights": [mlp_params(1, w, units) for w in windows],
                         "LSTM weights": [lstm_params(1, units)] * len(windows)})


def _shuffled(cls, permutation: np.ndarray):
    """A forecaster class that reorders every input window by one fixed permutation.

    For the MLP the first layer's initial weights are reordered the same way, so the shuffled
    network starts as exactly the same function: any difference after training would have to
    come from the order itself. (An LSTM shares its weights across steps; there is no such map.)
    """

    class Shuffled(cls):
        def _build(self):
            model = super()._build()
            if isinstance(self, MLPForecaster):
                kernel = model.get_layer("dense_1").kernel
                kernel.assign(kernel.numpy()[permutation])
            return model

        def _inputs(self, X: np.ndarray) -> np.ndarray:
            return super()._inputs(X[:, permutation])

    return Shuffled


def order_experiment(series: Series, window: int = 12, test_size: int = 24, epochs: int = 150,
                     seed: int = 0) -> pd.DataFrame:
    """Test RMSE of MLP and LSTM fed windows in time order vs with their points shuffled.

    The MLP gives the same result either way (to float rounding): it never knew the order. The
    LSTM reads the window step by step, so shuffling the steps changes what it learns.
    """
    values = series.values
    n_train = len(values) - test_size
    origins = np.arange(n_train, len(values))
    permutation = np.random.default_rng(seed).permutation(window)
    kwargs = dict(window=window, horizon=1, transform="log_diff" if values.min() > 0 else "diff",
                  season=series.season, units=32, epochs=epochs, batch_size=16,
                  learning_rate=3e-3, patience=30, validation_fraction=0.1, seed=seed)
    rows = []
    for label, cls in (("MLP", MLPForecaster), ("LSTM", LSTMForecaster)):
        for order in ("in time order", "points shuffled"):
            model_class = _shuffled(cls, permutation) if order == "points shuffled" else cls
            model = model_class(**kwargs)
            model.fit(values[:n_train])
            pred = model.predict(values, origins)[:, 0]
            rows.append({"model": label, "inputs": order, "test RMSE": rmse(values[n_train:], pred)})
    return pd.DataFrame(rows)
