"""Prediction intervals (#16) through the command line, the files it writes, the run store and
the import schema. Naive models only: no TensorFlow, each run takes milliseconds."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

from lstm_lab.cli import run as cli_run
from lstm_lab.cli.args import build_parser, config_from_args, split_sweep_args
from lstm_lab.cli.main import main
from lstm_lab.cli.table import COVERAGE_LINE
from lstm_lab.errors import DataError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.evaluation import forecast_future
from lstm_lab.experiments.export import forecast_csv, metrics_json, predictions_csv, write_run
from lstm_lab.experiments.training import ExperimentResult, run_experiment
from lstm_lab.store import RunStore, runs_csv, runs_frame
from tests.conftest import FAST, make_tiny_series

NAIVE = ("naive", "seasonal_naive")
NAIVE_ARGS = ["--models", "naive,seasonal_naive"]
ALICE, BOB = "a" * 32, "b" * 32
LEVELS = ("80", "95")


def _naive(**changes) -> ExperimentResult:
    cfg = ExperimentConfig(window=4, test_size=6, models=NAIVE, **{**FAST, **changes})
    return run_experiment(cfg, make_tiny_series())


@pytest.fixture(scope="module")
def result() -> ExperimentResult:
    return _naive()


def _kept(monkeypatch, name: str) -> list:
    """Run the CLI's real ``name`` (run_experiment, run_backtest) and keep what it returned."""
    kept, real = [], getattr(cli_run, name)

    def keep(*args, **kwargs):
        kept.append(real(*args, **kwargs))
        return kept[-1]

    monkeypatch.setattr(cli_run, name, keep)
    return kept


# --- the flag ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("argv", "levels"), [
    ([], (0.8, 0.95)),
    (["--interval", "0.95,0.8"], (0.8, 0.95)),
    (["--interval", "0.9"], (0.9,)),
    (["--intervals", "0.5, 0.8, 0.99"], (0.5, 0.8, 0.99)),
    (["--interval", "none"], ()),
])
def test_the_interval_flag_sets_the_levels(argv, levels) -> None:
    assert config_from_args(build_parser().parse_args(["run", *argv])).intervals == levels


def test_a_sweep_takes_the_levels_as_one_value_not_an_axis() -> None:
    args = build_parser().parse_args(["sweep", "--window", "4,6", "--interval", "0.8,0.9"])
    base, spec = split_sweep_args(args)
    assert spec == {"window": "4,6"}
    assert config_from_args(base).intervals == (0.8, 0.9)


def test_the_help_names_the_flag_its_levels_and_default(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--interval L,L, --intervals L,L Prediction-interval levels, e.g. 0.8,0.95 (none: no " \
           "intervals)." in out
    assert "At most 3 levels, each 0.5 to 0.99 (default: 0.8,0.95)." in out


@pytest.mark.parametrize(("level", "message"), [
    ("0", "Each interval level must be between 0.5 and 0.99: the share of future values the "
          "band should hold. Received: intervals=0"),
    ("1", "Each interval level must be between 0.5 and 0.99: the share of future values the "
          "band should hold. Received: intervals=1"),
    ("1.5", "Each interval level must be between 0.5 and 0.99: the share of future values the "
            "band should hold. Received: intervals=1.5"),
    ("abc", "`intervals` must be levels such as 0.8,0.95 (or none), and one of them is not a "
            "number. Received: intervals='abc'"),
    ("80", "(for 80%, write 0.8)"),
    ("0.8,0.8", "`intervals` lists a level twice"),
    ("0.6,0.7,0.8,0.9", "At most 3 interval levels keep a chart readable"),
])
def test_a_bad_level_is_one_error_line(level, message, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--interval", level, *NAIVE_ARGS])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert message in captured.err


# --- the tables ----------------------------------------------------------------------------------

def _interval_rows(lines: list[str]) -> dict[tuple[str, str], list[str]]:
    """The prediction-interval table's rows: (model label, level) -> [coverage, width, Winkler]."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Prediction intervals"))
    assert lines[start + 1].split() == ["model", "level", "coverage", "%", "width", "Winkler"]
    rows = {}
    for line in lines[start + 2:]:
        if line == COVERAGE_LINE:
            return rows
        rows[(line[:22].strip(), line[22:28].strip())] = line[28:].split()
    raise AssertionError("the table has no line saying what coverage means")


def test_the_run_table_shows_coverage_width_and_winkler_per_model_and_level(
        monkeypatch, capsys) -> None:
    kept = _kept(monkeypatch, "run_experiment")
    assert main(["run", *NAIVE_ARGS, "--test-size", "12", "--interval", "0.5,0.8,0.95"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (run,) = kept
    assert max(len(line) for line in lines if not line.startswith("note: ")) <= 100
    rows = _interval_rows(lines)
    assert sorted(rows) == sorted((run.label(m), f"{k}%") for m in NAIVE
                                  for k in ("50", "80", "95"))
    for model in NAIVE:
        for key in ("50", "80", "95"):
            scores = run.metrics[model]
            cover, width, winkler = (float(v) for v in rows[(run.label(model), f"{key}%")])
            assert cover == pytest.approx(scores[f"coverage_{key}"], abs=0.05)
            assert width == pytest.approx(scores[f"width_{key}"], abs=5e-4)
            assert winkler == pytest.approx(scores[f"winkler_{key}"], abs=5e-4)
    # coverage is a share of the 12 test points, and the wider level holds at least as many
    naive = {k: float(rows[(run.label("naive"), f"{k}%")][0]) for k in ("50", "80", "95")}
    assert all(abs(v * 12 / 100 - round(v * 12 / 100)) < 0.01 for v in naive.values())
    assert naive["50"] <= naive["80"] <= naive["95"]
    assert lines[-1].startswith("total ")


def test_without_intervals_the_table_has_none(capsys) -> None:
    assert main(["run", *NAIVE_ARGS, "--interval", "none"]) == 0
    out = capsys.readouterr().out
    assert "Prediction intervals" not in out and "coverage" not in out


def test_json_carries_the_scores_the_bands_and_the_calibration(monkeypatch, capsys) -> None:
    kept = _kept(monkeypatch, "run_experiment")
    assert main(["run", *NAIVE_ARGS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (run,) = kept
    for model in NAIVE:
        for key in LEVELS:
            for metric in ("coverage", "width", "winkler"):
                assert data["metrics"][model][f"{metric}_{key}"] == pytest.approx(
                    run.metrics[model][f"{metric}_{key}"])
            band = data["intervals"][model][key]
            n_train = data["n_train"]
            assert band["low"][:n_train] == [None] * n_train          # bands on test rows only
            np.testing.assert_allclose(band["low"][n_train:],
                                       run.intervals[model][key]["low"][n_train:])
            np.testing.assert_allclose(band["high"][n_train:],
                                       run.intervals[model][key]["high"][n_train:])
            assert all(lo < hi for lo, hi in zip(band["low"][n_train:], band["high"][n_train:],
                                                 strict=True))
        assert data["calibration"][model]["halfwidths"]["80"] == pytest.approx(
            run.calibration[model].halfwidths["80"])
    json.loads(json.dumps(data), parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))


def test_json_without_intervals_has_the_point_metrics_only(capsys) -> None:
    assert main(["run", *NAIVE_ARGS, "--json", "--interval", "none"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["metrics"]["naive"]) == {"rmse", "mae", "mape", "mase"}
    assert data["intervals"] == {} and data["calibration"] == {}


def test_the_backtest_shows_coverage_per_fold_and_in_its_summary(monkeypatch, capsys) -> None:
    kept = _kept(monkeypatch, "run_backtest")
    assert main(["run", *NAIVE_ARGS, "--backtest", "3", "--test-size", "12", "--horizon",
                 "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    (backtest,) = kept
    for fold in backtest.folds:
        head = next(i for i, line in enumerate(lines) if line.startswith(f"fold {fold['fold']}:"))
        for offset, key in enumerate(LEVELS, 1):
            line = lines[head + offset].strip()
            assert line.startswith(f"coverage {key}%  ")
            for model in NAIVE:      # each model named as the run names it ("Seasonal naive")
                shown = line.split(f" {backtest.label(model)} ")[1].split("%")[0]
                assert float(shown) == pytest.approx(fold["metrics"][model][f"coverage_{key}"],
                                                     abs=0.05)
    rows = _interval_rows(lines)
    summary = backtest.summary()
    for model in NAIVE:
        for key in LEVELS:
            cover = float(rows[(backtest.labels[model], f"{key}%")][0])
            assert cover == pytest.approx(summary.loc[model, f"coverage_{key} mean"], abs=0.05)
    assert any("each fold's band calibrated on its own training part" in line for line in lines)


def test_the_backtest_json_carries_its_bands(capsys) -> None:
    assert main(["run", *NAIVE_ARGS, "--backtest", "2", "--test-size", "12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = len(data["predictions"]["time"])
    assert rows == 24
    assert len(data["intervals"]["naive"]["80"]["low"]) == rows
    assert 0 <= data["folds"][0]["metrics"]["naive"]["coverage_95"] <= 100
    assert "coverage_80 mean" in data["summary"][0]


# --- the files -----------------------------------------------------------------------------------

def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_predictions_csv_has_lower_and_upper_columns_with_the_bands(result, tmp_path) -> None:
    write_run(result, tmp_path)
    text = (tmp_path / "predictions.csv").read_text(encoding="utf-8")
    rows = _csv(text)
    assert list(rows[0]) == ["time", "actual", "naive", "seasonal_naive",
                             *[f"{m} {side} {k}" for m in NAIVE for k in LEVELS
                               for side in ("lower", "upper")], "split"]
    n_train = result.n_train
    for model in NAIVE:
        width = {k: result.calibration[model].halfwidths[k][0] for k in LEVELS}   # horizon 1
        for i, row in enumerate(rows):
            if i < n_train:
                assert row[f"{model} lower 80"] == row[f"{model} upper 95"] == ""
                continue
            point = float(row[model])
            for key in LEVELS:
                low, high = float(row[f"{model} lower {key}"]), float(row[f"{model} upper {key}"])
                assert low == pytest.approx(point - width[key], rel=1e-12)
                assert high == pytest.approx(point + width[key], rel=1e-12)
                assert low == pytest.approx(result.intervals[model][key]["low"][i], rel=1e-12)
            assert float(row[f"{model} lower 95"]) <= float(row[f"{model} lower 80"]) < point
    assert predictions_csv(result) == text


def test_without_intervals_predictions_csv_has_no_band_columns() -> None:
    rows = _csv(predictions_csv(_naive(intervals=())))
    assert list(rows[0]) == ["time", "actual", "naive", "seasonal_naive", "split"]


def test_metrics_json_keeps_the_scores_and_the_calibration(result) -> None:
    data = json.loads(metrics_json(result))
    assert data["metrics"]["naive"]["coverage_80"] == pytest.approx(
        result.metrics["naive"]["coverage_80"])
    assert data["calibration"]["naive"]["counts"] == result.calibration["naive"].counts
    assert "intervals" not in data                     # per-point bands are in predictions.csv


def test_the_forecast_csv_has_bands_for_the_first_horizon() -> None:
    cfg = ExperimentConfig(window=4, horizon=2, models=NAIVE, **FAST)
    future = forecast_future(cfg, make_tiny_series(), steps=5)
    rows = _csv(forecast_csv(future))
    assert list(rows[0]) == ["time", "naive", "seasonal_naive",
                             *[f"{m} {side} {k}" for m in NAIVE for k in LEVELS
                               for side in ("lower", "upper")]]
    assert len(rows) == 5
    for model in NAIVE:
        for key in LEVELS:
            band = future.intervals[model][key]
            for step, row in enumerate(rows):
                low, high = row[f"{model} lower {key}"], row[f"{model} upper {key}"]
                if step < 2:
                    assert float(low) == pytest.approx(band["low"][step], rel=1e-12)
                    assert float(low) < float(row[model]) < float(high)
                else:
                    assert low == high == ""          # past one horizon: no band


def test_run_future_writes_and_prints_its_bands(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", *NAIVE_ARGS, "--future", "3", "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    bands = data["future_intervals"]["naive"]["80"]
    assert bands["low"][1:] == [None, None] and bands["low"][0] < data["future"]["naive"][0]
    frame = pd.read_csv(out / "future.csv")
    assert frame["naive lower 80"].iloc[0] == pytest.approx(bands["low"][0])
    assert frame["naive upper 95"].isna().tolist() == [False, True, True]


# --- the run store -------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs.sqlite3")


def _assert_same_bands(loaded: ExperimentResult, saved: ExperimentResult) -> None:
    assert list(loaded.intervals) == list(saved.intervals)
    for model, levels in saved.intervals.items():
        assert list(loaded.intervals[model]) == list(levels)
        for key, band in levels.items():
            for side in ("low", "high"):
                np.testing.assert_array_equal(loaded.intervals[model][key][side], band[side])
    assert {m: c.to_dict() for m, c in loaded.calibration.items()} == \
        {m: c.to_dict() for m, c in saved.calibration.items()}
    for model, scores in saved.metrics.items():
        assert loaded.metrics[model] == pytest.approx(scores, nan_ok=True)


def test_a_saved_run_keeps_its_bands_and_so_does_an_export(result, store, tmp_path) -> None:
    run_id = store.save_run(result, ALICE)
    loaded = store.load_run(run_id, ALICE)
    _assert_same_bands(loaded, result)
    assert np.isnan(loaded.intervals["naive"]["80"]["low"][: result.n_train]).all()
    other = RunStore(tmp_path / "other.sqlite3")
    [copy] = other.import_runs(store.export_runs([run_id]), BOB).ids
    _assert_same_bands(other.load_run(copy, BOB), result)


def test_a_run_without_intervals_round_trips(store) -> None:
    plain = _naive(intervals=())
    loaded = store.load_run(store.save_run(plain, ALICE), ALICE)
    assert loaded.intervals == {} and loaded.calibration == {}
    assert loaded.config.intervals == ()


def _doc(store, result: ExperimentResult) -> dict:
    return json.loads(store.export_runs([store.save_run(result, ALICE)]))


def test_a_run_saved_before_intervals_existed_still_imports(result, store) -> None:
    doc = _doc(store, result)
    record = doc["runs"][0]["result"]
    for key in ("intervals", "calibration"):
        del record[key]
    del record["config"]["intervals"]
    for scores in record["metrics"].values():
        for name in [n for n in scores if n not in ("rmse", "mae", "mape", "mase")]:
            del scores[name]
    [run_id] = store.import_runs(json.dumps(doc), BOB).ids
    loaded = store.load_run(run_id, BOB)
    assert loaded.intervals == {} and loaded.calibration == {}
    assert loaded.config.intervals == ()     # it had none: not today's default levels
    assert set(loaded.metrics["naive"]) == {"rmse", "mae", "mape", "mase"}
    # the History table and the runs CSV show no interval columns for it
    frame = runs_frame(store.list_runs(BOB, ids=[run_id]), all_metrics=True)
    assert not [c for c in frame.columns if "coverage" in c]


def _band(record: dict, model: str = "naive", key: str = "80") -> dict:
    return record["intervals"][model][key]


@pytest.mark.parametrize(("spoil", "message"), [
    (lambda r: _band(r)["low"].pop(), r"intervals\.naive\.80\.low must be a list of 40 values, "
                                      r"one per prediction row \(null where there is no band\)"),
    (lambda r: _band(r)["high"].__setitem__(-1, "9"), r"intervals\.naive\.80\.high must be a "
                                                      r"number; got '9'"),
    (lambda r: _band(r)["high"].__setitem__(-1, True), r"intervals\.naive\.80\.high must be a "
                                                       r"number"),
    (lambda r: _band(r).update(low=-1), r"intervals\.naive\.80\.low must be a list of 40"),
    (lambda r: _band(r).update(mid=[0] * 40), r"unknown intervals\.naive\.80 entry 'mid'"),
    (lambda r: _band(r).pop("high"), r"intervals\.naive\.80\.high must be a list"),
    (lambda r: _band(r)["low"].__setitem__(-1, 1e9), r"intervals\.naive\.80 has its low above "
                                                     r"its high at prediction row 40"),
    (lambda r: r["intervals"]["naive"].update({"abc": _band(r)}),
     r"a level of intervals\.naive must be one of the run's interval levels \(80, 95: "
     r"percentages from 50 to 99, as the config's intervals set them\); got 'abc'"),
    (lambda r: r["intervals"]["naive"].update({"99": _band(r)}),
     r"a level of intervals\.naive must be one of the run's interval levels \(80, 95"),
    (lambda r: r["intervals"]["naive"].update({"80.0": _band(r)}), r"got '80\.0'"),
    (lambda r: r["intervals"].update(lstm=r["intervals"]["naive"]),
     r"intervals\.lstm belongs to no model of the run"),
    (lambda r: r["intervals"].update(arima={}), r"unknown intervals entry 'arima'"),
    (lambda r: r["intervals"].update(naive=[]), r"intervals\.naive must be an object"),
    (lambda r: r["config"].update(intervals=[0.8]), r"interval levels \(80: .*got '95'"),
    (lambda r: r["metrics"]["naive"].update(coverage_80=150.0),
     r"metrics\.naive\.coverage_80 must be between 0 and 100; got 150\.0"),
    (lambda r: r["metrics"]["naive"].update(width_95=-1.0),
     r"metrics\.naive\.width_95 must be at least 0"),
    (lambda r: r["metrics"]["naive"].update(coverage_abc=1.0),
     r"unknown metrics\.naive entry 'coverage_abc'; known: rmse, mae, mape, mase, and "
     r"coverage, width, winkler per interval level \(e\.g\. coverage_80\)"),
    (lambda r: r["metrics"]["naive"].update(coverage_60=50.0),
     r"the level of metrics\.naive\.coverage_60 must be one of the run's interval levels"),
    (lambda r: r["calibration"]["naive"].pop("halfwidths"), r"calibration\.naive has no "
                                                            r"halfwidths"),
    (lambda r: r["calibration"]["naive"]["halfwidths"]["80"].__setitem__(0, -2.0),
     r"calibration\.naive\.halfwidths\.80 must be at least 0; got -2\.0"),
    (lambda r: r["calibration"]["naive"]["halfwidths"]["80"].append(1.0),
     r"calibration\.naive\.halfwidths\.80 must be a list of 1 values, one per horizon step"),
    (lambda r: r["calibration"]["naive"].update(counts=[1] * 10_000),
     r"calibration\.naive\.counts must be a list of 1 to \d+ numbers, one per horizon step"),
    (lambda r: r["calibration"]["naive"].update(levels=[0.8, 1.5]),
     r"calibration\.naive\.levels must be between 0\.5 and 0\.99; got 1\.5"),
    (lambda r: r["calibration"]["naive"].update(points=2.5),
     r"calibration\.naive\.points must be a whole number"),
    (lambda r: r["calibration"]["naive"].update(notes=["see [this](http://evil.example)"]),
     r"a note holds characters that would format the page"),
    (lambda r: r["calibration"]["naive"].update(code="x"), r"unknown calibration\.naive entry "
                                                           r"'code'"),
    (lambda r: r["calibration"].update(sarima=r["calibration"]["naive"]),
     r"calibration\.sarima belongs to no model of the run"),
])
def test_import_refuses_a_malformed_band_or_calibration(result, store, spoil, message) -> None:
    doc = _doc(store, result)
    spoil(doc["runs"][0]["result"])
    with pytest.raises(DataError, match="^Run 1 of the file cannot be imported: .*" + message):
        store.import_runs(json.dumps(doc), BOB)
    assert store.list_runs(BOB, include_shared=False) == []


def test_bands_count_among_the_prediction_points(result, store, monkeypatch) -> None:
    doc = _doc(store, result)
    points = 40 + 2 * 2 * 2 * 40            # the rows, and 2 models x 2 levels x low, high
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", str(points - 1))
    with pytest.raises(DataError, match=f"holds {points:,} prediction points"):
        store.import_runs(json.dumps(doc), BOB)
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", str(points))
    assert len(store.import_runs(json.dumps(doc), BOB).ids) == 1


def test_the_runs_table_and_csv_list_the_interval_scores(result, store) -> None:
    run_id = store.save_run(result, ALICE)
    summaries = store.list_runs(ALICE)
    assert [c for c in runs_frame(summaries, ALICE).columns if "coverage" in c] == []
    frame = runs_frame(summaries, ALICE, all_metrics=True)
    naive = "Naive (last value)"
    expected = [f"{title} {model}" for model in (naive, "Seasonal naive")
                for title in ("RMSE", "MAE", "MAPE", "MASE", "coverage 80%", "width 80%",
                              "Winkler 80%", "coverage 95%", "width 95%", "Winkler 95%")]
    assert [c for c in frame.columns if c.endswith((naive, "Seasonal naive"))
            and c != "best"] == expected
    assert frame.loc[0, f"coverage 80% {naive}"] == pytest.approx(
        result.metrics["naive"]["coverage_80"])
    table = pd.read_csv(io.StringIO(runs_csv(summaries)))
    assert table.loc[0, f"Winkler 95% {naive}"] == pytest.approx(
        result.metrics["naive"]["winkler_95"])
    assert table.loc[0, "intervals"] == "0.8,0.95"
    assert table.loc[0, "id"] == run_id


def test_runs_show_prints_the_interval_table(result, tmp_path, capsys) -> None:
    path = tmp_path / "cli.sqlite3"
    run_id = RunStore(path).save_run(result, ALICE)
    assert main(["runs", "show", str(run_id), "--db", str(path)]) == 0
    rows = _interval_rows(capsys.readouterr().out.splitlines())
    assert float(rows[("Seasonal naive", "95%")][0]) == pytest.approx(
        result.metrics["seasonal_naive"]["coverage_95"], abs=0.05)



def test_forecast_ahead_of_an_ensemble_has_its_spread_and_its_bands() -> None:
    """An ensemble's members' spread and its conformal bands side by side (the band once
    reused the spread's names and forecast ahead crashed on every default ensemble)."""
    cfg = ExperimentConfig(window=4, horizon=3, test_size=6, models=("mlp", "naive"),
                           **{**FAST, "members": 2})
    future = forecast_future(cfg, make_tiny_series(), steps=3)
    spread, band = future.spread["mlp"], future.intervals["mlp"]["80"]
    assert spread["low"].shape == spread["high"].shape == (3,)
    assert np.all(band["low"] < future.forecasts["mlp"].to_numpy())
    assert np.all(future.forecasts["mlp"].to_numpy() < band["high"])
    header = forecast_csv(future).splitlines()[0].split(",")
    assert "mlp lower 80" in header and "mlp upper 95" in header
