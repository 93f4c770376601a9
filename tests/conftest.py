"""Shared fixtures: tiny series, fast-training settings, and the TensorFlow-availability flag."""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests (and the servers they start) save runs to a throw-away database, never ./runs/.
os.environ.setdefault("LSTM_LAB_DB", os.path.join(tempfile.mkdtemp(prefix="lstm_lab_tests_"),
                                                  "runs.sqlite3"))

# Unit and AppTest runs train in threads of the test process (the e2e server drops this variable
# to run the real default, worker processes: tests/e2e/conftest.py); the fault-drill tasks
# (execution/tasks.py) exist in tests, and in the workers and Ray nodes tests start.
os.environ.setdefault("LSTM_LAB_IN_PROCESS", "1")
os.environ.setdefault("LSTM_LAB_FAULT_DRILLS", "1")

TF_AVAILABLE = importlib.util.find_spec("tensorflow") is not None

# Settings that train a network in well under a second on a 40-point series.
FAST = dict(epochs=3, batch_size=8, units=4, mlp_units=4, patience=0, validation_fraction=0.0)
# The same settings as forecaster keyword arguments (forecasters take `units`, not `mlp_units`).
FAST_FORECASTER = dict(epochs=3, batch_size=8, units=4, patience=0, validation_fraction=0.0)

requires_tf = pytest.mark.skipif(not TF_AVAILABLE, reason="TensorFlow is not installed")


def make_tiny_values(n: int = 40) -> np.ndarray:
    """A noisy rising monthly sine: positive (log transforms work), seasonal (12), short."""
    t = np.arange(n)
    return 10 + 0.1 * t + np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.1, n)


def make_tiny_series(values: np.ndarray | None = None, name: str = "tiny"):
    """A monthly Series from 2000-01 over ``values`` (default: ``make_tiny_values()``)."""
    from lstm_lab.data.series import Series

    values = make_tiny_values() if values is None else values
    index = pd.date_range("2000-01-01", periods=len(values), freq="MS")
    return Series(values, index, name=name, freq="MS")


@pytest.fixture
def tiny_values() -> np.ndarray:
    """40 points of a noisy rising sine: positive (log transforms work), seasonal, short."""
    return make_tiny_values()


@pytest.fixture
def tiny_series(tiny_values):
    return make_tiny_series(tiny_values)


@pytest.fixture
def fast_config():
    from lstm_lab.experiments.config import ExperimentConfig

    return ExperimentConfig(window=4, test_size=6, **FAST)


@pytest.fixture
def fast_kwargs() -> dict:
    """Forecaster keyword arguments for a sub-second fit (darts' ``tfm_kwargs``)."""
    return dict(FAST_FORECASTER)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """An empty run store of this test's own, in a folder that does not exist yet."""
    from lstm_lab.store import DB_ENV_VAR, get_store

    monkeypatch.setenv(DB_ENV_VAR, str(tmp_path / "db" / "runs.sqlite3"))
    return get_store()


def wait_until(condition, timeout: float) -> None:
    """Poll ``condition`` until it holds (a worker process or a cluster answers in its own
    time); fail the test if it still does not after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition()


def wait_finished(job, timeout: float) -> None:
    """Wait for a queued job to finish (done, failed or cancelled)."""
    deadline = time.monotonic() + timeout
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.finished, f"job still {job.status}"
