"""The wire (lstm_lab/execution/wire.py): jobs and results as one JSON document, never a pickle.

Every result type a task returns comes back equal (real tiny runs); malformed or oversized
documents, unknown tags and classes are refused with a sentence; a shipped network answers its
download without Keras and, restored, predicts what the original predicted."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_lab.data.series import Series
from lstm_lab.execution import wire
from lstm_lab.execution.tasks import TaskSpec
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.models.base import EpochInfo
from tests.conftest import FAST, make_tiny_series

ROOT = Path(__file__).resolve().parents[2]


def assert_same(a, b, path: str = "value") -> None:
    """Deep equality: same types, arrays and frames equal with their dtypes, NaN equal to NaN."""
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame), path
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=path)
        assert_same(dict(a.attrs), dict(b.attrs), f"{path}.attrs")
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=path)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            if f.name != "forecasters":
                assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), f"{path}: {b!r} is not NaN"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def round_trip(value):
    data = wire.encode_result(value)
    assert isinstance(data, bytes)
    json.loads(data)                                   # one plain JSON document
    return wire.decode_result(data)


# --- real results --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def series() -> Series:
    return make_tiny_series()


@pytest.fixture(scope="module")
def config() -> ExperimentConfig:
    # a 2-member ensemble (a spread), prediction intervals (bands, calibration), a baseline
    return ExperimentConfig(window=4, test_size=6, members=2, models=("naive", "lstm", "mlp"),
                            **FAST)


@pytest.fixture(scope="module")
def result(config, series):
    from lstm_lab.experiments.training import run_experiment

    return run_experiment(config, series)


def test_an_experiment_result_comes_back_equal_with_its_networks(result) -> None:
    assert result.spread and result.intervals and result.calibration and result.histories
    back = round_trip(result)
    assert_same(result, back)
    assert back.predictions["time"].dtype == result.predictions["time"].dtype    # dates stay dates
    assert sorted(back.forecasters) == ["lstm", "mlp"]        # the baseline has no network
    assert all(isinstance(f, wire.ShippedNetwork) and not f.loaded
               for f in back.forecasters.values())


def test_tuning_notes_and_nan_come_back_exactly(result) -> None:
    """``to_dict`` turns NaN into None (JSON); the wire keeps every value as it was."""
    tuned = dataclasses.replace(result, tuning={"lstm": {"chosen": "window 24", "window": 24,
                                                         "rmse": {"as set": float("nan"),
                                                                  "window 24": 1.5}}},
                                notes=["stopped at the time limit"], stopped_by_user=True,
                                skipped=["mlp"])
    assert_same(tuned, round_trip(tuned))


def test_a_shipped_network_restored_predicts_what_the_original_predicted(result, series) -> None:
    back = round_trip(result)
    values = np.asarray(series.values)
    origins = np.arange(20, 34)
    for model in ("lstm", "mlp"):
        expected = result.forecasters[model].predict(values, origins)
        got = back.forecasters[model].predict(values, origins)
        assert back.forecasters[model].loaded
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_a_decoded_result_downloads_the_shipped_file_and_saves_to_the_store(result, store
                                                                            ) -> None:
    from lstm_lab.experiments import export
    from lstm_lab.store.stored_network import load_keras

    back = round_trip(result)
    shipped = back.forecasters["lstm"]
    blob = export.model_bytes(back, "lstm")
    assert blob == shipped.keras_bytes() and blob.startswith(b"PK")
    assert not shipped.loaded                          # answered without restoring the network
    for a, b in zip(load_keras(blob).get_weights(), result.forecasters["lstm"].model_.get_weights(),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert export.has_network(back, "lstm") and not export.has_network(back, "naive")
    run_id = store.save_run(back, "ann")
    assert not shipped.loaded
    stored = store.network_file(run_id, "lstm", "ann")
    assert stored[1] == blob and stored[0] == shipped.state


def test_a_backtest_comes_back_equal(config, series) -> None:
    from lstm_lab.experiments.evaluation import run_backtest

    backtest = run_backtest(config.replace(models=("naive", "mlp"), members=1), series, 2, True)
    assert len(backtest.folds) == 2
    assert_same(backtest, round_trip(backtest))


def test_a_future_forecast_comes_back_equal(config, series) -> None:
    from lstm_lab.experiments.evaluation import forecast_future

    future = forecast_future(config.replace(models=("naive", "mlp")), series, 8)
    assert future.spread and future.intervals
    assert_same(future, round_trip(future))


def test_a_sweep_comes_back_equal(config, series) -> None:
    from lstm_lab.experiments.sweep import run_sweep

    sweep = run_sweep(config.replace(models=("naive", "mlp"), members=1), series,
                      {"mlp_units": (2, 4), "window": (4, 99)})
    assert {r.status for r in sweep.runs} >= {"done", "skipped"}
    back = round_trip(sweep)
    assert_same(sweep, back)
    assert back.grid == {"mlp_units": (2, 4), "window": (4, 99)}
    pd.testing.assert_frame_equal(back.frame(), sweep.frame())


def test_the_learn_lessons_tables_come_back_equal() -> None:
    from lstm_lab.lessons import tasks

    tables = [
        tasks.echo_experiment(ks=(1, 2), length=6, window=2, n_values=3, units=4, n_train=32,
                              n_test=8, steps=2),
        tasks.order_experiment(seeds=(0,), window=6, units=4, n_train=32, n_test=16, steps=2),
        tasks.parallel_experiment(n_series=3, window=4, units=4, length=40, epochs=1),
        tasks.variable_length_demo(train_lengths=(2, 4), test_lengths=(2, 6), units=4,
                                   n_train=32, n_test=8, steps=2),
        tasks.output_length_demo(window=8, horizon=4, lengths=(2, 4), units=4, n_points=60,
                                 epochs=1),
    ]
    assert isinstance(tables[-1], tuple) and tables[0].attrs["chance"] > 0
    for table in tables:
        assert_same(table, round_trip(table))


def test_the_small_lstm_of_learn_comes_back_with_its_network(series) -> None:
    from lstm_lab.lessons.experiments import small_lstm_config, train_small_lstm

    small = train_small_lstm(series, small_lstm_config().replace(epochs=2, window=4,
                                                                 test_size=6))
    back = round_trip(small)
    assert_same(small, back)
    assert back.forecasters["lstm"].first_origin_ == small.forecasters["lstm"].first_origin_


# --- jobs and events -----------------------------------------------------------------------------

def test_a_job_comes_back_equal_with_its_dates_and_frequency(config) -> None:
    series = Series(np.arange(1.0, 31.0), pd.date_range("2001-01-01", periods=30, freq="D"),
                    name="visits", freq="D", source="upload visits.csv", season_override=7)
    spec = TaskSpec("backtest", {"folds": 2, "refit": False})
    data = wire.encode_job(spec, config, series, "ann")
    spec2, config2, series2, owner = wire.decode_job(data)
    assert spec2 == spec and config2 == config and owner == "ann"
    np.testing.assert_array_equal(series2.values, series.values)
    pd.testing.assert_index_equal(series2.index, series.index)
    assert series2.index.freq == series.index.freq == "D"
    assert (series2.name, series2.freq, series2.source, series2.season_override, series2.season) \
        == ("visits", "D", "upload visits.csv", 7, 7)


def test_a_job_without_config_or_series_and_a_numbered_series() -> None:
    spec = TaskSpec("lesson:echo_experiment", {"ks": [1, 2], "units": 4})
    assert wire.decode_job(wire.encode_job(spec, None, None, None)) == (spec, None, None, None)
    plain = Series(np.array([3.0, 1.0, 2.0]), pd.RangeIndex(3), name="x")
    back = wire.decode_job(wire.encode_job(spec, None, plain, "bo"))[2]
    pd.testing.assert_index_equal(back.index, plain.index, exact=True)
    assert back.freq is None and back.season_override is None


def test_an_epoch_event_round_trips_as_plain_json_even_with_a_nan_loss() -> None:
    info = EpochInfo("lstm", 3, 10, float("nan"), None, "window 24", 1, 2)
    plain = wire.event_to_plain(info)
    json.dumps(plain, allow_nan=False)
    back = wire.event_from_plain(json.loads(json.dumps(plain)))
    assert math.isnan(back.loss) and dataclasses.replace(back, loss=0.0) == \
        dataclasses.replace(info, loss=0.0)
    with pytest.raises(wire.WireError, match="fields no epoch report has"):
        wire.event_from_plain({**plain, "password": "x"})


# --- refusals ------------------------------------------------------------------------------------

def _doc(value) -> bytes:
    return json.dumps({"wire": wire.WIRE_VERSION, "kind": "result", "value": value}).encode()


@pytest.mark.parametrize("value, message", [
    ({"__pickle__": "gASVCg=="}, "tagged '__pickle__', which this server does not know"),
    ({"__object__": {"class": "Popen", "fields": {"args": "rm"}}}, "'Popen', which is not one"),
    ({"__object__": {"class": "SweepRun", "fields": {"evil": 1}}}, "fields it does not have: evil"),
    ({"__bytes__": "not base64!"}, "not valid base64"),
    ({"__array__": {"dtype": "<f8", "shape": [2], "data": "@@@"}}, "not valid base64"),
    ({"__array__": {"dtype": "|O", "shape": [1], "data": "AAAAAAAAAAA="}},
     "only arrays of numbers"),
    ({"__array__": {"dtype": "<U3", "shape": [1], "data": "AAAAAAAAAAAAAAAA"}},
     "only arrays of numbers"),
    ({"__array__": {"dtype": "<f8", "shape": [3], "data": "AAAAAAAAAAA="}}, "does not fill"),
    ({"__float__": "1e999"}, "float value is malformed"),
    ({"__config__": {"units": "many"}}, "config value is malformed"),
])
def test_malformed_documents_are_refused_with_a_sentence(value, message) -> None:
    with pytest.raises(wire.WireError, match=message):
        wire.decode_result(_doc(value))


def test_not_json_a_wrong_kind_or_version_is_refused() -> None:
    with pytest.raises(wire.WireError, match="not a JSON document"):
        wire.decode_result(b"\x80\x04\x95 a pickle")
    with pytest.raises(wire.WireError, match="not a JSON document"):
        wire.decode_result(b'{"wire": 1, "kind": "result", "value": NaN}')
    with pytest.raises(wire.WireError, match="not a job"):
        wire.decode_job(wire.encode_result(1))
    with pytest.raises(wire.WireError, match="wire format 99"):
        wire.decode_result(b'{"wire": 99, "kind": "result", "value": 1}')
    with pytest.raises(wire.WireError, match="names no task"):
        wire.decode_job(b'{"wire": 1, "kind": "job", "spec": {"name": "shell", "params": {}}}')


def test_a_document_nested_too_deeply_is_refused_not_crashed() -> None:
    for depth in (100_000, 450):       # too deep for the JSON reader; for the decoding after it
        value = b'{"__tuple__": [' * depth + b"1" + b"]}" * depth
        with pytest.raises(wire.WireError, match="nested too deeply"):
            wire.decode_result(b'{"wire": 1, "kind": "result", "value": ' + value + b"}")


def test_anything_not_on_the_allow_list_is_refused_when_encoding() -> None:
    class Model:
        pass

    with pytest.raises(wire.WireError, match="A Model cannot be sent between processes"):
        wire.encode_result({"model": Model()})
    with pytest.raises(wire.WireError, match="An array of <U1 cannot be sent"):
        wire.encode_result(np.array(["a"]))
    with pytest.raises(wire.WireError, match="An array of object cannot be sent"):
        wire.encode_result(np.array([1, "a"], dtype=object))


def test_oversized_documents_are_refused_both_ways(monkeypatch) -> None:
    big = wire.encode_result(np.zeros(1000))
    monkeypatch.setattr(wire, "MAX_DOCUMENT_BYTES", 2000)
    with pytest.raises(wire.WireError, match="over the 0 MB a job or result may take"):
        wire.encode_result(np.zeros(1000))
    with pytest.raises(wire.WireError, match="refused unread"):
        wire.decode_result(big)


def test_plain_values_keep_their_types() -> None:
    value = {"a": (1, 2.5, None, True), 3: "three", "__x__": [float("inf"), -float("inf")],
             "raw": b"\x00\x01", "ints": np.arange(3, dtype="int32"), "flags": np.array([True]),
             "frame": pd.DataFrame({"n": pd.array([1, None], dtype="Int64"),
                                    "when": pd.to_datetime(["2020-01-01", "2021-06-30"]),
                                    "tz": pd.to_datetime(["2020-01-01", "2021-06-30"]
                                                         ).tz_localize("Europe/Paris"),
                                    "text": ["a", np.nan], "mixed": [1, "b"]},
                                   index=pd.Index(["r1", "r2"], name="row")),
             "series": pd.Series([1.5, 2.5], name="s")}
    assert_same(value, round_trip(value))


# --- the web side needs no Keras ------------------------------------------------------------------

def test_a_decoded_result_is_downloaded_and_saved_without_importing_keras(result, tmp_path
                                                                          ) -> None:
    """A fresh interpreter (a web process): decode, download, check and save the run; Keras and
    TensorFlow never load."""
    doc = tmp_path / "result.json"
    doc.write_bytes(wire.encode_result(result))
    script = f"""
import sys
from pathlib import Path
from lstm_lab.execution import wire
from lstm_lab.experiments import export
from lstm_lab.store import RunStore
back = wire.decode_result(Path({str(doc)!r}).read_bytes())
assert export.model_bytes(back, "lstm").startswith(b"PK")
assert export.has_network(back, "lstm") and export.has_network(back, "mlp")
store = RunStore({str(tmp_path / "runs.sqlite3")!r})
run_id = store.save_run(back, "ann")
print(run_id, sorted(m for m in ("keras", "tensorflow") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "[]"]
