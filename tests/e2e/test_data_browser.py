"""The Data page's season and test-size controls in Chromium: the damped sine's season is found
(40), an override is typed, shown in words, carried in the link, and a season the series cannot
hold is refused in a sentence; the parsed rows are listed. Screenshots at 1400 x 1000 and at a
laptop's 1280 x 720 go to the screenshot folder (a temporary one unless LSTM_LAB_SCREENSHOTS).

Without Chromium this module fails (``test_chromium_is_installed``), it does not only skip.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEFAULT_CHROMIUM
from tests.e2e.test_browser import (
    APP_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    save_screenshot,
    title,
    wait_for_app,
)

pytestmark = pytest.mark.e2e


def test_chromium_is_installed() -> None:
    path = os.environ.get("LSTM_LAB_CHROMIUM") or DEFAULT_CHROMIUM
    assert os.path.isfile(path) and os.access(path, os.X_OK), (
        f"Chromium not found at {path}: install it with `apt-get install chromium`.")


def _metric(page: Page, label: str):
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


def _season_field(page: Page):
    return page.get_by_test_id("stNumberInput").filter(has_text="Season (0 = auto)").locator(
        "input")


def _type(field, value: str) -> None:
    field.fill(value)
    field.press("Enter")


def test_a_season_override_is_typed_shown_in_words_and_kept_in_the_link(page: Page) -> None:
    open_page(page, "/")                       # a fresh server runs deep links after a visit
    expect(title(page, "LSTM Lab")).to_be_visible()
    open_page(page, "/data?dataset=damped_sine")
    expect(title(page, "Data")).to_be_visible()
    expect(_metric(page, "Season")).to_have_text("40", timeout=APP_TIMEOUT_MS)
    expect(_metric(page, "Frequency")).to_have_text("no dates")
    body = main(page)
    expect(body).to_contain_text("Season — auto: 40 (the values repeat about every 40 points)")
    expect(body.get_by_test_id("stExpander").filter(has_text="Parsed rows")
           .get_by_test_id("stDataFrame")).to_have_count(1)

    _type(_season_field(page), "20")
    expect(_metric(page, "Season")).to_have_text("20", timeout=APP_TIMEOUT_MS)
    expect(body).to_contain_text(
        "Season — set to 20 points; auto would be 40 (the values repeat about every 40 points)")
    expect(page).to_have_url(re.compile(r"[?&]season=20(&|$)"))
    wait_for_app(page)
    expect_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1000})
    save_screenshot(page, "data_season_1400x1000.png")
    page.set_viewport_size({"width": 1280, "height": 720})
    save_screenshot(page, "data_season_1280x720.png")

    _type(_season_field(page), "500")
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
        "A season of 500 points cannot be seen in a training part of 376 points",
        timeout=APP_TIMEOUT_MS)
    expect(_metric(page, "Season")).to_have_text("20")          # the override is kept
    expect_no_exception(page)


def test_an_uploaded_csv_shows_the_test_size_the_page_uses(page: Page) -> None:
    """Before the file is chosen the split controls are not drawn; once it is, their boxes show
    the values the page uses (they showed the input's minimum, 0.01, while the page used 24)."""
    from tests.e2e.test_browser import AIRLINE_CSV

    open_page(page, "/data?test_size=24")
    test_size = page.get_by_test_id("stNumberInput").filter(has_text="Test size").locator("input")
    expect(test_size).to_have_value("24")
    page.get_by_test_id("stRadio").get_by_text("Upload a CSV").click()
    expect(test_size).to_have_count(0, timeout=APP_TIMEOUT_MS)
    page.locator("input[type=file]").set_input_files(AIRLINE_CSV)
    expect(_metric(page, "Points")).to_have_text("144", timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    expect(test_size).to_have_value("24")
    expect(_season_field(page)).to_have_value("0")
    expect(main(page)).to_contain_text("Test part — 24 points (17% of 144)")
    expect_no_exception(page)
