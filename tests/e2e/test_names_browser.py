"""In Chromium: a 2-layer GRU run is called "GRU ×2" on its cards, table, loss legend and
download (button and file name); cards name their metric; the Models pills show "SARIMA" whole;
screenshots at 1400 x 1000 and 1280 x 720 for a person to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEFAULT_CHROMIUM
from tests.e2e.test_browser import (
    SCREENSHOTS,
    TRAIN_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    title,
    train_button,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

# one tiny 2-layer GRU, 12 months ahead (seasonal naive is the reference), no tuning
GRU = ("/train?architecture=gru&layers=2&units=4&epochs=2&patience=0&members=1&tuning=off"
       "&models=lstm,naive,seasonal_naive&horizon=12&test_size=12&transform=log_seasonal_diff")
SIZES = {"desktop": {"width": 1400, "height": 1000}, "laptop": {"width": 1280, "height": 720}}


def test_chromium_is_there() -> None:
    """These tests fail, never skip, on a machine without the browser."""
    path = os.environ.get("LSTM_LAB_CHROMIUM") or DEFAULT_CHROMIUM
    assert os.access(path, os.X_OK), f"Chromium not found at {path}: apt-get install chromium"


def test_a_gru_run_says_gru_on_its_legend_table_and_download(page: Page, tmp_path: Path) -> None:
    open_page(page, GRU)
    expect(title(page, "Train & compare")).to_be_visible()
    # the form's Models pills: every name whole (a multiselect clipped "SARIMA")
    pills = main(page).get_by_test_id("stButtonGroup").filter(has_text="Models")
    sarima = pills.get_by_role("button", name="SARIMA")
    expect(sarima).to_be_visible()
    assert sarima.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    expect(pills.get_by_role("button", name="GRU ×2")).to_be_visible()
    train_button(page).click()
    cards = main(page).get_by_test_id("stMetric")
    expect(cards).to_have_count(3, timeout=TRAIN_TIMEOUT_MS)
    wait_for_app(page)
    expect_no_exception(page)
    # every card names its metric and writes its number for people
    for i in range(3):
        value = cards.nth(i).get_by_test_id("stMetricValue").inner_text().strip()
        assert re.fullmatch(r"RMSE [\d,]+(\.\d+)?", value), value
    expect(cards.filter(has_text="GRU ×2")).to_have_count(1)
    expect(cards.filter(has_text="vs seasonal naive")).to_have_count(2)
    # the summary compares with seasonal naive
    expect(main(page).get_by_text(re.compile(r"^Against seasonal naive"))).to_be_visible()
    # the loss legend
    loss = main(page).get_by_test_id("stPlotlyChart").filter(has_text="Final loss curves")
    legend = loss.locator(".legend .traces")
    expect(legend.filter(has_text="GRU ×2 train")).to_have_count(1)
    expect(legend.filter(has_text="LSTM")).to_have_count(0)
    # the metrics table (a canvas grid with an accessible copy of its cells in the DOM)
    table = main(page).get_by_test_id("stDataFrame").first
    expect(table).to_contain_text("GRU ×2")
    expect(table).not_to_contain_text("LSTM")
    # the download: its button and the file it saves
    button = main(page).get_by_test_id("stDownloadButton").filter(
        has_text="Trained GRU ×2 (.keras)")
    expect(button).to_have_count(1)
    with page.expect_download(timeout=TRAIN_TIMEOUT_MS) as info:
        button.click()
    assert info.value.suggested_filename.endswith("_gru.keras")
    assert not [t for t in main(page).get_by_test_id("stDownloadButton").all_inner_texts()
                if "LSTM" in t]
    # a look at the page at a desktop's and a laptop's size
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(500)
        page.screenshot(path=str(SCREENSHOTS / f"names_gru_{name}.png"))
    expect_no_exception(page)
