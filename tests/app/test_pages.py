"""Every page renders from the real entrypoint, with no exception reaching the user."""

from __future__ import annotations

import pytest

from tests.app.conftest import make_app, texts


@pytest.mark.parametrize("page, title", [
    ("pages/home.py", "LSTM Lab"),
    ("pages/data.py", "Data"),
    ("pages/train.py", "Train & compare"),
    ("pages/learn.py", "Learn: why an LSTM?"),
])
def test_page_renders(page: str, title: str) -> None:
    at = make_app()
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert texts(at.title) == [title]


def test_home_explains_and_offers_one_click_training() -> None:
    at = make_app()
    at.run()
    assert "Train the default experiment" in [b.label for b in at.button]
    assert any("MLP on sliding windows" in m for m in texts(at.markdown))


def test_data_page_previews_air_passengers_with_split() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/data.py").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Points"] == "144"
    assert metrics["Frequency"] == "MS"
    assert metrics["Season"] == "12"
    assert metrics["Train / test"] == "120 / 24"


def test_data_page_damped_sine_sliders_change_the_series() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value("damped_sine").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Points"] == "400"
    at.slider(key="data.sine_length").set_value(200).run()
    assert {m.label: m.value for m in at.metric}["Points"] == "200"
    cfg = at.session_state["lab.config"]
    assert (cfg.dataset, cfg.sine_length, cfg.transform) == ("damped_sine", 200, "auto")


def test_train_page_before_training_says_what_to_do() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("press **Train**" in i for i in texts(at.info))


def test_learn_page_parameter_chart_reacts_to_window() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/learn.py").run()
    table = at.table[0].value
    assert table["MLP inputs"].tolist() == [12, 24, 48, 96, 192]
    at.slider[0].set_value(24).run()
    assert at.table[0].value["MLP inputs"].tolist() == [24, 48, 96, 192, 384]
    # the LSTM's size does not depend on the window
    assert at.table[0].value["LSTM weights"].tolist() == table["LSTM weights"].tolist()
