"""Downloaded / written files: predictions CSV (formula-safe), metrics JSON, config JSON."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_lab.experiments import export
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.export import (
    defuse,
    metrics_json,
    predictions_csv,
    predictions_frame,
    write_run,
)
from lstm_lab.experiments.training import run_experiment
from tests.conftest import FAST, make_tiny_series, make_tiny_values, requires_tf


@pytest.fixture
def naive_result():
    """A fast run (no networks) with a negative value and a zero in the test part."""
    values = make_tiny_values() - 12.0            # mixes negative and positive values
    values[-1] = 0.0                              # mape becomes NaN
    config = ExperimentConfig(test_size=6, models=("seasonal_naive", "naive"), transform="none")
    return run_experiment(config, make_tiny_series(values))


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# the columns of ``naive_result``'s predictions: its models, then their bands, then the split
BANDS = ["seasonal_naive lower 80", "seasonal_naive upper 80", "seasonal_naive lower 95",
         "seasonal_naive upper 95", "naive lower 80", "naive upper 80", "naive lower 95",
         "naive upper 95"]
COLUMNS = ["time", "actual", "seasonal_naive", "naive", *BANDS, "split"]


@pytest.mark.parametrize(
    ("text", "safe"),
    [("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("", ""), ("a=b", "a=b")],
)
def test_defuse(text, safe) -> None:
    assert defuse(text) == safe


def test_defuse_leaves_non_text_alone() -> None:
    assert defuse(-3.5) == -3.5
    assert defuse(None) is None


def test_predictions_frame_orders_models_as_configured(naive_result) -> None:
    frame = predictions_frame(naive_result)
    assert list(frame.columns) == COLUMNS
    assert frame["time"].iloc[0] == "2000-01-01"
    assert frame["split"].tolist() == ["train"] * 34 + ["test"] * 6


def test_predictions_csv_keeps_negative_numbers_as_numbers(naive_result) -> None:
    rows = _rows(predictions_csv(naive_result))
    assert rows[0] == COLUMNS
    assert len(rows) == 41
    actual = [float(r[1]) for r in rows[1:]]
    np.testing.assert_allclose(actual, naive_result.predictions["actual"], rtol=1e-12)
    assert any(r[1].startswith("-") for r in rows[1:])        # not quoted away
    assert rows[1][2] == "" and rows[1][3] == ""              # no forecast yet: empty cells


def test_predictions_csv_defuses_formula_cells(naive_result) -> None:
    preds = naive_result.predictions.copy()
    preds["time"] = preds["time"].astype(str)
    preds.loc[0, "time"] = "=1+1"
    preds.loc[1, "time"] = "@HYPERLINK(\"http://x\")"
    preds.loc[2, "time"] = "+SUM(A1:A9)"
    preds.loc[3, "time"] = "-cmd|' /C calc'!A0"
    naive_result.predictions = preds
    rows = _rows(predictions_csv(naive_result))
    assert [r[0] for r in rows[1:5]] == ["'=1+1", "'@HYPERLINK(\"http://x\")", "'+SUM(A1:A9)",
                                         "'-cmd|' /C calc'!A0"]
    assert rows[5][0] == "2000-05-01"


def test_predictions_csv_defuses_column_names(naive_result, monkeypatch) -> None:
    frame = pd.DataFrame({"time": ["2000-01-01"], "=cmd": [1.5], "@x": ["-1"], "ok": ["x"]})
    monkeypatch.setattr(export, "predictions_frame", lambda result: frame.copy())
    rows = _rows(predictions_csv(naive_result))
    assert rows == [["time", "'=cmd", "'@x", "ok"], ["2000-01-01", "1.5", "'-1", "x"]]


def test_metrics_json_is_strict_json(naive_result) -> None:
    text = metrics_json(naive_result)
    data = json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))
    assert set(data["metrics"]) == {"naive", "seasonal_naive"}
    assert data["metrics"]["naive"]["mape"] is None           # NaN became null
    assert data["metrics"]["naive"]["rmse"] == pytest.approx(naive_result.metrics["naive"]["rmse"])
    assert "predictions" not in data and "histories" not in data
    assert data["n_points"] == 40 and data["n_train"] == 34
    assert ExperimentConfig.from_dict(data["config"]) == naive_result.config


def test_write_run_writes_three_files(naive_result, tmp_path) -> None:
    out = tmp_path / "nested" / "run"
    paths = write_run(naive_result, out)
    assert sorted(p.name for p in paths) == ["config.json", "metrics.json", "predictions.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "metrics.json",
                                                     "predictions.csv"]
    config = ExperimentConfig.from_json((out / "config.json").read_text(encoding="utf-8"))
    assert config == naive_result.config
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["seasonal_naive"]["mae"] == pytest.approx(
        naive_result.metrics["seasonal_naive"]["mae"])
    assert (out / "predictions.csv").read_text(encoding="utf-8") == predictions_csv(naive_result)
    frame = pd.read_csv(out / "predictions.csv")
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 40


def test_files_are_written_through_an_unpredictable_temporary_name(tmp_path, monkeypatch) -> None:
    made = []
    real_mkstemp = export.tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        made.append(name)
        return fd, name

    monkeypatch.setattr(export.tempfile, "mkstemp", spy)
    target = tmp_path / "out" / "runs.json"
    export.write_text_atomically(target, "first")
    export.write_text_atomically(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    assert len(made) == 2 and made[0] != made[1]           # a new random name each time
    assert all(Path(n).parent == target.parent for n in made)   # beside the target: one rename
    assert str(os.getpid()) not in Path(made[0]).name
    assert sorted(p.name for p in target.parent.iterdir()) == ["runs.json"]   # no leftovers
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask     # as a plain write would give


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch) -> None:
    target = tmp_path / "runs.json"
    target.write_text("old", encoding="utf-8")

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        export.write_text_atomically(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["runs.json"]


@requires_tf
def test_files_name_the_architecture_beside_the_stable_keys() -> None:
    from lstm_lab.experiments.evaluation import forecast_future

    config = ExperimentConfig(window=4, test_size=6, architecture="gru", layers=2, members=1,
                              models=("naive", "lstm"), transform="none", **FAST)
    result = run_experiment(config, make_tiny_series())
    frame = predictions_frame(result)
    assert list(frame.columns) == ["time", "actual", "naive", "lstm",
                                   *[c for c in frame.columns if " lower " in c or " upper " in c],
                                   "split", "architecture"]
    assert set(frame["architecture"]) == {"GRU ×2"}
    data = json.loads(metrics_json(result))
    assert data["architecture"] == "gru"
    assert data["labels"] == {"naive": "Naive (last value)", "lstm": "GRU ×2"}
    assert set(data["metrics"]) == {"naive", "lstm"}          # the keys stay as they were
    future = forecast_future(config, make_tiny_series(), steps=2)
    rows = _rows(export.forecast_csv(future))
    assert rows[0][:3] == ["time", "naive", "lstm"] and rows[0][-1] == "architecture"
    assert {r[-1] for r in rows[1:]} == {"GRU ×2"}
