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
    modules = ["lstm_lab", "lstm_lab.experiments.config", "lstm_lab.data.series", "lstm_lab.data.datasets",
               "lstm_lab.data.windows", "lstm_lab.models.neural", "lstm_lab.models.registry", "lstm_lab.models.fitting", "lstm_lab.models.networks",
               "lstm_lab.experiments.metrics", "lstm_lab.experiments.training", "lstm_lab.experiments.export", "lstm_lab.cli.main"]
    if (PACKAGE / "experiments" / "plots.py").exists():
        modules.append("lstm_lab.experiments.plots")
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
    assert PACKAGE / "experiments" / "training.py" in core and len(core) >= 10
    offenders = [str(p.relative_to(ROOT)) for p in core
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_pattern_catches_streamlit_imports_only() -> None:
    pattern = re.compile(r"^\s*(import\s+streamlit|from\s+streamlit)\b", re.MULTILINE)
    assert pattern.search("x = 1\nimport streamlit as st\n")
    assert pattern.search("def f():\n    from streamlit import session_state\n")
    assert not pattern.search('"""Never imports streamlit."""\n')


# --- the floors of the house: a lower package never imports a higher one, and no circles -------
FLOORS = {"errors": 0, "limits": 0, "version": 0, "data": 1, "models": 2, "experiments": 3, "store": 4,
          "lessons": 5, "cli": 6, "ui": 6}


def _imports() -> dict[str, set[str]]:
    """Every lstm_lab module -> the lstm_lab modules it imports (at the top or inside functions;
    ``TYPE_CHECKING`` blocks are skipped: they run no code)."""
    import ast

    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
        found = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found |= {n for n in names if n.startswith("lstm_lab")}
        graph[module] = found
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 else None


def test_no_package_imports_a_higher_floor() -> None:
    upward = sorted(f"{m} -> {d}" for m, deps in _imports().items() for d in deps
                    if _floor(m) is not None and _floor(d) is not None
                    and _floor(d) > _floor(m))
    assert upward == []


def test_the_modules_import_each_other_in_no_circle() -> None:
    graph = _imports()
    faces = {m for m in graph if m.count(".") <= 1 and (PACKAGE / "/".join(
        m.split(".")[1:]) / "__init__.py").exists()} | {"lstm_lab"}
    graph = {m: deps - faces for m, deps in graph.items() if m not in faces}
    circles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                circles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []
