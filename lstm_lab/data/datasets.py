"""The built-in datasets: the airline passengers and a seeded damped sine.

Which series a config names is decided one floor up, in ``lstm_lab.experiments.sources``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from lstm_lab.data.series import Series

AIR_PASSENGERS_FILE = "airline-passengers.csv"


def load_air_passengers() -> Series:
    """Monthly international airline passengers (thousands), Jan 1949 – Dec 1960; 144 points."""
    with resources.files("lstm_lab.data").joinpath(AIR_PASSENGERS_FILE).open("rb") as fh:
        frame = pd.read_csv(fh)
    index = pd.DatetimeIndex(pd.to_datetime(frame["Month"], format="%Y-%m"), freq="MS")
    return Series(frame["Passengers"].to_numpy(float), index, name="Passengers", freq="MS",
                  source="air_passengers")


def make_damped_sine(length: int = 400, period: float = 40.0, decay: float = 0.003,
                     amplitude: float = 1.0, phase: float = 0.0, noise: float = 0.05,
                     seed: int = 0) -> Series:
    """A seeded damped sine: amplitude * exp(-decay * t) * sin(2πt/period + phase°) + noise.

    Integer time steps; the same arguments always give the same values.
    """
    t = np.arange(length, dtype="float64")
    clean = amplitude * np.exp(-decay * t) * np.sin(2 * np.pi * t / period + np.deg2rad(phase))
    rng = np.random.default_rng(seed)
    values = clean + rng.normal(0.0, noise, size=length) if noise > 0 else clean
    return Series(values, pd.RangeIndex(length, name="step"), name="damped_sine", freq=None,
                  source="damped_sine")

