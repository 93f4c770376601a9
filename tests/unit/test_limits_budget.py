"""Limits that protect a shared server: compute budget, window cap, wall-clock cap."""

from __future__ import annotations

import pytest

from lstm_lab.config import ExperimentConfig
from lstm_lab.errors import ConfigError
from lstm_lab.limits import Limits
from lstm_lab.training import check_budget, estimate_work, run_experiment
from tests.conftest import FAST, make_tiny_series


def test_work_counts_weights_steps_windows_and_epochs() -> None:
    config = ExperimentConfig(window=12, units=32, mlp_units=32, epochs=200,
                              validation_fraction=0.0, transform="none")
    work = estimate_work(config, n_train=120, season=12, limits=Limits())
    windows = 120 - 12 - 1 + 1
    assert work["lstm"] == (4 * 32 * (1 + 32 + 1) + 33) * 12 * windows * 200
    assert work["mlp"] == (12 * 32 + 32 + 33) * windows * 200


def test_default_experiment_is_well_within_the_budget() -> None:
    config = ExperimentConfig()
    assert max(estimate_work(config, 120, 12, Limits()).values()) < Limits().max_work / 50


def test_a_huge_run_is_refused_before_training_naming_the_knobs() -> None:
    config = ExperimentConfig(units=1024, epochs=5000)
    with pytest.raises(ConfigError) as info:
        check_budget(config, n_train=120, season=12, limits=Limits())
    message = str(info.value)
    assert message.startswith("This run is too big for this server: the LSTM needs about 2.4e+13")
    assert "LSTM_LAB_MAX_WORK" in message and "units 1024" in message


def test_a_long_run_is_refused_with_the_epochs_that_would_fit() -> None:
    config = ExperimentConfig(epochs=5000, transform="log_diff")
    with pytest.raises(ConfigError, match=r"Lower epochs to at most 3,959 \(now 5,000\)"):
        check_budget(config, 120, 12, Limits(max_work=20_000_000_000))


def test_long_series_train_on_the_most_recent_windows(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_WINDOWS", "10")
    config = ExperimentConfig(window=4, test_size=6, models=("mlp", "naive"), **FAST)
    result = run_experiment(config, make_tiny_series())
    model = result.forecasters["mlp"]
    assert model.n_windows_used_ == 10 and model.n_windows_total_ > 10
    assert result.notes == [f"MLP trained on the most recent 10 of {model.n_windows_total_} "
                            "windows (LSTM_LAB_MAX_TRAIN_WINDOWS)."]


def test_training_stops_at_the_wall_clock_cap_and_says_so(monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_TRAIN_SECONDS", "1")
    config = ExperimentConfig(window=4, test_size=6, models=("mlp",),
                              **{**FAST, "epochs": 5000})
    result = run_experiment(config, make_tiny_series())
    assert result.epochs_run["mlp"] < 5000
    (note,) = result.notes
    assert note.startswith("MLP stopped at the time limit of 1 s (LSTM_LAB_MAX_TRAIN_SECONDS)")


def test_a_constant_series_is_refused_honestly() -> None:
    import numpy as np

    from lstm_lab.errors import DataError

    series = make_tiny_series(np.full(40, 5.0), name="flat")
    with pytest.raises(DataError, match=r"The training part of 'flat' is constant \(all 34 "
                                        r"values are 5\): there is nothing to learn"):
        run_experiment(ExperimentConfig(window=4, test_size=6, models=("naive",)), series)
