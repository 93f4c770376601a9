"""``python -m lstm_lab runs ...`` and ``sweep ...``: the run store on the command line.

In-process tests build the parser as ``lstm_lab.cli.main`` does (``lstm_lab.cli.args``) and
run the commands' handler; the subprocess tests go through ``python -m lstm_lab runs ...``.
Sweeps use the naive models (no TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_lab.cli import runs as cli_store
from lstm_lab.cli.args import add_commands, build_parser
from lstm_lab.errors import LabError
from lstm_lab.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
NAIVE = ["--models", "naive,seasonal_naive"]


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))





def _parser() -> argparse.ArgumentParser:
    parser = build_parser()
    sub = _subcommands(parser)
    if "runs" not in sub.choices:
        add_commands(sub)
    return parser


def lab(*argv: str) -> int:
    return cli_store.handle(_parser().parse_args(list(argv)))


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.sqlite3"
    monkeypatch.setenv("LSTM_LAB_DB", str(path))
    return path


@pytest.fixture
def swept(db, capsys) -> dict:
    """A 2 x 2 sweep on the airline data, saved to the test database."""
    assert lab("sweep", "--window", "6,12", "--seed", "0,1", *NAIVE, "--json") == 0
    out = capsys.readouterr()
    return json.loads(out.out)


def test_sweep_trains_the_grid_saves_every_run_and_names_the_best(db, capsys) -> None:
    assert lab("sweep", "--window", "6,12", "--horizon", "1,3", "--epochs", "5", *NAIVE) == 0
    out, err = capsys.readouterr()
    assert "Passengers: sweep of 2 × 2 = 4 runs" in err
    assert "run 1 of 4: window=6, horizon=1" in err and "run 4 of 4: window=12, horizon=3" in err
    assert "RMSE Naive (last value)" in out and "RMSE Seasonal naive" in out
    assert "best: window=" in out and "runs show" in out
    runs = RunStore(db).list_runs(None)
    assert len(runs) == 4 and {s.owner for s in runs} == {"cli"} and len({s.sweep for s in runs}) == 1
    assert {(s.config.window, s.config.horizon, s.config.epochs) for s in runs} == {
        (6, 1, 5), (6, 3, 5), (12, 1, 5), (12, 3, 5)}


def test_sweep_with_seeds_per_setting_reports_each_setting_over_its_seeds(db, capsys) -> None:
    assert lab("sweep", "--window", "6,12", "--seed", "3", "--seeds-per-setting", "2",
               *NAIVE) == 0
    out, err = capsys.readouterr()
    assert "sweep of 2 = 2 settings × 2 seeds = 4 runs" in err
    runs = RunStore(db).list_runs(None)
    assert sorted((s.config.window, s.config.seed) for s in runs) == [
        (6, 3), (6, 4), (12, 3), (12, 4)]
    # naive forecasts ignore the seed and the window: no noise, both settings tie with the best
    assert "Per setting, over seeds (seed noise: RMSE sd 0;" in out
    lines = out.split("Per setting, over seeds")[1].splitlines()
    assert any("★ best" in line for line in lines) and any("≈ best" in line for line in lines)
    assert lab("sweep", "--window", "6,12", "--seeds-per-setting", "2", "--json", *NAIVE) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["n"] for row in report["settings"]] == [2, 2]
    assert report["seed_noise"] == 0


def test_sweep_refuses_too_many_seeds_per_setting(db) -> None:
    with pytest.raises(LabError, match="Seeds per setting must be a whole number from 1 to 5"):
        lab("sweep", "--window", "6,12", "--seeds-per-setting", "9", *NAIVE)


def test_sweep_json_lists_every_run(swept) -> None:
    assert swept["grid"] == {"window": [6, 12], "seed": [0, 1]}
    assert [r["status"] for r in swept["runs"]] == ["done"] * 4
    assert swept["best"]["run_id"] in [r["run_id"] for r in swept["runs"]]


def test_sweep_dry_run_shows_the_plan_and_trains_nothing(db, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_WORK", "2000000")
    assert lab("sweep", "--window", "6,12,24", "--layers", "1,2,3", "--units", "16,32,64",
               "--models", "lstm", "--epochs", "20", "--dry-run") == 0
    out, err = capsys.readouterr()
    assert "3 × 3 × 3 = 27 runs;" in err and "over the compute budget or size cap will be skipped" in err
    assert "skip window=24, layers=3, units=64 (over budget): This run is too big" in err
    assert out.splitlines()[0].split() == ["window", "layers", "units", "status", "work"]
    assert len(out.splitlines()) == 28
    assert not db.exists() or RunStore(db).list_runs(None) == []


def test_strict_refuses_a_sweep_with_configs_over_the_budget(db, monkeypatch) -> None:
    monkeypatch.setenv("LSTM_LAB_MAX_WORK", "2000000")
    with pytest.raises(LabError, match="cannot run.*without --strict they are skipped"):
        lab("sweep", "--units", "16,512", "--models", "lstm", "--epochs", "20", "--strict")


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--window", "12", *NAIVE], "at least one setting with several"),
    (["sweep", "--sine-length", "40,50", *NAIVE], "`sine_length` cannot be swept"),
    (["sweep", "--window", "6,x", *NAIVE], "`window` values must be numbers"),
    (["sweep", "--window", "6,600", *NAIVE], "`window` must be between 1 and 512"),
    (["sweep", "--window", "6,12", "--models", "lstm", "--epochs", "5000", "--units", "1024",
      "--layers", "8"], "None of the 2 configurations can run"),
    (["runs", "show", "99"], "There is no run #99."),
    (["runs", "show", "abc"], "A run id is a whole number"),
    (["runs", "delete", "7"], "There is no run #7."),
    (["runs", "import", "/nonexistent/runs.json"], "No such file or directory"),
    (["runs", "list", "--limit", "0"], "--limit takes a whole number >= 1"),
])
def test_mistakes_raise_one_readable_lab_error(db, argv, message) -> None:
    with pytest.raises(LabError, match=message.replace("(", r"\(").replace(".", r"\.")):
        lab(*argv)


def test_runs_list_and_show(swept, capsys) -> None:
    assert lab("runs", "list") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["id", "when", "series", "dataset"]
    assert len(lines) == 5 and "RMSE Naive (last value)" in lines[0]
    assert lab("runs", "list", "--json", "--sweep", swept["sweep_id"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 4 and {r["owner"] for r in listed} == {"cli"}
    run_id = swept["best"]["run_id"]
    assert lab("runs", "show", str(run_id)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"run #{run_id} · ")
    assert "Seasonal naive" in out and '"window":' in out and "versions: lstm_lab" in out
    assert lab("runs", "show", f"#{run_id}", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == run_id and shown["metrics"] == swept["best"]["metrics"]


def test_the_sweep_help_names_every_sweepable_setting() -> None:
    from lstm_lab.experiments.sweep import SWEEP_FIELDS

    description = _subcommands(_parser()).choices["sweep"].description
    for name in SWEEP_FIELDS:
        assert f"--{name.replace('_', '-')}" in description


def test_sweep_takes_every_option_of_run_and_keeps_commas_in_text_options(db, capsys) -> None:
    from lstm_lab.experiments.sweep import SWEEP_FIELDS

    run = _subcommands(_parser()).choices["run"]
    sweep = _subcommands(_parser()).choices["sweep"]
    skipped = {"-h", "--help", "--json", "--out", "--backtest", "--no-refit", "--future"}
    run_flags = {o for a in run._actions for o in a.option_strings} - skipped
    assert run_flags <= {o for a in sweep._actions for o in a.option_strings}
    text = [f"--{f.replace('_', '-')}" for f in SWEEP_FIELDS if f in ("transform", "architecture")]
    argv = ["sweep", "--seed", "0,1", "--models", "naive,seasonal_naive", "--dry-run"]
    for flag in text:                       # choice options are swept too
        argv += [flag, {"--transform": "none,log", "--architecture": "lstm,gru"}[flag]]
    assert lab(*argv) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[-2:] == ["status", "work"]
    assert set(header[:-2]) == {"seed", *(f[2:] for f in text)}   # not `models`


def test_runs_list_says_when_the_store_is_empty(db, capsys) -> None:
    assert lab("runs", "list") == 0
    assert "No saved runs yet" in capsys.readouterr().out


def test_export_then_import_round_trip(swept, tmp_path, capsys) -> None:
    ids = [str(r["run_id"]) for r in swept["runs"][:2]]
    out = tmp_path / "out" / "two.json"
    assert lab("runs", "export", *ids, "--out", str(out)) == 0
    assert "wrote 2 runs" in capsys.readouterr().err
    assert len(json.loads(out.read_text())["runs"]) == 2
    other = tmp_path / "other.sqlite3"
    assert lab("runs", "import", str(out), "--db", str(other), "--owner", "f" * 32) == 0
    assert "imported 2 runs (#1, #2)" in capsys.readouterr().out
    assert lab("runs", "import", str(out), "--db", str(other), "--owner", "f" * 32) == 0
    assert "imported 0 runs (none); 2 already in the store" in capsys.readouterr().out
    copies = RunStore(other).list_runs("f" * 32)
    assert sorted(s.config.window for s in copies) == sorted(
        r["window"] for r in swept["runs"][:2])


def test_export_csv_and_every_run_by_default(swept, tmp_path, capsys) -> None:
    out = tmp_path / "all.csv"
    assert lab("runs", "export", "--out", str(out)) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith("id,when,series,dataset,")
    assert not list(tmp_path.glob(".all.csv.*.tmp"))       # written atomically


def test_share_and_delete(swept, db, capsys) -> None:
    first, second = (r["run_id"] for r in swept["runs"][:2])
    assert lab("runs", "share", str(first)) == 0
    assert [s.id for s in RunStore(db).list_runs("e" * 32)] == [first]
    assert lab("runs", "share", str(first), "--off") == 0
    assert RunStore(db).list_runs("e" * 32) == []
    assert lab("runs", "delete", str(first), str(second)) == 0
    assert "deleted 2 runs" in capsys.readouterr().out
    assert len(RunStore(db).list_runs(None)) == 2


def test_sweep_shared_runs_are_visible_to_every_session(db, capsys) -> None:
    assert lab("sweep", "--seed", "0,1", *NAIVE, "--shared", "--owner", "teacher") == 0
    assert len(RunStore(db).list_runs("d" * 32)) == 2


# --- through `python -m lstm_lab` (needs lstm_lab/cli/main.py wiring) ------------------------------

def _python_m(*argv: str, db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "LSTM_LAB_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "lstm_lab", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_python_m_sweep_then_runs_list_show_export(tmp_path) -> None:
    db = tmp_path / "runs.sqlite3"
    done = _python_m("sweep", "--window", "6,12", *NAIVE, db=db)
    assert done.returncode == 0, done.stderr
    assert "best: window=" in done.stdout
    listed = _python_m("runs", "list", db=db)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 3
    shown = _python_m("runs", "show", "1", db=db)
    assert shown.returncode == 0 and shown.stdout.startswith("run #1 · ")
    out = tmp_path / "runs.json"
    exported = _python_m("runs", "export", "1", "2", "--out", str(out), db=db)
    assert exported.returncode == 0 and len(json.loads(out.read_text())["runs"]) == 2


def test_python_m_mistakes_exit_2_with_one_error_line(tmp_path) -> None:
    db = tmp_path / "runs.sqlite3"
    for argv, message in ((["runs", "show", "5"], "error: There is no run #5."),
                          (["sweep", "--window", "6", *NAIVE], "error: A sweep needs"),
                          (["runs", "frobnicate"], "error: argument ACTION: invalid choice")):
        done = _python_m(*argv, db=db)
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr.startswith(message), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


# --- shared-server safety (issue 13) -------------------------------------------------------------

def test_export_does_not_write_through_a_planted_temporary_file(swept, tmp_path) -> None:
    """The old temporary name was `.NAME.PID.tmp`: a link planted there redirected the write."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "runs.json"
    (tmp_path / f".runs.json.{os.getpid()}.tmp").symlink_to(victim)
    assert lab("runs", "export", "--out", str(out)) == 0
    assert victim.read_text() == "keep me"
    assert len(json.loads(out.read_text())["runs"]) == 4
    assert not out.is_symlink()


def test_runs_key_prints_a_signed_key_the_store_accepts(db, capsys) -> None:
    assert lab("runs", "key", "f" * 32) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("f" * 32 + "-") and RunStore(db).owner_from_key(key) == "f" * 32
    assert lab("runs", "key") == 0
    fresh = capsys.readouterr().out.strip()
    assert len(fresh) == 65 and not fresh.startswith("f" * 32)
    with pytest.raises(LabError, match="have a history key"):
        lab("runs", "key", "Mr Smith")


def test_store_errors_name_the_database_path_on_the_command_line(tmp_path) -> None:
    bad = tmp_path / "junk.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(LabError, match=f"not a readable LSTM Lab run database.*run store: "
                                       f"{bad}"):
        lab("runs", "list", "--db", str(bad))


def _deep_file(tmp_path: Path) -> Path:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def test_a_deep_json_import_is_one_readable_error(db, tmp_path) -> None:
    with pytest.raises(LabError, match="nests lists or objects more than 32 levels deep"):
        lab("runs", "import", str(_deep_file(tmp_path)))


def test_an_import_over_the_size_limit_is_refused_before_reading(db, tmp_path,
                                                                 monkeypatch) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (2 * 2**20))
    monkeypatch.setenv("LSTM_LAB_MAX_UPLOAD_MB", "1")
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read the whole file"))
    with pytest.raises(LabError, match=r"2\.0 MiB; the limit is 1 MiB \(LSTM_LAB_MAX_UPLOAD_MB\)"):
        lab("runs", "import", str(path))


def test_python_m_import_of_hostile_files_exits_2_with_one_line(tmp_path, swept, db) -> None:
    out = tmp_path / "runs.json"
    assert lab("runs", "export", "--out", str(out)) == 0
    doc = json.loads(out.read_text())
    doc["runs"][0]["created_at"] = 1e12
    dated = tmp_path / "dated.json"
    dated.write_text(json.dumps(doc))
    doc["runs"][0]["created_at"] = 1.7e9
    doc["runs"][0]["result"]["transform"] = "warp"
    warped = tmp_path / "warped.json"
    warped.write_text(json.dumps(doc))
    for path, message in ((_deep_file(tmp_path), "error: The runs file nests lists or objects"),
                          (dated, "error: Run 1 of the file cannot be imported: created_at must "
                                  "be a date between 2000-01-01 and tomorrow"),
                          (warped, "error: Run 1 of the file cannot be imported: unknown "
                                   "transform 'warp'")):
        done = _python_m("runs", "import", str(path), db=tmp_path / "fresh.sqlite3")
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(message), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr


def test_an_import_over_the_prediction_points_limit_is_one_readable_error(
        swept, tmp_path, monkeypatch) -> None:
    out = tmp_path / "runs.json"
    assert lab("runs", "export", "--out", str(out)) == 0
    monkeypatch.setenv("LSTM_LAB_MAX_IMPORT_POINTS", "10")
    with pytest.raises(LabError, match=r"prediction points; one import takes at most 10 in all "
                                       r"its runs together \(LSTM_LAB_MAX_IMPORT_POINTS\)"):
        lab("runs", "import", str(out), "--db", str(tmp_path / "fresh.sqlite3"))
