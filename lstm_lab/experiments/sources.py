"""Which series a config names: decided here once, for the command line and the dashboard.

The dashboard reads the same config through its own cached loaders (an upload's bytes instead of
a file on disk); it passes them in, so the decision itself is never written twice.
"""

from __future__ import annotations

from collections.abc import Callable

from lstm_lab.data.csv_reader import read_csv_series
from lstm_lab.data.datasets import load_air_passengers, make_damped_sine
from lstm_lab.data.gallery import GALLERY, load_gallery_series
from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig

# read_csv(column, date_column, inputs) -> Series; None means "pick it yourself" for either
# column; inputs: the other columns to read beside the value (may be empty).
CsvReader = Callable[[str | None, str | None, tuple[str, ...]], Series]


def load_series(config: ExperimentConfig, read_csv: CsvReader | None = None, *,
                air_passengers: Callable[[], Series] = load_air_passengers,
                damped_sine: Callable[..., Series] = make_damped_sine,
                gallery: Callable[[str, tuple[str, ...]], Series] = load_gallery_series
                ) -> Series:
    """The series ``config`` names, with the input columns it names (``config.inputs``).

    A CSV is read from ``config.csv_path`` unless ``read_csv`` is given (the dashboard reads the
    uploaded bytes); ``air_passengers``, ``damped_sine`` and ``gallery`` (a gallery key and
    inputs -> its series) let a caller cache the built-in ones.

    Raises ConfigError for inputs on a series that has no other columns.
    """
    if config.inputs and not has_columns(config.dataset):
        raise ConfigError(f"Input columns ({', '.join(config.inputs)}) come from a CSV or a "
                          "gallery series with several columns (US change, US macro); "
                          f"{dataset_words(config.dataset)} has none. Clear the inputs, or pick "
                          "such a series.")
    if config.dataset == "air_passengers":
        return air_passengers()
    if config.dataset in GALLERY:
        return gallery(config.dataset, config.inputs)
    if config.dataset == "damped_sine":
        return damped_sine(config.sine_length, config.sine_period, config.sine_decay,
                           config.sine_amplitude, config.sine_phase, config.sine_noise,
                           config.seed)
    column, date_column = config.column or None, config.date_column or None
    if read_csv is not None:
        return read_csv(column, date_column, config.inputs)
    return read_csv_series(config.csv_path, column=column, date_column=date_column,
                           inputs=config.inputs)


def has_columns(dataset: str) -> bool:
    """Whether ``dataset`` can have input columns: a CSV, or a gallery series with others."""
    return dataset == "csv" or bool(dataset in GALLERY and GALLERY[dataset].others)


def dataset_words(dataset: str) -> str:
    return {"air_passengers": "the airline passengers series",
            "damped_sine": "the generated sine"}.get(
        dataset, f"'{GALLERY[dataset].title}'" if dataset in GALLERY else dataset)
