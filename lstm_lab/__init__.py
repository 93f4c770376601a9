"""LSTM Lab core: datasets, windows, models, training and evaluation. Never imports streamlit."""

import os

# TensorFlow prints several lines of C++ info logs on import; keep warnings and errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lstm_lab.data.series import Series  # noqa: E402
from lstm_lab.errors import ConfigError, DataError, LabError, NotFittedError, TrainingError  # noqa: E402
from lstm_lab.experiments.config import ExperimentConfig  # noqa: E402
from lstm_lab.version import __version__  # noqa: E402

__all__ = ["ConfigError", "DataError", "ExperimentConfig", "LabError", "NotFittedError",
           "Series", "TrainingError", "__version__"]
