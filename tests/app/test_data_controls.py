"""Data page controls a user expects: the season (auto in words, with an override), the test
size as points or a share, the parsed rows, cleaning hints that name the toggles, frequency in
words; and the same season and test-size inputs in the Train form."""

from __future__ import annotations

from pathlib import Path

from tests.app.conftest import make_app, open_data_page, texts

DATA = Path(__file__).resolve().parents[1] / "data"
SEASON = "Season (0 = auto)"
TEST_SIZE = "Test size (points, or a share below 1)"


def _number(at, label: str):
    (widget,) = [n for n in at.number_input if n.label == label]
    return widget


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _upload(name: str, content: bytes):
    at = open_data_page()
    at.radio[0].set_value("csv").run()
    at.file_uploader[0].upload(name, content, "text/csv").run()
    assert not at.exception
    return at


def test_the_airline_series_shows_its_season_and_frequency_in_words_and_its_rows() -> None:
    at = open_data_page()
    metrics = _metrics(at)
    assert (metrics["Frequency"], metrics["Season"]) == ("monthly", "12")
    (frequency,) = [m for m in at.metric if m.label == "Frequency"]
    assert frequency.proto.help.startswith("Monthly (month start). Detected from the dates")
    assert "Season — auto: 12 (monthly data, a year)" in texts(at.caption)
    assert "Test part — 24 points (17% of 144)" in texts(at.caption)
    assert _number(at, SEASON).value == 0 and _number(at, TEST_SIZE).value == 24.0
    rows = at.dataframe[0].value
    assert list(rows.columns) == ["Point", "Time", "Passengers"]
    assert rows["Point"].tolist() == [1, 2, 3, 4, 5, 140, 141, 142, 143, 144]
    assert rows["Time"].iloc[0] == "1949-01-01" and rows["Time"].iloc[-1] == "1960-12-01"
    assert rows["Passengers"].iloc[0] == 112 and rows["Passengers"].iloc[-1] == 432
    assert "144 points, nothing left out or filled." in texts(at.caption)


def test_the_damped_sine_gets_its_period_as_season_and_an_override_is_kept() -> None:
    at = open_data_page({"dataset": "damped_sine"})
    assert _metrics(at)["Season"] == "40"
    assert _metrics(at)["Frequency"] == "no dates"
    assert "Season — auto: 40 (the values repeat about every 40 points)" in texts(at.caption)
    _number(at, SEASON).set_value(20).run()
    assert at.session_state["lab.config"].season == 20
    assert _metrics(at)["Season"] == "20"
    assert ("Season — set to 20 points; auto would be 40 (the values repeat about every 40 "
            "points)") in texts(at.caption)


def test_a_season_the_series_cannot_hold_is_refused_in_a_sentence() -> None:
    at = open_data_page()
    _number(at, SEASON).set_value(100).run()
    assert texts(at.error) == [
        "A season of 100 points cannot be seen in a training part of 120 points, which must "
        "hold it at least twice: set a season of 60 or less, or 0 to detect it."]
    assert at.session_state["lab.config"].season == 0          # kept as it was
    assert _metrics(at)["Season"] == "12"


def test_the_test_size_takes_a_share_of_the_series_and_refuses_too_much() -> None:
    at = open_data_page({"dataset": "damped_sine"})
    _number(at, TEST_SIZE).set_value(0.25).run()
    assert at.session_state["lab.config"].test_size == 0.25
    assert _metrics(at)["Train / test"] == "300 / 100"
    assert "Test part — a share of 0.25: the last 100 of 400 points" in texts(at.caption)
    _number(at, TEST_SIZE).set_value(396.0).run()             # the most the input allows
    assert not at.error and _metrics(at)["Train / test"] == "4 / 396"
    _number(at, TEST_SIZE).set_value(30.4).run()              # points are whole
    assert at.session_state["lab.config"].test_size == 30.0


def test_an_upload_lists_its_parsed_rows_and_the_gap_hint_names_the_toggle() -> None:
    at = _upload("temps.csv", (DATA / "daily-min-temperatures.csv").read_bytes())
    warnings = texts(at.warning)
    gap = next(w for w in warnings if "gap" in w)
    assert "Fill gaps by interpolation" in gap and "Cleaning options" in gap
    assert "fill_gaps" not in " ".join(warnings) and "=True" not in " ".join(warnings)
    assert _metrics(at)["Frequency"] == "irregular dates"
    assert ("Season — auto: none (irregular dates: set it if the values repeat)"
            in texts(at.caption))
    rows = at.dataframe[0].value
    assert list(rows.columns) == ["Point", "Line in file", "Time", "Temp", "Note"]
    assert rows["Line in file"].tolist()[:2] == [2, 3] and rows["Time"].iloc[0] == "1981-01-01"
    assert any("3,650 data rows read, 3,650 points; none left out, none filled." in c
               for c in texts(at.caption))

    at.toggle[0].set_value(True).run()                        # Fill gaps by interpolation
    assert not at.exception and not any("gap(s)" in w for w in texts(at.warning))
    metrics = _metrics(at)
    assert (metrics["Points"], metrics["Frequency"], metrics["Season"]) == ("3,652", "daily", "7")
    assert any("3,650 data rows read, 3,652 points; none left out, 2 filled by interpolation."
               in c for c in texts(at.caption))
    assert "Season — auto: 7 (daily data, a week)" in texts(at.caption)
    _number(at, SEASON).set_value(365).run()
    assert not at.error and at.session_state["lab.config"].season == 365
    assert ("Season — set to 365 (daily data, a year); auto would be 7 (daily data, a week)"
            in texts(at.caption))


def test_an_interpolated_cell_is_marked_in_the_rows_and_the_date_choice_reads_plainly() -> None:
    rows = ["date,v"] + [f"2020-01-{d:02d},{'?' if d == 3 else d}" for d in range(1, 29)]
    at = _upload("cells.csv", ("\n".join(rows) + "\n").encode())
    warning = next(w for w in texts(at.warning) if "Filled 1" in w)
    assert 'set "Unreadable or empty cells" under Cleaning options' in warning
    table = at.dataframe[0].value
    assert table["Note"].tolist()[2] == "empty or unreadable: interpolated"
    assert table["v"].tolist()[2] == 3.0
    date_picker = at.selectbox[1]
    assert date_picker.format_func("(row number)") == "none: the row order is the time"
    assert "(row number)" not in str(date_picker.help)


def test_the_train_form_has_the_season_and_the_share_from_the_link() -> None:
    at = make_app({"dataset": "damped_sine", "season": "20", "test_size": "0.2"})
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert _number(at, SEASON).value == 20
    assert _number(at, TEST_SIZE).value == 0.2
    assert "40 (the values repeat about every 40 points)" in _number(at, SEASON).help
    assert "0.2 for the last 20%" in _number(at, TEST_SIZE).help
