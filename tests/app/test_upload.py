"""CSV uploads on the Data page: good files preview, messy ones warn, bad ones explain the fix."""

from __future__ import annotations

from pathlib import Path

from lstm_lab.ui.text import plain
from tests.app.conftest import make_app, texts

DATA = Path(__file__).resolve().parents[1] / "data"


def _upload(name: str, content: bytes):
    at = make_app()
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value("csv").run()
    assert any("Upload a CSV" in i for i in texts(at.info))
    at.file_uploader[0].upload(name, content, "text/csv").run()
    assert not at.exception
    return at


def test_clean_upload_previews_the_series() -> None:
    at = _upload("airline.csv", (DATA / "airline-passengers.csv").read_bytes())
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Points"], metrics["Frequency"], metrics["Season"]) == \
        ("144", "monthly", "12")
    cfg = at.session_state["lab.config"]
    assert (cfg.dataset, cfg.csv_path, cfg.column) == ("csv", "airline.csv", "Passengers")
    assert at.selectbox[0].value == "Passengers"       # value column picker
    assert at.selectbox[1].value == "Month"            # date column picker


def test_messy_upload_loads_with_visible_warnings() -> None:
    raw = (DATA / "quirky" / "daily-min-temperatures_qmarks.csv").read_bytes()
    at = _upload("temps.csv", raw)
    assert not at.error
    assert {m.label: m.value for m in at.metric}["Points"] == "3,650"
    assert any("?0.2" in w or "unreadable" in w.lower() for w in texts(at.warning))


def test_several_numeric_columns_offer_a_picker() -> None:
    raw = b"date,sales,visits\n2020-01-01,1,10\n2020-01-02,2,12\n2020-01-03,3,15\n" + \
        b"".join(f"2020-01-{d:02d},{d},{d * 3}\n".encode() for d in range(4, 29))
    at = _upload("two.csv", raw)
    assert any("sales" in i and "visits" in i for i in texts(at.info))
    assert not at.metric                                 # nothing is guessed
    at.selectbox[0].set_value("visits").run()
    assert not at.exception
    assert at.session_state["lab.config"].column == "visits"
    assert {m.label: m.value for m in at.metric}["Points"] == "28"


def test_binary_upload_is_refused_with_a_message() -> None:
    at = _upload("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    errors = texts(at.error)
    assert len(errors) == 1
    assert plain("image.csv is not a CSV file") in errors[0]     # the name shown as typed
    assert not at.metric


def test_text_without_numbers_is_refused_with_the_columns() -> None:
    at = _upload("names.csv", b"name,city\nann,paris\nbob,rome\ncid,oslo\n")
    (error,) = texts(at.error)
    assert "no numeric column" in error.lower() or "numeric" in error.lower()


def test_uploaded_series_trains_from_the_train_page() -> None:
    from tests.app.conftest import QUICK, wait_for_training

    at = make_app(QUICK)
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value("csv").run()
    at.file_uploader[0].upload("airline.csv", (DATA / "airline-passengers.csv").read_bytes(),
                               "text/csv").run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    at.button(key="FormSubmitter:train_form-Train").click().run()
    wait_for_training(at)
    assert not at.exception and not at.error
    assert len(at.metric) == 6


def test_row_number_choice_ignores_the_date_column_and_a_bad_choice_keeps_the_pickers() -> None:
    at = _upload("airline.csv", (DATA / "airline-passengers.csv").read_bytes())
    at.selectbox[1].set_value("(row number)").run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Frequency"] == \
        "no dates"
    assert at.session_state["lab.config"].date_column == "(row number)"
    raw = b"date,note,value\n" + b"".join(
        f"2020-01-{d:02d},n{d},{d}\n".encode() for d in range(1, 29))
    at = _upload("notes.csv", raw)
    assert {m.label: m.value for m in at.metric}["Points"] == "28"
    at.selectbox[1].set_value("note").run()            # not dates: refused, pickers stay
    assert not at.exception
    (error,) = texts(at.error)
    assert "note" in error
    assert len(at.selectbox) == 2
    at.selectbox[1].set_value("date").run()            # and the user can go back
    assert not at.error and {m.label: m.value for m in at.metric}["Points"] == "28"


def test_cleaning_options_let_the_user_choose_what_happens_to_bad_cells() -> None:
    raw = (DATA / "quirky" / "daily-min-temperatures_qmarks.csv").read_bytes()
    at = _upload("temps.csv", raw)
    assert {m.label: m.value for m in at.metric}["Points"] == "3,650"     # interpolated
    (bad_cells,) = [r for r in at.radio if r.label == "Unreadable or empty cells"]
    bad_cells.set_value("drop").run()
    assert {m.label: m.value for m in at.metric}["Points"] == "3,647"     # 3 '?' rows dropped
    (bad_cells,) = [r for r in at.radio if r.label == "Unreadable or empty cells"]
    bad_cells.set_value("error").run()
    (error,) = texts(at.error)
    assert plain("line 567 ('?0.2')") in error
    assert not at.exception


def test_hostile_column_and_file_names_are_refused_or_shown_as_typed() -> None:
    long_name = "v" * 300
    raw = f"date,{long_name},**b**[x](y)\n".encode() + b"".join(
        f"2020-01-{d:02d},{d},{d * 2}\n".encode() for d in range(1, 29))
    at = _upload("**evil**<b>.csv", raw)
    (info,) = [i for i in texts(at.info) if "several numeric columns" in i]
    assert info.startswith(r"\*\*evil\*\*\<b\>\.csv has several numeric columns (")
    assert r"\*\*b\*\*\[x\]\(y\)" in info and "v" * 41 not in info     # escaped, cut short
    at.selectbox[0].set_value(long_name).run()            # too long for the config: a message
    assert not at.exception
    (error,) = texts(at.error)
    assert "must be at most 255 characters" in error and "Rename it in the file" in error
    assert not at.metric
    at.selectbox[0].set_value("**b**[x](y)").run()         # another column works
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Points"] == "28"
    assert at.session_state["lab.config"].column == "**b**[x](y)"


LINK_HEADER = "[Grades](https://x.example)"
ESCAPED_LINK = r"\[Grades\]\(https\:\//x\.example\)"


def _markdown_sources(at) -> list[str]:
    """Every markdown source the page sent: captions, markdown, errors, warnings, infos."""
    return [*texts(at.caption), *texts(at.markdown), *texts(at.error), *texts(at.warning),
            *texts(at.info)]


def test_header_cells_are_shown_as_typed_on_every_page() -> None:
    """A column header '[Grades](https://x.example)' (the series name) and '**bold**' never
    become a link or bold text: in the data error, the Train and Sweep captions and a failed
    run's message, the markdown source holds them escaped."""
    from tests.app.conftest import QUICK, wait_for_training

    raw = f"date,{LINK_HEADER},**bold**\n".encode() + b"".join(
        f"2020-01-{d:02d},{d * 2},g{d}\n".encode() for d in range(1, 29))
    at = make_app({**QUICK, "window": "24"})
    at.run()
    at.switch_page("pages/data.py").run()
    at.radio[0].set_value("csv").run()
    at.file_uploader[0].upload("grades.csv", raw, "text/csv").run()
    assert not at.exception and not at.error
    at.selectbox[1].set_value("**bold**").run()       # not dates: the error quotes the header
    (error,) = texts(at.error)
    assert r"column '\*\*bold\*\*' does not hold dates" in error
    at.selectbox[1].set_value("date").run()
    assert not at.error

    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any(c.startswith(f"Data: **{ESCAPED_LINK}** — 28 points") for c in texts(at.caption))
    at.button(key="FormSubmitter:train_form-Train").click().run()
    wait_for_training(at)      # 28 points cannot hold window 24 and a test part: refused
    (error,) = texts(at.error)
    assert error.startswith(f"'{ESCAPED_LINK}' has 28 points")
    sources = _markdown_sources(at)
    assert not [s for s in sources if "](" in s or "**bold**" in s]

    at.switch_page("pages/sweep.py").run()
    assert not at.exception
    assert any(c.startswith(f"Data: **{ESCAPED_LINK}** — 28 points") for c in texts(at.caption))
    assert not [s for s in _markdown_sources(at) if "](" in s]
