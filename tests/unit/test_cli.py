"""The command line: table, --json and --out on success; one `error:` line and status 2 on
every user mistake. Subprocess runs stick to the naive models (no TensorFlow import)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lstm_lab.cli.args import build_parser, config_from_args
from lstm_lab.cli.main import main
from lstm_lab.experiments.config import ExperimentConfig
from tests.conftest import requires_tf

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ["--models", "naive,seasonal_naive"]


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "lstm_lab", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("csv")
    dates = pd.date_range("2000-01-01", periods=40, freq="MS").strftime("%Y-%m-%d")
    good = folder / "sales.csv"
    pd.DataFrame({"month": dates, "sales": [100.0 + i + (i % 12) for i in range(40)]}).to_csv(
        good, index=False)
    zeros = folder / "zeros.csv"
    pd.DataFrame({"month": dates, "count": [float(i % 7) for i in range(40)]}).to_csv(
        zeros, index=False)
    return {"good": good, "zeros": zeros, "missing": folder / "missing.csv"}


# Each case: arguments (with {good}/{zeros}/{missing} placeholders) and a fragment of the message.
ERROR_CASES = {
    "missing file": (["--dataset", "{missing}", *NAIVE], "missing.csv"),
    "unknown column": (["--dataset", "{good}", "--column", "nope", *NAIVE], "nope"),
    "window out of range": (["--window", "600"],
                            "error: `window` must be between 1 and 512. Received: window=600"),
    "window too large for data": (["--window", "140"], "Lower the window"),
    "negative epochs": (["--epochs", "-3"],
                        "error: `epochs` must be between 1 and 5000. Received: epochs=-3"),
    "unknown flag": (["--bogus", *NAIVE], "error: unrecognized arguments: --bogus"),
    "non-numeric window": (["--window", "abc", *NAIVE],
                           "error: `window` must be a number. Received: 'abc'"),
    "unknown model": (["--models", "naive,arima"],
                      "error: `models` must be a non-empty subset of lstm, mlp, naive, "
                      "seasonal_naive, holt_winters, sarima. Received: models=naive,arima"),
    "unknown transform": (["--transform", "cube", *NAIVE], "error: argument --transform"),
    "fractional test size count": (["--test-size", "2.5", *NAIVE], "`test_size` must be a whole"),
    "log transform with zeros": (["--dataset", "{zeros}", "--transform", "log", "--models",
                                  "naive,mlp", "--window", "4", "--test-size", "6"],
                                 "error: The 'log' transform needs positive values; the smallest "
                                 "is 0. Choose transform 'none' or 'diff'."),
}


@pytest.fixture(scope="module")
def error_runs(csv_files) -> dict[str, tuple[int, str, str]]:
    """Start every failing command at once (they are independent), then collect them."""
    names = {k: str(v) for k, v in csv_files.items()}
    started = {case: _cli("run", *[a.format(**names) for a in args])
               for case, (args, _) in ERROR_CASES.items()}
    started["no command"] = _cli()
    return {case: _finish(process) for case, process in started.items()}


@pytest.mark.parametrize("case", [*ERROR_CASES, "no command"])
def test_user_mistakes_exit_2_with_one_error_line(case, error_runs) -> None:
    code, out, err = error_runs[case]
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    if case != "no command":
        assert ERROR_CASES[case][1] in lines[0]


def test_no_command_names_the_missing_argument(error_runs) -> None:
    assert "the following arguments are required: command" in error_runs["no command"][2]


def test_json_prints_one_object_with_the_requested_models() -> None:
    code, out, err = _finish(_cli("run", "--models", "seasonal_naive,naive", "--test-size", "12",
                                  "--json"))
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1
    data = json.loads(out)
    assert set(data["metrics"]) == {"naive", "seasonal_naive"}
    # the point metrics, and coverage, width and Winkler score of the default 80% and 95% bands
    assert set(data["metrics"]["naive"]) == {
        "rmse", "mae", "mape", "mase", "coverage_80", "width_80", "winkler_80", "coverage_95",
        "width_95", "winkler_95"}
    assert 0 <= data["metrics"]["naive"]["coverage_80"] <= 100
    assert set(data["intervals"]["naive"]) == {"80", "95"}
    assert len(data["intervals"]["naive"]["80"]["low"]) == 144
    assert data["calibration"]["naive"]["levels"] == [0.8, 0.95]
    assert data["config"]["models"] == ["seasonal_naive", "naive"]
    assert data["n_points"] == 144 and data["n_train"] == 132
    assert data["series_name"] == "Passengers"
    assert "tensorflow" not in data["versions"]
    assert data["epochs_run"] == {}


def test_out_writes_the_three_files(tmp_path, csv_files) -> None:
    out = tmp_path / "run"
    code, stdout, err = _finish(_cli("run", "--dataset", str(csv_files["good"]), "--models",
                                     "seasonal_naive,naive", "--test-size", "6", "--out",
                                     str(out)))
    assert code == 0, err
    assert "Seasonal naive" in stdout and "<- best" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "metrics.json",
                                                     "predictions.csv"]
    with open(out / "predictions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    bands = [f"{m} {side} {level}" for m in ("seasonal_naive", "naive") for level in ("80", "95")
             for side in ("lower", "upper")]
    assert rows[0] == ["time", "actual", "seasonal_naive", "naive", *bands, "split"]
    assert len(rows) == 41
    assert rows[1][0] == "2000-01-01"
    assert [r[-1] for r in rows[1:]].count("test") == 6
    config = ExperimentConfig.from_json((out / "config.json").read_text(encoding="utf-8"))
    assert config.dataset == "csv" and config.csv_path == str(csv_files["good"])
    assert set(json.loads((out / "metrics.json").read_text())["metrics"]) == {"naive",
                                                                              "seasonal_naive"}


@requires_tf
def test_table_marks_the_best_model(capsys, monkeypatch) -> None:
    from lstm_lab.cli import run as cli_run

    results, real_run = [], cli_run.run_experiment

    def kept(*args, **kwargs):                 # the run the table prints, for its labels
        results.append(real_run(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(cli_run, "run_experiment", kept)
    code = main(["run", "--window", "4", "--test-size", "12", "--epochs", "2", "--units", "4",
                 "--mlp-units", "4", "--patience", "0", "--validation-fraction", "0"])
    out = capsys.readouterr().out
    assert code == 0
    (result,) = results
    lines = out.splitlines()
    assert lines[0] == "Passengers: 144 points, 132 train, 12 test, horizon 1"
    assert lines[1].split() == ["model", "RMSE", "MAE", "MAPE", "%", "MASE", "fit", "s"]
    # the networks as the run names them: "ES-LSTM (3 seeds)" (auto chose the ES hybrid)
    labels = [result.label(m) for m in ("lstm", "mlp", "naive", "seasonal_naive")]
    assert labels[2:] == ["Naive (last value)", "Seasonal naive"]
    rows = lines[2:2 + len(result.metrics)]                  # one row per model
    for label in labels:
        assert sum(line.startswith(label) for line in rows) == 1, label
        # and one per interval level in the prediction-interval table under it
        assert sum(line.startswith(label) for line in lines[2 + len(rows):]) == 2, label
    best = [line for line in lines if line.endswith("<- best")]
    assert len(best) == 1
    rmse = {line[:22].strip(): float(line[22:33]) for line in rows}
    assert sorted(rmse) == sorted(result.label(m) for m in result.metrics)
    assert best[0][:22].strip() == min(rmse, key=rmse.get)
    assert lines[-1].startswith("total ") and lines[-1].endswith(" s")
    # then the transform, and the run's notes (the ES weight's among them), one line each
    (at,) = [i for i, line in enumerate(lines) if line.startswith("transform: ")]
    assert lines[at].startswith("transform: log_es (auto: all values are positive")
    assert "the series has a season of 12 and at least 3 seasons" in lines[at]
    assert lines[at + 1:-1] == [f"note: {note}" for note in result.notes]
    assert any(n.endswith("Set the ES weight to 0 to see what the network alone forecasts.")
               for n in result.notes)


def test_help_exits_0(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--window N" in out and "--json" in out and "--out DIR" in out


def test_in_process_error_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--window", "0"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == "error: `window` must be between 1 and 512. Received: window=0\n"
    assert captured.out == ""


def test_config_from_args_maps_flags_to_fields() -> None:
    args = build_parser().parse_args(
        ["run", "--dataset", "data/x.csv", "--column", "sales", "--window", "6",
         "--learning-rate", "0.01", "--test-size", "0.2", "--models", "mlp,naive",
         "--transform", "diff", "--sine-period", "12"])
    config = config_from_args(args)
    assert config == ExperimentConfig(dataset="csv", csv_path="data/x.csv", column="sales",
                                      window=6, learning_rate=0.01, test_size=0.2,
                                      models=("mlp", "naive"), transform="diff", sine_period=12.0)
    default = config_from_args(build_parser().parse_args(["run"]))
    assert default == ExperimentConfig()


def test_tuning_flag_and_the_table_line_naming_the_kept_variant(capsys) -> None:
    args = build_parser().parse_args(["run", "--tuning", "off", "--horizon", "12"])
    assert config_from_args(args) == ExperimentConfig(tuning="off", horizon=12)
    # tuning is off by default; a season-ahead "auto" transform is now the ES hybrid of logs
    code = main(["run", "--test-size", "12", "--horizon", "12", "--models", "lstm", "--epochs",
                 "2", "--units", "4", "--patience", "0", "--validation-fraction", "0.2",
                 "--members", "1", "--tuning", "auto"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    tuned = [line for line in lines if line.startswith("tuning: ")]
    assert len(tuned) == 1    # named as its kept variant's transform makes it (ES- or not)
    assert tuned[0].split(" kept ")[0] in ("tuning: LSTM", "tuning: ES-LSTM")
    assert "validation RMSE" in tuned[0] and "as set: ES hybrid of logs, window 12, " \
        "4 units" in tuned[0] and "first difference of logs, window 24, 8 units" in tuned[0]
    assert "seasonal difference of logs, window 24, 8 units" in tuned[0]
    assert "**" not in tuned[0]


@requires_tf
def test_training_leaves_stderr_empty() -> None:
    """TensorFlow's start-up lines (absl, oneDNN) do not reach the CLI's stderr."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "lstm_lab", "run", "--models", "lstm", "--epochs",
                           "1", "--units", "4"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[0] == "Passengers: 144 points, 120 train, 24 test, horizon 1"


def test_season_and_a_test_share_are_options_and_a_too_long_season_is_one_sentence(
        capsys) -> None:
    args = build_parser().parse_args(["run", "--season", "365", "--test-size", "0.2"])
    assert config_from_args(args) == ExperimentConfig(season=365, test_size=0.2)
    with pytest.raises(SystemExit) as info:
        main(["run", "--season", "100", *NAIVE])          # 144 points, 120 for training
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        "error: A season of 100 points cannot be seen in a training part of 120 points, which "
        "must hold it at least twice: set a season of 60 or less, or 0 to detect it.\n")


def test_a_set_season_and_a_share_reach_the_run(capsys) -> None:
    code = main(["run", "--dataset", "damped_sine", "--season", "20", "--test-size", "0.1",
                 "--json", *NAIVE])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["config"]["season"] == 20 and result["config"]["test_size"] == 0.1
    assert (result["n_points"], result["n_train"]) == (400, 360)     # the last 10% held out


def test_help_bounds_read_as_numbers_for_people(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(0.01 to 1,000,000; default: 24)" in out and "e+" not in out
    assert "0 detects it" in out and "e.g. 0.2 for the last 20%" in out
