"""The per-owner quota: each run records its size in bytes; saving or importing runs that would
take an owner past ``max_owner_storage_mb`` (``LSTM_LAB_MAX_OWNER_STORAGE_MB``) is refused."""

from __future__ import annotations

import sqlite3

from lstm_lab.limits import env_var, get_limits
from lstm_lab.store.database import QuotaError


def used_bytes(conn: sqlite3.Connection, owner: str) -> int:
    """Bytes ``owner``'s runs take in the store (texts and trained networks)."""
    return int(conn.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM runs WHERE owner = ?",
                            (owner,)).fetchone()[0])


def check_quota(used: int, adding: int, what: str = "this run", doing: str = "Saving") -> None:
    """QuotaError when ``used + adding`` bytes exceed ``max_owner_storage_mb``; the message
    reads "{doing} {what} (N MiB) would take your saved runs to ..."."""
    cap = get_limits().max_owner_storage_bytes
    if used + adding > cap:
        raise QuotaError(
            f"{doing} {what} ({_mib(adding)}) would take your saved runs to "
            f"{_mib(used + adding)}, over the {_mib(cap)} each history key may use "
            f"({env_var('max_owner_storage_mb')}; {_mib(used)} used now). Delete old runs on "
            "the History page to make room.")


def _mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"
