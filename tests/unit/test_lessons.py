"""The Learn page's experiments show what they claim."""

from __future__ import annotations

import pytest

from lstm_lab import lessons
from lstm_lab.datasets import load_air_passengers


def test_mlp_is_blind_to_the_order_of_its_inputs() -> None:
    table = lessons.order_experiment(load_air_passengers(), epochs=5).set_index(["model", "inputs"])
    rmse = table["test RMSE"]
    assert len(rmse) == 4
    assert rmse["MLP", "points shuffled"] == pytest.approx(rmse["MLP", "in time order"], rel=1e-4)
    assert rmse["LSTM", "points shuffled"] != pytest.approx(rmse["LSTM", "in time order"], rel=1e-4)


def test_parameter_table_grows_for_the_mlp_only_with_the_window() -> None:
    small, large = lessons.parameter_table(window=6), lessons.parameter_table(window=24)
    assert (large["MLP weights"] > small["MLP weights"]).all()
    assert (large["LSTM weights"] == small["LSTM weights"]).all()
    # 1 series, window 12, 32 units: 12*32+32 hidden + 32+1 output
    assert lessons.mlp_params(1, 12, 32) == 12 * 32 + 32 + 33
    assert lessons.lstm_params(1, 32) == 4 * 32 * (1 + 32 + 1) + 33
