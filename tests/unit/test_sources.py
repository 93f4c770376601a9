"""Which series a config names: one decision for the command line and the dashboard."""

from __future__ import annotations

import numpy as np

from lstm_lab.data.datasets import make_damped_sine
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.sources import load_series


def test_load_series_follows_the_config() -> None:
    assert len(load_series(ExperimentConfig())) == 144
    config = ExperimentConfig(dataset="damped_sine", sine_length=50, sine_noise=0.0, seed=5)
    series = load_series(config)
    np.testing.assert_array_equal(series.values,
                                  make_damped_sine(length=50, noise=0.0).values)
    noisy = load_series(config.replace(sine_noise=0.1))
    np.testing.assert_array_equal(noisy.values, make_damped_sine(length=50, noise=0.1, seed=5).values)


def test_the_dashboard_passes_its_own_loaders(tiny_series) -> None:
    calls = []

    def read_csv(column, date_column, inputs):
        calls.append((column, date_column, inputs))
        return tiny_series

    config = ExperimentConfig(dataset="csv", csv_path="upload.csv", column="sales")
    assert load_series(config, read_csv) is tiny_series
    assert calls == [("sales", None, ())]      # empty names mean "pick it yourself"
    assert load_series(config.replace(inputs=("price",)), read_csv) is tiny_series
    assert calls[-1] == ("sales", None, ("price",))   # the inputs are the reader's to read
    us_change = ExperimentConfig(dataset="us_change", inputs=("Income",))
    assert load_series(us_change, gallery=lambda *a: a) == ("us_change", ("Income",))
    sine = ExperimentConfig(dataset="damped_sine", sine_length=50)
    assert load_series(sine, damped_sine=lambda *a: a) == (50, 40.0, 0.003, 1.0, 0.0, 0.05, 0)
    assert load_series(ExperimentConfig(), air_passengers=lambda: "cached") == "cached"
