"""The run store: round trips, privacy, export / import, migrations, atomic and parallel writes.

Most runs here use the naive models only (no TensorFlow, milliseconds); one module-scoped neural
run checks that stored networks reload into Keras models with the same predictions.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lstm_lab.store as store_module
import lstm_lab.store.run_store as run_store_module
from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, DataError, LabError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import ExperimentResult, count_weights, run_experiment
from lstm_lab.limits import get_limits
from lstm_lab.models.architectures import ARCHITECTURE_NAMES, build
from lstm_lab.models.networks import build_mlp
from lstm_lab.store import (
    DB_ENV_VAR,
    SCHEMA_VERSION,
    RunNotFoundError,
    RunStore,
    StoredNetwork,
    StoreError,
    database,
    db_path,
    keras_check,
    runs_file,
    runs_frame,
)
from tests.conftest import FAST, make_tiny_series, requires_tf

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ("naive", "seasonal_naive")
ALICE, BOB = "a" * 32, "b" * 32


def _naive(seed: int = 0, **changes) -> ExperimentResult:
    cfg = ExperimentConfig(window=4, test_size=6, models=NAIVE, seed=seed, **{**FAST, **changes})
    return run_experiment(cfg, make_tiny_series())


@pytest.fixture(scope="module")
def neural():
    """One LSTM + MLP run (3 epochs, 4 units) shared by the module's neural tests."""
    pytest.importorskip("tensorflow")
    cfg = ExperimentConfig(window=4, test_size=6, models=("lstm", "mlp", "naive"), **FAST)
    return run_experiment(cfg, make_tiny_series())


def _assert_same_run(loaded: ExperimentResult, saved: ExperimentResult) -> None:
    assert loaded.to_dict() == saved.to_dict()
    assert loaded.config == saved.config
    pd.testing.assert_frame_equal(loaded.predictions, saved.predictions)
    assert loaded.histories == saved.histories
    assert loaded.timings == saved.timings
    assert loaded.versions == saved.versions
    assert loaded.data_fingerprint == saved.data_fingerprint
    # same models and metrics, in the same order (the order the pages show them in)
    assert [(m, list(v)) for m, v in loaded.metrics.items()] == \
        [(m, list(v)) for m, v in saved.metrics.items()]
    for model, scores in saved.metrics.items():
        np.testing.assert_array_equal(list(loaded.metrics[model].values()), list(scores.values()))


# --- location and schema -----------------------------------------------------------------------

def test_db_path_defaults_to_runs_folder_and_follows_the_env_var(tmp_path) -> None:
    assert db_path({}) == str(ROOT / "runs" / "lstm_lab.sqlite3")
    assert db_path({DB_ENV_VAR: str(tmp_path / "x.db")}) == str(tmp_path / "x.db")
    assert db_path({DB_ENV_VAR: ":memory:"}) == ":memory:"
    assert Path(db_path({DB_ENV_VAR: "rel/x.db"})).is_absolute()


def test_database_and_folder_are_created_on_first_use(tmp_path) -> None:
    path = tmp_path / "deep" / "folder" / "runs.sqlite3"
    runs = RunStore(path)
    assert not path.parent.exists()          # nothing happens until first use
    assert runs.list_runs(ALICE) == []
    assert path.exists()
    assert runs.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "weights"} <= tables


def test_a_newer_schema_is_refused_not_damaged(tmp_path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer"):
        RunStore(path).list_runs(ALICE)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_a_file_that_is_not_a_database_gives_a_readable_error(tmp_path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=f"not a readable LSTM Lab run database.*{DB_ENV_VAR}"):
        RunStore(path).list_runs(ALICE)


# The version-1 schema exactly as LSTM Lab first shipped it (lstm_lab/store/database.py, _v1_create).
V1_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, created_at REAL NOT NULL,
    owner TEXT NOT NULL, dataset TEXT NOT NULL, series_name TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL, stopped INTEGER NOT NULL DEFAULT 0,
    config_json TEXT NOT NULL, metrics_json TEXT NOT NULL, result_json TEXT NOT NULL);
CREATE INDEX runs_owner ON runs (owner, created_at);
CREATE TABLE weights (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, model TEXT NOT NULL,
    state_json TEXT NOT NULL, keras BLOB NOT NULL, PRIMARY KEY (run_id, model));
PRAGMA user_version = 1;
"""


def test_a_version_1_database_is_upgraded_in_place(tmp_path) -> None:
    path = tmp_path / "v1.sqlite3"
    old = _naive()
    record = {**old.to_dict(), "time_dtype": str(old.predictions["time"].dtype)}
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
        conn.execute(
            "INSERT INTO runs (uid, created_at, owner, dataset, series_name, data_fingerprint, "
            "config_json, metrics_json, result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("0" * 32, 1_700_000_000.0, ALICE, old.config.dataset, old.series_name,
             old.data_fingerprint, old.config.to_json(), json.dumps(old.to_dict()["metrics"]),
             json.dumps(record)))
    runs = RunStore(path)
    [summary] = runs.list_runs(ALICE)
    assert runs.schema_version() == SCHEMA_VERSION == 3
    assert (summary.id, summary.shared, summary.sweep) == (1, False, "")
    assert summary.total_s == old.timings["total_s"]          # backfilled from the result
    # v3: the run's size is backfilled (its three JSON texts, in bytes) and keys can be signed
    texts = (old.config.to_json(), json.dumps(old.to_dict()["metrics"]), json.dumps(record))
    assert runs.used_bytes(ALICE) == sum(len(t.encode()) for t in texts)
    assert runs.owner_from_key(runs.owner_key(ALICE)) == ALICE
    _assert_same_run(runs.load_run(1, ALICE), old)
    new_id = runs.save_run(_naive(seed=1), ALICE, sweep="s1")  # and it is writable as v3
    runs.set_shared(1, True, ALICE)
    assert [(s.id, s.shared, s.sweep) for s in runs.list_runs(BOB)] == [(1, True, "")]
    assert runs.list_runs(ALICE, sweep="s1")[0].id == new_id


# --- round trips -------------------------------------------------------------------------------

def test_a_saved_run_reloads_equal(store) -> None:
    result = _naive()
    run_id = store.save_run(result, ALICE)
    _assert_same_run(store.load_run(run_id), result)
    assert store.load_run(run_id).forecasters == {}          # no network to restore


def test_an_integer_index_run_reloads_with_integer_times(store) -> None:
    values = make_tiny_series().values
    series = Series(values, pd.RangeIndex(len(values)), name="plain")
    result = run_experiment(ExperimentConfig(window=4, test_size=6, season=12, models=NAIVE,
                                             **FAST), series)
    loaded = store.load_run(store.save_run(result, ALICE))
    assert pd.api.types.is_integer_dtype(loaded.predictions["time"])
    pd.testing.assert_frame_equal(loaded.predictions, result.predictions)


@requires_tf
def test_stored_networks_reload_with_the_same_predictions(store, neural) -> None:
    import keras

    run_id = store.save_run(neural, ALICE)
    loaded = store.load_run(run_id, ALICE)
    _assert_same_run(loaded, neural)
    assert set(loaded.forecasters) == {"lstm", "mlp"}
    lazy = loaded.forecasters["lstm"]
    assert isinstance(lazy, StoredNetwork) and not lazy.loaded   # nothing read from disk yet
    values = make_tiny_series().values
    origins = np.arange(34, 40)
    for model in ("lstm", "mlp"):
        original = neural.forecasters[model]
        network = store.load_weights(run_id, model)
        assert isinstance(network, keras.Model)
        X = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
        X = X[..., None] if model == "lstm" else X
        np.testing.assert_array_equal(network.predict(X, verbose=0),
                                      original.model_.predict(X, verbose=0))
        restored = loaded.forecasters[model]
        np.testing.assert_allclose(restored.predict(values, origins),
                                   original.predict(values, origins), rtol=1e-12)
        np.testing.assert_allclose(restored.predict(values, origins).ravel(),
                                   neural.predictions[model].to_numpy()[34:40], rtol=1e-6)
    assert lazy.loaded
    # The Train page's download button works on a reloaded run (export.model_bytes).
    from lstm_lab.experiments.export import model_bytes

    assert model_bytes(loaded, "lstm").startswith(b"PK")
    assert store.keras_bytes(run_id, "lstm").startswith(b"PK")


@requires_tf
def test_a_reloaded_run_saved_again_keeps_its_networks(store, neural) -> None:
    first = store.save_run(neural, ALICE)
    again = store.save_run(store.load_run(first), BOB)
    assert store.keras_bytes(again, "lstm") == store.keras_bytes(first, "lstm")
    assert store.load_run(again).forecasters["mlp"].model_ is not None


def test_a_deleted_runs_network_is_simply_absent(store) -> None:
    run_id = store.save_run(_naive(), ALICE)
    network = StoredNetwork(store, run_id, "lstm")
    assert not hasattr(network, "model_")        # AttributeError, not a crash in the page
    with pytest.raises(RunNotFoundError):
        store.keras_bytes(run_id, "lstm")


def test_memory_database_works_across_threads() -> None:
    runs = RunStore(":memory:")
    ids: list[int] = []
    threads = [threading.Thread(target=lambda: ids.append(runs.save_run(_naive(), ALICE)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == [1, 2, 3, 4]
    assert len(runs.list_runs(ALICE)) == 4


# --- privacy, filters, deletion ----------------------------------------------------------------

def test_a_session_sees_its_own_runs_and_the_shared_ones(store) -> None:
    mine = store.save_run(_naive(0), ALICE)
    theirs = store.save_run(_naive(1), BOB)
    pinned = store.save_run(_naive(2), BOB, shared=True)
    assert [s.id for s in store.list_runs(ALICE)] == [pinned, mine]
    assert [s.id for s in store.list_runs(ALICE, include_shared=False)] == [mine]
    assert [s.id for s in store.list_runs(None)] == [pinned, theirs, mine]
    with pytest.raises(RunNotFoundError, match=f"no run #{theirs}"):
        store.load_run(theirs, ALICE)
    assert store.load_run(pinned, ALICE).config.seed == 2
    with pytest.raises(StoreError, match="only that session can delete"):
        store.delete_run(pinned, ALICE)
    with pytest.raises(StoreError, match="only that session can share"):
        store.set_shared(pinned, False, ALICE)
    with pytest.raises(RunNotFoundError):
        store.delete_run(theirs, ALICE)
    store.set_shared(theirs, True, BOB)
    assert theirs in [s.id for s in store.list_runs(ALICE)]
    store.set_shared(theirs, False, BOB)
    assert theirs not in [s.id for s in store.list_runs(ALICE)]


def test_owner_keys_are_checked(store) -> None:
    for bad in ("", "   ", None, "x" * 201):
        with pytest.raises(ConfigError, match="owner"):
            store.save_run(_naive(), bad)


def test_filters_on_dataset_sweep_and_config_fields(store) -> None:
    a = store.save_run(_naive(0, layers=1, units=4), ALICE)
    b = store.save_run(_naive(1, layers=2, units=8), ALICE, sweep="grid1")
    c = store.save_run(_naive(2, layers=2, units=16), ALICE, sweep="grid1")
    assert [s.id for s in store.list_runs(ALICE, layers=2)] == [c, b]
    assert [s.id for s in store.list_runs(ALICE, units=[4, 16])] == [c, a]
    assert [s.id for s in store.list_runs(ALICE, sweep="grid1", seed=1)] == [b]
    assert [s.id for s in store.list_runs(ALICE, dataset="air_passengers")] == [c, b, a]
    assert [s.id for s in store.list_runs(ALICE, limit=1)] == [c]
    assert store.list_sweeps(ALICE)[0] | {"created_at": 0} == {
        "sweep": "grid1", "runs": 2, "created_at": 0, "first_id": b}
    assert store.list_sweeps(BOB) == []
    with pytest.raises(ConfigError, match="Unknown filter"):
        store.list_runs(ALICE, colour="red")


def test_delete_removes_the_run_and_its_networks_all_or_nothing(store) -> None:
    a, b = store.save_run(_naive(0), ALICE), store.save_run(_naive(1), ALICE)
    other = store.save_run(_naive(2), BOB)
    with pytest.raises(RunNotFoundError):
        store.delete_runs([a, other], ALICE)    # one is not Alice's: nothing is deleted
    assert len(store.list_runs(ALICE)) == 2
    assert store.delete_runs([a, f"#{b}"], ALICE) == 2
    assert store.list_runs(ALICE) == []
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM weights").fetchone()[0] == 0


def test_runs_frame_lists_the_compared_settings_and_rmse_per_model(store) -> None:
    store.save_run(_naive(0), ALICE)
    store.save_run(_naive(1), BOB, shared=True)
    frame = runs_frame(store.list_runs(ALICE), ALICE)
    assert list(frame.columns) == ["id", "when", "series", "dataset", "window", "horizon",
                                   "layers", "units", "epochs", "seed",
                                   "RMSE Naive (last value)", "RMSE Seasonal naive", "best",
                                   "time s", "shared", "mine"]
    assert frame["mine"].tolist() == [False, True]
    assert frame["shared"].tolist() == [True, False]
    assert "owner" not in frame                  # other sessions' keys are never shown


# --- export and import -------------------------------------------------------------------------

def test_export_then_import_gives_equal_runs_and_skips_repeats(store, tmp_path) -> None:
    results = [_naive(0), _naive(1)]
    ids = [store.save_run(r, ALICE, sweep="g") for r in results]
    text = store.export_runs(ids, ALICE)
    doc = json.loads(text)
    assert doc["format"] == "lstm_lab.runs" and len(doc["runs"]) == 2
    assert ALICE not in text                     # owners are not exported

    other = RunStore(tmp_path / "other.sqlite3")
    report = other.import_runs(text, BOB)
    assert len(report.ids) == 2 and report.skipped == 0
    for new_id, result in zip(report.ids, results):
        _assert_same_run(other.load_run(new_id, BOB), result)
    assert other.import_runs(text, BOB).skipped == 2          # same file again: nothing new
    # In the same store, another owner gets copies (new uids); repeating is still a no-op.
    assert len(store.import_runs(text, BOB).ids) == 2
    assert store.import_runs(text, BOB).skipped == 2
    assert store.import_runs(text, ALICE).skipped == 2
    assert len(store.list_runs(None)) == 4


@requires_tf
def test_export_import_carries_the_networks(store, neural, tmp_path) -> None:
    run_id = store.save_run(neural, ALICE)
    other = RunStore(tmp_path / "other.sqlite3")
    [new_id] = other.import_runs(store.export_runs([run_id]), BOB).ids
    assert other.keras_bytes(new_id, "lstm") == store.keras_bytes(run_id, "lstm")
    values, origins = make_tiny_series().values, np.arange(34, 40)
    np.testing.assert_allclose(other.restore_forecaster(new_id, "lstm").predict(values, origins),
                               neural.forecasters["lstm"].predict(values, origins), rtol=1e-12)
    light = json.loads(store.export_runs([run_id], weights=False))
    assert light["runs"][0]["networks"] == {}


def _export_doc(store) -> dict:
    ids = [store.save_run(_naive(0), ALICE), store.save_run(_naive(1), ALICE)]
    return json.loads(store.export_runs(ids))


@pytest.mark.parametrize("spoil, message", [
    (lambda d: "not json", "not valid JSON"),
    (lambda d: {**d, "format": "other"}, "not an LSTM Lab runs file"),
    (lambda d: {**d, "version": 99}, "format version 99"),
    (lambda d: {**d, "runs": {}}, "no list of runs"),
    (lambda d: d["runs"][1]["result"]["metrics"]["naive"].update(rmse="1; DROP TABLE") or d,
     "Run 2 of the file.*rmse must be a number"),
    (lambda d: d["runs"][1]["result"]["config"].update(window=0) or d, "Run 2.*window"),
    (lambda d: d["runs"][1]["result"].pop("predictions") and d, "Run 2.*predictions"),
    (lambda d: d["runs"][0].update(networks={"lstm": {"state": {"params": {}},
                                                     "keras_base64": "aGVsbG8="}}) or d,
     "Run 1.*(unexpected network|not a .keras file)"),
])
def test_import_checks_every_run_before_writing_any(store, spoil, message) -> None:
    doc = _export_doc(store)
    spoiled = spoil(doc)
    text = spoiled if isinstance(spoiled, str) else json.dumps(spoiled)
    with pytest.raises(DataError, match=message):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []


def test_import_refuses_files_over_the_upload_limit(store, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_UPLOAD_MB", "1")
    with pytest.raises(DataError, match="LSTM_LAB_MAX_UPLOAD_MB"):
        store.import_runs(" " * (2 * 2**20), BOB)


def test_runs_csv_has_one_row_per_run_and_defuses_formulas(store) -> None:
    values = make_tiny_series().values
    series = Series(values, pd.date_range("2000-01-01", periods=len(values), freq="MS"),
                    name="=HYPERLINK(1)", freq="MS")
    result = run_experiment(ExperimentConfig(window=4, test_size=6, models=NAIVE, **FAST), series)
    run_id = store.save_run(result, ALICE)
    frame = pd.read_csv(pd.io.common.StringIO(store.runs_csv([run_id])))
    assert len(frame) == 1
    assert frame.loc[0, "series"] == "'=HYPERLINK(1)"
    assert {"RMSE Naive (last value)", "MASE Seasonal naive", "learning_rate", "uid"} \
        <= set(frame.columns)


# --- atomic and parallel writes ----------------------------------------------------------------

def test_a_failure_mid_write_leaves_no_half_run(store, monkeypatch) -> None:
    def broken(conn, run_id, networks):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(RunStore, "_insert_weights", staticmethod(broken))
    with pytest.raises(StoreError, match="disk I/O error"):
        store.save_run(_naive(), ALICE)
    assert store.list_runs(None) == []


def test_a_process_killed_mid_write_leaves_no_half_run(tmp_path) -> None:
    path = tmp_path / "crash.sqlite3"
    saved = tmp_path / "result.json"
    saved.write_text(_naive().to_json())
    code = textwrap.dedent(f"""
        import json, os
        from lstm_lab.store import RunStore
        from lstm_lab.experiments.training import ExperimentResult

        result = ExperimentResult.from_dict(json.load(open({str(saved)!r})))
        runs = RunStore({str(path)!r})
        runs.save_run(result, "before")
        def die(conn, run_id, networks):   # the run row is written; its networks are next
            os._exit(9)
        RunStore._insert_weights = staticmethod(die)
        runs.save_run(result, "crash")
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    runs = RunStore(path)
    assert [s.owner for s in runs.list_runs(None)] == ["before"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert runs.save_run(_naive(), "after") == 2      # the database is still writable


def test_parallel_writers_in_threads(store) -> None:
    result = _naive()
    ids: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer() -> None:
        try:
            start.wait()
            for _ in range(5):
                ids.append(store.save_run(result, ALICE))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(ids) == list(range(1, 41))
    assert len(store.list_runs(ALICE)) == 40
    _assert_same_run(store.load_run(ids[-1]), result)


def test_parallel_writers_in_processes(tmp_path) -> None:
    """Four processes open a new database at the same moment (so they also race to create the
    schema) and write six runs each."""
    path = tmp_path / "shared.sqlite3"
    saved = tmp_path / "result.json"
    saved.write_text(_naive().to_json())
    go = time.time() + 4.0   # every process starts writing at the same moment
    code = textwrap.dedent(f"""
        import json, sys, time
        from lstm_lab.store import RunStore
        from lstm_lab.experiments.training import ExperimentResult

        result = ExperimentResult.from_dict(json.load(open({str(saved)!r})))
        runs = RunStore({str(path)!r})
        time.sleep(max(0.0, {go} - time.time()))
        print(json.dumps([runs.save_run(result, sys.argv[1]) for _ in range(6)]))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, f"{i:032x}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [o[1] for o in outs]
    ids = sorted(i for out, _ in outs for i in json.loads(out))
    assert ids == list(range(1, 25))
    runs = RunStore(path)
    assert runs.schema_version() == SCHEMA_VERSION
    assert len(runs.list_runs(None)) == 24
    assert all(len(runs.list_runs(f"{i:032x}", include_shared=False)) == 6 for i in range(4))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_store_errors_are_lab_errors() -> None:
    assert issubclass(StoreError, LabError) and issubclass(RunNotFoundError, StoreError)
    assert len(database.MIGRATIONS) == store_module.SCHEMA_VERSION
    assert os.path.basename(str(store_module.DEFAULT_DB)) == "lstm_lab.sqlite3"


# --- the Train page's task and imports ---------------------------------------------------------

def test_run_and_save_trains_then_saves_under_the_owner(store, tiny_series) -> None:
    cfg = ExperimentConfig(window=4, test_size=6, models=NAIVE, **FAST)
    result = store_module.run_and_save(cfg, tiny_series, ALICE)
    [saved] = store.list_runs(ALICE)
    assert saved.config == cfg and saved.metrics.keys() == result.metrics.keys()
    assert result.notes == []


def test_run_and_save_keeps_the_result_when_the_store_fails(tmp_path, tiny_series) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not sqlite" * 100)
    cfg = ExperimentConfig(window=4, test_size=6, models=NAIVE, **FAST)
    result = store_module.run_and_save(cfg, tiny_series, ALICE, store=RunStore(junk))
    assert result.metrics
    assert result.notes[-1].startswith("This run was not saved to the history: ")


def test_importing_the_store_and_sweeps_loads_neither_streamlit_nor_tensorflow() -> None:
    code = ("import json, sys\n"
            "import lstm_lab.store, lstm_lab.experiments.sweep, lstm_lab.cli.runs\n"
            "print(json.dumps([m for m in ('streamlit', 'tensorflow', 'keras') "
            "if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# --- shared-server safety (issue 13) -------------------------------------------------------------

def _long_run(n: int = 40_000) -> ExperimentResult:
    """A naive run on a long series: its predictions take a few MiB as JSON."""
    values = 10 + np.sin(np.arange(n) / 7.0)
    series = Series(values, pd.RangeIndex(n), name="long")
    return run_experiment(ExperimentConfig(window=4, test_size=6, season=12, models=NAIVE,
                                           **FAST), series)


def _spoiled_import(store, change) -> str:
    doc = _export_doc(store)
    change(doc)
    return json.dumps(doc)


def test_a_run_dated_1e12_is_refused_on_import(store) -> None:
    text = _spoiled_import(store, lambda d: d["runs"][1].update(created_at=1e12))
    with pytest.raises(DataError, match=r"Run 2 .*created_at must be a date between 2000-01-01 "
                                        r"and tomorrow.*1000000000000\.0 \(unknown date\)"):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []
    for bad in (-5.0, 12.0, "2024-01-01", True):
        text = _spoiled_import(store, lambda d, bad=bad: d["runs"][0].update(created_at=bad))
        with pytest.raises(DataError, match="Run 1 .*created_at"):
            store.import_runs(text, BOB)


def test_a_bad_date_already_in_the_database_never_breaks_the_history(store) -> None:
    run_id = store.save_run(_naive(), ALICE)
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE runs SET created_at = 1e12 WHERE id = ?", (run_id,))
    [summary] = store.list_runs(ALICE)
    assert summary.when == "unknown date"
    assert runs_frame([summary], ALICE)["when"].tolist() == ["unknown date"]
    assert store_module.format_when(float("nan")) == "unknown date"
    assert store_module.format_when(0.0).startswith("1970-01-0")


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    '{"format": "lstm_lab.runs", "version": 1, "runs": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"format": "lstm_lab.runs", "version": 1, "runs": [' + '{"a":' * 40 + "1" + "}" * 40 + "]}",
])
def test_a_deeply_nested_file_is_one_readable_error(store, text) -> None:
    with pytest.raises(DataError, match="nests lists or objects more than 32 levels deep"):
        store.import_runs(text, BOB)
    with pytest.raises(DataError, match="nests"):
        store.import_runs(text.encode(), BOB)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["runs"][0]["result"].update(transform="warp"), "Run 1 .*unknown transform 'warp'"),
    (lambda d: d["runs"][0]["result"]["config"].update(architecture="transformer"),
     "Run 1 .*architecture"),
    (lambda d: d["runs"][0]["result"]["config"].update(tuning="sometimes"), "Run 1 .*tuning"),
    (lambda d: d["runs"][0]["result"]["config"].update(models=["lstm", "prophet"]),
     "Run 1 .*models"),
    (lambda d: d["runs"][0]["result"]["config"].update(column="c" * 5000),
     "Run 1 .*config.column is 5,000 characters long; at most 200"),
    (lambda d: d["runs"][0]["result"].update(notes=["x" * 5000]),
     "Run 1 .*a note is 5,000 characters long; at most 1,000 are allowed"),
    (lambda d: d["runs"][0]["result"].update(notes=["fine"] * 51), "notes must be a list of at "
                                                                    "most 50"),
    (lambda d: d["runs"][0]["result"].update(notes=["see [here](http://evil.example)"]),
     "a note holds characters that would format the page"),
    (lambda d: d["runs"][0]["result"].update(notes=["visit www.evil.example"]),
     "a note holds characters"),
    (lambda d: d["runs"][0]["result"].update(series_name="s" * 300), "series_name is 300"),
    (lambda d: d["runs"][0]["result"].update(series_name="a\x1b[31mb"), "control characters"),
    (lambda d: d["runs"][0]["result"].update(skipped=["everything"]), "skipped must list models"),
    (lambda d: d["runs"][0]["result"].update(tuning={"lstm": {
        "chosen": "**x** [a](http://evil)", "window": 12, "units": 32, "transform": "log",
        "scores": {}}}), "tuning.lstm.chosen has characters that are not allowed"),
    (lambda d: d["runs"][0]["result"].update(tuning={"lstm": {
        "chosen": "as set", "window": 12, "units": 32, "transform": "warp", "scores": {}}}),
     "unknown transform 'warp' in tuning.lstm"),
    (lambda d: d["runs"][0]["result"].update(extra=1), "unknown result entry 'extra'"),
    (lambda d: d["runs"][0].update(owner="someone"), "unknown run entry 'owner'"),
    (lambda d: d["runs"][0]["result"]["metrics"]["naive"].update(rmse=1e400), "not valid JSON"),
    (lambda d: d["runs"][0]["result"]["predictions"]["split"].__setitem__(0, "x"), "split"),
    (lambda d: d["runs"][0]["result"]["histories"].update(naive={"loss": [1]}),
     "unknown histories entry 'naive'"),
    (lambda d: d["runs"][0]["result"].update(n_points=-3), "n_points must be between"),
    (lambda d: d["runs"][0].update(sweep="../../etc"), "sweep has characters"),
])
def test_imports_follow_a_strict_schema(store, change, message) -> None:
    text = _spoiled_import(store, change)
    with pytest.raises(DataError, match=message):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []


def test_nan_and_infinity_are_refused_in_imports(store) -> None:
    text = _spoiled_import(store, lambda d: None).replace('"rmse": ', '"rmse": NaN, "x": ', 1)
    with pytest.raises(DataError, match="not valid JSON: NaN is not a number JSON allows"):
        store.import_runs(text, BOB)


def test_a_network_state_may_not_set_private_attributes(store) -> None:
    state = {"params": {"window": 4}, "fitted": {"__dict__": {}},
             "transform": {"kind": "none", "season": 1, "trend": [0, 0]},
             "scaler": {"mean": 0.0, "scale": 1.0}}
    cfg = ExperimentConfig(window=4, test_size=6, models=("mlp", "naive"), **FAST)
    doc = _export_doc(store)
    doc["runs"][0]["result"]["config"] = cfg.to_dict()
    doc["runs"][0]["result"]["metrics"]["mlp"] = doc["runs"][0]["result"]["metrics"]["naive"]
    doc["runs"][0]["networks"] = {"mlp": {"state": state, "keras_base64": "UEsDBA=="}}
    with pytest.raises(DataError, match="Run 1 .*sets a value it may not: '__dict__'"):
        store.import_runs(json.dumps(doc), BOB)


def test_imports_are_limited_in_count(store, monkeypatch) -> None:
    text = json.dumps(_export_doc(store))
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_RUNS", "1")
    with pytest.raises(DataError, match="holds 2 runs; one import takes at most 1 "
                                        r"\(LSTM_LAB_MAX_IMPORT_RUNS\)"):
        store.import_runs(text, BOB)


def test_imported_sweep_ids_are_issued_afresh(store) -> None:
    ids = [store.save_run(_naive(0), ALICE, sweep="grid1"),
           store.save_run(_naive(1), ALICE, sweep="grid1"),
           store.save_run(_naive(2), ALICE, sweep="grid2"),
           store.save_run(_naive(3), ALICE)]
    text = store.export_runs(ids, ALICE)
    report = store.import_runs(text, BOB)
    copies = {s.id: s.sweep for s in store.list_runs(BOB, include_shared=False)}
    new = [copies[i] for i in report.ids]
    assert new[0] == new[1] and new[0] not in ("", "grid1", "grid2")
    assert new[2] not in ("", "grid1", "grid2", new[0]) and new[3] == ""
    # Alice's sweeps hold her runs only: the copies never joined them
    assert sorted(s.id for s in store.list_runs(None, sweep="grid1")) == ids[:2]
    assert {s["sweep"] for s in store.list_sweeps(BOB, include_shared=False)} == {new[0], new[2]}


def _fake_network(store, run_id: int, blob: bytes = b"PK\x03\x04 not really a model") -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO weights (run_id, model, state_json, keras) VALUES (?, ?, ?, ?)",
                     (run_id, "lstm", "{}", blob))


def test_a_network_cannot_be_read_once_its_owner_stops_sharing(store) -> None:
    run_id = store.save_run(_naive(), ALICE, shared=True)
    _fake_network(store, run_id)
    network = store.load_run(run_id, BOB).forecasters["lstm"]
    assert network.keras_bytes().startswith(b"PK")              # shared: Bob may read it
    store.set_shared(run_id, False, ALICE)
    with pytest.raises(RunNotFoundError, match=f"Run #{run_id} is not shared with the class"):
        network.keras_bytes()
    with pytest.raises(RunNotFoundError, match="not shared"):
        store.keras_bytes(run_id, "lstm", BOB)
    assert not hasattr(network, "model_")
    assert store.keras_bytes(run_id, "lstm", ALICE).startswith(b"PK")   # the owner still may
    store.set_shared(run_id, True, ALICE)
    assert network.keras_bytes().startswith(b"PK")


@requires_tf
def test_a_network_loaded_before_unsharing_is_not_readable_after(store, neural) -> None:
    run_id = store.save_run(neural, ALICE, shared=True)
    network = store.load_run(run_id, BOB).forecasters["lstm"]
    assert network.model_ is not None and network.loaded      # restored while shared
    store.set_shared(run_id, False, ALICE)
    with pytest.raises(RunNotFoundError, match="no longer shared with the class"):
        network.restore()
    assert not hasattr(network, "model_") and not hasattr(network, "predict")
    with pytest.raises(RunNotFoundError):                      # nor saved again as Bob's copy
        store.save_run(ExperimentResult(**{
            **{f: getattr(neural, f) for f in neural.__dataclass_fields__},
            "forecasters": {"lstm": network}}), BOB)
    store.delete_run(run_id, ALICE)
    with pytest.raises(RunNotFoundError, match=f"Run #{run_id} was deleted"):
        network.restore()


def test_history_keys_are_issued_by_the_server_and_forged_ones_refused(store, tmp_path) -> None:
    owner = store.new_owner()
    assert len(owner) == 32 and owner != store.new_owner()
    key = store.owner_key(owner)
    assert key.startswith(owner + "-") and len(key) == 65
    assert store.owner_from_key(key) == owner
    assert store.owner_from_key(f"  {key.upper()[:20]} {key.upper()[20:]}\n") == owner
    forged = ["0" * 32, "0" * 32 + "-" + "0" * 32, owner, owner + "-" + "0" * 32,
              key[:-1] + ("0" if key[-1] != "0" else "1"), ALICE, "", "x" * 10_000]
    for bad in forged:
        with pytest.raises(ConfigError, match="not a history key issued by this server"):
            store.owner_from_key(bad)
    other = RunStore(tmp_path / "other.sqlite3")                # another server, another secret
    with pytest.raises(ConfigError):
        other.owner_from_key(key)
    assert store.owner_from_key(store.owner_key("cli")) == "cli"   # `runs key cli`


def test_the_database_path_never_appears_in_messages(tmp_path) -> None:
    folder = tmp_path / "secret-folder-name"
    folder.mkdir()
    junk = folder / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite" * 100)
    newer = folder / "new.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    blocked = folder / "file"
    blocked.write_text("a file where a folder should be")
    for path in (junk, newer, blocked / "sub" / "runs.sqlite3"):
        with pytest.raises(StoreError) as info:
            RunStore(path).list_runs(ALICE)
        assert "secret-folder-name" not in str(info.value)
        assert "run store" in str(info.value)
    assert "secret-folder-name" not in repr(RunStore(junk))


def test_an_owner_over_the_storage_quota_is_refused(store, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "1")
    small = store.save_run(_naive(), ALICE)
    used = store.used_bytes(ALICE)
    assert 1000 < used < 2**20
    big = _long_run()
    with pytest.raises(store_module.QuotaError) as info:
        store.save_run(big, ALICE)
    message = str(info.value)
    assert "would take your saved runs to" in message and "over the 1.0 MiB" in message
    assert f"{used / 2**20:.1f} MiB used now" in message
    assert "LSTM_LAB_MAX_OWNER_STORAGE_MB" in message
    assert "Delete old runs on the History page" in message
    assert [s.id for s in store.list_runs(ALICE)] == [small]     # nothing written
    assert store.used_bytes(ALICE) == used
    store.save_run(_naive(1), BOB)                               # others are not affected
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "100")
    big_id = store.save_run(big, ALICE)
    assert store.used_bytes(ALICE) > 2**20
    text = store.export_runs([big_id], ALICE)
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "1")
    bob_used = store.used_bytes(BOB)
    with pytest.raises(store_module.QuotaError) as info:       # refused on its size alone
        store.import_runs(text, BOB)
    assert (f"Importing this runs file ({len(text) / 2**20:.1f} MiB) would take your saved runs "
            f"to {(bob_used + len(text)) / 2**20:.1f} MiB, over the 1.0 MiB") in str(info.value)
    assert "Delete old runs on the History page" in str(info.value)
    assert [s.id for s in store.list_runs(BOB, include_shared=False)] != [big_id]
    assert len(store.list_runs(BOB, include_shared=False)) == 1   # only Bob's small run


def test_an_import_whose_stored_runs_pass_the_quota_is_refused_whole(store, monkeypatch) -> None:
    """The file fits, but the runs it adds do not (checked after the inserts, rolled back)."""
    text = json.dumps(_export_doc(store))
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "1")
    real_size = run_store_module.run_size
    monkeypatch.setattr(run_store_module, "run_size", lambda *a: real_size(*a) + 2**19)
    with pytest.raises(store_module.QuotaError, match="Saving 2 imported runs"):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []
    assert store.used_bytes(BOB) == 0


def test_run_and_save_over_the_quota_keeps_the_result_with_a_note(store, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "1")
    values = 10 + np.sin(np.arange(40_000) / 7.0)
    series = Series(values, pd.RangeIndex(len(values)), name="long")
    cfg = ExperimentConfig(window=4, test_size=6, season=12, models=NAIVE, **FAST)
    result = store_module.run_and_save(cfg, series, ALICE, store=store)
    assert "naive" in result.metrics and store.list_runs(ALICE) == []
    assert "not saved to the history" in result.notes[-1]
    assert "LSTM_LAB_MAX_OWNER_STORAGE_MB" in result.notes[-1]


# --- imported networks are checked before they are stored (security review, finding A) -------

def _network_doc(store, neural) -> dict:
    return json.loads(store.export_runs([store.save_run(neural, ALICE)]))


def _entries(doc: dict, model: str) -> dict[str, bytes]:
    blob = base64.b64decode(doc["runs"][0]["networks"][model]["keras_base64"])
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _with_entries(doc: dict, model: str, entries: dict[str, bytes]) -> str:
    """The export with ``model``'s .keras file rebuilt from ``entries`` (deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    doc["runs"][0]["networks"][model]["keras_base64"] = \
        base64.b64encode(buffer.getvalue()).decode("ascii")
    return json.dumps(doc)


def _with_config(doc: dict, model: str, change) -> str:
    """The export with ``model``'s config.json edited by ``change`` (the file is never loaded)."""
    entries = _entries(doc, model)
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config).encode()
    return _with_entries(doc, model, entries)


def _layer(config: dict, name: str) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["name"] == name)


@pytest.fixture
def no_keras_load(monkeypatch):
    """A refused network must be refused without Keras ever building it."""
    keras = pytest.importorskip("keras")
    monkeypatch.setattr(keras.saving, "load_model",
                        lambda *a, **k: pytest.fail("an imported network was loaded"))


def _huge_dense(config: dict) -> None:
    """The MLP's first Dense turned into 60,000 x 60,000 (~14 GB to build), shapes consistent."""
    _layer(config, "window")["config"]["batch_shape"] = [None, 60_000]
    dense = _layer(config, "dense_1")
    dense["config"]["units"] = 60_000
    dense["build_config"]["input_shape"] = [None, 60_000]
    _layer(config, "forecast")["build_config"]["input_shape"] = [None, 60_000]


@requires_tf
def test_a_network_declaring_a_60000_by_60000_dense_is_refused_unloaded(store, neural,
                                                                        no_keras_load) -> None:
    doc = _network_doc(store, neural)
    text = _with_config(doc, "mlp", _huge_dense)
    blob = base64.b64decode(json.loads(text)["runs"][0]["networks"]["mlp"]["keras_base64"])
    assert len(blob) < 50_000                         # a small file that asks for ~14 GB
    outputs = neural.config.horizon * neural.config.members   # an ensemble: members x horizon
    weights = 60_000 * 60_000 + 60_000 + 60_000 * outputs + outputs
    with pytest.raises(DataError, match=rf"^Run 1 of the file cannot be imported: the MLP "
                                        rf"network would have {weights:,} weights; one network "
                                        r"may have at most 5,000,000 \(LSTM_LAB_MAX_WEIGHTS\)"):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []


@requires_tf
@pytest.mark.parametrize("model, change, message", [
    ("mlp", lambda c: _layer(c, "dense_1").update(class_name="Lambda"),
     r"the MLP network is not a network LSTM Lab builds \(layer 'Lambda' is not allowed\)"),
    ("lstm", lambda c: _layer(c, "lstm_1").update(class_name="SimpleRNN"),
     r"the LSTM network is not a network LSTM Lab builds \(layer 'SimpleRNN' is not allowed\)"),
    ("mlp", lambda c: _layer(c, "dense_1")["config"].update(kernel_initializer={
        "module": "keras.layers", "class_name": "Dense", "config": {"units": 60_000},
        "registered_name": None, "build_config": {"input_shape": [None, 60_000]}}),
     r"not a network LSTM Lab builds \('Dense' is not allowed\)"),
    ("mlp", lambda c: _layer(c, "dense_1").update(module="os"),
     r"\('Dense' comes from module 'os', not Keras\)"),
    ("mlp", lambda c: c.update(class_name="Sequential"),
     r"\(the model is 'Sequential'; LSTM Lab builds functional models\)"),
    ("mlp", lambda c: _layer(c, "dense_1")["build_config"].update(input_shape=[None, 60_000]),
     r"\(layer 'dense_1' is built for a shape its input does not have\)"),
    ("mlp", lambda c: _layer(c, "forecast")["inbound_nodes"][0]["args"][0]["config"].update(
        keras_history=["window", 0, 0]),
     r"\(layer 'forecast' does not simply read the layer before it\)"),
    ("lstm", lambda c: (_layer(c, "window")["config"].update(batch_shape=[None, 10**7, 1]),
                        _layer(c, "lstm_1")["build_config"].update(
                            input_shape=[None, 10**7, 1])),
     r"the LSTM network's layer 'window' would output 10,000,000 values per window; at most "
     r"5,000,000 fit \(LSTM_LAB_MAX_WEIGHTS\)"),
])
def test_imported_networks_must_be_ones_lstm_lab_builds(store, neural, no_keras_load, model,
                                                        change, message) -> None:
    text = _with_config(_network_doc(store, neural), model, change)
    with pytest.raises(DataError, match="^Run 1 of the file cannot be imported: .*" + message):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []


def _h5_declaring(shape: tuple[int, ...]) -> bytes:
    """An HDF5 file of a few KB whose one dataset declares ``shape`` float32 values."""
    h5py = pytest.importorskip("h5py")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_dataset("layers/dense/vars/0", shape=shape, dtype="float32", chunks=(100, 100),
                         compression="gzip")
    return buffer.getvalue()


@requires_tf
@pytest.mark.parametrize("edit, env, message", [
    (lambda e: e.update({"evil.py": b"import os"}), {},
     r"the MLP network's \.keras file holds 'evil\.py'; the \.keras files LSTM Lab writes hold "
     r"only config\.json, metadata\.json and model\.weights\.h5"),
    (lambda e: e.pop("config.json"), {}, r"the MLP network's \.keras file has no config\.json"),
    (lambda e: e.update({"config.json": b" " * (3 * 2**20)}), {},     # a zip bomb: 3 KB packed
     r"the MLP network's \.keras file unpacks config\.json to 3\.0 MiB; at most 1\.0 MiB"),
    (lambda e: e.update({"model.weights.h5": bytes(2 * 2**20)}), {"LSTM_LAB_MAX_WEIGHTS": "1000"},
     r"the MLP network's \.keras file unpacks model\.weights\.h5 to 2\.0 MiB; at most 1\.0 MiB "
     r"fit the weights one network may have \(LSTM_LAB_MAX_WEIGHTS\)"),
    (lambda e: e.update({"model.weights.h5": _h5_declaring((60_000, 60_000))}), {},
     # the default 3-member MLP is one model 3 times as wide (zeros between members):
     # 4 * 12 + 12 + 12 * 3 + 3 = 99 weights (a lone network: 25)
     r"the MLP network's weights file declares more than [\d,]+ values; its 99 weights"),
])
def test_imported_keras_archives_hold_only_what_keras_writes(store, neural, no_keras_load,
                                                            monkeypatch, edit, env,
                                                            message) -> None:
    doc = _network_doc(store, neural)
    entries = _entries(doc, "mlp")
    assert set(entries) == {"config.json", "metadata.json", "model.weights.h5"}
    edit(entries)
    text = _with_entries(doc, "mlp", entries)
    assert len(text) < 100_000
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(DataError, match="^Run 1 of the file cannot be imported: " + message):
        store.import_runs(text, BOB)
    assert store.list_runs(BOB, include_shared=False) == []


@requires_tf
def test_an_imported_runs_settings_must_fit_the_weights_cap(store, neural, monkeypatch) -> None:
    text = store.export_runs([store.save_run(neural, ALICE)])
    lstm = count_weights(neural.config, neural.season)["lstm"]
    monkeypatch.setenv("LSTM_LAB_MAX_WEIGHTS", str(lstm - 1))
    with pytest.raises(DataError, match=rf"Run 1 .*its settings build a LSTM network of {lstm:,} "
                                        rf"weights; one network may have at most {lstm - 1:,} "
                                        r"\(LSTM_LAB_MAX_WEIGHTS\)"):
        store.import_runs(text, BOB)
    monkeypatch.setenv("LSTM_LAB_MAX_WEIGHTS", str(lstm))
    assert len(store.import_runs(text, BOB).ids) == 1


@requires_tf
@pytest.mark.parametrize("architecture", ARCHITECTURE_NAMES)
def test_every_network_lstm_lab_builds_passes_the_import_check(architecture) -> None:
    """Each architecture (and the MLP), stacked, with dropout: the check counts Keras' weights."""
    keras = pytest.importorskip("keras")
    limits = get_limits()
    for network in (build(architecture, 12, 3, layers=2, units=5, dropout=0.1),
                    build(architecture, 16, 1, layers=1, units=3),
                    build_mlp(12, 3, layers=2, units=5, dropout=0.1)):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "net.keras"
            network.save(path)
            blob = path.read_bytes()
        keras_check.check_keras_file(blob, "LSTM", limits)
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            config = archive.read("config.json")
        assert keras_check._check_config(config, "x", limits) == network.count_params()
    assert isinstance(network, keras.Model)


# --- cheap refusals first (security review, finding B) ------------------------------------------

def test_imports_are_limited_in_prediction_points_before_any_value_is_checked(
        store, monkeypatch) -> None:
    doc = _export_doc(store)
    rows = len(doc["runs"][0]["result"]["predictions"]["time"])
    # each run's prediction rows, and its bands' values: 2 models x 2 levels x low, high per row
    assert all(len(r["result"]["intervals"][m][lv][side]) == rows for r in doc["runs"]
               for m in NAIVE for lv in ("80", "95") for side in ("low", "high"))
    points = 2 * (rows + 8 * rows)
    doc["runs"][1]["result"]["predictions"]["actual"][0] = "not a number"
    text = json.dumps(doc)
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", str(points - 1))
    with pytest.raises(DataError, match=rf"^The runs file holds {points:,} prediction points; "
                                        rf"one import takes at most {points - 1:,} in all its "
                                        r"runs together \(LSTM_LAB_MAX_IMPORT_POINTS\)"):
        store.import_runs(text, BOB)
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", str(points))
    with pytest.raises(DataError, match="Run 2 .*predictions.actual must be a number"):
        store.import_runs(text, BOB)                      # the per-value checks come after


def test_a_million_point_import_is_refused_before_any_value_is_checked(store,
                                                                        monkeypatch) -> None:
    doc = _export_doc(store)
    n = 1_000_000
    doc["runs"][0]["result"]["predictions"] = {"time": list(range(n)), "actual": [1.5] * n,
                                               "split": ["test"] * n, "naive": [1.5] * n}
    text = json.dumps(doc)
    checked = []
    monkeypatch.setattr(runs_file, "_number", lambda *a, **k: checked.append(a))
    with pytest.raises(DataError, match=r"holds 1,000,\d{3} prediction points; one import takes "
                                        r"at most 200,000"):
        store.import_runs(text, BOB)
    assert checked == []              # refused on the count, before any per-value check


def test_an_import_larger_than_the_quota_left_is_refused_before_it_is_read(
        store, monkeypatch) -> None:
    store.save_run(_naive(), BOB)
    used = store.used_bytes(BOB)
    monkeypatch.setenv("LSTM_LAB_MAX_OWNER_STORAGE_MB", "1")
    monkeypatch.setattr(run_store_module, "parse_export",
                        lambda text: pytest.fail("the file was parsed"))
    text = "x" * (2**20 - used + 1)                       # one byte too many; not even JSON
    with pytest.raises(store_module.QuotaError) as info:
        store.import_runs(text, BOB)
    message = str(info.value)
    assert message.startswith(f"Importing this runs file ({len(text) / 2**20:.1f} MiB) would "
                              "take your saved runs to 1.0 MiB, over the 1.0 MiB each history "
                              "key may use (LSTM_LAB_MAX_OWNER_STORAGE_MB;")
    assert "Delete old runs on the History page to make room." in message
    with pytest.raises(DataError, match="LSTM_LAB_MAX_UPLOAD_MB"):   # the upload limit first
        monkeypatch.setenv("LSTM_LAB_MAX_UPLOAD_MB", "1")
        store.import_runs(" " * (2 * 2**20), BOB)
