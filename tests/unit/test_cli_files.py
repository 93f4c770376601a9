"""The CLI over real and hostile files: a table for good files, exit 2 and one error line else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lstm_lab.cli.main import main
from tests.unit.test_csv_reader import REFUSED

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BASELINES = ["--models", "naive,seasonal_naive"]


@pytest.mark.parametrize(("path", "extra", "first_line"), [
    ("quirky/airline-passengers_mon-yy_footer.csv", [],
     "passengers: 144 points, 120 train, 24 test"),
    ("quirky/daily-min-temperatures_semicolon_qmarks_footer.csv", [],
     "Daily minimum temperatures in Melbourne, Australia, 1981-1990: 3650 points"),
    ("shampoo.csv", ["--test-size", "6"], "Sales: 36 points, 30 train, 6 test"),
    ("macrodata_statsmodels.csv", ["--column", "realgdp"], "realgdp: 203 points"),
])
def test_real_files_run_from_the_cli(path: str, extra: list[str], first_line: str,
                                     capsys) -> None:
    assert main(["run", "--dataset", str(DATA / path), *BASELINES, *extra]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(first_line)
    assert "Seasonal naive" in out


# the loader's refusals whose options the CLI has flags for (policies and limits are not flags)
CLI_REFUSED = [case for case in REFUSED if set(case[2]) <= {"column", "date_column"}]


@pytest.mark.parametrize(("raw", "options", "fragment"), [case[1:] for case in CLI_REFUSED],
                         ids=[case[0] for case in CLI_REFUSED])
def test_refused_files_exit_2_with_one_error_line(raw: bytes, options: dict, fragment: str,
                                                  tmp_path: Path, capsys) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(raw)
    args = ["run", "--dataset", str(path), *BASELINES]
    for key, flag in (("column", "--column"), ("date_column", "--date-column")):
        if key in options:
            args += [flag, options[key]]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert fragment in err


def test_limits_apply_through_the_cli_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("v\n" + "\n".join(str(i % 7) for i in range(200)) + "\n")
    out = subprocess.run([sys.executable, "-m", "lstm_lab", "run", "--dataset", str(path),
                          *BASELINES], capture_output=True, text=True, cwd=ROOT,
                         env={"LSTM_LAB_MAX_ROWS": "100", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ") and "LSTM_LAB_MAX_ROWS" in out.stderr
