"""Every page renders from the real entrypoint, with no exception reaching the user."""

from __future__ import annotations

import pytest

from lstm_lab.experiments.config import field_range
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
    assert metrics["Frequency"] == "monthly"
    assert metrics["Season"] == "12"
    assert metrics["Train / test"] == "120 / 24"


def test_data_page_damped_sine_sliders_change_the_series() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value("damped_sine").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Points"] == "400"
    at.number_input(key="data.sine_length").set_value(200).run()
    assert {m.label: m.value for m in at.metric}["Points"] == "200"
    cfg = at.session_state["lab.config"]
    assert (cfg.dataset, cfg.sine_length, cfg.transform) == ("damped_sine", 200, "auto")


def test_data_page_sine_bounds_are_the_configs_ranges() -> None:
    """One source of bounds: every sine control allows exactly its config field's range, so a
    link's value (already clamped to that range) always fits its control."""
    at = make_app({"dataset": "damped_sine", "sine_length": "100000", "sine_period": "1e9"})
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    for name in ("sine_length", "sine_period", "sine_decay", "sine_amplitude", "sine_phase",
                 "sine_noise"):
        (control,) = [w for w in [*at.number_input, *at.slider] if w.key == f"data.{name}"]
        assert (control.min, control.max) == field_range(name), name
    assert at.number_input(key="data.sine_length").value == 100_000
    assert at.number_input(key="data.sine_period").value == 10_000.0
    assert {m.label: m.value for m in at.metric}["Points"] == "100,000"


def test_train_form_bounds_are_the_configs_ranges_narrowed_by_the_series() -> None:
    at = make_app({"window": "512", "horizon": "365", "test_size": "1000000", "seed": "1e12"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    number = {n.label: n for n in at.number_input}
    window, horizon = number["Window"], number["Horizon"]
    test_size = number["Test size (points, or a share below 1)"]
    assert (window.min, window.max, window.value) == (1, 141, 141)       # 144 points - 3
    assert (horizon.min, horizon.max, horizon.value) == (1, 48, 48)      # 144 // 3
    assert (test_size.min, test_size.max, test_size.value) == (0.01, 140, 140)   # or a share
    seed = number["Seed"]
    assert (seed.min, seed.max, seed.value) == (*field_range("seed"), 2**31 - 1)
    for label, name in (("Recurrent layers", "layers"), ("Dropout", "dropout"),
                        ("MLP layers", "mlp_layers"), ("Validation share", "validation_fraction")):
        (control,) = [s for s in at.slider if s.label == label]
        assert (control.min, control.max) == field_range(name), name


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
    assert table.index.tolist() == [1, 2, 4, 8, 16, 32, 64]       # parallel series
    assert table["MLP inputs"].tolist() == [12, 24, 48, 96, 192, 384, 768]
    at.slider[0].set_value(24).run()
    assert at.table[0].value["MLP inputs"].tolist() == [24, 48, 96, 192, 384, 768, 1536]
    # the LSTM's size does not depend on the window
    assert at.table[0].value["LSTM weights"].tolist() == table["LSTM weights"].tolist()



# AppTest keeps the sidebar of a session's first run only (with st.navigation, later runs show an
# empty sidebar, before and after this change), so these tests look at a first run.
@pytest.mark.parametrize("page", ["pages/home.py", "pages/data.py", "pages/train.py",
                                  "pages/learn.py"])
def test_every_page_shows_the_sidebar_summary_and_copy_link(page: str) -> None:
    at = make_app()
    at.switch_page(page).run()
    assert not at.exception
    assert texts(at.sidebar.caption)[0] == "Current experiment"
    assert any("Airline passengers" in m for m in texts(at.sidebar.markdown))
    assert [p.proto.popover.label for p in at.sidebar.get("popover")] == ["Copy link"]


def test_sidebar_follows_a_config_the_page_changed_in_the_same_run() -> None:
    """The sidebar is drawn after the page: the Data page's choice shows at once, no rerun."""
    at = make_app()
    at.session_state["data.dataset"] = "damped_sine"
    at.switch_page("pages/data.py").run()
    assert at.session_state["lab.config"].dataset == "damped_sine"
    sidebar = texts(at.sidebar.markdown)
    assert any("Damped sine" in m for m in sidebar)
    assert not any("Airline passengers" in m for m in sidebar)
    assert texts(at.sidebar.caption).count("Current experiment") == 1
