"""The run database: where the file lives, its schema and migrations, connections and errors.

Where: one file, ``runs/lstm_lab.sqlite3`` under the repository root by default, or the path in
``LSTM_LAB_DB`` (``:memory:`` keeps a private in-memory database, for tests). The folder and the
file are created on first use.

Schema: the version lives in ``PRAGMA user_version``; ``MIGRATIONS[v]`` upgrades version ``v`` to
``v + 1``. Opening a database runs the missing steps in one transaction, so an old file is
upgraded in place and a half-upgraded file cannot exist. A file written by a newer LSTM Lab is
refused rather than damaged.

Writes: callers write in ``transaction`` blocks, so after a crash a write is wholly there or
wholly absent. The database runs in WAL mode with a busy timeout, so several sessions, threads
and processes can write at once (SQLite serialises the writers; a write takes milliseconds).

Messages never contain the database's path (they reach every page); the command line adds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from lstm_lab.errors import LabError

DB_ENV_VAR = "LSTM_LAB_DB"
# lstm_lab/store/database.py -> parents[2] is the repository root.
DEFAULT_DB = Path(__file__).resolve().parents[2] / "runs" / "lstm_lab.sqlite3"
BUSY_TIMEOUT_S = 30.0


class StoreError(LabError):
    """The run database cannot be opened, read or written (permissions, format, busy)."""


class RunNotFoundError(StoreError):
    """No run with that id, or not one this session may see."""


class QuotaError(StoreError):
    """Saving would take an owner past their share of the run store."""


def db_path(environ: Mapping[str, str] | None = None) -> str:
    """The database path: ``LSTM_LAB_DB`` when set, else ``runs/lstm_lab.sqlite3`` in the repo."""
    env = os.environ if environ is None else environ
    raw = env.get(DB_ENV_VAR, "").strip()
    if raw == ":memory:":
        return raw
    return str(Path(raw).expanduser().resolve()) if raw else str(DEFAULT_DB)


# --- schema ------------------------------------------------------------------------------------

def _v1_create(conn: sqlite3.Connection) -> None:
    """Version 1: runs and their networks."""
    conn.execute("""
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            uid TEXT NOT NULL UNIQUE,             -- stable identity across export / import
            created_at REAL NOT NULL,             -- seconds since the epoch (UTC)
            owner TEXT NOT NULL,
            dataset TEXT NOT NULL,
            series_name TEXT NOT NULL,
            data_fingerprint TEXT NOT NULL,
            stopped INTEGER NOT NULL DEFAULT 0,   -- training was stopped early by request
            config_json TEXT NOT NULL,
            metrics_json TEXT NOT NULL,
            result_json TEXT NOT NULL             -- ExperimentResult.to_dict() + time_dtype
        )""")
    conn.execute("CREATE INDEX runs_owner ON runs (owner, created_at)")
    conn.execute("""
        CREATE TABLE weights (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            model TEXT NOT NULL,                  -- lstm | mlp
            state_json TEXT NOT NULL,             -- forecaster parameters, scaler, transform
            keras BLOB NOT NULL,                  -- the .keras file's bytes
            PRIMARY KEY (run_id, model)
        )""")


def _v2_sharing_and_sweeps(conn: sqlite3.Connection) -> None:
    """Version 2: the "shared with the class" flag, sweep groups, and the run time as a column
    (backfilled from the stored results) so the history table need not parse every result."""
    conn.execute("ALTER TABLE runs ADD COLUMN shared INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE runs ADD COLUMN sweep TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE runs ADD COLUMN total_s REAL")
    rows = conn.execute("SELECT id, result_json FROM runs").fetchall()
    for run_id, text in rows:
        try:
            total = json.loads(text).get("timings", {}).get("total_s")
        except (json.JSONDecodeError, AttributeError):
            total = None
        conn.execute("UPDATE runs SET total_s = ? WHERE id = ?", (total, run_id))
    conn.execute("CREATE INDEX runs_shared ON runs (shared, created_at)")
    conn.execute("CREATE INDEX runs_sweep ON runs (sweep)")


def _v3_keys_and_sizes(conn: sqlite3.Connection) -> None:
    """Version 3: the secret that signs history keys (random, created once, never shown), and
    each run's size in bytes for the per-owner quota (backfilled from the stored texts and
    networks)."""
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta (key, value) VALUES ('key_secret', ?)",
                 (secrets.token_hex(32),))
    conn.execute("ALTER TABLE runs ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0")
    conn.execute("""
        UPDATE runs SET size_bytes =
            length(CAST(config_json AS BLOB)) + length(CAST(metrics_json AS BLOB))
            + length(CAST(result_json AS BLOB))
            + COALESCE((SELECT SUM(length(CAST(state_json AS BLOB)) + length(keras))
                        FROM weights WHERE run_id = runs.id), 0)""")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _v1_create, _v2_sharing_and_sweeps, _v3_keys_and_sizes)
SCHEMA_VERSION = len(MIGRATIONS)


# --- connections ---------------------------------------------------------------------------------

class Database:
    """One SQLite file. Thread-safe: each ``connect`` opens its own short-lived connection
    (``:memory:`` keeps one connection, guarded by a lock). The schema is created or upgraded on
    first use."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        self._memory = self.path == ":memory:"
        self._lock = threading.RLock()
        self._shared_conn: sqlite3.Connection | None = None
        self._ready = False
        self._secret: bytes | None = None

    def __repr__(self) -> str:
        # The file name only: a repr can end up in a message, and messages never show the path.
        return f"Database({Path(self.path).name!r})"

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection with the schema up to date; sqlite3 errors become StoreError."""
        with self._lock if self._memory else contextlib.nullcontext():
            if self._memory:
                if self._shared_conn is None:
                    self._shared_conn = self._open()
                conn = self._shared_conn
            else:
                conn = self._open()
            try:
                if not self._ready:
                    self._migrate(conn)
                    self._ready = True
                yield conn
            except sqlite3.Error as err:
                raise self._error(err) from None
            finally:
                if not self._memory:
                    conn.close()

    @staticmethod
    @contextlib.contextmanager
    def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (waiting up to the busy
        timeout), so two writers never deadlock; any exception rolls everything back."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def schema_version(self) -> int:
        with self.connect() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    def key_secret(self) -> bytes:
        """The random secret that signs history keys (table ``meta``; read once, then kept)."""
        if self._secret is None:
            with self.connect() as conn:
                self._secret = bytes.fromhex(conn.execute(
                    "SELECT value FROM meta WHERE key = 'key_secret'").fetchone()[0])
        return self._secret

    def _open(self) -> sqlite3.Connection:
        if not self._memory:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"Cannot create the folder for the run store: "
                                 f"{err.strerror or 'error'}. Set {DB_ENV_VAR} to a writable "
                                 "path.") from None
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=not self._memory)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as err:
            raise self._error(err) from None
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        _check_version(version)
        if not self._memory:
            mode = _switch_to_wal(conn)
            if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                conn.execute("PRAGMA journal_mode = DELETE")
        if version == SCHEMA_VERSION:
            return
        with self.transaction(conn):
            # Another process may have upgraded the file while this one waited for the lock.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            _check_version(version)
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
                conn.execute(f"PRAGMA user_version = {step + 1}")

    def _error(self, err: sqlite3.Error) -> StoreError:
        """A readable StoreError for a sqlite3 error. The path is left out: these messages are
        shown on pages that every student sees (the command line adds it, see cli/runs.py)."""
        text = str(err).replace(self.path, "the run store")
        if "not a database" in text or "malformed" in text:
            return StoreError(f"The run store is not a readable LSTM Lab run database ({text}). "
                              f"Move the file away or set {DB_ENV_VAR} to another file.")
        if "locked" in text or "busy" in text:
            return StoreError(f"The run store stayed busy for {BUSY_TIMEOUT_S:.0f} s ({text}). "
                              "Try again in a moment.")
        if "readonly" in text or "unable to open" in text:
            return StoreError(f"Cannot write the run store ({text}). Check the permissions or "
                              f"set {DB_ENV_VAR} to a writable path.")
        return StoreError(f"The run store failed: {text}.")


def _switch_to_wal(conn: sqlite3.Connection) -> str:
    """``PRAGMA journal_mode = WAL``, retried while other processes hold the new file.

    Changing the journal mode needs the file to itself; when several processes open a new
    database at once, SQLite can answer "database is locked" at once instead of waiting for
    the busy timeout, so the wait is done here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The run store has schema version {version}, written by a newer LSTM Lab; this "
            f"one reads versions up to {SCHEMA_VERSION}. Upgrade LSTM Lab or set "
            f"{DB_ENV_VAR} to another file.")
