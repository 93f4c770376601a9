"""AppTest helpers: start from the real entrypoint, drive pages, wait for background training."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
# Query parameters that make a training run take a second or two.
QUICK = {"epochs": "8", "units": "8", "mlp_units": "8", "patience": "0"}


def make_app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at


def open_from_link(page: str, params: dict[str, str] | None = None) -> AppTest:
    """``page`` (e.g. "pages/data.py") opened from a link with ``params``, drawn without an
    error."""
    at = make_app(params)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def train_page(params: dict[str, str] | None = None) -> AppTest:
    """The Train & compare page opened from a link with ``params``, drawn without an error."""
    return open_from_link("pages/train.py", params)


def open_data_page(params: dict[str, str] | None = None) -> AppTest:
    """The Data page opened from a link with ``params``, drawn without an error."""
    return open_from_link("pages/data.py", params)


def wait_for_training(at: AppTest, timeout: float = 180.0) -> AppTest:
    """Rerun the page until this session's training job has finished and its results render."""
    if "lab.job" not in at.session_state:
        return at  # refused before a job was queued
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        if at.session_state["lab.job"] is None:
            at.run()  # the fragment's st.rerun: draw the finished page once more
            return at
    raise AssertionError(f"training did not finish within {timeout} s")


def texts(elements) -> list[str]:
    return [str(e.value) for e in elements]


@pytest.fixture
def app():
    return make_app
