"""Property tests: any JSON-ish config or URL gives a valid config or a ConfigError, nothing else."""

from __future__ import annotations

from dataclasses import fields

from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_lab.errors import ConfigError
from lstm_lab.experiments.config import ExperimentConfig

KEYS = [f.name for f in fields(ExperimentConfig)] + ["windw", ""]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.lists(st.text(max_size=6), max_size=4))


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8))
def test_any_dict_gives_a_config_or_a_config_error(data: dict) -> None:
    try:
        config = ExperimentConfig.from_dict(data)
    except ConfigError as err:
        assert str(err)
        return
    assert ExperimentConfig.from_json(config.to_json()) == config


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), st.text(max_size=12), max_size=8))
def test_any_url_gives_a_valid_config_and_notes(params: dict) -> None:
    config, notes = ExperimentConfig.from_query_params(params)
    assert isinstance(config, ExperimentConfig)
    assert all(isinstance(n, str) and n for n in notes)
    assert ExperimentConfig.from_query_params(config.to_query_params()) == (config, [])
