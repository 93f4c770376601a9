"""The run store: every finished run, kept for good in an embedded SQLite database.

What each module holds:
- ``database``: where the file lives, its schema and migrations, connections, WAL, errors.
- ``keys``: history keys, signed with the database's secret.
- ``records``: what a run is as plain JSON (its record, summary row and networks' state).
- ``runs_file``: the export document and the strict schema an import must meet.
- ``quota``: each owner's share of the store.
- ``run_store``: ``RunStore``, the queries (save, list, load, share, delete, export, import).
- ``stored_network``: a stored run's trained network, restored on first use.
- ``tables``: the history table and its CSV.

Callers import from here: ``from lstm_lab.store import RunStore, get_store``.
"""

from lstm_lab.store.database import (
    DB_ENV_VAR,
    DEFAULT_DB,
    SCHEMA_VERSION,
    QuotaError,
    RunNotFoundError,
    StoreError,
    db_path,
)
from lstm_lab.store.records import RunSummary, format_when
from lstm_lab.store.run_store import ImportReport, RunStore, get_store, run_and_save
from lstm_lab.store.stored_network import StoredNetwork, load_keras
from lstm_lab.store.tables import TABLE_MODELS, runs_csv, runs_frame

__all__ = [
    "DB_ENV_VAR", "DEFAULT_DB", "SCHEMA_VERSION", "TABLE_MODELS", "ImportReport", "QuotaError",
    "RunNotFoundError", "RunStore", "RunSummary", "StoreError", "StoredNetwork", "db_path",
    "format_when", "get_store", "load_keras", "run_and_save", "runs_csv", "runs_frame",
]
