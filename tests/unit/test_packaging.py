"""The wheel a server installs holds every package and the data the app reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_every_package_and_the_bundled_data(tmp_path) -> None:
    source = tmp_path / "src"          # a copy: building writes build/ and *.egg-info beside it
    shutil.copytree(ROOT / "lstm_lab", source / "lstm_lab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(tmp_path)],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = tmp_path.glob("lstm_lab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {p.parent.relative_to(ROOT).as_posix()
                for p in (ROOT / "lstm_lab").rglob("__init__.py")}
    missing = sorted(p for p in packages if f"{p}/__init__.py" not in names)
    assert not missing, f"packages left out of the wheel: {missing}"
    assert "lstm_lab/execution/worker.py" in names          # the workers' entry point
    assert "lstm_lab/data/airline-passengers.csv" in names
    assert "lstm_lab/data/PROVENANCE.md" in names
    gallery = {p.name for p in (ROOT / "lstm_lab" / "data" / "gallery").glob("*.csv")}
    assert gallery and {f"lstm_lab/data/gallery/{name}" for name in gallery} <= names
