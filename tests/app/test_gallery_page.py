"""The Data page's gallery: a link opens a gallery series, the picker shows each series' story,
frequency and length with a sparkline table, picking one changes the series every page uses;
the Learn page's parallel-series lesson opens a real multivariate series."""

from __future__ import annotations

from lstm_lab.data.gallery import GALLERY
from tests.app.conftest import make_app, open_data_page, texts


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_link_opens_a_gallery_series_with_its_story_and_every_series_in_a_table() -> None:
    at = open_data_page({"dataset": "car_sales"})
    assert at.radio[0].value == "gallery" and at.selectbox[0].value == "car_sales"
    assert _metrics(at) == {"Points": "108", "Frequency": "monthly", "Season": "12",
                            "Train / test": "84 / 24"}
    assert ("**Monthly car sales, Quebec 1960–1968** · monthly · 108 points  \nMonthly car "
            "sales in Quebec, 1960–68: a trend and a strong yearly season.") in texts(at.markdown)
    assert any(c.startswith("Forecasting **Sales** from `monthly-car-sales.csv`. Source: Time "
                            "Series Data Library") for c in texts(at.caption))
    rows = at.dataframe[1].value          # the parsed rows of the chosen series
    assert rows["Sales"].iloc[0] == 6550 and rows["Sales"].iloc[-1] == 14577
    table = at.dataframe[0].value         # the gallery: one row per series, with a sparkline
    assert table["Name"].tolist() == list(GALLERY)
    assert table.set_index("Name").loc["nile", "Points"] == 100
    assert table.set_index("Name").loc["us_change", "Columns"] == 5
    assert all(2 <= len(p) <= 120 for p in table["Preview"])


def test_picking_a_series_changes_the_series_every_page_uses() -> None:
    at = open_data_page()
    assert _metrics(at)["Points"] == "144"             # the airline passengers by default
    at.radio[0].set_value("gallery").run()
    assert not at.exception and at.selectbox[0].value == "births"
    assert _metrics(at)["Points"] == "365" and _metrics(at)["Frequency"] == "daily"
    at.selectbox[0].set_value("us_change").run()
    assert not at.exception
    assert _metrics(at) == {"Points": "187", "Frequency": "quarterly", "Season": "4",
                            "Train / test": "163 / 24"}
    assert at.session_state["lab.config"].dataset == "us_change"
    assert any("Other columns (parallel series): Income, Production, Savings, Unemployment."
               in c for c in texts(at.caption))
    at.switch_page("pages/train.py").run()              # the Train page trains on it
    assert not at.exception
    assert "Data: **Consumption** — 187 points, quarterly (quarter start)" in texts(at.caption)
    at.switch_page("pages/data.py").run()
    assert at.selectbox[0].value == "us_change" and _metrics(at)["Points"] == "187"


def test_gallery_warnings_say_what_the_reader_repaired() -> None:
    at = open_data_page({"dataset": "co2_weekly"})
    assert _metrics(at)["Frequency"] == "weekly" and _metrics(at)["Points"] == "2,284"
    assert any(c.startswith("Read as an upload would be: Filled 59 empty or unreadable value(s)")
               for c in texts(at.caption))
    assert "2,284 data rows read, 2,284 points; none left out, 59 filled by interpolation." \
        in texts(at.caption)


def test_the_parallel_series_lesson_opens_a_real_multivariate_series() -> None:
    at = make_app()
    at.run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception
    assert ("See it on real data: **US change** (Consumption with Income, Production, Savings, "
            "Unemployment) on the Data page.") in texts(at.markdown)
    next(b for b in at.button if b.label == "Open US change on the Data page").click().run()
    assert not at.exception
    assert at.session_state["lab.config"].dataset == "us_change"
    assert at.selectbox[0].value == "us_change" and _metrics(at)["Points"] == "187"
