"""A real-browser journey through the run store: train two runs, compare them in History, see
two loss curves. The server is started for this module only, with a database of its own
(``LSTM_LAB_DB``), so no test writes into ``runs/``.

Needs the wiring: the History page in app.py's navigation and the Train page saving its runs.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lstm_lab.store import RunStore
from tests.e2e.conftest import new_page, run_server
from tests.e2e.test_browser import (
    APP_TIMEOUT_MS,
    TRAIN_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    title,
    train_button,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Two quick LSTM runs: 3 epochs, 4 units, no validation share (one loss curve per run).
QUICK = "epochs=3&units=4&patience=0&validation_fraction=0&models=lstm,naive"
# This module's server is fresh: its first training also imports TensorFlow.
FIRST_TRAIN_TIMEOUT_MS = 2 * TRAIN_TIMEOUT_MS


@pytest.fixture(scope="module")
def store_server(browser, tmp_path_factory):
    """A server of its own with an empty run database; yields (base URL, database path)."""
    folder = tmp_path_factory.mktemp("store_server")
    db = folder / "runs.sqlite3"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LSTM_LAB_DB", str(db))
        with run_server(folder / "server.log") as base:
            yield base, db


@pytest.fixture
def store_page(browser, store_server):
    base, _ = store_server
    with new_page(browser, base) as page:
        yield page


def _wait_for_runs(db: Path, count: int, timeout_s: float = TRAIN_TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if db.exists() and len(RunStore(db).list_runs(None)) >= count:
            return
        time.sleep(0.25)
    raise AssertionError(f"{count} runs were not saved within {timeout_s:.0f} s")


def _pick(page: Page, label: str, option: re.Pattern) -> None:
    box = page.get_by_test_id("stMultiSelect").filter(has_text=label)
    box.click()
    page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")
    wait_for_app(page)


def test_train_two_runs_then_compare_their_loss_curves(store_page: Page, store_server) -> None:
    page, (_, db) = store_page, store_server
    open_page(page, "/")                      # a fresh server: let app.py register its pages
    open_page(page, f"/train?{QUICK}")
    expect(title(page, "Train & compare")).to_be_visible()

    train_button(page).click()                # run 1: seed 0
    expect(main(page).get_by_test_id("stMetric")).to_have_count(2,
                                                                timeout=FIRST_TRAIN_TIMEOUT_MS)
    _wait_for_runs(db, 1)
    expect(main(page).get_by_role("button", name="Stop")).to_have_count(0)
    wait_for_app(page)

    page.get_by_text("Training settings").click()   # run 2: the same with seed 1
    seed = page.get_by_test_id("stNumberInput").filter(has_text="Seed").locator("input")
    seed.fill("1")
    seed.press("Tab")
    train_button(page).click()
    _wait_for_runs(db, 2)
    # The live panel notices the end of the job on its next poll and reruns the page; leave the
    # page only after that, or the rerun can swallow the click on the sidebar link.
    expect(main(page).get_by_role("button", name="Stop")).to_have_count(0,
                                                                      timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    expect_no_exception(page)

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="History").click()
    expect(title(page, "History")).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_text("2 of 2 runs")).to_be_visible()
    _pick(page, "Runs to compare", re.compile(r"^#1 · "))
    _pick(page, "Runs to compare", re.compile(r"^#2 · "))
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible(
        timeout=APP_TIMEOUT_MS)

    charts = main(page).get_by_test_id("stPlotlyChart")
    losses = charts.filter(has_text="LSTM loss curves, run by run")
    expect(losses).to_have_count(1, timeout=APP_TIMEOUT_MS)
    expect(losses.locator(".scatterlayer .trace")).to_have_count(2)     # two curves
    expect(losses).to_contain_text("#1 train")
    expect(losses).to_contain_text("#2 train")
    forecasts = charts.filter(has_text="LSTM forecasts of the test part")
    expect(forecasts.locator(".scatterlayer .trace")).to_have_count(3)  # actual + 2 runs
    expect(main(page).get_by_test_id("stDataFrame").filter(has_text="seed")).not_to_have_count(0)
    expect_no_exception(page)
