"""Journeys through the real app in Chromium: pages load, a CSV upload, training, Stop, URLs.

Selectors use Streamlit's data-testid attributes (stSidebarNav, stMetric, stPlotlyChart, ...)
as Streamlit's own e2e suite does. Each test gets a fresh browser context, so a fresh session:
the config comes from the URL's query string on that session's first load.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Screenshots go to a temporary folder, so running the tests leaves the checkout clean;
# `make screenshots` points this at docs/ to refresh the README's images on purpose.
SCREENSHOTS = Path(os.environ.get("LSTM_LAB_SCREENSHOTS")
                   or Path(tempfile.gettempdir()) / "lstm_lab_screenshots")
AIRLINE_CSV = ROOT / "lstm_lab" / "data" / "airline-passengers.csv"

APP_TIMEOUT_MS = 60_000       # a page's first run imports pandas/plotly on a busy 2-core box
TRAIN_TIMEOUT_MS = 120_000    # first training also imports TensorFlow
STOP_TIMEOUT_MS = 60_000
VIEWPORT_CENTER_X = 700

PAGES = [("Home", "LSTM Lab"), ("Data", "Data"), ("Train & compare", "Train & compare"),
         ("Learn", "Learn: why an LSTM?")]


def wait_for_app(page: Page, timeout: float = APP_TIMEOUT_MS) -> None:
    """Wait until the websocket is connected and the script has finished its run."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']",
                           timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=timeout)


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    wait_for_app(page)


def title(page: Page, text: str):
    return page.get_by_test_id("stHeading").locator("h1").filter(
        has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def expect_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def main(page: Page):
    return page.get_by_test_id("stMain")


def train_button(page: Page):
    return page.get_by_test_id("stForm").get_by_role("button", name="Train")


def save_screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(VIEWPORT_CENTER_X, 5)  # no hover effects (sidebar collapse arrow, tooltips)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path))
    return path


def test_every_page_loads_from_the_sidebar(page: Page) -> None:
    open_page(page, "/")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible()
    expect(title(page, "LSTM Lab")).to_be_visible()
    expect_no_exception(page)
    for label, heading in PAGES[1:] + PAGES[:1]:
        nav.get_by_role("link", name=label).click()
        expect(title(page, heading)).to_be_visible(timeout=APP_TIMEOUT_MS)
        wait_for_app(page)
        expect_no_exception(page)
        if label == "Learn":
            expect(main(page).get_by_test_id("stPlotlyChart").first).to_be_visible()
            main(page).locator(".js-plotly-plot").first.wait_for()
            save_screenshot(page, "learn_page.png")


def test_csv_upload_previews_the_series(page: Page) -> None:
    open_page(page, "/data")
    expect(title(page, "Data")).to_be_visible()
    page.get_by_test_id("stRadio").get_by_text("Upload a CSV").click()
    file_input = page.locator("input[type=file]")
    expect(file_input).to_have_count(1, timeout=APP_TIMEOUT_MS)
    file_input.set_input_files(AIRLINE_CSV)
    points = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text("Points", exact=True))
    expect(points.get_by_test_id("stMetricValue")).to_have_text("144", timeout=APP_TIMEOUT_MS)
    expect(main(page).get_by_test_id("stPlotlyChart").first).to_be_visible()
    wait_for_app(page)
    expect_no_exception(page)
    expect(page.get_by_text("airline-passengers.csv").first).to_be_visible()
    # The sidebar summary (and its Copy link) describe the uploaded series, not the old one.
    expect(page.get_by_test_id("stSidebar")).to_contain_text("airline-passengers.csv")
    main(page).locator(".js-plotly-plot").first.wait_for()
    save_screenshot(page, "data_page.png")


def expect_url_settings_applied(page: Page) -> None:
    """/train?window=6&layers=2 was read into the form, the sidebar summary and the address."""
    expect(title(page, "Train & compare")).to_be_visible()
    window = page.get_by_test_id("stNumberInput").filter(has_text="Window").locator("input")
    expect(window).to_have_value("6")
    summary = page.get_by_test_id("stSidebar")
    expect(summary).to_contain_text("window 6")
    expect(summary).to_contain_text("2×32 LSTM")
    expect(page).to_have_url(re.compile(r"/train\?(.*&)?window=6"))
    expect_no_exception(page)


def test_url_settings_fill_the_form_and_sidebar(page: Page) -> None:
    # Until some session has run app.py, a fresh server runs deep links the legacy pages/ way
    # (test_deep_link_on_a_fresh_server); visit Home first so this checks the URL handling only.
    open_page(page, "/")
    expect(title(page, "LSTM Lab")).to_be_visible()
    open_page(page, "/train?window=6&layers=2")
    expect_url_settings_applied(page)


def test_deep_link_on_a_fresh_server(fresh_page: Page) -> None:
    """A shared link opened first after a server start still runs through app.py."""
    open_page(fresh_page, "/train?window=6&layers=2")
    expect_url_settings_applied(fresh_page)


def test_sine_sliders_update_preview_and_share_link(page: Page) -> None:
    open_page(page, "/data")
    page.get_by_test_id("stRadio").get_by_text("Damped sine wave").click()
    length = page.get_by_test_id("stNumberInput").filter(has_text="Length (points)")
    field = length.locator("input")
    expect(field).to_be_visible(timeout=APP_TIMEOUT_MS)
    field.fill("40")      # the config's smallest length
    field.press("Enter")
    points = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text("Points", exact=True))
    expect(points.get_by_test_id("stMetricValue")).to_have_text("40", timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    expect_no_exception(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Damped sine wave")
    sidebar.get_by_role("button", name="Copy link").click()
    link = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    expect(link).to_contain_text("dataset=damped_sine")
    expect(link).to_contain_text("sine_length=40")
    expect(page).to_have_url(re.compile(r"sine_length=40"))


def test_training_shows_results_and_chart(page: Page) -> None:
    open_page(page, "/train")  # the default experiment: what the README screenshot shows
    expect(title(page, "Train & compare")).to_be_visible()
    train_button(page).click()
    metrics = main(page).get_by_test_id("stMetric")
    expect(metrics).to_have_count(6, timeout=TRAIN_TIMEOUT_MS)
    expect(page.get_by_text("Test metrics")).to_be_visible()
    forecast = main(page).get_by_test_id("stPlotlyChart").first
    expect(forecast.locator(".js-plotly-plot")).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(main(page).get_by_test_id("stDownloadButton")).to_have_count(3)
    wait_for_app(page)
    expect_no_exception(page)
    save_screenshot(page, "train_compare.png")
    # Prediction intervals: the best model's and seasonal naive's bands are shaded (Plotly draws
    # a `fill: tonexty` trace as a filled path) and a line under the chart says what they are
    expect(main(page).get_by_text(re.compile(
        r"^Shaded: where each model's forecast errors from the end of the training part say "
        r"the value will be, 80% and 95% of the time"))).to_be_visible()
    # Chart options redraw the chart alone (a fragment): zoom in, then hide the naive forecast.
    main(page).get_by_text("Zoom to the test part").click()
    expect(forecast).to_contain_text("test part and the 24 points before it")
    fills = forecast.locator(".scatterlayer .trace path.js-fill")
    expect(fills).to_have_count(4)                       # 2 models x 80% and 95%
    assert all(len(fills.nth(i).get_attribute("d") or "") > 100 for i in range(4))
    # hovering the test part names each band and what its level means
    plot = forecast.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(plot["x"] + plot["width"] * 0.9, plot["y"] + plot["height"] * 0.5)
    hover = forecast.locator(".hoverlayer")
    expect(hover).to_contain_text("Seasonal naive 80% band")
    expect(hover).to_contain_text("80% of past errors at this step fell inside")
    expect(hover).to_contain_text("95% of past errors at this step fell inside")
    page.mouse.move(VIEWPORT_CENTER_X, 5)       # a unified hover box is drawn as a legend too
    expect(hover).not_to_contain_text("past errors")
    # the legend lists actual + 6 models, and the members' spread of the best model when it is
    # an ensemble; never the bands themselves (the caption explains them)
    legend = forecast.locator(".legend .traces")
    expect(legend.filter(has_text="band")).to_have_count(0)
    shown = legend.count()
    assert shown == 7 + legend.filter(has_text="members' spread").count() and shown <= 8
    # the bands toggle per model: removing both leaves no shaded band
    picker = main(page).get_by_test_id("stMultiSelect").filter(has_text="Bands for")
    picker.get_by_role("button", name="Remove Seasonal naive").click()
    expect(fills).to_have_count(2)
    picker.get_by_role("button", name=re.compile(r"^Remove ")).click()
    expect(fills).to_have_count(0)
    expect(legend).to_have_count(7)
    main(page).get_by_test_id("stButtonGroup").filter(has_text="Forecasts on the chart").get_by_role(
        "button", name="Naive (last value)").click()       # the chart's pills, not the form's
    expect(legend).to_have_count(6)
    expect(metrics).to_have_count(6)                     # the results themselves are unchanged
    expect_no_exception(page)


def test_stop_keeps_what_was_learned(page: Page) -> None:
    open_page(page, "/train?epochs=5000&patience=0")
    expect(title(page, "Train & compare")).to_be_visible()
    train_button(page).click()
    stop = main(page).get_by_role("button", name="Stop")   # under Train and in the live panel
    expect(stop.first).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
    page.wait_for_timeout(2_000)  # let a few epochs run so there is something to keep
    stop.first.click()
    expect(page.get_by_text("Training was stopped early")).to_be_visible(timeout=STOP_TIMEOUT_MS)
    expect(main(page).get_by_test_id("stMetric").first).to_be_visible()
    expect(stop).to_have_count(0)
    expect_no_exception(page)


def test_a_season_ahead_forecast_shows_tuning_live_and_in_the_results(page: Page) -> None:
    # 12 months ahead with tuning=auto (off by default): tuning trains each network three
    # times; small single networks keep it quick.
    open_page(page, "/train?test_size=12&horizon=12&epochs=60&units=8&mlp_units=8"
                    "&models=lstm,mlp,holt_winters&tuning=auto&members=1")
    train_button(page).click()
    expect(main(page).get_by_text(re.compile(r"tuning, variant [123] of 3"))).to_be_visible(
        timeout=TRAIN_TIMEOUT_MS)
    expect(main(page).get_by_test_id("stMetric")).to_have_count(3, timeout=TRAIN_TIMEOUT_MS)
    wait_for_app(page)
    expect(main(page).get_by_text(re.compile(r"^Tuning: (ES-)?LSTM kept "))).to_be_visible()
    main(page).get_by_text("How tuning chose each network's settings").click()
    table = main(page).get_by_test_id("stDataFrame").filter(has_text="validation RMSE")
    expect(table).to_be_visible()
    expect_no_exception(page)
