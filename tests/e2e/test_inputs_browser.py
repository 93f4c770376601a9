"""Input columns in Chromium (#19): on the Data page pick the gallery's US change and one of its
other columns as an input; the page says what the networks read and previews the input; the
Train page (same session) says what each network reads per step; a short training reads the
input and its note names it; the With vs without inputs view draws both runs. Screenshots go to
the screenshot folder (a temporary one unless LSTM_LAB_SCREENSHOTS).

Chromium is required here: without it these tests fail, they never skip.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEFAULT_CHROMIUM
from tests.e2e.test_browser import (
    APP_TIMEOUT_MS,
    TRAIN_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    save_screenshot,
    title,
    train_button,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

# a short run of both networks (one seed) and a baseline, reading Income
QUICK_INPUTS = ("/train?dataset=us_change&inputs=Income&epochs=3&members=1&units=8&mlp_units=8"
                "&intervals=none&tuning=off&models=lstm,mlp,naive")


@pytest.fixture(autouse=True)
def chromium_required() -> None:
    """Fail (never skip) when the system Chromium is missing."""
    path = os.environ.get("LSTM_LAB_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: install it with `apt-get install chromium` "
                    "(these browser tests need it).", pytrace=False)


def _pick(page: Page, label: str, option: str) -> None:
    """Open the multiselect or selectbox labelled ``label`` and choose ``option``."""
    box = main(page).locator("[data-testid='stMultiSelect'], [data-testid='stSelectbox']") \
        .filter(has_text=label)
    box.click()
    page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")
    wait_for_app(page)


def test_pick_an_input_column_on_the_data_page_then_train_with_it(page: Page) -> None:
    open_page(page, "/")                          # a fresh server runs deep links after a visit
    open_page(page, "/data")
    expect(title(page, "Data")).to_be_visible()
    main(page).get_by_test_id("stRadio").get_by_text(re.compile(r"^Gallery of real series")) \
        .click()
    wait_for_app(page)
    _pick(page, "Real series", "US change: consumption, income, production… 1970–2016")
    body = main(page)
    expect(body).to_contain_text("Other columns (parallel series): Income, Production, "
                                 "Savings, Unemployment.", timeout=APP_TIMEOUT_MS)
    expect(body).to_contain_text("never future ones), so forecasting needs no future inputs; "
                                 "the baselines read the target only.")
    _pick(page, "Input columns", "Income")
    picker = body.get_by_test_id("stMultiSelect").filter(has_text="Input columns")
    expect(picker).to_contain_text("Income")
    expect(page).to_have_url(re.compile(r"[?&]inputs=Income(&|$)"))   # the link carries it
    rows = body.get_by_test_id("stExpander").filter(has_text="Parsed rows")
    rows.get_by_text("Parsed rows").click()         # open: the input's values beside the target
    expect(rows.get_by_test_id("stDataFrame")).to_be_visible()
    expect_no_exception(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    picker.scroll_into_view_if_needed()
    save_screenshot(page, "data_inputs_1280x900.png")
    page.set_viewport_size({"width": 1400, "height": 1800})

    # the same session on Train: what each network reads, and both weight counts
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train & compare").click()
    expect(title(page, "Train & compare")).to_be_visible(timeout=APP_TIMEOUT_MS)
    wait_for_app(page)
    expect(body).to_contain_text("Inputs: Income — the LSTM (3 seeds) reads 1 + 1 values per "
                                 "step; the MLP reads window × 2 = 24 values.")
    expect(body).to_contain_text(re.compile(r"Trainable weights: LSTM \(3 seeds\) [\d,]+ "
                                            r"\([\d,]+ without inputs\)"))

    # a short training from a link (a new session), reading Income
    open_page(page, QUICK_INPUTS)
    expect(body).to_contain_text("Inputs: Income — the LSTM reads 1 + 1 values per step")
    train_button(page).click()
    metrics = body.get_by_test_id("stMetric")
    expect(metrics).to_have_count(3, timeout=TRAIN_TIMEOUT_MS)
    expect(page.get_by_text("Test metrics")).to_be_visible()
    note = body.get_by_test_id("stAlertContentWarning").filter(has_text="read Income beside")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("each input's past value (none from after the forecast "
                                 "origin; an input that wanders like a random walk as its "
                                 "change from the step before)")
    expect(note).to_contain_text("stay univariate: they read the target only.")
    wait_for_app(page)
    expect_no_exception(page)
    save_screenshot(page, "train_inputs.png")

    # with vs without: both runs side by side
    body.get_by_test_id("stButtonGroup").get_by_text("With vs without inputs", exact=True) \
        .click()
    wait_for_app(page)
    body.get_by_role("button", name="Compare with and without inputs").click()
    chart = body.get_by_test_id("stPlotlyChart").filter(has_text="With and without Income")
    expect(chart).to_have_count(1, timeout=TRAIN_TIMEOUT_MS)
    expect(body).to_contain_text(re.compile(r"LSTM: test RMSE [\d.]+ with Income, [\d.]+ "
                                            r"without — the inputs "))
    table = body.get_by_test_id("stDataFrame").filter(has_text="RMSE without")
    expect(table).to_have_count(1)
    legend = chart.locator(".legend .traces")
    expect(legend).to_have_count(5)          # actual, and each network with and without
    wait_for_app(page)
    expect_no_exception(page)
    save_screenshot(page, "train_inputs_effect.png")
