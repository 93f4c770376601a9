"""The core never imports Streamlit, and importing it does not load TensorFlow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "lstm_lab"
HEAVY = ("streamlit", "tensorflow", "keras")


def test_importing_the_core_loads_neither_streamlit_nor_tensorflow() -> None:
    modules = ["lstm_lab", "lstm_lab.config", "lstm_lab.series", "lstm_lab.datasets",
               "lstm_lab.windows", "lstm_lab.forecasters", "lstm_lab.fitting", "lstm_lab.models",
               "lstm_lab.metrics", "lstm_lab.training", "lstm_lab.export", "lstm_lab.cli"]
    if (PACKAGE / "plots.py").exists():
        modules.append("lstm_lab.plots")
    script = (f"import importlib, json, sys\n"
              f"for name in {modules!r}:\n"
              f"    importlib.import_module(name)\n"
              f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {"streamlit": False, "tensorflow": False, "keras": False}


def test_no_core_file_imports_streamlit() -> None:
    pattern = re.compile(r"^\s*(import\s+streamlit|from\s+streamlit)\b", re.MULTILINE)
    ui = PACKAGE / "ui"
    core = [p for p in PACKAGE.rglob("*.py") if ui not in p.parents]
    assert PACKAGE / "training.py" in core and len(core) >= 10
    offenders = [str(p.relative_to(ROOT)) for p in core
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_pattern_catches_streamlit_imports_only() -> None:
    pattern = re.compile(r"^\s*(import\s+streamlit|from\s+streamlit)\b", re.MULTILINE)
    assert pattern.search("x = 1\nimport streamlit as st\n")
    assert pattern.search("def f():\n    from streamlit import session_state\n")
    assert not pattern.search('"""Never imports streamlit."""\n')
