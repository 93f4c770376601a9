"""The Sweep and History pages in Chromium (#17): a sweep with two seeds per setting shows its
seed noise (cells "mean ± spread", "≈ best", one hue); History compares runs on two different
series with a warning naming them and one panel per series; every table fits inside the page at
1400 x 1000 and at a laptop's 1280 x 720 (screenshots of both in the screenshots folder).

The server is this module's own, with a database of its own (``LSTM_LAB_DB``) holding two runs
shared with the class on different data. Naive models only: no TensorFlow, quick sweeps.
Without Chromium these tests fail (they never skip).
"""

from __future__ import annotations

import io
import os
import re
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.training import run_experiment
from lstm_lab.store import RunStore
from tests.conftest import FAST, make_tiny_series
from tests.e2e.conftest import DEFAULT_CHROMIUM, new_page, run_server
from tests.e2e.test_browser import (
    APP_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    save_screenshot,
    title,
    wait_for_app,
)
from tests.e2e.test_history_browser import _pick

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1400, "height": 1000}, "laptop": {"width": 1280, "height": 720}}
NAIVE = "models=naive,seasonal_naive"
SHARER = "9" * 32


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """This module's browser tests fail, never skip, without Chromium."""
    path = os.environ.get("LSTM_LAB_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: install it with `apt-get install chromium` "
                    "(or point LSTM_LAB_CHROMIUM at a Chromium executable)", pytrace=False)
    return path


def _shared_runs(db: Path) -> list[int]:
    """Two naive runs shared with the class: one on 'passengers' (hundreds), one on 'car
    sales' (thousands)."""
    store = RunStore(db)
    cfg = ExperimentConfig(window=4, test_size=6, models=("naive", "seasonal_naive"), **FAST)
    small = make_tiny_series(make_tiny_series().values * 10, name="passengers")
    large = make_tiny_series(make_tiny_series().values * 400 + 5000, name="car sales")
    return [store.save_run(run_experiment(cfg, series), SHARER, shared=True)
            for series in (small, large)]


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    """A server of its own; yields (base URL, database path, the shared runs' ids)."""
    folder = tmp_path_factory.mktemp("sweep_history_server")
    db = folder / "runs.sqlite3"
    ids = _shared_runs(db)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LSTM_LAB_DB", str(db))
        with run_server(folder / "server.log") as base:
            yield base, db, ids


@pytest.fixture
def tab(browser, server):
    with new_page(browser, server[0]) as page:
        yield page


def _sidebar_to(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    expect(title(page, name)).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)


def _tables_fit(page: Page) -> int:
    """Every table's right edge inside the main column (a wide one scrolls inside itself);
    returns how many tables were measured."""
    page.wait_for_timeout(300)   # layout settles after a rerun
    column = main(page).get_by_test_id("stMainBlockContainer").bounding_box()
    tables = main(page).get_by_test_id("stDataFrame")
    for i in range(tables.count()):
        expect(tables.nth(i)).to_be_visible(timeout=APP_TIMEOUT_MS)
        box = tables.nth(i).bounding_box()
        assert box is not None and box["width"] > 0
        assert box["x"] >= column["x"] - 1, (i, box, column)
        assert box["x"] + box["width"] <= column["x"] + column["width"] + 1, (i, box, column)
    return tables.count()


def _at_both_sizes(page: Page, name: str, show) -> None:
    """Screenshots at 1400 x 1000 and 1280 x 720 with ``show`` scrolled into view, the tables
    measured at each."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        wait_for_app(page)
        assert _tables_fit(page) >= 1
        show.scroll_into_view_if_needed()
        save_screenshot(page, f"{name}_{size}.png")


def test_history_compares_two_series_with_a_warning_and_a_panel_each(tab: Page,
                                                                     server) -> None:
    page, (_, _, ids) = tab, server
    open_page(page, "/")
    _sidebar_to(page, "History")
    runs = main(page).get_by_test_id("stDataFrame").first
    expect(runs).to_be_visible(timeout=APP_TIMEOUT_MS)     # its code loads on first use
    expect(runs).to_contain_text("architecture", timeout=APP_TIMEOUT_MS)
    _pick(page, "Runs to compare", re.compile(rf"^#{ids[0]} · passengers"))
    expect(page.get_by_role("heading", name="Comparing 1 run")).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    expect(main(page).get_by_test_id("stPlotlyChart").first).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    _pick(page, "Runs to compare", re.compile(rf"^#{ids[1]} · car sales"))
    expect(page.get_by_role("heading", name="Comparing 2 runs")).to_be_visible(
        timeout=APP_TIMEOUT_MS)
    warning = main(page).get_by_test_id("stAlert").filter(has_text="different data")
    expect(warning).to_contain_text(f"These runs use different data: passengers (#{ids[0]}); "
                                    f"car sales (#{ids[1]}).")
    forecasts = main(page).get_by_test_id("stPlotlyChart").filter(
        has_text="forecasts of the test part")
    expect(forecasts).to_contain_text("2 data sets, one panel each")
    expect(forecasts.locator(".cartesianlayer .subplot")).to_have_count(2)   # own axes each
    expect(forecasts.locator(".g-ytitle")).to_contain_text("passengers")
    expect(forecasts.locator(".g-y2title")).to_contain_text("car sales")
    # only the series differ: no sine or network setting is listed for two naive runs
    differences = main(page).get_by_test_id("stDataFrame").nth(1)
    expect(differences).not_to_contain_text("Sine")
    expect(differences).not_to_contain_text("Seed")
    expect_no_exception(page)
    _at_both_sizes(page, "history_compare", warning)


def _wait_for_runs(db: Path, count: int, timeout_s: float = 3 * APP_TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while len(RunStore(db).list_runs(None)) < count:
        assert time.monotonic() < deadline, f"{count} runs were not saved within {timeout_s} s"
        time.sleep(0.25)


def test_a_sweep_with_two_seeds_shows_its_noise_in_one_hue(tab: Page, server) -> None:
    page, (_, db, _) = tab, server
    before = len(RunStore(db).list_runs(None))
    open_page(page, f"/?{NAIVE}")
    _sidebar_to(page, "Sweep")
    seeds = page.get_by_test_id("stNumberInput").filter(has_text="Seeds per setting")
    expect(seeds.locator("input")).to_have_value("2")
    expect(main(page)).to_contain_text("Grid: 3 × 2 = 6 settings × 2 seeds = 12 runs.")
    expect(main(page)).to_contain_text("Budget per network: 100,000,000,000 weight updates.")
    main(page).get_by_role("button", name="Run sweep").click()
    expect(main(page).get_by_role("button", name="Stop")).to_have_count(
        0, timeout=3 * APP_TIMEOUT_MS)
    _wait_for_runs(db, before + 12)
    wait_for_app(page)
    _sidebar_to(page, "History")          # back to the sweep once every run is saved
    _sidebar_to(page, "Sweep")
    picker = main(page).get_by_test_id("stSelectbox").filter(has_text="Sweep").locator("input")
    expect(picker).to_have_value(re.compile(r"^sweep \w+ · 12 runs · "), timeout=APP_TIMEOUT_MS)
    heatmap = main(page).get_by_test_id("stPlotlyChart").filter(has_text="mean of 2 seeds")
    expect(heatmap).to_have_count(1, timeout=APP_TIMEOUT_MS)
    expect(heatmap).to_contain_text("test RMSE by")
    expect(heatmap).to_contain_text("★ best")
    expect(heatmap).to_contain_text("≈ best")       # naive forecasts ignore the layers: ties
    expect(heatmap).to_contain_text("±")
    # one hue: the drawn chart holds blues, greys and white, never red or green
    pixels = Image.open(io.BytesIO(heatmap.screenshot())).convert("RGB").getdata()
    assert not [p for p in pixels if p[0] > p[2] + 60 and p[0] > p[1] + 60], "red cells"
    assert not [p for p in pixels if p[1] > p[0] + 60 and p[1] > p[2] + 60], "green cells"
    assert len({p for p in pixels if p[2] > p[0] + 40}) > 1, "no blue cells drawn"
    expect(main(page).get_by_test_id("stAlert").filter(has_text="Best ")).to_contain_text(
        "(mean of 2 seeds)")
    expect(main(page)).to_contain_text("Seed noise: RMSE varies by about")
    assert "LSTM" not in main(page).inner_text()
    expect_no_exception(page)
    _at_both_sizes(page, "sweep_results", heatmap)
