"""ExperimentConfig: validation, JSON and URL round trips, repair of bad links."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import (
    MODELS,
    ExperimentConfig,
    field_default,
    field_help,
    field_range,
)

NON_DEFAULT = ExperimentConfig(
    dataset="damped_sine", sine_length=120, sine_period=12.5, sine_noise=0.0, window=7,
    horizon=3, test_size=0.33, transform="seasonal_diff", season=4, layers=2, units=16,
    dropout=0.2, epochs=5, learning_rate=0.01, patience=2, validation_fraction=0.2, seed=42,
    models=("lstm", "naive"),
)


def test_defaults_are_valid_and_documented() -> None:
    config = ExperimentConfig()
    assert config.dataset == "air_passengers"
    assert config.window == 12
    assert config.transform == "auto"
    assert config.models == MODELS
    assert config.neural_models == ("lstm", "mlp")
    for f in fields(ExperimentConfig):
        assert field_help(f.name), f"{f.name} has no help text"
    assert field_range("window") == (1, 512)
    assert field_default("epochs") == 200


def test_config_is_frozen_and_hashable() -> None:
    config = ExperimentConfig()
    with pytest.raises(AttributeError):
        config.window = 3  # type: ignore[misc]
    assert hash(config) == hash(ExperimentConfig())
    assert config.replace(window=3).window == 3
    assert config.window == 12


def test_test_count_counts_or_fractions() -> None:
    assert ExperimentConfig(test_size=24).test_count(144) == 24
    assert ExperimentConfig(test_size=0.25).test_count(144) == 36
    assert ExperimentConfig(test_size=0.01).test_count(40) == 1    # never zero


def test_json_round_trip_is_equal() -> None:
    text = NON_DEFAULT.to_json()
    assert json.loads(text)["models"] == ["lstm", "naive"]
    again = ExperimentConfig.from_json(text)
    assert again == NON_DEFAULT
    assert again.models == ("lstm", "naive")
    assert again.to_json() == text
    assert ExperimentConfig.from_json(ExperimentConfig().to_json()) == ExperimentConfig()


def test_query_params_round_trip_for_non_default_config() -> None:
    params = NON_DEFAULT.to_query_params()
    assert params["models"] == "lstm,naive"
    assert params["test_size"] == "0.33"
    assert params["window"] == "7"
    assert "batch_size" not in params            # defaults are left out of links
    assert all(isinstance(v, str) for v in params.values())
    config, notes = ExperimentConfig.from_query_params(params)
    assert notes == []
    assert config == NON_DEFAULT
    assert config.test_size == 0.33


def test_default_config_gives_empty_query_params() -> None:
    assert ExperimentConfig().to_query_params() == {}
    assert ExperimentConfig.from_query_params({}) == (ExperimentConfig(), [])


def test_out_of_range_url_values_are_clamped_with_a_note() -> None:
    config, notes = ExperimentConfig.from_query_params({"window": "9999", "dropout": "-1"})
    assert config.window == 512
    assert config.dropout == 0.0
    assert len(notes) == 2
    assert notes[0] == "`window=9999` from the link is out of range [1, 512]; using 512."
    assert notes[1] == "`dropout=-1` from the link is out of range [0.0, 0.9]; using 0."


def test_garbage_url_values_are_ignored_with_a_note() -> None:
    config, notes = ExperimentConfig.from_query_params(
        {"window": "abc", "models": "lstm,arima", "transform": "cube", "epochs": "5",
         "embed": "true"})                   # unknown keys belong to other apps: silently skipped
    assert config == ExperimentConfig(epochs=5)
    assert len(notes) == 3
    assert notes[0].startswith("Ignored `window=abc` from the link: `window` must be a number.")
    assert notes[1].startswith("Ignored `models=lstm,arima` from the link:")
    assert "lstm, mlp, naive, seasonal_naive" in notes[1]
    assert notes[2].startswith("Ignored `transform=cube` from the link:")


def test_url_fractional_count_is_ignored() -> None:
    config, notes = ExperimentConfig.from_query_params({"test_size": "2.5", "window": "3.0"})
    assert config.test_size == ExperimentConfig().test_size
    assert config.window == 3
    assert len(notes) == 1 and "whole number" in notes[0]


def test_unknown_json_keys_are_refused_listing_valid_keys() -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict({"window": 4, "windw": 5, "lr": 0.1})
    message = str(info.value)
    assert message.startswith("Unknown config key(s): lr, windw. Valid keys: dataset, ")
    for f in fields(ExperimentConfig):
        assert f.name in message


def test_invalid_json_and_non_object_are_refused() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        ExperimentConfig.from_json("{window: 3")
    with pytest.raises(ConfigError, match="must be a JSON object. Received: list"):
        ExperimentConfig.from_json("[1, 2]")


def test_bool_for_int_field_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"`window` must be a number\. Received: True"):
        ExperimentConfig.from_dict({"window": True})
    with pytest.raises(ConfigError, match=r"`window` must be a whole number\. Received: window=True"):
        ExperimentConfig(window=True)


def test_window_zero_message_is_exact() -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(window=0)
    assert str(info.value) == "`window` must be between 1 and 512. Received: window=0"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"window": 3.5}, "`window` must be a whole number"),
        ({"learning_rate": float("nan")}, "`learning_rate` must be a finite number"),
        ({"transform": "cube"}, "`transform` must be one of auto, none, log, diff"),
        ({"dataset": "csv"}, "dataset=csv needs a file"),
        ({"test_size": 2.5}, "`test_size` must be a whole number of points"),
        ({"models": ()}, "Received: models=(empty)"),
        ({"models": ("lstm", "lstm")}, "lists a model twice"),
        ({"epochs": 0}, "`epochs` must be between 1 and 5000. Received: epochs=0"),
    ],
)
def test_invalid_settings_raise_config_error(changes, fragment) -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**changes)
    assert fragment in str(info.value)


def test_from_dict_coerces_strings_and_model_lists() -> None:
    config = ExperimentConfig.from_dict({"window": "6", "test_size": "0.2", "models": "naive, mlp"})
    assert config.window == 6 and isinstance(config.window, int)
    assert config.test_size == 0.2
    assert config.models == ("naive", "mlp")
    assert config.neural_models == ("mlp",)
    with pytest.raises(ConfigError, match="`window` must be a whole number. Received: 6.5"):
        ExperimentConfig.from_dict({"window": "6.5"})


def test_whole_numbers_in_float_fields_serialise_like_their_json_form() -> None:
    """to_json is used as a cache key: a config built in code with test_size=6 and the same
    config read back from JSON or a link must give the same text."""
    built = ExperimentConfig(test_size=6, sine_period=40, window=4)
    assert isinstance(built.test_size, float) and isinstance(built.sine_period, float)
    assert isinstance(built.window, int)
    assert ExperimentConfig.from_json(built.to_json()).to_json() == built.to_json()
    from_link, _ = ExperimentConfig.from_query_params(built.to_query_params())
    assert from_link.to_json() == built.to_json()
    assert json.loads(built.to_json())["test_size"] == 6.0


def test_free_text_fields_are_capped_and_one_line() -> None:
    assert ExperimentConfig(dataset="csv", csv_path="x" * 255).csv_path == "x" * 255
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(dataset="csv", csv_path="x" * 256)
    assert str(info.value) == ("`csv_path` must be at most 255 characters; shorten it. "
                               "Received: 256 characters")
    for name in ("column", "date_column"):
        with pytest.raises(ConfigError, match=f"`{name}` must be one line of printable text"):
            ExperimentConfig(**{name: "a\nb"})
    assert ExperimentConfig(column="Umsatz €").column == "Umsatz €"          # unicode is fine
    with pytest.raises(ConfigError, match="at most 255 characters"):          # imports too
        ExperimentConfig.from_dict({"column": "y" * 10_000})


def test_hostile_link_values_are_never_echoed_whole_or_as_markdown() -> None:
    long_path = "a" * 10_000
    config, notes = ExperimentConfig.from_query_params({
        "dataset": "csv", "csv_path": long_path, "units": "**x**`<script>", "window": "1" + "0" * 300,
        "models": "lstm,[click](http://evil)", "transform": "x`y", "epochs": "1e309"})
    assert config == ExperimentConfig(window=512)
    assert notes == [
        "Ignored `csv_path=" + "a" * 40 + "…` (10,000 characters) from the link: `csv_path` "
        "must be at most 255 characters; shorten it.",
        "Ignored `units=**x** <script>` from the link: `units` must be a number.",
        "`window=1" + "0" * 39 + "…` (301 characters) from the link is out of range [1, 512]; "
        "using 512.",
        "Ignored `models=lstm,[click](http://evil)` from the link: `models` must be a non-empty "
        "subset of lstm, mlp, naive, seasonal_naive, holt_winters, sarima.",
        "Ignored `transform=x y` from the link: `transform` must be one of auto, none, log, "
        "diff, log_diff, seasonal_diff, log_seasonal_diff, detrend, log_detrend, es, log_es.",
        "Ignored `epochs=1e309` from the link: `epochs` must be a finite number.",
        "Ignored `dataset=csv` from the link: dataset=csv needs a file: pass `csv_path` "
        "(CLI: --dataset PATH.csv).",
    ]
    for note in notes:            # each value stays inside its one code span
        assert note.count("`") % 2 == 0 and "\n" not in note and len(note) < 200


def test_nan_inf_and_negative_link_values() -> None:
    config, notes = ExperimentConfig.from_query_params(
        {"dropout": "nan", "learning_rate": "inf", "seed": "-3", "sine_length": "-1e308"})
    assert (config.dropout, config.learning_rate, config.seed, config.sine_length) == \
        (0.0, 0.003, 0, 40)
    assert notes == [
        "Ignored `dropout=nan` from the link: `dropout` must be a finite number.",
        "Ignored `learning_rate=inf` from the link: `learning_rate` must be a finite number.",
        "`seed=-3` from the link is out of range [0, 2147483647]; using 0.",
        "`sine_length=-1e308` from the link is out of range [40, 100000]; using 40.",
    ]


def test_test_size_is_points_or_a_share_and_its_help_says_both() -> None:
    assert ExperimentConfig(test_size=0.2).test_count(144) == 29      # the last 20%
    assert ExperimentConfig(test_size=24).test_count(144) == 24
    text = field_help("test_size")
    assert "a number of points (e.g. 24)" in text and "0.2 for the last 20%" in text


def test_season_is_a_setting_with_auto_and_a_link_carries_it() -> None:
    assert ExperimentConfig().season == 0
    config, notes = ExperimentConfig.from_query_params({"season": "365"})
    assert config.season == 365 and not notes
    assert config.to_query_params() == {"season": "365"}
    text = field_help("season")
    assert "0 detects it" in text and "365 for daily data" in text
    assert "twice" in text               # the limit the Data page and the CLI refuse beyond
