"""Which backend the environment asks for (read when the server's queue is made)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from lstm_lab.execution.backends import (
    IN_PROCESS_VAR,
    RAY_VAR,
    Backend,
    ThreadBackend,
    worker_count,
)


def make_backend(environ: Mapping[str, str] | None = None) -> Backend:
    """The backend the environment asks for: Ray with ``LSTM_LAB_RAY_ADDRESS``, threads with
    ``LSTM_LAB_IN_PROCESS=1``, else a pool of ``LSTM_LAB_WORKERS`` processes (default: cores)."""
    env = os.environ if environ is None else environ
    if env.get(RAY_VAR, "").strip():
        from lstm_lab.execution.ray_backend import RayBackend
        return RayBackend(env[RAY_VAR].strip())
    if env.get(IN_PROCESS_VAR, "").strip() == "1":
        return ThreadBackend()
    from lstm_lab.execution.processes import ProcessBackend
    return ProcessBackend(worker_count(env))
