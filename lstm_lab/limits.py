"""Resource limits, in one place: upload size and rows, and the compute one run may take.

A classroom server is shared: one person's 5,000-epoch, 1,024-unit model must not freeze it for
everyone. ``max_work`` caps a run's estimated work before training starts (weights x time steps
per window x training windows x epochs, per network), ``max_train_windows`` keeps only the most
recent windows of a long series, and ``max_train_seconds`` stops a network that runs too long,
keeping what it learned.

Every limit is a field of the frozen ``Limits`` dataclass with a default, and can be changed
with an environment variable (``ENV_VARS``), read each time ``get_limits()`` is called, so a
deployment can raise it without touching code:

    LSTM_LAB_MAX_UPLOAD_MB=200 LSTM_LAB_MAX_ROWS=5000000 streamlit run app.py

Error messages name the variable to change (see ``env_var``). To add a limit (training time,
epochs, ...), add a field with a default, its variable in ``ENV_VARS``, and read it through
``get_limits()``; plain whole numbers >= 1 only, so one parser serves them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from lstm_lab.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    """Upper bounds on user input. Defaults suit a shared server with a few GB of memory."""

    max_upload_mb: int = 50          # size of one CSV file, in MiB (1 MiB = 1,048,576 bytes)
    max_rows: int = 2_000_000        # data rows in one CSV file
    max_columns: int = 1_000         # fields in one CSV row
    max_work: int = 100_000_000_000  # weights x steps x windows x epochs per network and run
    max_train_windows: int = 5_000   # most recent training windows kept from a long series
    max_train_seconds: int = 300     # wall-clock cap on one run's training
    max_weights: int = 5_000_000     # trainable weights of one network (size, not work)
    max_job_seconds: int = 900       # wall-clock cap on one whole job (backtest, forecast, sweep)
    max_classical_season: int = 60   # longest season Holt-Winters / SARIMA will fit
    max_sarima_season: int = 24      # above it SARIMA drops its seasonal part (its filter holds
                                     # the GIL for seconds per pass: every session would stall)
    max_classical_points: int = 2_000  # most recent points a classical model fits on
    max_classical_seconds: int = 60  # wall-clock cap on one classical fit
    max_queue: int = 60              # jobs waiting or running on the whole server
    max_jobs_per_client: int = 2     # jobs waiting or running per browser (all its tabs; by
                                     # Streamlit's per-browser cookie, else its address)
    max_sweep_runs: int = 36         # runs in one sweep (a teacher may raise it)
    max_session_runs: int = 20       # finished results kept per browser session (oldest go)
    max_owner_storage_mb: int = 200  # run-store space one history key may use, in MiB
    max_import_runs: int = 200       # runs in one imported JSON file
    max_import_points: int = 200_000  # prediction points (rows) of all runs of one imported file
    stop_grace_seconds: int = 15     # a job asked to stop (Stop, time limit) that has not ended
                                     # after this long has its worker process killed
    max_inputs: int = 8              # input columns a run may read besides its target
    max_worker_memory_mb: int = 3_000  # resident memory of one worker process, in MiB: past it
                                       # the worker is killed and its job fails with a message

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"Limit `{f.name}` must be a whole number >= 1. "
                                  f"Received: {f.name}={value!r}")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_owner_storage_bytes(self) -> int:
        return self.max_owner_storage_mb * 1024 * 1024


ENV_VARS: dict[str, str] = {
    "max_upload_mb": "LSTM_LAB_MAX_UPLOAD_MB",
    "max_rows": "LSTM_LAB_MAX_ROWS",
    "max_columns": "LSTM_LAB_MAX_COLUMNS",
    "max_work": "LSTM_LAB_MAX_WORK",
    "max_train_windows": "LSTM_LAB_MAX_TRAIN_WINDOWS",
    "max_train_seconds": "LSTM_LAB_MAX_TRAIN_SECONDS",
    "max_weights": "LSTM_LAB_MAX_WEIGHTS",
    "max_job_seconds": "LSTM_LAB_MAX_JOB_SECONDS",
    "max_classical_season": "LSTM_LAB_MAX_CLASSICAL_SEASON",
    "max_sarima_season": "LSTM_LAB_MAX_SARIMA_SEASON",
    "max_classical_points": "LSTM_LAB_MAX_CLASSICAL_POINTS",
    "max_classical_seconds": "LSTM_LAB_MAX_CLASSICAL_SECONDS",
    "max_queue": "LSTM_LAB_MAX_QUEUE",
    "max_jobs_per_client": "LSTM_LAB_MAX_JOBS_PER_CLIENT",
    "max_sweep_runs": "LSTM_LAB_MAX_SWEEP_RUNS",
    "max_session_runs": "LSTM_LAB_MAX_SESSION_RUNS",
    "max_owner_storage_mb": "LSTM_LAB_MAX_OWNER_STORAGE_MB",
    "max_import_runs": "LSTM_LAB_MAX_IMPORT_RUNS",
    "max_import_points": "LSTM_LAB_MAX_IMPORT_POINTS",
    "stop_grace_seconds": "LSTM_LAB_STOP_GRACE_SECONDS",
    "max_inputs": "LSTM_LAB_MAX_INPUTS",
    "max_worker_memory_mb": "LSTM_LAB_MAX_WORKER_MEMORY_MB",
}


def env_var(limit: str) -> str:
    """The environment variable that sets ``limit`` (a ``Limits`` field name)."""
    return ENV_VARS[limit]


def get_limits(environ: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: defaults, overridden by the environment variables in ``ENV_VARS``.

    Args:
        environ: where to read the variables; ``os.environ`` when None (tests pass a dict).

    Raises:
        ConfigError: a variable is set but is not a whole number >= 1.
    """
    env = os.environ if environ is None else environ
    values: dict[str, int] = {}
    for f in fields(Limits):
        var = ENV_VARS[f.name]
        raw = env.get(var, "").strip().replace("_", "")
        if not raw:
            continue
        try:
            values[f.name] = int(raw)
        except ValueError:
            raise ConfigError(f"{var} must be a whole number. Received: {var}={env[var]!r}") from None
        if values[f.name] < 1:
            raise ConfigError(f"{var} must be >= 1. Received: {var}={env[var]!r}")
    return Limits(**values)
