"""Shared fixtures: tiny series, fast-training settings, and the TensorFlow-availability flag."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TF_AVAILABLE = importlib.util.find_spec("tensorflow") is not None

# Settings that train a network in well under a second on a 40-point series.
FAST = dict(epochs=3, batch_size=8, units=4, mlp_units=4, patience=0, validation_fraction=0.0)


@pytest.fixture
def tiny_values() -> np.ndarray:
    """40 points of a noisy rising sine: positive (log transforms work), seasonal, short."""
    t = np.arange(40)
    return 10 + 0.1 * t + np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.1, 40)


@pytest.fixture
def tiny_series(tiny_values):
    from lstm_lab.series import Series

    index = pd.date_range("2000-01-01", periods=len(tiny_values), freq="MS")
    return Series(tiny_values, index, name="tiny", freq="MS")


@pytest.fixture
def fast_config():
    from lstm_lab.config import ExperimentConfig

    return ExperimentConfig(window=4, test_size=6, **FAST)
