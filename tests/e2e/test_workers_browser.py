"""Training in worker processes, seen from the browser: the e2e server runs the real default.

The e2e server (tests/e2e/conftest.py, started as `make run` starts it) trains in a pool of worker processes unless
LSTM_LAB_IN_PROCESS=1 or LSTM_LAB_RAY_ADDRESS is set. Across that process boundary a student must
still see live progress and then the results, and Stop must still keep what was learned; and the
web process itself must never load TensorFlow (its memory stays small with a class on it), while
the workers that trained do.

The server's process is found by its port among this test process's children, and its memory map
(/proc/<pid>/maps) shows which native libraries it has loaded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_browser import (
    STOP_TIMEOUT_MS,
    TRAIN_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    title,
    train_button,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

TENSORFLOW_LIB = "libtensorflow_framework"   # TensorFlow's native core, mapped once it is imported
LIVE = "epochs=300&patience=0&models=lstm,naive"


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/<pid>/task/*/children)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        for kid in kids:
            out += [kid, *children(kid)]
    return list(dict.fromkeys(out))


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def server_pid(base_url: str) -> int:
    """The pid of the server (``python -m lstm_lab.ui.serve``, as `make run` starts it) serving
    ``base_url``: a child of this process."""
    port = str(urlparse(base_url).port)
    for pid in children(os.getpid()):
        args = cmdline(pid)
        if "lstm_lab.ui.serve" in args and port in args:
            return pid
    raise AssertionError(f"no LSTM Lab server on port {port} among this test's children")


def maps(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def loads_tensorflow(pid: int) -> bool:
    try:
        return TENSORFLOW_LIB in maps(pid)
    except OSError:      # the process ended meanwhile
        return False


def live_panel(page: Page):
    """The live panel of the running job (headline with its epoch count, progress, loss chart)."""
    return main(page).get_by_text(re.compile(r"epoch \d+ of at most \d+"))


def test_training_in_a_worker_shows_live_progress_then_results(page: Page,
                                                               server_url: str) -> None:
    pid = server_pid(server_url)
    # long enough (no early stop) for the live panel to be drawn several times; two models keep
    # the rest of the job short
    open_page(page, f"/train?{LIVE}")
    expect(title(page, "Train & compare")).to_be_visible()
    train_button(page).click()
    headline = live_panel(page).first
    expect(headline).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    first = int(re.search(r"epoch (\d+) of", headline.inner_text()).group(1))
    chart = main(page).get_by_test_id("stPlotlyChart").filter(has_text="Live loss")
    expect(chart.first).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    # the epochs counted in the worker keep arriving in the web process's panel, or the job
    # finished meanwhile (then the results are there)
    page.wait_for_function(
        """(first) => {
             const text = document.body.textContent;
             const m = text.match(/epoch (\\d+) of at most/);
             return text.includes('Test metrics') || (m && Number(m[1]) > first);
           }""", arg=first, timeout=TRAIN_TIMEOUT_MS)
    expect(page.get_by_text("Test metrics")).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    metrics = main(page).get_by_test_id("stMetric")
    expect(metrics).to_have_count(2)             # the LSTM and naive
    lstm = metrics.filter(has_text="LSTM")
    expect(lstm).to_have_count(1)
    value = lstm.get_by_test_id("stMetricValue").inner_text()     # "RMSE 14.6"
    assert re.fullmatch(r"RMSE [\d,.]+", value.strip()), value
    assert float(value.split()[1].replace(",", "")) > 0
    expect(main(page).get_by_test_id("stPlotlyChart").locator(".js-plotly-plot").first
           ).to_be_visible()
    expect(main(page).get_by_role("button", name="Stop")).to_have_count(0)
    # the trained LSTM downloads as .keras from the web process, which has no Keras
    expect(main(page).get_by_test_id("stDownloadButton").filter(has_text="(.keras)")
           ).to_have_count(1)
    wait_for_app(page)
    expect_no_exception(page)
    # the training ran in a worker process of the server: TensorFlow is loaded there, never in
    # the web process itself
    workers = [p for p in children(pid) if loads_tensorflow(p)]
    assert workers, (f"no process under the server (pid {pid}) has TensorFlow loaded: "
                     f"{[' '.join(cmdline(p)) for p in children(pid)]}")
    assert not loads_tensorflow(pid), "the web process loaded TensorFlow"


def test_stop_in_a_worker_keeps_what_was_learned(page: Page, server_url: str) -> None:
    open_page(page, "/train?epochs=5000&patience=0&models=lstm,naive")
    train_button(page).click()
    expect(live_panel(page).first).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    page.wait_for_timeout(1_500)          # a few epochs, so there is something to keep
    main(page).get_by_role("button", name="Stop").first.click()
    expect(page.get_by_text("Training was stopped early")).to_be_visible(timeout=STOP_TIMEOUT_MS)
    expect(page.get_by_text("Test metrics")).to_be_visible()
    expect(main(page).get_by_test_id("stMetric").first).to_be_visible()
    expect(main(page).get_by_role("button", name="Stop")).to_have_count(0)
    expect_no_exception(page)
    assert not loads_tensorflow(server_pid(server_url)), "the web process loaded TensorFlow"

