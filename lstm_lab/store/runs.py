"""The run store: every finished run, kept for good in an embedded SQLite database.

A run keeps its config, data fingerprint, metrics for every model, predictions, loss histories,
timings, library versions (all of ``ExperimentResult.to_dict``) and the trained networks as
``.keras`` files (zip archives of architecture + weights, stored as BLOBs; loaded with
``keras.saving.load_model(..., safe_mode=True)``, never unpickled).

Where: one file, ``runs/lstm_lab.sqlite3`` under the repository root by default, or the path in
``LSTM_LAB_DB`` (``:memory:`` keeps a private in-memory database, for tests). The folder and the
file are created on first use.

Schema: the version lives in ``PRAGMA user_version``; ``MIGRATIONS[v]`` upgrades version ``v`` to
``v + 1``. Opening a database runs the missing steps in one transaction, so an old file is
upgraded in place and a half-upgraded file cannot exist. A file written by a newer LSTM Lab is
refused rather than damaged.

Writes: each run (its row and its networks) is written in one transaction: after a crash the
run is wholly there or wholly absent. The database runs in WAL mode with a busy timeout, so
several sessions, threads and processes can write at once (SQLite serialises the writers; a
write takes milliseconds).

Privacy: each run has an ``owner`` (an opaque, unguessable session id; the CLI uses ``"cli"``)
and a ``shared`` flag. ``list_runs(owner)`` returns that owner's runs plus the runs shared with
the class; only the owner may share, unshare or delete a run. ``owner=None`` means "no
restriction" and is for the command line, which runs with the server's own rights. Reading a
run's trained networks checks, at the moment of reading, that the reader may still see the run:
a network loaded before its owner stopped sharing it cannot be read again afterwards.

History keys: the key a person copies to find their runs again is ``owner-signature``, the owner
id and an HMAC-SHA256 of it under a random secret that the database creates once (table
``meta``). Only the server can issue keys (``owner_key``); a typed key is accepted only when its
signature checks (``owner_from_key``), so nobody can pick an owner such as ``000...0``. Owners
saved before keys were signed are not lost: ``python -m lstm_lab runs key OWNER`` prints their
signed key.

Quota: each run records its size in bytes; saving or importing runs that would take an owner past
``max_owner_storage_mb`` (``LSTM_LAB_MAX_OWNER_STORAGE_MB``) is refused (``QuotaError``).

Messages never contain the database's path (they reach every page); the command line adds it.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import hmac
import io
import json
import math
import os
import re
import secrets
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstm_lab.errors import ConfigError, DataError, LabError
from lstm_lab.experiments.config import NEURAL_MODELS, ExperimentConfig
from lstm_lab.experiments.metrics import METRICS
from lstm_lab.experiments.training import MODEL_LABELS, ExperimentResult
from lstm_lab.store.records import (
    _dumps,
    _fitted_name,
    _network_state,
    _plain,
    _restore_network,
)

DB_ENV_VAR = "LSTM_LAB_DB"
DEFAULT_DB = Path(__file__).resolve().parents[2] / "runs" / "lstm_lab.sqlite3"
BUSY_TIMEOUT_S = 30.0
EXPORT_FORMAT = "lstm_lab.runs"
EXPORT_VERSION = 1
MAX_OWNER_CHARS = 200
# A history key: the owner id, a dash, 32 hex digits of HMAC-SHA256(secret, owner id).
KEY_PATTERN = re.compile(r"^([0-9a-z_.]{1,64})-([0-9a-f]{32})$")
KEY_EXAMPLE = "0123456789abcdef0123456789abcdef-0123456789abcdef0123456789abcdef"


class StoreError(LabError):
    """The run database cannot be opened, read or written (permissions, format, busy)."""


class RunNotFoundError(StoreError):
    """No run with that id, or not one this session may see."""


class QuotaError(StoreError):
    """Saving would take an owner past their share of the run store."""


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


# --- values --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunSummary:
    """One row of the history table: enough to list, filter and pick runs without their data."""

    id: int
    uid: str
    created_at: float
    owner: str
    shared: bool
    sweep: str
    series_name: str
    data_fingerprint: str
    config: ExperimentConfig
    metrics: dict[str, dict[str, float]]
    total_s: float | None
    stopped_by_user: bool

    @property
    def when(self) -> str:
        """The local date and time; ``"unknown date"`` for a value no calendar holds (a run
        stored before imports checked their dates), so a table never fails on one bad row."""
        return format_when(self.created_at)

    def label(self) -> str:
        """``#12 · Passengers · window 12 · 1×32 · seed 0``: short, for pickers and legends."""
        c = self.config
        return (f"#{self.id} · {self.series_name} · window {c.window} · "
                f"{c.layers}×{c.units} · {c.epochs} epochs · seed {c.seed}")

    def best_model(self, metric: str = "rmse") -> str | None:
        scored = {m: v.get(metric) for m, v in self.metrics.items()
                  if v.get(metric) is not None and np.isfinite(v.get(metric))}
        return min(scored, key=scored.get) if scored else None


@dataclass(frozen=True)
class ImportReport:
    ids: list[int]          # the new runs' ids, in the file's order
    skipped: int            # runs already in the store (same uid, same owner)


# --- the repository ------------------------------------------------------------------------------

class RunStore:
    """Runs in one SQLite file. Thread-safe: each call opens its own short-lived connection
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
        return f"RunStore({Path(self.path).name!r})"

    # --- connections and transactions ----------------------------------------------------------
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

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
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
    def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front (waiting up to the busy
        timeout), so two writers never deadlock; any exception rolls everything back."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        self._check_version(version)
        if not self._memory:
            mode = self._switch_to_wal(conn)
            if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                conn.execute("PRAGMA journal_mode = DELETE")
        if version == SCHEMA_VERSION:
            return
        with self._transaction(conn):
            # Another process may have upgraded the file while this one waited for the lock.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            self._check_version(version)
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
                conn.execute(f"PRAGMA user_version = {step + 1}")

    @staticmethod
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

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The run store has schema version {version}, written by a newer LSTM Lab; this "
                f"one reads versions up to {SCHEMA_VERSION}. Upgrade LSTM Lab or set "
                f"{DB_ENV_VAR} to another file.")

    def _error(self, err: sqlite3.Error) -> StoreError:
        """A readable StoreError for a sqlite3 error. The path is left out: these messages are
        shown on pages that every student sees (the command line adds it, see cli_store)."""
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

    def schema_version(self) -> int:
        with self._connect() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    # --- history keys --------------------------------------------------------------------------
    @staticmethod
    def new_owner() -> str:
        """A fresh owner id for a new session: 32 random hex digits (uuid4)."""
        return uuid.uuid4().hex

    def _key_secret(self) -> bytes:
        if self._secret is None:
            with self._connect() as conn:
                self._secret = bytes.fromhex(conn.execute(
                    "SELECT value FROM meta WHERE key = 'key_secret'").fetchone()[0])
        return self._secret

    def _signature(self, owner: str) -> str:
        return hmac.new(self._key_secret(), owner.encode(), hashlib.sha256).hexdigest()[:32]

    def owner_key(self, owner: str) -> str:
        """The history key a person keeps to find ``owner``'s runs again: ``owner-signature``.

        Only this server can issue it: the signature is an HMAC under the database's secret.
        """
        if not KEY_PATTERN.match(f"{owner}-{'0' * 32}"):
            raise ConfigError("Only owners of at most 64 lower-case letters, digits, '_' and '.' "
                              f"have a history key. Received: owner={owner[:80]!r}")
        return f"{owner}-{self._signature(owner)}"

    def owner_from_key(self, key: str) -> str:
        """The owner a typed history key stands for; ConfigError unless this server issued it.

        Spaces and case are forgiven (keys are copied by hand); anything else is refused, in the
        same words whether the form or the signature is wrong.
        """
        text = re.sub(r"\s+", "", str(key)).lower()
        match = KEY_PATTERN.match(text)
        if not match or not hmac.compare_digest(match[2], self._signature(match[1])):
            raise ConfigError("That is not a history key issued by this server. Copy the whole "
                              "key shown under Your history key, e.g. "
                              f"{KEY_EXAMPLE}.")
        return match[1]

    # --- quota ---------------------------------------------------------------------------------
    def used_bytes(self, owner: str) -> int:
        """Bytes of the run store ``owner``'s runs take (texts and trained networks)."""
        with self._connect() as conn:
            return self._used(conn, owner)

    @staticmethod
    def _used(conn: sqlite3.Connection, owner: str) -> int:
        return int(conn.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM runs WHERE owner = ?",
                                (owner,)).fetchone()[0])

    @staticmethod
    def _check_quota(used: int, adding: int, what: str = "this run") -> None:
        """QuotaError when ``used + adding`` bytes exceed ``max_owner_storage_mb``."""
        from lstm_lab.limits import env_var, get_limits

        cap = get_limits().max_owner_storage_bytes
        if used + adding > cap:
            raise QuotaError(
                f"Saving {what} ({_mib(adding)}) would take your saved runs to "
                f"{_mib(used + adding)}, over the {_mib(cap)} each history key may use "
                f"({env_var('max_owner_storage_mb')}; {_mib(used)} used now). Delete old runs on "
                "the History page to make room.")

    # --- writing -----------------------------------------------------------------------------------
    def save_run(self, result: ExperimentResult, owner: str, shared: bool = False,
                 sweep: str = "") -> int:
        """Save a finished run and its trained networks; returns the new run's id.

        The networks are serialised before the transaction starts, so the write lock is held
        for milliseconds only.

        Raises:
            QuotaError: the run would take ``owner`` past ``max_owner_storage_mb``; nothing is
                written (the caller still has the result to show).
        """
        owner = _check_owner(owner)
        texts = _run_texts(_result_record(result))
        networks = _networks_of(result)
        size = _run_size(texts, networks)
        with self._connect() as conn, self._transaction(conn):
            self._check_quota(self._used(conn, owner), size)
            run_id = self._insert_run(conn, uuid.uuid4().hex, time.time(), owner, shared, sweep,
                                      texts, size)
            self._insert_weights(conn, run_id, networks)
        return run_id

    @staticmethod
    def _insert_run(conn: sqlite3.Connection, uid: str, created_at: float, owner: str,
                    shared: bool, sweep: str, texts: _RunTexts, size: int) -> int:
        record = texts.record
        cursor = conn.execute(
            "INSERT INTO runs (uid, created_at, owner, shared, sweep, dataset, series_name, "
            "data_fingerprint, stopped, total_s, config_json, metrics_json, result_json, "
            "size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uid, created_at, owner, int(bool(shared)), str(sweep), record["config"]["dataset"],
             record["series_name"], record["data_fingerprint"],
             int(bool(record.get("stopped_by_user"))), record.get("timings", {}).get("total_s"),
             texts.config_json, texts.metrics_json, texts.result_json, int(size)))
        return int(cursor.lastrowid)

    @staticmethod
    def _insert_weights(conn: sqlite3.Connection, run_id: int,
                        networks: Mapping[str, tuple[dict[str, Any], bytes]]) -> None:
        for model, (state, blob) in networks.items():
            conn.execute("INSERT INTO weights (run_id, model, state_json, keras) "
                         "VALUES (?, ?, ?, ?)", (run_id, model, _dumps(state), sqlite3.Binary(blob)))

    def set_shared(self, run_id: int, shared: bool = True, owner: str | None = None) -> None:
        """Pin a run as shared with the class (or unpin it). Only its owner may."""
        with self._connect() as conn, self._transaction(conn):
            self._owned_row(conn, run_id, owner, "share")
            conn.execute("UPDATE runs SET shared = ? WHERE id = ?", (int(bool(shared)), run_id))

    def delete_run(self, run_id: int, owner: str | None = None) -> None:
        self.delete_runs([run_id], owner)

    def delete_runs(self, run_ids: Iterable[int], owner: str | None = None) -> int:
        """Delete runs and their networks, all or none; only the owner may. Returns the count."""
        ids = _ids(run_ids)
        with self._connect() as conn, self._transaction(conn):
            for run_id in ids:
                self._owned_row(conn, run_id, owner, "delete")
            for run_id in ids:
                conn.execute("DELETE FROM weights WHERE run_id = ?", (run_id,))
                conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        return len(ids)

    def _owned_row(self, conn: sqlite3.Connection, run_id: int, owner: str | None,
                   action: str) -> None:
        row = conn.execute("SELECT owner, shared FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None or (owner is not None and row[0] != owner and not row[1]):
            raise RunNotFoundError(f"There is no run #{run_id}" + (" among yours or the shared "
                                   "ones." if owner is not None else "."))
        if owner is not None and row[0] != owner:
            raise StoreError(f"Run #{run_id} was shared by another session: only that session "
                             f"can {action} it.")

    # --- reading -----------------------------------------------------------------------------------
    def list_runs(self, owner: str | None, include_shared: bool = True, dataset: str | None = None,
                  sweep: str | None = None, ids: Iterable[int] | None = None,
                  limit: int | None = None, **config_filters: Any) -> list[RunSummary]:
        """Runs newest first: the owner's own, plus those shared with the class.

        Args:
            owner: a session's key; ``None`` lists everyone's runs (command line only).
            include_shared: also list runs other sessions shared with the class.
            dataset, sweep, ids: keep only these.
            **config_filters: config field -> a value or a collection of accepted values,
                e.g. ``layers=2`` or ``units=[16, 32]``.
        """
        known = {f.name for f in fields(ExperimentConfig)}
        unknown = sorted(set(config_filters) - known)
        if unknown:
            raise ConfigError(f"Unknown filter(s): {', '.join(unknown)}. Filter on config "
                              f"fields: {', '.join(sorted(known))}.")
        where, args = [], []
        if owner is not None:
            where.append("(owner = ? OR shared = 1)" if include_shared else "owner = ?")
            args.append(owner)
        if dataset is not None:
            where.append("dataset = ?")
            args.append(dataset)
        if sweep is not None:
            where.append("sweep = ?")
            args.append(sweep)
        if ids is not None:
            id_list = _ids(ids)
            where.append(f"id IN ({', '.join('?' * len(id_list)) or 'NULL'})")
            args.extend(id_list)
        sql = ("SELECT id, uid, created_at, owner, shared, sweep, series_name, data_fingerprint, "
               "config_json, metrics_json, total_s, stopped FROM runs"
               + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC")
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        wanted = {k: _accepted(v) for k, v in config_filters.items()}
        out = []
        for row in rows:
            try:
                summary = _summary(row)
            except (LabError, ValueError, TypeError, KeyError, AttributeError):
                continue  # a row an older version or a tampered file left behind: not listable
            if all(getattr(summary.config, k) in v for k, v in wanted.items()):
                out.append(summary)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def get_summary(self, run_id: int, owner: str | None = None) -> RunSummary:
        found = self.list_runs(owner, ids=[run_id])
        if not found:
            raise RunNotFoundError(_not_found(run_id, owner))
        return found[0]

    def list_sweeps(self, owner: str | None, include_shared: bool = True) -> list[dict[str, Any]]:
        """Sweep groups visible to ``owner``, newest first: sweep id, run count, first run time."""
        sql = ("SELECT sweep, COUNT(*), MIN(created_at), MIN(id) FROM runs WHERE sweep != ''"
               + ((" AND (owner = ? OR shared = 1)" if include_shared else " AND owner = ?")
                  if owner is not None else "")
               + " GROUP BY sweep ORDER BY MIN(created_at) DESC")
        with self._connect() as conn:
            rows = conn.execute(sql, [owner] if owner is not None else []).fetchall()
        return [{"sweep": s, "runs": n, "created_at": t, "first_id": i} for s, n, t, i in rows]

    def load_run(self, run_id: int, owner: str | None = None) -> ExperimentResult:
        """The stored run as an ExperimentResult, equal to the one saved.

        Its ``forecasters`` hold a ``StoredNetwork`` per trained network: the Keras model is read
        from the database the first time an attribute such as ``model_`` or ``predict`` is used,
        and every later use checks again that ``owner`` may still see the run.
        """
        with self._connect() as conn:
            row = conn.execute("SELECT result_json, owner, shared FROM runs WHERE id = ?",
                               (run_id,)).fetchone()
            models = [m for (m,) in conn.execute(
                "SELECT model FROM weights WHERE run_id = ? ORDER BY model", (run_id,))]
        if row is None or (owner is not None and row[1] != owner and not row[2]):
            raise RunNotFoundError(_not_found(run_id, owner))
        result = _result_from_record(json.loads(row[0]))
        result.forecasters = {m: StoredNetwork(self, run_id, m, owner)
                              for m in NEURAL_MODELS if m in models}
        return result

    def check_readable(self, run_id: int, owner: str | None = None) -> None:
        """Raise RunNotFoundError unless run ``run_id`` exists and ``owner`` may see it now
        (its own, or shared with the class at this moment)."""
        with self._connect() as conn:
            row = conn.execute("SELECT owner, shared FROM runs WHERE id = ?",
                               (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(f"Run #{run_id} was deleted: its trained networks are gone.")
        if owner is not None and row[0] != owner and not row[1]:
            raise RunNotFoundError(f"Run #{run_id} is no longer shared with the class, so its "
                                   "trained networks cannot be read. Ask its owner to share it "
                                   "again.")

    def keras_bytes(self, run_id: int, model: str = "lstm", owner: str | None = None) -> bytes:
        """The stored ``.keras`` file of one network (what the download button offers)."""
        return self._weights_row(run_id, model, owner)[1]

    def load_weights(self, run_id: int, model: str = "lstm", owner: str | None = None):
        """The stored network as a Keras model (``keras.saving.load_model``, safe mode)."""
        return load_keras(self.keras_bytes(run_id, model, owner))

    def restore_forecaster(self, run_id: int, model: str = "lstm", owner: str | None = None):
        """The fitted LSTMForecaster / MLPForecaster, ready to ``predict`` as when it was saved."""
        state, blob = self._weights_row(run_id, model, owner)
        return _restore_network(model, state, load_keras(blob))

    def _weights_row(self, run_id: int, model: str, owner: str | None) -> tuple[dict, bytes]:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT w.state_json, w.keras, r.owner, r.shared FROM weights w "
                "JOIN runs r ON r.id = w.run_id WHERE w.run_id = ? AND w.model = ?",
                (run_id, model)).fetchone()
        if row is not None and owner is not None and row[2] != owner and not row[3]:
            raise RunNotFoundError(f"Run #{run_id} is not shared with the class (any more), so "
                                   f"its {MODEL_LABELS.get(model, model)} network cannot be read.")
        if row is None:
            raise RunNotFoundError(f"Run #{run_id} has no stored {MODEL_LABELS.get(model, model)} "
                                   "network" + (" that you may see." if owner else "."))
        return json.loads(row[0]), bytes(row[1])

    # --- export / import ------------------------------------------------------------------------
    def export_runs(self, run_ids: Iterable[int] | None = None, owner: str | None = None,
                    weights: bool = True) -> str:
        """Runs as one JSON document that ``import_runs`` reads back (networks base64-encoded).

        ``run_ids=None`` exports every run ``owner`` may see. Owners are not exported.
        """
        summaries = self.list_runs(owner, ids=None if run_ids is None else _ids(run_ids))
        if run_ids is not None:
            missing = sorted(set(_ids(run_ids)) - {s.id for s in summaries})
            if missing:
                raise RunNotFoundError(_not_found(missing[0], owner))
        runs = []
        with self._connect() as conn:
            for s in sorted(summaries, key=lambda s: s.id):
                record = json.loads(conn.execute("SELECT result_json FROM runs WHERE id = ?",
                                                 (s.id,)).fetchone()[0])
                entry: dict[str, Any] = {"uid": s.uid, "created_at": s.created_at,
                                         "sweep": s.sweep, "result": record, "networks": {}}
                if weights:
                    for model, state, blob in conn.execute(
                            "SELECT model, state_json, keras FROM weights WHERE run_id = ? "
                            "ORDER BY model", (s.id,)):
                        entry["networks"][model] = {
                            "state": json.loads(state),
                            "keras_base64": base64.b64encode(bytes(blob)).decode("ascii")}
                runs.append(entry)
        return json.dumps({"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
                           "schema": SCHEMA_VERSION,
                           "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                           "runs": runs}, allow_nan=False)

    def import_runs(self, text: str | bytes, owner: str, shared: bool = False) -> ImportReport:
        """Read an ``export_runs`` document back; the importing owner owns the copies.

        Every run is checked before anything is written (a strict schema: see ``_parse_export``),
        and all are written in one transaction. A run already in the store (same uid, same
        owner) is skipped. Sweep ids are issued afresh, one per sweep of the file, so an imported
        run can never join a sweep of someone else's.

        Raises:
            DataError: the file breaks the schema (one readable sentence; nothing is written).
            QuotaError: the new runs would take ``owner`` past ``max_owner_storage_mb``.
        """
        owner = _check_owner(owner)
        entries = _parse_export(text)
        sweeps: dict[str, str] = {}
        with self._connect() as conn, self._transaction(conn):
            ids, skipped, added = [], 0, []
            for entry in entries:
                # A copy of another owner's run gets a uid derived from (owner, uid): importing
                # the same file twice finds it and skips it.
                candidates = (entry["uid"], _copy_uid(entry["uid"], owner))
                found = dict(conn.execute("SELECT uid, owner FROM runs WHERE uid IN (?, ?)",
                                          candidates).fetchall())
                if owner in found.values():
                    skipped += 1
                    continue
                uid = candidates[0] if candidates[0] not in found else candidates[1]
                sweep = (sweeps.setdefault(entry["sweep"], uuid.uuid4().hex[:12])
                         if entry["sweep"] else "")
                texts = _run_texts(entry["result"])
                size = _run_size(texts, entry["networks"])
                added.append(size)
                run_id = self._insert_run(conn, uid, entry["created_at"], owner, shared, sweep,
                                          texts, size)
                self._insert_weights(conn, run_id, entry["networks"])
                ids.append(run_id)
            # Checked after the inserts (same transaction, rolled back on refusal): the sizes
            # of the runs actually added, not of those skipped.
            if added:
                self._check_quota(self._used(conn, owner) - sum(added), sum(added),
                                  f"{len(added)} imported run{'s' * (len(added) != 1)}")
        return ImportReport(ids, skipped)

    def runs_csv(self, run_ids: Iterable[int] | None = None, owner: str | None = None) -> str:
        """A spreadsheet-friendly summary, one row per run (read-only: import takes the JSON)."""
        from lstm_lab.experiments.export import defuse

        summaries = self.list_runs(owner, ids=None if run_ids is None else _ids(run_ids))
        frame = runs_frame(sorted(summaries, key=lambda s: s.id), owner, all_metrics=True,
                           full_config=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([defuse(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            writer.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v))
                             else defuse(v) if isinstance(v, str) else v for v in row])
        return buffer.getvalue()


class StoredNetwork:
    """A trained network of a stored run, restored from the database on first use.

    Behaves like the fitted forecaster it stands for: ``model_``, ``predict``, ``scaler_``...
    are looked up on the restored LSTMForecaster / MLPForecaster. Every use checks that
    ``owner`` (the reader) may still see the run, even after the network was restored: once its
    owner stops sharing it (or deletes it), a classmate's copy cannot be read any more. If the
    network cannot be read, attribute lookups fail with AttributeError (naming why), so
    ``hasattr(network, "model_")`` is simply False, and ``keras_bytes`` / ``restore`` raise
    RunNotFoundError.
    """

    def __init__(self, store: RunStore, run_id: int, name: str, owner: str | None = None) -> None:
        self.store, self.run_id, self.name, self.owner = store, run_id, name, owner
        self._forecaster = None

    def __repr__(self) -> str:
        return f"StoredNetwork(run_id={self.run_id}, name={self.name!r})"

    @property
    def loaded(self) -> bool:
        return self._forecaster is not None

    def keras_bytes(self) -> bytes:
        return self.store.keras_bytes(self.run_id, self.name, self.owner)

    def restore(self):
        if self._forecaster is None:
            self._forecaster = self.store.restore_forecaster(self.run_id, self.name, self.owner)
        else:
            self.store.check_readable(self.run_id, self.owner)
        return self._forecaster

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_") or attr in ("store", "run_id", "name", "owner"):
            raise AttributeError(attr)
        try:
            forecaster = self.restore()
        except LabError as err:
            raise AttributeError(f"{attr} (the stored network could not be restored: {err})") \
                from err
        return getattr(forecaster, attr)


# --- the default store ---------------------------------------------------------------------------

_STORES: dict[str, RunStore] = {}
_STORES_LOCK = threading.Lock()


def db_path(environ: Mapping[str, str] | None = None) -> str:
    """The database path: ``LSTM_LAB_DB`` when set, else ``runs/lstm_lab.sqlite3`` in the repo."""
    env = os.environ if environ is None else environ
    raw = env.get(DB_ENV_VAR, "").strip()
    if raw == ":memory:":
        return raw
    return str(Path(raw).expanduser().resolve()) if raw else str(DEFAULT_DB)


def get_store(path: str | os.PathLike[str] | None = None) -> RunStore:
    """The shared RunStore for ``path`` (default: ``db_path()``, read on every call)."""
    key = str(path) if path is not None else db_path()
    with _STORES_LOCK:
        if key not in _STORES:
            _STORES[key] = RunStore(key)
        return _STORES[key]


def run_and_save(config: ExperimentConfig, series: Any, owner: str, on_epoch: Any = None,
                 should_stop: Any = None, store: RunStore | None = None) -> ExperimentResult:
    """``run_experiment``, then save the run: the training queue's task for a comparison.

    Saving happens in the worker thread, so a run lasts even if its page is closed before it
    ends. A store failure does not lose the result: it becomes one of the run's notes.
    """
    from lstm_lab.experiments.training import run_experiment

    result = run_experiment(config, series, on_epoch, should_stop)
    try:
        (store or get_store()).save_run(result, owner)
    except LabError as err:
        result.notes.append(f"This run was not saved to the history: {err}")
    return result


# --- tables --------------------------------------------------------------------------------------

TABLE_MODELS = ("lstm", "mlp", "naive", "seasonal_naive", "holt_winters", "sarima")


def runs_frame(summaries: Sequence[RunSummary], me: str | None = None, all_metrics: bool = False,
               full_config: bool = False) -> pd.DataFrame:
    """The history table: one row per run, the settings people compare and RMSE per model.

    Args:
        me: the viewing session's owner key; fills the ``mine`` column.
        all_metrics: every metric per model (RMSE, MAE, MAPE %, MASE), not RMSE alone.
        full_config: every config field, not the usual few (for the CSV export).
    """
    keys = ([f.name for f in fields(ExperimentConfig)] if full_config else
            ["dataset", "window", "horizon", "layers", "units", "epochs", "seed"])
    present = [m for m in TABLE_MODELS if any(m in s.metrics for s in summaries)]
    metric_names = METRICS if all_metrics else ("rmse",)
    rows = []
    for s in summaries:
        row: dict[str, Any] = {"id": s.id, "when": s.when, "series": s.series_name}
        for key in keys:
            value = getattr(s.config, key)
            row[key] = ",".join(value) if isinstance(value, tuple) else value
        for model in present:
            for metric in metric_names:
                value = s.metrics.get(model, {}).get(metric)
                row[f"{metric.upper()} {MODEL_LABELS[model]}"] = \
                    np.nan if value is None else float(value)
        best = s.best_model()
        row["best"] = MODEL_LABELS.get(best, "") if best else ""
        row["time s"] = np.nan if s.total_s is None else float(s.total_s)
        row["shared"] = s.shared
        if me is not None:
            row["mine"] = s.owner == me
        if full_config:
            row.update(uid=s.uid, sweep=s.sweep, data_fingerprint=s.data_fingerprint,
                       stopped_by_user=s.stopped_by_user)
        rows.append(row)
    columns = (["id", "when", "series", *keys]
               + [f"{metric.upper()} {MODEL_LABELS[m]}" for m in present for metric in metric_names]
               + ["best", "time s", "shared"] + (["mine"] if me is not None else [])
               + (["uid", "sweep", "data_fingerprint", "stopped_by_user"] if full_config else []))
    return pd.DataFrame(rows, columns=columns)


# --- helpers -------------------------------------------------------------------------------------

def load_keras(blob: bytes):
    """A Keras model from ``.keras`` bytes, via a temporary file, in safe mode (no code runs)."""
    if not blob.startswith(b"PK"):
        raise DataError("The stored network is not a .keras file (a zip archive).")
    import keras

    with tempfile.TemporaryDirectory(prefix="lstm_lab_") as tmp:
        path = Path(tmp) / "model.keras"
        path.write_bytes(blob)
        try:
            return keras.saving.load_model(path, safe_mode=True)
        except Exception as err:  # noqa: BLE001 - Keras raises many types for a bad file
            raise DataError(f"The stored network could not be loaded ({type(err).__name__}: "
                            f"{err}).") from None


def format_when(created_at: Any) -> str:
    """A stored timestamp as local ``YYYY-MM-DD HH:MM:SS``; ``"unknown date"`` when it is not
    a date (NaN, out of the calendar's range, not a number): a table must never fail on it."""
    try:
        return datetime.fromtimestamp(float(created_at)).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError, TypeError):
        return "unknown date"


def _mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _copy_uid(uid: str, owner: str) -> str:
    return hashlib.sha256(f"{owner}\0{uid}".encode()).hexdigest()[:32]


def _check_owner(owner: Any) -> str:
    if not isinstance(owner, str) or not owner.strip() or len(owner) > MAX_OWNER_CHARS:
        raise ConfigError("A run's owner must be a non-empty key of at most "
                          f"{MAX_OWNER_CHARS} characters. Received: owner={owner!r}")
    return owner


def _ids(run_ids: Iterable[Any]) -> list[int]:
    out = []
    for raw in run_ids:
        try:
            value = int(str(raw).lstrip("#"))
        except ValueError:
            raise ConfigError(f"A run id is a whole number such as 12. Received: {raw!r}") \
                from None
        if value not in out:
            out.append(value)
    return out


def _not_found(run_id: int, owner: str | None) -> str:
    return f"There is no run #{run_id}" + (" among yours or the shared ones." if owner else ".")


def _accepted(value: Any) -> set:
    if isinstance(value, (list, set, frozenset)) or (isinstance(value, tuple) and not (
            value and all(isinstance(v, str) for v in value))):
        return set(value)
    return {value}


@dataclass(frozen=True)
class _RunTexts:
    """The JSON texts of one run's row, made once: written as they are, and counted for the
    quota."""

    record: dict[str, Any]
    config_json: str
    metrics_json: str
    result_json: str


def _run_texts(record: Mapping[str, Any]) -> _RunTexts:
    return _RunTexts(dict(record), _dumps(record["config"]), _dumps(record["metrics"]),
                     _dumps(record))


def _run_size(texts: _RunTexts, networks: Mapping[str, tuple[dict[str, Any], bytes]]) -> int:
    """Bytes a run takes in the store: its texts and its networks (state and .keras file)."""
    size = sum(len(t.encode()) for t in (texts.config_json, texts.metrics_json,
                                         texts.result_json))
    return size + sum(len(_dumps(state).encode()) + len(blob)
                      for state, blob in networks.values())


def _result_record(result: ExperimentResult) -> dict[str, Any]:
    record = result.to_dict()
    record["time_dtype"] = str(result.predictions["time"].dtype)
    return record


def _result_from_record(record: Mapping[str, Any]) -> ExperimentResult:
    result = ExperimentResult.from_dict(dict(record))
    dtype = record.get("time_dtype", "")
    if dtype.startswith(("datetime64", "int", "float")):
        with contextlib.suppress(ValueError, TypeError):
            times = result.predictions["time"]
            result.predictions["time"] = (pd.to_datetime(times).astype(dtype)
                                          if dtype.startswith("datetime64") else times.astype(dtype))
    return result


def _summary(row: Sequence[Any]) -> RunSummary:
    (run_id, uid, created_at, owner, shared, sweep, series_name, fingerprint, config_json,
     metrics_json, total_s, stopped) = row
    metrics = {m: {k: np.nan if v is None else float(v) for k, v in d.items()}
               for m, d in json.loads(metrics_json).items()}
    return RunSummary(id=run_id, uid=uid, created_at=created_at, owner=owner,
                      shared=bool(shared), sweep=sweep, series_name=series_name,
                      data_fingerprint=fingerprint,
                      config=ExperimentConfig.from_json(config_json), metrics=metrics,
                      total_s=total_s, stopped_by_user=bool(stopped))


def _networks_of(result: ExperimentResult) -> dict[str, tuple[dict[str, Any], bytes]]:
    """The trained networks of a result: (state, .keras bytes) per model."""
    from lstm_lab.experiments.export import model_bytes

    out = {}
    for name, forecaster in result.forecasters.items():
        if name not in NEURAL_MODELS:
            continue
        if isinstance(forecaster, StoredNetwork):  # a reloaded run saved again: copy the file
            state, blob = forecaster.store._weights_row(forecaster.run_id, name, forecaster.owner)
            out[name] = (state, blob)
        elif hasattr(forecaster, "model_"):
            kept = getattr(forecaster, "chosen_", forecaster)  # with tuning: the variant kept
            out[name] = (_network_state(kept), model_bytes(result, name))
    return out


# --- the import schema ---------------------------------------------------------------------------

MAX_JSON_DEPTH = 32         # an export nests about 9 levels deep
MAX_NAME_CHARS = 200        # series name, config text fields, labels
MAX_NOTE_CHARS = 1000       # one note
MAX_NOTES = 50              # notes of one run
MAX_VERSIONS = 50           # library versions of one run
EARLIEST_RUN = datetime(2000, 1, 1).timestamp()
RESULT_KEYS = frozenset({
    "config", "series_name", "data_fingerprint", "n_points", "n_train", "season", "metrics",
    "predictions", "histories", "epochs_run", "n_params", "timings", "versions",
    "stopped_by_user", "skipped", "notes", "transform", "tuning", "time_dtype"})
ENTRY_KEYS = frozenset({"uid", "created_at", "sweep", "result", "networks"})
_LABEL = re.compile(r"^[\w .,:;()'+/=-]*$")    # variant labels: no markdown, no HTML
_TOKEN = re.compile(r"^[0-9A-Za-z_-]*$")         # sweep ids, uids, fingerprints
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORMATTING = re.compile(r"[\[\]<>`$]|:/|(?i:www\.)")


def _parse_export(text: str | bytes) -> list[dict[str, Any]]:
    """Check an export document completely before anything is written: a strict schema.

    The file's size (``max_upload_mb``), its nesting depth (a 100,000-deep list is one readable
    error, not a RecursionError), the number of runs (``max_import_runs``), then each run: every
    field's type, enums through ``ExperimentConfig`` and the known models, transforms and
    metrics, finite numbers, dates between 2000-01-01 and tomorrow, and text lengths. Unknown
    fields are refused. Messages quote at most a few characters of what the file holds.
    """
    from lstm_lab.limits import env_var, get_limits

    limits = get_limits()
    limit = limits.max_upload_bytes
    if len(text) > limit:
        raise DataError(f"The runs file is {len(text) / 2**20:.1f} MiB; the limit is "
                        f"{limit / 2**20:.0f} MiB ({env_var('max_upload_mb')}).")
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise DataError(f"The runs file nests lists or objects more than {MAX_JSON_DEPTH} levels "
                        "deep; an LSTM Lab export never does. Import a file written by History "
                        "→ Export JSON or `python -m lstm_lab runs export`.") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as err:
        raise DataError(f"The runs file is not valid JSON: {str(err)[:200]}.") from None
    _check_depth(doc)
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise DataError(f"This is not an LSTM Lab runs file: expected \"format\": "
                        f"\"{EXPORT_FORMAT}\" (from History → Export JSON or `python -m lstm_lab "
                        "runs export`).")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version > EXPORT_VERSION:
        raise DataError(f"This runs file has format version {_short(version)}; this LSTM "
                        f"Lab reads version {EXPORT_VERSION}.")
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise DataError("The runs file has no list of runs (\"runs\": [...]).")
    if len(runs) > limits.max_import_runs:
        raise DataError(f"The runs file holds {len(runs):,} runs; one import takes at most "
                        f"{limits.max_import_runs:,} ({env_var('max_import_runs')}). Export "
                        "fewer runs at a time.")
    entries = []
    now = time.time()
    for i, raw in enumerate(runs, 1):
        try:
            entries.append(_parse_entry(raw, now))
        except LabError as err:
            raise DataError(f"Run {i} of the file cannot be imported: {err}") from None
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            raise DataError(f"Run {i} of the file cannot be imported: missing or malformed "
                            f"{_short(err)}.") from None
    return entries


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _check_depth(doc: Any) -> None:
    """Refuse documents nested deeper than MAX_JSON_DEPTH, without recursion."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise DataError(f"The runs file nests lists or objects more than {MAX_JSON_DEPTH} "
                            "levels deep; an LSTM Lab export never does.")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) \
            else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))


def _short(value: Any, chars: int = 40) -> str:
    """A value quoted in a message: its repr, cut to ``chars`` characters."""
    text = repr(value)
    return text if len(text) <= chars else text[:chars] + "…"


def _text(value: Any, what: str, chars: int = MAX_NAME_CHARS, pattern: re.Pattern | None = None,
          empty: bool = True) -> str:
    if not isinstance(value, str):
        raise DataError(f"{what} must be text; got {type(value).__name__}")
    if len(value) > chars:
        raise DataError(f"{what} is {len(value):,} characters long; at most {chars:,} are "
                        "allowed")
    if not empty and not value:
        raise DataError(f"{what} is empty")
    if _CONTROL.search(value):
        raise DataError(f"{what} contains control characters")
    if pattern is not None and not pattern.match(value):
        raise DataError(f"{what} has characters that are not allowed there: {_short(value)}")
    return value


def _number(value: Any, what: str, whole: bool = False, low: float | None = None,
            high: float | None = None, missing: bool = False) -> None:
    """A finite number (None too when ``missing``), whole and within [low, high] if asked."""
    if value is None and missing:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or (whole and not float(value).is_integer()):
        raise DataError(f"{what} must be a {'whole ' if whole else ''}number; got {_short(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise DataError(f"{what} must be between {low:g} and {high:g}; got {_short(value)}")


def _mapping(value: Any, what: str, keys: Iterable[str] | None = None,
             max_items: int = 100) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"{what} must be an object; got {type(value).__name__}")
    if len(value) > max_items:
        raise DataError(f"{what} has {len(value):,} entries; at most {max_items} are allowed")
    if keys is not None:
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise DataError(f"unknown {what} entry {_short(unknown[0])}; known: "
                            f"{', '.join(sorted(keys))}")
    return value


def _check_record(record: Any) -> None:
    """Every field of a stored result, as ``ExperimentResult.to_dict`` writes it."""
    from lstm_lab.experiments.config import MODELS, TRANSFORMS
    from lstm_lab.limits import get_limits

    _mapping(record, "result", RESULT_KEYS)
    missing = sorted(RESULT_KEYS - {"notes", "transform", "tuning", "time_dtype"} - set(record))
    if missing:
        raise DataError(f"the result has no {missing[0]}")
    config = _mapping(record["config"], "config")
    for key, value in config.items():
        if isinstance(value, str):
            _text(value, f"config.{key}")
    _text(record["series_name"], "series_name")
    _text(record["data_fingerprint"], "data_fingerprint", 128, _TOKEN)
    max_points = get_limits().max_rows
    _number(record["n_points"], "n_points", whole=True, low=1, high=max_points)
    _number(record["n_train"], "n_train", whole=True, low=0, high=record["n_points"])
    _number(record["season"], "season", whole=True, low=0, high=1000)
    for model, scores in _mapping(record["metrics"], "metrics", MODEL_LABELS).items():
        for metric, value in _mapping(scores, f"metrics.{model}", METRICS).items():
            _number(value, f"metrics.{model}.{metric}", missing=True)
    _check_predictions(record["predictions"], max_points)
    for model, history in _mapping(record["histories"], "histories", NEURAL_MODELS).items():
        for curve, values in _mapping(history, f"histories.{model}", ("loss", "val_loss")).items():
            if not isinstance(values, list) or len(values) > 5000:
                raise DataError(f"histories.{model}.{curve} must be a list of at most 5,000 "
                                "losses")
            for value in values:
                _number(value, f"histories.{model}.{curve}", missing=True)
    for key in ("epochs_run", "n_params"):
        for name, value in _mapping(record[key], key, MODEL_LABELS).items():
            _number(value, f"{key}.{name}", whole=True, low=0, high=1e12)
    for name, value in _mapping(record["timings"], "timings").items():
        _text(name, "a timing's name", 64, _TOKEN)
        _number(value, f"timings.{name}", low=0, high=1e9, missing=True)
    for name, value in _mapping(record["versions"], "versions", max_items=MAX_VERSIONS).items():
        _text(name, "a library name", 64)
        _text(value, f"versions.{name}", 100)
    if not isinstance(record["stopped_by_user"], bool):
        raise DataError("stopped_by_user must be true or false")
    skipped = record["skipped"]
    if not isinstance(skipped, list) or any(m not in MODELS for m in skipped):
        raise DataError(f"skipped must list models among {', '.join(MODELS)}")
    notes = record.get("notes", [])
    if not isinstance(notes, list) or len(notes) > MAX_NOTES:
        raise DataError(f"notes must be a list of at most {MAX_NOTES} texts")
    for note in notes:  # the Train page shows notes as markdown: none may format it
        if _FORMATTING.search(_text(note, "a note", MAX_NOTE_CHARS)):
            raise DataError("a note holds characters that would format the page ([ ] < > ` $, "
                            "or a web address); notes LSTM Lab writes never do")
    transform = record.get("transform", "")
    if transform not in ("", *TRANSFORMS):
        raise DataError(f"unknown transform {_short(transform)}; known: {', '.join(TRANSFORMS)}")
    for model, info in _mapping(record.get("tuning", {}), "tuning", NEURAL_MODELS).items():
        _check_tuning(model, info)
    _text(record.get("time_dtype", ""), "time_dtype", 40, re.compile(r"^[0-9a-z\[\], ]*$"))


def _check_predictions(preds: Any, max_points: int) -> None:
    from lstm_lab.experiments.config import MODELS

    columns = ("time", "actual", "split", *MODELS)
    _mapping(preds, "predictions", columns)
    for column in ("time", "actual", "split"):
        if column not in preds:
            raise DataError(f"predictions have no {column} column")
    lengths = {len(v) if isinstance(v, list) else -1 for v in preds.values()}
    if len(lengths) != 1 or min(lengths) < 1 or max(lengths) > max_points:
        raise DataError(f"predictions must be columns of the same length, 1 to {max_points:,}")
    for value in preds["time"]:
        if isinstance(value, str):
            _text(value, "a prediction's time", 40)
        else:
            _number(value, "a prediction's time")
    if any(v not in ("train", "test") for v in preds["split"]):
        raise DataError("a prediction's split must be train or test")
    for column in preds:
        if column not in ("time", "split"):
            for value in preds[column]:
                _number(value, f"predictions.{column}", missing=True)


def _check_tuning(model: str, info: Any) -> None:
    from lstm_lab.experiments.config import TRANSFORMS, field_range

    what = f"tuning.{model}"
    _mapping(info, what, ("chosen", "window", "units", "transform", "scores", "skipped"))
    for key in ("chosen", "window", "units", "transform", "scores"):
        if key not in info:
            raise DataError(f"{what} has no {key}")
    _text(info["chosen"], f"{what}.chosen", MAX_NAME_CHARS, _LABEL, empty=False)
    _number(info["window"], f"{what}.window", whole=True, low=1, high=field_range("window")[1])
    units_field = "units" if model == "lstm" else "mlp_units"
    _number(info["units"], f"{what}.units", whole=True, low=1, high=field_range(units_field)[1])
    if info["transform"] not in TRANSFORMS:
        raise DataError(f"unknown transform {_short(info['transform'])} in {what}; known: "
                        f"{', '.join(TRANSFORMS)}")
    for label, score in _mapping(info["scores"], f"{what}.scores", max_items=10).items():
        _text(label, f"a variant of {what}", MAX_NAME_CHARS, _LABEL, empty=False)
        _number(score, f"{what}.scores", missing=True)
    for label, why in _mapping(info.get("skipped", {}), f"{what}.skipped", max_items=10).items():
        _text(label, f"a variant of {what}", MAX_NAME_CHARS, _LABEL, empty=False)
        _text(why, f"why {what} skipped a variant", MAX_NOTE_CHARS)


def _check_state(model: str, state: Any) -> None:
    """A network's stored state: what ``_restore_network`` reads, and nothing it cannot."""
    from lstm_lab.experiments.config import TRANSFORMS

    what = f"the {model} network's state"
    _mapping(state, what, ("params", "fitted", "transform", "scaler"))
    params = _mapping(state.get("params"), f"{what} params")
    for key, value in params.items():
        _text(key, f"a parameter name in {what}", 64, re.compile(r"^[a-z_][a-z0-9_]*$"))
        if isinstance(value, str):
            _text(value, f"{what} params.{key}")
    for key in _mapping(state.get("fitted", {}), f"{what} fitted values"):
        if not _fitted_name(key):
            raise DataError(f"{what} sets a value it may not: {_short(key)}")
    transform = _mapping(state.get("transform"), f"{what} transform",
                         ("kind", "season", "trend"))
    if transform.get("kind") not in TRANSFORMS:
        raise DataError(f"unknown transform {_short(transform.get('kind'))} in {what}")
    _number(transform.get("season"), f"{what} season", whole=True, low=0, high=1000)
    trend = transform.get("trend", [0.0, 0.0])
    if not isinstance(trend, list) or len(trend) != 2:
        raise DataError(f"{what} trend must be two numbers")
    for value in trend:
        _number(value, f"{what} trend")
    scaler = _mapping(state.get("scaler"), f"{what} scaler", ("mean", "scale"))
    _number(scaler.get("mean"), f"{what} scaler mean")
    _number(scaler.get("scale"), f"{what} scaler scale")


def _parse_entry(raw: Any, now: float) -> dict[str, Any]:
    _mapping(raw, "run", ENTRY_KEYS)
    if not isinstance(raw.get("result"), dict):
        raise DataError("each run needs a \"result\" object")
    record = raw["result"]
    _check_record(record)
    result = _result_from_record(record)   # validates the config and the predictions
    uid = raw.get("uid") or uuid.uuid4().hex
    _text(uid, "uid", 64, re.compile(r"^[0-9A-Za-z]+$"), empty=False)
    created_at = raw.get("created_at")
    if created_at is None:
        created_at = now
    latest = now + 86400
    _number(created_at, "created_at")
    if not EARLIEST_RUN <= created_at <= latest:
        raise DataError(f"created_at must be a date between 2000-01-01 and tomorrow "
                        f"({EARLIEST_RUN:.0f} to {latest:.0f} seconds since 1970); got "
                        f"{_short(created_at)} ({format_when(created_at)})")
    sweep = _text(raw.get("sweep") or "", "sweep", 64, _TOKEN)
    networks = {}
    for model, net in _mapping(raw.get("networks") or {}, "networks", NEURAL_MODELS).items():
        if model not in result.metrics:
            raise DataError(f"unexpected network {model!r}: the run has no {model} results")
        _mapping(net, f"the {model} network", ("state", "keras_base64"))
        encoded = _text(net.get("keras_base64"), f"the {model} network's file",
                        2**31, empty=False)
        blob = base64.b64decode(encoded, validate=True)
        if not blob.startswith(b"PK"):
            raise DataError(f"the {model} network is not a .keras file")
        _check_state(model, net.get("state"))
        networks[model] = (net["state"], blob)
    return {"uid": uid, "created_at": float(created_at), "sweep": sweep,
            "result": _plain(record), "networks": networks}
