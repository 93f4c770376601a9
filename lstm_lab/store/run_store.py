"""The run store: every finished run, kept for good in the run database (see database.py).

A run keeps its config, data fingerprint, metrics for every model, predictions, loss histories,
timings, library versions (all of ``ExperimentResult.to_dict``) and the trained networks as
``.keras`` files (see records.py). Each run (its row and its networks) is written in one
transaction: after a crash the run is wholly there or wholly absent.

Privacy: each run has an ``owner`` (an opaque, unguessable session id; the CLI uses ``"cli"``)
and a ``shared`` flag. ``list_runs(owner)`` returns that owner's runs plus the runs shared with
the class; only the owner may share, unshare or delete a run. ``owner=None`` means "no
restriction" and is for the command line, which runs with the server's own rights. Reading a
run's trained networks checks, at the moment of reading, that the reader may still see the run:
a network loaded before its owner stopped sharing it cannot be read again afterwards.

Quota: saving or importing runs that would take an owner past ``max_owner_storage_mb`` is refused
(``QuotaError``, see quota.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from lstm_lab.errors import ConfigError, LabError
from lstm_lab.experiments.config import NEURAL_MODELS, ExperimentConfig
from lstm_lab.experiments.training import MODEL_LABELS, ExperimentResult, run_experiment
from lstm_lab.store import keys, quota
from lstm_lab.store.database import (
    SCHEMA_VERSION,
    Database,
    RunNotFoundError,
    StoreError,
    db_path,
)
from lstm_lab.store.records import (
    SUMMARY_COLUMNS,
    Networks,
    RunSummary,
    RunTexts,
    dumps,
    networks_of,
    result_from_record,
    result_record,
    run_size,
    run_texts,
    summary_from_row,
)
from lstm_lab.store.runs_file import EXPORT_FORMAT, EXPORT_VERSION, check_size, parse_export
from lstm_lab.store.stored_network import StoredNetwork, load_keras, restore_network
from lstm_lab.store.tables import runs_csv

MAX_OWNER_CHARS = 200


@dataclass(frozen=True)
class ImportReport:
    ids: list[int]          # the new runs' ids, in the file's order
    skipped: int            # runs already in the store (same uid, same owner)


class RunStore:
    """Runs in one SQLite file (a ``Database``). Thread-safe: each call opens its own
    short-lived connection."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.db = Database(path)

    def __repr__(self) -> str:
        # The file name only: a repr can end up in a message, and messages never show the path.
        return f"RunStore({Path(self.path).name!r})"

    @property
    def path(self) -> str:
        return self.db.path

    def schema_version(self) -> int:
        return self.db.schema_version()

    # --- history keys (see keys.py) --------------------------------------------------------------
    new_owner = staticmethod(keys.new_owner)

    def owner_key(self, owner: str) -> str:
        """The history key a person keeps to find ``owner``'s runs again: ``owner-signature``.

        Only this server can issue it: the signature is an HMAC under the database's secret.
        """
        return keys.owner_key(self.db.key_secret(), owner)

    def owner_from_key(self, key: str) -> str:
        """The owner a typed history key stands for; ConfigError unless this server issued it."""
        return keys.owner_from_key(self.db.key_secret(), key)

    # --- quota -------------------------------------------------------------------------------------
    def used_bytes(self, owner: str) -> int:
        """Bytes of the run store ``owner``'s runs take (texts and trained networks)."""
        with self.db.connect() as conn:
            return quota.used_bytes(conn, owner)

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
        texts = run_texts(result_record(result))
        networks = networks_of(result)
        size = run_size(texts, networks)
        with self.db.connect() as conn, self.db.transaction(conn):
            quota.check_quota(quota.used_bytes(conn, owner), size)
            run_id = self._insert_run(conn, uuid.uuid4().hex, time.time(), owner, shared, sweep,
                                      texts, size)
            self._insert_weights(conn, run_id, networks)
        return run_id

    @staticmethod
    def _insert_run(conn: sqlite3.Connection, uid: str, created_at: float, owner: str,
                    shared: bool, sweep: str, texts: RunTexts, size: int) -> int:
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
                        networks: Networks) -> None:
        for model, (state, blob) in networks.items():
            conn.execute("INSERT INTO weights (run_id, model, state_json, keras) "
                         "VALUES (?, ?, ?, ?)", (run_id, model, dumps(state), sqlite3.Binary(blob)))

    def set_shared(self, run_id: int, shared: bool = True, owner: str | None = None) -> None:
        """Pin a run as shared with the class (or unpin it). Only its owner may."""
        with self.db.connect() as conn, self.db.transaction(conn):
            self._owned_row(conn, run_id, owner, "share")
            conn.execute("UPDATE runs SET shared = ? WHERE id = ?", (int(bool(shared)), run_id))

    def delete_run(self, run_id: int, owner: str | None = None) -> None:
        self.delete_runs([run_id], owner)

    def delete_runs(self, run_ids: Iterable[int], owner: str | None = None) -> int:
        """Delete runs and their networks, all or none; only the owner may. Returns the count."""
        ids = _ids(run_ids)
        with self.db.connect() as conn, self.db.transaction(conn):
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
        sql = (f"SELECT {SUMMARY_COLUMNS} FROM runs"
               + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id DESC")
        with self.db.connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        wanted = {k: _accepted(v) for k, v in config_filters.items()}
        out = []
        for row in rows:
            try:
                summary = summary_from_row(row)
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
        with self.db.connect() as conn:
            rows = conn.execute(sql, [owner] if owner is not None else []).fetchall()
        return [{"sweep": s, "runs": n, "created_at": t, "first_id": i} for s, n, t, i in rows]

    def load_run(self, run_id: int, owner: str | None = None) -> ExperimentResult:
        """The stored run as an ExperimentResult, equal to the one saved.

        Its ``forecasters`` hold a ``StoredNetwork`` per trained network: the Keras model is read
        from the database the first time an attribute such as ``model_`` or ``predict`` is used,
        and every later use checks again that ``owner`` may still see the run.
        """
        with self.db.connect() as conn:
            row = conn.execute("SELECT result_json, owner, shared FROM runs WHERE id = ?",
                               (run_id,)).fetchone()
            models = [m for (m,) in conn.execute(
                "SELECT model FROM weights WHERE run_id = ? ORDER BY model", (run_id,))]
        if row is None or (owner is not None and row[1] != owner and not row[2]):
            raise RunNotFoundError(_not_found(run_id, owner))
        result = result_from_record(json.loads(row[0]))
        result.forecasters = {m: StoredNetwork(self, run_id, m, owner)
                              for m in NEURAL_MODELS if m in models}
        return result

    def check_readable(self, run_id: int, owner: str | None = None) -> None:
        """Raise RunNotFoundError unless run ``run_id`` exists and ``owner`` may see it now
        (its own, or shared with the class at this moment)."""
        with self.db.connect() as conn:
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
        return self.network_file(run_id, model, owner)[1]

    def load_weights(self, run_id: int, model: str = "lstm", owner: str | None = None):
        """The stored network as a Keras model (``keras.saving.load_model``, safe mode)."""
        return load_keras(self.keras_bytes(run_id, model, owner))

    def restore_forecaster(self, run_id: int, model: str = "lstm", owner: str | None = None):
        """The fitted LSTMForecaster / MLPForecaster, ready to ``predict`` as when it was saved."""
        state, blob = self.network_file(run_id, model, owner)
        return restore_network(model, state, load_keras(blob))

    def network_file(self, run_id: int, model: str, owner: str | None) -> tuple[dict, bytes]:
        """One stored network as written: its state (JSON) and its ``.keras`` bytes."""
        with self.db.connect() as conn:
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
        with self.db.connect() as conn:
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

        Every run is checked before anything is written (a strict schema: see ``runs_file.parse_export``),
        and all are written in one transaction. A run already in the store (same uid, same
        owner) is skipped. Sweep ids are issued afresh, one per sweep of the file, so an imported
        run can never join a sweep of someone else's.

        Raises:
            DataError: the file breaks the schema (one readable sentence; nothing is written).
            QuotaError: the file's size alone, or the new runs, would take ``owner`` past
                ``max_owner_storage_mb`` (the size is checked before the file is read).
        """
        owner = _check_owner(owner)
        # The cheap refusals first, before seconds of checks on the page thread: the file's
        # size, then its size against the owner's quota (a file is never much smaller than
        # the runs it holds), then the schema.
        check_size(text)
        quota.check_quota(self.used_bytes(owner), len(text), "this runs file", "Importing")
        entries = parse_export(text)
        sweeps: dict[str, str] = {}
        with self.db.connect() as conn, self.db.transaction(conn):
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
                texts = run_texts(entry["result"])
                size = run_size(texts, entry["networks"])
                added.append(size)
                run_id = self._insert_run(conn, uid, entry["created_at"], owner, shared, sweep,
                                          texts, size)
                self._insert_weights(conn, run_id, entry["networks"])
                ids.append(run_id)
            # Checked after the inserts (same transaction, rolled back on refusal): the sizes
            # of the runs actually added, not of those skipped.
            if added:
                quota.check_quota(quota.used_bytes(conn, owner) - sum(added), sum(added),
                                  f"{len(added)} imported run{'s' * (len(added) != 1)}")
        return ImportReport(ids, skipped)

    def runs_csv(self, run_ids: Iterable[int] | None = None, owner: str | None = None) -> str:
        """A spreadsheet-friendly summary, one row per run (read-only: import takes the JSON)."""
        return runs_csv(self.list_runs(owner, ids=None if run_ids is None else _ids(run_ids)),
                        owner)


# --- the default store ---------------------------------------------------------------------------

_STORES: dict[str, RunStore] = {}
_STORES_LOCK = threading.Lock()


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
    result = run_experiment(config, series, on_epoch, should_stop)
    save_or_note(store or get_store(), result, owner)
    return result


def save_or_note(store: RunStore, result: ExperimentResult, owner: str) -> None:
    """Save a finished comparison; a store failure becomes one of its notes, never a lost run
    (the training queue's workers and the Ray backend save through it too)."""
    try:
        store.save_run(result, owner)
    except LabError as err:
        result.notes.append(f"This run was not saved to the history: {err}")


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
