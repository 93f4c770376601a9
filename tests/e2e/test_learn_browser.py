"""Learn in a real browser: press each lesson's button and read the caption that states its result
in numbers. The server is this module's own, started with LSTM_LAB_LEARN_QUICK=1 so every lesson
trains a few steps on little data (the numbers mean little; the wiring from button to caption is
what is checked here, tests/unit/test_tasks.py checks what the full-size lessons show).

Chromium is required: without it these tests fail, they never skip.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEFAULT_CHROMIUM, new_page, run_server
from tests.e2e.test_browser import (
    APP_TIMEOUT_MS,
    TRAIN_TIMEOUT_MS,
    expect_no_exception,
    main,
    open_page,
    save_screenshot,
    title,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

PCT = r"\d{1,3}(–\d{1,3})?%"
NUM = r"\d+\.\d{3}"
# (button, the caption it brings, as a regular expression on the caption's text)
LESSONS = [
    ("Run the echo experiment",
     rf"The MLP \(window 5\) sees the symbols of k = 0 … 4 and recalls them {PCT} of the time; "
     rf"for k ≥ 5 the symbol has left its window: {PCT}, chance is 25%; the LSTM recalls {PCT}"),
    ("Run the shuffle experiment",
     rf"Shuffled the window's steps: MLP {PCT} → {PCT} right \(.*\); LSTM {PCT} → {PCT} .*"
     r"Ranges: the lowest and highest of 2 seeds; chance is 50%"),
    ("Train both on parallel series",
     rf"8 series × window 12: .* Test RMSE: MLP {NUM}, LSTM {NUM}"),
    ("Run the variable-length demo",
     rf"Mean absolute error: the LSTM {NUM} on the lengths it trained on \(3–12\)"),
    ("Run the output-length demo",
     rf"The same encoder-decoder weights gave 6, 12, 24 steps\. RMSE over the 12 steps it "
     rf"trained for: encoder-decoder {NUM}, MLP {NUM}"),
]


@pytest.fixture(scope="session", autouse=True)
def chromium_is_required() -> None:
    """Fail (never skip) when there is no browser to drive. Session-scoped and autouse, so it
    runs before conftest's session-scoped ``browser`` (which would skip)."""
    path = os.environ.get("LSTM_LAB_CHROMIUM") or DEFAULT_CHROMIUM
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"Chromium not found at {path}: install it with `apt-get install chromium` "
                    "(or point LSTM_LAB_CHROMIUM at a Chromium executable).", pytrace=False)


@pytest.fixture(scope="module")
def quick_server(chromium_is_required, tmp_path_factory):
    os.environ["LSTM_LAB_LEARN_QUICK"] = "1"
    try:
        with run_server(tmp_path_factory.mktemp("learn") / "server.log") as base:
            yield base
    finally:
        os.environ.pop("LSTM_LAB_LEARN_QUICK", None)


@pytest.fixture
def learn_page(browser, quick_server: str):
    with new_page(browser, quick_server) as page:
        yield page


def _caption(page: Page, pattern: str):
    return main(page).get_by_test_id("stCaptionContainer").filter(
        has_text=re.compile(pattern))


def test_each_lesson_button_brings_its_caption_in_numbers(learn_page: Page) -> None:
    page = learn_page
    open_page(page, "/learn")
    expect(title(page, "Learn: why an LSTM?")).to_be_visible(timeout=APP_TIMEOUT_MS)
    # the weights chart's caption needs no training: where the MLP overtakes the LSTM
    expect(_caption(page, r"stays larger up to 16 series; from 17 series on the MLP is "
                          r"larger")).to_be_visible()
    for button, pattern in LESSONS:
        expect(_caption(page, pattern)).to_have_count(0)
        main(page).get_by_role("button", name=button).click()
        expect(_caption(page, pattern)).to_be_visible(timeout=TRAIN_TIMEOUT_MS)
        wait_for_app(page)
        expect_no_exception(page)
    # every lesson's caption is still there after the last one (results are kept)
    for _, pattern in LESSONS:
        expect(_caption(page, pattern)).to_have_count(1)
    assert main(page).get_by_text(re.compile(r"\bNone\b|\bnan\b|e\+\d")).count() == 0
    shot: Path = save_screenshot(page, "learn_lessons.png")
    assert shot.stat().st_size > 10_000
    # the first two lessons, as a reader scrolled to them sees them
    main(page).get_by_role("heading", name="1 · Stateless: no memory beyond the window") \
        .scroll_into_view_if_needed()
    save_screenshot(page, "learn_echo_and_shuffle.png")
    page.set_viewport_size({"width": 1280, "height": 720})
    main(page).get_by_role("heading", name="2 · Blind to order").scroll_into_view_if_needed()
    save_screenshot(page, "learn_shuffle_laptop.png")
