"""Hostile links: whatever a URL carries, every page answers with a message, never a traceback.

A link is anyone's text. Each case below opens every page straight from a link (as a student
clicking it would) and checks that no exception reached the page, that the repair is explained,
that no value is echoed whole or as markdown, and that the server still serves a fresh session.
"""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from lstm_lab.experiments.config import ExperimentConfig
from tests.app.conftest import make_app, texts

PAGES = ("pages/home.py", "pages/data.py", "pages/train.py", "pages/history.py",
         "pages/sweep.py", "pages/learn.py")
FIELDS = [f.name for f in fields(ExperimentConfig)]
NUMERIC = [f.name for f in fields(ExperimentConfig) if "min" in f.metadata]
INJECTION = "**x**<script>alert(1)</script>[a](javascript:alert(1))"


def every_field(value: str, **others: str) -> dict[str, str]:
    return {**{name: value for name in FIELDS}, **others}


# case -> (query parameters, a message the pages must show)
CASES = {
    "huge": ({**{n: "1e308" for n in NUMERIC}, "csv_path": "p" * 10_000,
              "column": "c" * 10_000, "models": "lstm," + "m" * 10_000},
             "`window=1e308` from the link is out of range [1, 512]; using 512."),
    "negative": ({n: "-1e12" for n in NUMERIC},
                 "`epochs=-1e12` from the link is out of range [1, 5000]; using 1."),
    "nan": (every_field("nan"), "Ignored `window=nan` from the link: `window` must be a finite "
                                "number."),
    "inf": (every_field("-inf"), "Ignored `sine_period=-inf` from the link: `sine_period` must "
                                 "be a finite number."),
    "1e309": (every_field("1e309"), "Ignored `units=1e309` from the link: `units` must be a "
                                    "finite number."),
    "unicode": (every_field("٣٢🙂\u202e\x00"), "Ignored `layers=٣٢🙂  ` from the link: `layers` "
                                               "must be a number."),
    "markdown and html": (every_field(INJECTION), "Ignored `transform=**x**<script>alert(1)"
                                                  "</script>[a](javasc…` (54 characters) from the "
                                                  "link: `transform` must be one of auto,"),
    "10,000 characters": (every_field("9" * 10_000), "Ignored `seed=" + "9" * 40 + "…` (10,000 "
                                                     "characters) from the link: `seed` must be "
                                                     "a finite number."),
    "csv path of 10,000 characters": (
        {"dataset": "csv", "csv_path": "a" * 10_000},
        "Ignored `dataset=csv` from the link: dataset=csv needs a file"),
    "tiny sine, largest framing": (
        {"dataset": "damped_sine", "sine_length": "39", "window": "512", "horizon": "365",
         "test_size": "1000000", "season": "1000", "layers": "8", "units": "1024",
         "mlp_layers": "8", "mlp_units": "4096", "batch_size": "4096", "epochs": "5000",
         "sine_period": "0.5", "sine_amplitude": "1e12"},
        "`sine_length=39` from the link is out of range [40, 100000]; using 40."),
    "fractions and empties": (
        {"window": "", "horizon": "2.5", "test_size": "0.0001", "foo": "bar", "": "x",
         "q" * 1000: "y", "models": ",,,", "dataset": "csv"},
        "`test_size=0.0001` from the link is out of range [0.01, 1000000.0]; using 0.01."),
}


def _outside_code(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", CASES)
def test_hostile_link_gives_messages_not_tracebacks(case: str, page: str) -> None:
    params, message = CASES[case]
    at = make_app(params)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at.warning)
    assert any(message in w for w in shown), shown
    for text in shown + texts(at.info) + texts(at.error) + texts(at.markdown):
        assert len(text) < 2_000                           # nothing is echoed whole
        for marker in ("<script>", "**x**", "](javascript", "\x00"):
            assert marker not in _outside_code(text), text
    assert ExperimentConfig.from_json(at.session_state["lab.config"].to_json())   # valid config
    other = make_app()                                     # and the server answers the next one
    other.switch_page(page).run()
    assert not other.exception and not other.warning


def test_repeated_keys_use_the_last_value_and_say_so() -> None:
    at = make_app()
    at.query_params["window"] = ["6", "100000"]
    at.query_params["units"] = ["lots", "16"]
    at.switch_page("pages/train.py").run()
    assert not at.exception
    cfg = at.session_state["lab.config"]
    assert (cfg.window, cfg.units) == (512, 16)
    assert texts(at.warning) == ["`window=100000` from the link is out of range [1, 512]; "
                                 "using 512."]


def test_a_csv_name_with_markdown_is_shown_as_typed() -> None:
    at = make_app({"dataset": "csv", "csv_path": "**big**`x`<b>[a](b).csv"})
    at.switch_page("pages/train.py").run()
    assert not at.exception and not at.warning           # a valid name: nothing to repair
    (info,) = [i for i in texts(at.info) if "can't travel in a link" in i]
    assert "(`**big** x <b>[a](b).csv`)" in info         # one code span: shown, not rendered
    sidebar = " ".join(texts(at.sidebar.markdown))
    assert "`**big** x <b>[a](b).csv`" in sidebar
