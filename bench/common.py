"""Shared helpers for the benchmarks: the machine header, medians, tables, JSON, the app server
and the system Chromium.

Not a benchmark itself; imports only the standard library. Versions are read from package
metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

CHROMIUM = os.environ.get("LSTM_LAB_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1800}   # as tests/e2e: Streamlit scrolls inside its container
PACKAGES = ("streamlit", "tensorflow", "keras", "numpy", "pandas", "plotly", "playwright")


def version(package: str) -> str:
    for name in (package, f"{package}-cpu"):   # tensorflow ships as tensorflow-cpu here
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_header(**extra) -> dict:
    """CPU, cores, load average, memory, versions and date: printed above every table."""
    header = {"cpu": cpu_model(), "cores": os.cpu_count(), "load average": load_average(),
              "memory": f"{_mem_total_mb():,.0f} MB", "python": platform.python_version()}
    header.update({p: version(p) for p in PACKAGES})
    header["date"] = dt.datetime.now().isoformat(timespec="seconds")
    header.update(extra)
    return header


def print_header(title: str, header: dict) -> None:
    print(title)
    for key, value in header.items():
        print(f"  {key:<13} {value}")
    print()


def median(values: Sequence[float]) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if value != value else f"{value:,.{digits}f}"
    return str(value)


def print_table(columns: Sequence[str], rows: Sequence[Sequence], digits: int = 2) -> None:
    """A plain fixed-width table; the first column is left-aligned, the others right-aligned."""
    cells = [[fmt(v, digits) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(columns, widths)))
    print(line)
    print("-" * len(line))
    for r in cells:
        print(" | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths))))


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "NOT MET")


def write_json(path: str | None, data: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, default=str) + "\n")
        print(f"Wrote {path}")


# --- memory ------------------------------------------------------------------------------------

def _mem_total_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def rss_mb(pid: int | None = None) -> float:
    """Resident set size in MB (psutil when installed, else /proc/<pid>/status VmRSS)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        pass
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_tree_mb(pid: int) -> float:
    """RSS of a process and its children (Chromium is many processes), double-counting shared
    pages: an upper bound."""
    total = rss_mb(pid)
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError, ValueError):
                total += rss_tree_mb(int(child))
    return total


# --- the app server ----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Experiments, not the app: the same `streamlit run app.py`, started through a launcher that first
# changes the server process the way a suggested fix would, to measure what the fix buys.
#   gc-freeze:  import TensorFlow + Keras, then gc.freeze() everything alive, so the full
#               collections Streamlit runs after every script run (keras.backend.clear_session()'s
#               gc.collect() and runner.postScriptGC's gc.collect(2)) skip that heap;
#   no-keras-clear: also make Streamlit's post-run _clean_problem_modules() a no-op, so no
#               keras.backend.clear_session() (a gc.collect() and TF's clear_kernel_cache(),
#               which throws away the kernels of trainings running in other threads) runs after
#               every script run. (app.py now does this itself: lstm_lab/ui/entry.py.)
SERVER_VARIANTS = ("as-is", "gc-freeze", "gc-freeze+no-keras-clear")
_LAUNCHER = """
import gc, sys
import tensorflow, keras
gc.freeze()
if {no_clear}:
    from streamlit.runtime.scriptrunner import script_runner
    script_runner._clean_problem_modules = lambda: None
from streamlit.web import cli
sys.argv = ["streamlit", *sys.argv[1:]]
sys.exit(cli.main())
"""


def server_command(port: int, variant: str = "as-is") -> list[str]:
    args = ["run", "app.py", "--server.headless", "true", "--server.address", "127.0.0.1",
            "--server.port", str(port), "--server.fileWatcherType", "none"]
    if variant == "as-is":
        return [sys.executable, "-m", "streamlit", *args]
    if variant not in SERVER_VARIANTS:
        raise ValueError(f"unknown server variant {variant!r}; choose from {SERVER_VARIANTS}")
    launcher = _LAUNCHER.format(no_clear=variant.endswith("no-keras-clear"))
    return [sys.executable, "-c", launcher, *args]


def server_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def health_ok(base: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=timeout) as resp:
            return resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


class Server:
    """A running ``streamlit run app.py`` on a free loopback port."""

    def __init__(self, proc: subprocess.Popen, base: str, health_s: float, log: Path) -> None:
        self.proc, self.base, self.health_s, self.log = proc, base, health_s, log

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@contextlib.contextmanager
def run_server(log: Path, timeout: float = 90.0, poll: float = 0.02,
               env: dict[str, str] | None = None, variant: str = "as-is") -> Iterator[Server]:
    """Start the app; ``health_s`` is the time from Popen until /_stcore/health says "ok"."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(server_command(port, variant), cwd=ROOT, env=env or server_env(),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        while not health_ok(base, timeout=1.0):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}:\n"
                                   + Server(proc, base, 0, log).log_tail())
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"streamlit not healthy after {timeout} s:\n"
                                   + Server(proc, base, 0, log).log_tail())
            time.sleep(poll)
        yield Server(proc, base, time.perf_counter() - t0, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def chromium_available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def launch_kwargs() -> dict:
    """Keyword arguments for ``playwright.chromium.launch``: the system Chromium, headless."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}
