"""Typed errors: every mistake a user can make surfaces as a LabError with a readable message.

The UI shows `str(err)` in `st.error`; the CLI prints `error: <message>` and exits 2. Messages say
what was expected, what arrived, and how to fix it.
"""


class LabError(Exception):
    """Base class for every error LSTM Lab raises on purpose."""


class DataError(LabError):
    """The series or file cannot be used (parse failure, too short, not numeric, ...)."""


class ConfigError(LabError):
    """An experiment setting is out of range or inconsistent with the data."""


class NotFittedError(LabError):
    """predict() was called before fit()."""


class TrainingError(LabError):
    """Training failed in a way the user can act on (diverged to NaN, over budget, ...)."""
