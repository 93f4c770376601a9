"""The built-in datasets (which one a config names: test_sources.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.datasets import load_air_passengers, make_damped_sine


def test_air_passengers_is_the_classic_series() -> None:
    series = load_air_passengers()
    assert len(series) == 144
    assert series.values.sum() == 40363
    assert series.values[0] == 112 and series.values[-1] == 432
    assert series.index[0] == pd.Timestamp("1949-01-01")
    assert series.index[-1] == pd.Timestamp("1960-12-01")
    assert series.freq == "MS"
    assert series.season == 12
    assert series.name == "Passengers"
    assert series.source == "air_passengers"


def test_damped_sine_defaults() -> None:
    series = make_damped_sine()
    assert len(series) == 400
    assert list(series.index[:3]) == [0, 1, 2]
    assert series.freq is None and series.season == 40   # found in its values: the period


def test_damped_sine_is_seeded() -> None:
    a, b = make_damped_sine(seed=3), make_damped_sine(seed=3)
    np.testing.assert_array_equal(a.values, b.values)
    c = make_damped_sine(seed=4)
    assert not np.allclose(a.values, c.values)


@pytest.mark.parametrize("phase", [0.0, 90.0, -45.0])
def test_noise_free_damped_sine_is_the_formula(phase) -> None:
    amplitude, decay, period, length = 2.5, 0.01, 16.0, 64
    series = make_damped_sine(length=length, period=period, decay=decay, amplitude=amplitude,
                              phase=phase, noise=0.0, seed=9)
    t = np.arange(length)
    expected = amplitude * np.exp(-decay * t) * np.sin(2 * np.pi * t / period + np.deg2rad(phase))
    np.testing.assert_allclose(series.values, expected, rtol=0, atol=1e-12)
    # a quarter period in, an undamped zero-phase sine peaks at the amplitude
    if phase == 0.0:
        assert series.values[4] == pytest.approx(amplitude * np.exp(-decay * 4))


def test_noise_free_sine_ignores_the_seed() -> None:
    a = make_damped_sine(noise=0.0, seed=1)
    b = make_damped_sine(noise=0.0, seed=2)
    np.testing.assert_array_equal(a.values, b.values)
