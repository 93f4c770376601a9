"""A local Ray head for the integration tests: one node on 127.0.0.1 with 2 CPUs.

Started once per test session with ``ray start --head`` (its workers import lstm_lab through
PYTHONPATH and have the fault drills), in a process group of its own that is ended -- that
group only, never every Ray process of the machine as ``ray stop`` would -- when the session
ends. Without Ray installed the tests that use it FAIL, saying how to install it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).with_name("ray")
CPUS = 2
CLIENT_PORTS: dict[str, int] = {}       # head address -> its Ray Client server's port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.fail("Ray is not installed in this environment: install the test requirements "
                    "(.venv/bin/pip install -r requirements-dev.txt, which pins ray==2.60.0).",
                    pytrace=False)
    if not RAY.exists():
        pytest.fail(f"Ray's command line is missing ({RAY}): reinstall ray==2.60.0 from "
                    "requirements-dev.txt.", pytrace=False)


def _end_group(pgid: int) -> None:
    """End the head's process group (the processes this fixture started), then wait."""
    for sig, pause in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 1.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + pause
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def _end_strays(temp: str) -> None:
    """Kill, by pid, the head's worker processes that outlive it (Ray gives each worker a
    process group of its own): those whose command line names this head's temporary folder."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if temp in cmd:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


@pytest.fixture(scope="session")
def ray_head() -> str:
    """The address ("127.0.0.1:<port>") of a running local head; ended after the session."""
    _require_ray()
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")     # short: Ray's socket paths are capped
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                      os.environ.get("PYTHONPATH")])),
           "LSTM_LAB_FAULT_DRILLS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "RAY_USAGE_STATS_ENABLED": "0"}
    client_port = _free_port()
    command = [str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
               f"--num-cpus={CPUS}", "--include-dashboard=false", "--disable-usage-stats",
               f"--temp-dir={temp}", f"--ray-client-server-port={client_port}",
               f"--dashboard-port={_free_port()}", f"--dashboard-agent-listen-port={_free_port()}",
               f"--min-worker-port={20000}", f"--max-worker-port={29999}"]
    started = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output, _ = started.communicate(timeout=120)
    pgid = started.pid
    try:
        if started.returncode != 0:
            pytest.fail(f"`ray start --head` failed (exit {started.returncode}):\n{output[-3000:]}",
                        pytrace=False)
        CLIENT_PORTS[f"127.0.0.1:{port}"] = client_port
        yield f"127.0.0.1:{port}"
    finally:
        import ray

        with contextlib.suppress(Exception):
            ray.shutdown()
        _end_group(pgid)
        _end_strays(temp)
        for _ in range(3):          # workers that outlive the head may still write their logs
            shutil.rmtree(temp, ignore_errors=True)
            if not os.path.exists(temp):
                break
            time.sleep(1.0)


@pytest.fixture(scope="session")
def ray_client_address(ray_head) -> str:
    """The head's Ray Client address, ``ray://127.0.0.1:<port>``."""
    return f"ray://127.0.0.1:{CLIENT_PORTS[ray_head]}"


@pytest.fixture(scope="session")
def ray_backend(ray_head):
    """One RayBackend on the local head for the whole session (no warm-up: TensorFlow loads
    with each fresh worker's first network job)."""
    from lstm_lab.execution.ray_backend import RayBackend

    backend = RayBackend(ray_head, warm_up=False)
    yield backend
    backend.close()
