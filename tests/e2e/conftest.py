"""Real-browser fixtures: one server per session started as `make run` starts it (the launcher,
with its worker processes), Debian's Chromium.

The browser is never downloaded (no `playwright install`): Playwright drives the system Chromium
at /usr/bin/chromium, or the executable named by LSTM_LAB_CHROMIUM. When it is missing the tests
skip, except in CI (CI set) or when LSTM_LAB_REQUIRE_BROWSER=1, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
HEALTH_TIMEOUT_S = 60
VIEWPORT = {"width": 1400, "height": 1800}  # tall: Streamlit scrolls inside its own container


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _browser_required() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("LSTM_LAB_REQUIRE_BROWSER") == "1"


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable, or a skip (locally) / failure (CI) saying how to install it."""
    path = os.environ.get("LSTM_LAB_CHROMIUM") or DEFAULT_CHROMIUM
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    reason = (f"Chromium not found at {path}: install it with `apt-get install chromium` "
              "(or point LSTM_LAB_CHROMIUM at a Chromium executable)")
    if _browser_required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("streamlit") / "server.log"


@contextlib.contextmanager
def run_server(log_path: Path) -> Iterator[str]:
    """Start the app on a free loopback port, wait for /_stcore/health, yield its base URL."""
    port = _free_port()
    # No file watcher: it would watch the whole checkout (.venv included) and overflow inotify
    # while other processes write files; no usage statistics from a test run.
    env = {**{k: v for k, v in os.environ.items() if k != "LSTM_LAB_IN_PROCESS"},  # workers
           "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lstm_lab.ui.serve", "--server.headless", "true",  # make run
             "--server.address", "127.0.0.1", "--server.port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {proc.returncode} before becoming "
                            f"healthy:\n{_log_tail(log_path)}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit was not healthy after {HEALTH_TIMEOUT_S} s:\n"
                            f"{_log_tail(log_path)}", pytrace=False)
            time.sleep(0.25)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def server_url(server_log: Path) -> Iterator[str]:
    """The app server shared by the whole session."""
    with run_server(server_log) as base:
        yield base


@pytest.fixture
def fresh_server_url(tmp_path: Path) -> Iterator[str]:
    """A server of its own that no session has visited yet (for first-visit behaviour)."""
    with run_server(tmp_path / "server.log") as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                     args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def new_page(browser, base_url: str):
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser, server_url: str, server_log: Path, request: pytest.FixtureRequest):
    """A fresh browser context (so a fresh Streamlit session) per test, with a tall viewport.

    When the test fails, the server log's tail is printed: tracebacks are redacted in the page.
    """
    with new_page(browser, server_url) as page:
        yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(f"--- streamlit server log (tail) ---\n{_log_tail(server_log, 60)}")


@pytest.fixture
def fresh_page(browser, fresh_server_url: str):
    """A page on a server of its own, which no other session has visited yet."""
    with new_page(browser, fresh_server_url) as page:
        yield page
