"""The whole config lives in the URL: links restore every control; bad values never crash."""

from __future__ import annotations

from tests.app.conftest import make_app, texts


def test_url_restores_the_config_and_the_controls() -> None:
    at = make_app({"window": "6", "layers": "2", "units": "64", "dataset": "damped_sine",
                   "sine_noise": "0.2", "models": "lstm,naive"})
    at.run()
    cfg = at.session_state["lab.config"]
    assert (cfg.window, cfg.layers, cfg.units, cfg.dataset, cfg.sine_noise, cfg.models) == \
        (6, 2, 64, "damped_sine", 0.2, ("lstm", "naive"))
    at.switch_page("pages/train.py").run()
    assert at.number_input[0].value == 6                 # Window
    assert next(s for s in at.slider if s.label == "Recurrent layers").value == 2
    assert [w.value for w in at.button_group if w.label == "Models"] == [["lstm", "naive"]]


def test_config_is_written_back_to_the_url_in_canonical_form() -> None:
    at = make_app({"window": "06", "test_size": "24.0", "units": "64", "utm_source": "mail"})
    at.run()
    params = {k: at.query_params[k] for k in at.query_params}
    # defaults (test_size) are left out, numbers are normalised, foreign keys are dropped
    assert params == {"window": "6", "units": "64"}


def test_out_of_range_and_garbage_url_values_are_repaired_with_a_message() -> None:
    at = make_app({"window": "100000", "units": "lots", "epochs": "-5"})
    at.run()
    assert not at.exception
    cfg = at.session_state["lab.config"]
    assert (cfg.window, cfg.units, cfg.epochs) == (512, 32, 1)
    warnings = " ".join(texts(at.warning))
    assert "`window=100000` from the link is out of range [1, 512]; using 512." in warnings
    assert "Ignored `units=lots`" in warnings


def test_csv_experiment_link_explains_that_files_do_not_travel() -> None:
    at = make_app({"dataset": "csv", "csv_path": "sales.csv"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("can't travel in a link" in i for i in texts(at.info))


def test_a_10000_character_csv_path_is_ignored_and_not_written_back() -> None:
    at = make_app({"dataset": "csv", "csv_path": "a" * 10_000, "window": "6"})
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert texts(at.warning) == [
        "Ignored `csv_path=" + "a" * 40 + "…` (10,000 characters) from the link: `csv_path` "
        "must be at most 255 characters; shorten it.",
        "Ignored `dataset=csv` from the link: dataset=csv needs a file: pass `csv_path` "
        "(CLI: --dataset PATH.csv)."]
    assert {k: at.query_params[k] for k in at.query_params} == {"window": "6"}
    assert at.session_state["lab.config"].dataset == "air_passengers"


def test_a_season_in_the_link_sets_the_override_on_the_data_page() -> None:
    at = make_app({"dataset": "damped_sine", "season": "20"})
    at.run()
    assert at.session_state["lab.config"].season == 20
    at.switch_page("pages/data.py").run()
    assert not at.exception
    (season,) = [n for n in at.number_input if n.label == "Season (0 = auto)"]
    assert season.value == 20
    assert {m.label: m.value for m in at.metric}["Season"] == "20"
    assert ("Season — set to 20 points; auto would be 40 (the values repeat about every 40 "
            "points)") in texts(at.caption)
    season.set_value(0).run()                                 # back to auto
    assert at.session_state["lab.config"].season == 0


def test_a_season_above_the_fields_range_in_the_link_is_clamped_with_a_note() -> None:
    at = make_app({"season": "5000"})
    at.run()
    assert at.session_state["lab.config"].season == 1000
    assert any("`season=5000` from the link is out of range" in w for w in texts(at.warning))
