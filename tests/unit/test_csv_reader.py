"""csv_reader: 30 real CSV files, the refusals, and property-based tests over random input.

Expected values never come from the loader itself: row counts and first/last dates are the facts
in tests/data/PROVENANCE.md (from the datasets README), and the values come from pandas reading
each file with an explicit recipe (separator, rows, date format) written out below.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_lab.data.csv_reader import (
    AmbiguousColumnError,
    CsvColumns,
    CsvLoad,
    code_words,
    inspect_csv,
    load_csv,
    read_csv_series,
)
from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.experiments.config import ExperimentConfig
from lstm_lab.experiments.sources import load_series
from lstm_lab.limits import Limits, get_limits

DATA = Path(__file__).resolve().parents[1] / "data"
LONG_NAME = "Daily minimum temperatures in Melbourne, Australia, 1981-1990"
QMARK_LINES = "line 567 ('?0.2'), line 568 ('?0.8'), line 1292 ('?0.1')"


# ---------------------------------------------------------------------------------------------
# Independent readings: pandas with explicit arguments, one recipe per file layout.


def dated(time: str, value: str, fmt: str, **read_csv) -> Callable[[Path], tuple]:
    """read_csv(**read_csv), dates with an explicit format, values with NaN filled linearly."""
    def read(path: Path) -> tuple[pd.Index, np.ndarray]:
        frame = pd.read_csv(path, **read_csv)
        times = pd.to_datetime(frame[time].astype(str), format=fmt)
        values = pd.to_numeric(frame[value], errors="coerce").interpolate()
        return pd.Index(times), values.to_numpy(float)
    return read


def two_digit_years_in_the_1900s(path: Path) -> tuple[pd.Index, np.ndarray]:
    """Jan-49: %y gives 2049, so the 100 years are taken off by hand (the file is 1949-1960)."""
    times, values = dated("Month", "passengers", "%b-%y", nrows=144)(path)
    return pd.Index(pd.DatetimeIndex(times) - pd.DateOffset(years=100)), values


def year_index_months(path: Path) -> tuple[pd.Index, np.ndarray]:
    """"Y-MM" with Y = 1, 2, ...: months counted from the first year's January."""
    frame = pd.read_csv(path, dtype={"Month": str})
    year_month = frame["Month"].str.split("-", expand=True).astype(int)
    return pd.Index((year_month[0] - 1) * 12 + year_month[1] - 1), frame["Sales"].to_numpy(float)


def quarters(path: Path) -> tuple[pd.Index, np.ndarray]:
    """"1970 Q1": pd.Period after removing the space, as the datasets README suggests."""
    frame = pd.read_csv(path)
    periods = pd.PeriodIndex(frame["Quarter"].str.replace(" ", ""), freq="Q")
    return pd.Index(periods.to_timestamp()), frame["Consumption"].to_numpy(float)


def year_and_quarter(path: Path) -> tuple[pd.Index, np.ndarray]:
    frame = pd.read_csv(path)
    periods = pd.PeriodIndex([f"{y}Q{q}" for y, q in zip(frame["year"], frame["quarter"])],
                             freq="Q")
    return pd.Index(periods.to_timestamp()), frame["realgdp"].to_numpy(float)


def headerless_longley(path: Path) -> tuple[pd.Index, np.ndarray]:
    frame = pd.read_csv(path, header=None)          # 6th column: year, 7th: Employed
    return pd.Index(pd.to_datetime(frame[5].astype(str), format="%Y")), frame[6].to_numpy(float)


@dataclass(frozen=True)
class RealFile:
    path: str                   # under tests/data
    rows: int                   # README: data rows
    first: object               # README: first and last time (Timestamp, or int for "period")
    last: object
    read: Callable[[Path], tuple]
    column: str | None = None   # passed to load_csv (multivariate files)
    freq: str | None = None
    season: int = 1
    warns: tuple[str, ...] = ()  # fragments expected among the warnings

    def __str__(self) -> str:
        return self.path


T = pd.Timestamp
GAPS = "2 gap(s) in its daily sequence: 1984-12-31, 1988-12-31"
MONTHLY = dict(freq="MS", season=12)
REAL_FILES = [
    RealFile("airline-passengers.csv", 144, T("1949-01-01"), T("1960-12-01"),
             dated("Month", "Passengers", "%Y-%m"), **MONTHLY),
    RealFile("daily-min-temperatures.csv", 3650, T("1981-01-01"), T("1990-12-31"),
             dated("Date", "Temp", "%Y-%m-%d"), warns=(GAPS,)),
    RealFile("daily-max-temperatures.csv", 3650, T("1981-01-01"), T("1990-12-31"),
             dated("Date", "Temperature", "%Y-%m-%d"), warns=(GAPS,)),
    RealFile("daily-total-female-births.csv", 365, T("1959-01-01"), T("1959-12-31"),
             dated("Date", "Births", "%Y-%m-%d"), freq="D", season=7),
    RealFile("monthly-car-sales.csv", 108, T("1960-01-01"), T("1968-12-01"),
             dated("Month", "Sales", "%Y-%m"), **MONTHLY),
    RealFile("monthly-sunspots.csv", 2820, T("1749-01-01"), T("1983-12-01"),
             dated("Month", "Sunspots", "%Y-%m"), **MONTHLY),
    RealFile("shampoo.csv", 36, 0, 35, year_index_months, season=12,
             warns=("year-number/month labels",)),
    RealFile("monthly-writing-paper-sales.csv", 147, 0, 146, year_index_months, season=12),
    RealFile("monthly-mean-temp.csv", 240, T("1920-01-01"), T("1939-12-01"),
             dated("Month", "Temperature", "%Y-%m"), **MONTHLY),
    RealFile("monthly-robberies.csv", 118, T("1966-01-01"), T("1975-10-01"),
             dated("Month", "Robberies", "%Y-%m"), **MONTHLY),
    RealFile("monthly_champagne_sales.csv", 105, T("1964-01-01"), T("1972-09-01"),
             dated("Month", "Sales", "%Y-%m"), **MONTHLY),
    RealFile("yearly-water-usage.csv", 79, T("1885-01-01"), T("1963-01-01"),
             dated("Year", "Water", "%Y"), freq="YS-JAN"),
    RealFile("longley.csv", 16, T("1947-01-01"), T("1962-01-01"), headerless_longley,
             column="col7", freq="YS-JAN", warns=("No header row",)),
    RealFile("airline-passengers_sktime.csv", 144, T("1949-01-01"), T("1960-12-01"),
             dated("Date", "Passengers", "%Y-%m"), **MONTHLY),
    RealFile("AirPassengers_selva86.csv", 144, T("1949-01-01"), T("1960-12-01"),
             dated("date", "value", "%Y-%m-%d"), **MONTHLY),
    RealFile("uschange_sktime.csv", 187, T("1970-01-01"), T("2016-07-01"), quarters,
             column="Consumption", freq="QS-JAN", season=4),
    RealFile("lynx_sktime.csv", 114, T("1821-01-01"), T("1934-01-01"),
             dated("Unnamed: 0", "0", "%Y"), freq="YS-JAN"),
    RealFile("co2-weekly_statsmodels.csv", 2284, T("1958-03-29"), T("2001-12-29"),
             dated("date", "co2", "%Y%m%d"), freq="W-SAT", season=52,
             warns=("Filled 59 empty or unreadable value(s) in 'co2'",)),
    RealFile("macrodata_statsmodels.csv", 203, T("1959-01-01"), T("2009-07-01"),
             year_and_quarter, column="realgdp", freq="QS-JAN", season=4,
             warns=("Combined columns 'year' and 'quarter'",)),
    RealFile("nile_statsmodels.csv", 100, T("1871-01-01"), T("1970-01-01"),
             dated("year", "volume", "%Y"), freq="YS-JAN"),
    RealFile("sunspots-yearly_statsmodels.csv", 309, T("1700-01-01"), T("2008-01-01"),
             dated("YEAR", "SUNACTIVITY", "%Y"), freq="YS-JAN"),
    # quirky/: messy copies
    RealFile("quirky/a10_missing-values_selva86.csv", 100, T("1991-07-01"), T("1999-10-01"),
             dated("date", "value", "%Y-%m-%d"), **MONTHLY,
             warns=("Filled 31 empty or unreadable value(s)",)),
    RealFile("quirky/airline-passengers_excel-footer.csv", 144, T("1949-01-01"), T("1960-12-01"),
             dated("Month", "passengers", "%Y-%m", nrows=144), **MONTHLY,
             warns=("Ignored 1 line(s) after the data (from line 147",)),
    RealFile("quirky/airline-passengers_mon-yy_footer.csv", 144, T("1949-01-01"),
             T("1960-12-01"), two_digit_years_in_the_1900s, **MONTHLY,
             warns=("two-digit years; they were read as 1949-1960", "Ignored 1 line(s)")),
    RealFile("quirky/airline-passengers_spaced-header_footer.csv", 144, T("1949-01-01"),
             T("1960-12-01"), dated("Time", "passengers", "%Y-%m", nrows=144,
                                    skipinitialspace=True), **MONTHLY,
             warns=("Ignored 1 line(s)",)),
    RealFile("quirky/daily-min-temperatures_dd-mm-yy.csv", 3650, T("1981-01-01"),
             T("1990-12-31"), dated("Date", LONG_NAME, "%d-%m-%y"),
             warns=("read as 1981-1990", GAPS)),
    RealFile("quirky/daily-min-temperatures_dmy_qmarks.csv", 3650, T("1981-01-01"),
             T("1990-12-31"), dated("Date", LONG_NAME, "%d-%m-%Y"), warns=(QMARK_LINES, GAPS)),
    RealFile("quirky/daily-min-temperatures_mdy_trailing-comma_qmarks_footer.csv", 3650,
             T("1981-01-01"), T("1990-12-31"),
             dated("Date", LONG_NAME, "%m/%d/%Y", nrows=3650, usecols=[0, 1]),
             warns=(QMARK_LINES, GAPS, "Ignored 1 line(s) after the data (from line 3653")),
    RealFile("quirky/daily-min-temperatures_qmarks.csv", 3650, T("1981-01-01"), T("1990-12-31"),
             dated("Date", "Value", "%Y-%m-%d"), warns=(QMARK_LINES, GAPS)),
    RealFile("quirky/daily-min-temperatures_semicolon_qmarks_footer.csv", 3650, T("1981-01-01"),
             T("1990-12-31"), dated("Date", LONG_NAME, "%Y-%m-%d", sep=";", nrows=3650),
             warns=(QMARK_LINES, GAPS, "Ignored 1 line(s)")),
]


def test_every_data_file_is_tested_and_documented() -> None:
    on_disk = {str(p.relative_to(DATA)) for p in DATA.rglob("*.csv")}
    assert on_disk == {case.path for case in REAL_FILES}
    provenance = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    assert all(f"`{path}`" in provenance for path in on_disk)


@pytest.mark.parametrize("case", REAL_FILES, ids=str)
def test_real_file_loads_with_the_right_times_and_values(case: RealFile) -> None:
    result = load_csv(DATA / case.path, column=case.column)
    series = result.series
    times, values = case.read(DATA / case.path)
    assert len(series) == case.rows == len(values) == result.n_rows_read
    assert series.index[0] == case.first and series.index[-1] == case.last
    assert list(series.index) == list(times)
    np.testing.assert_allclose(series.values, values, rtol=0, atol=1e-9)
    assert round(series.values.sum(), 6) == round(float(values.sum()), 6)   # the checksum
    assert series.freq == case.freq and series.season == case.season
    assert series.source == Path(case.path).name
    for fragment in case.warns:
        assert any(fragment in note for note in result.warnings), (fragment, result.warnings)


@pytest.mark.parametrize("path", [c.path for c in REAL_FILES if "airline" in c.path.lower()
                                  or "AirPassengers" in c.path])
def test_every_airline_copy_sums_to_the_readme_total(path: str) -> None:
    series = read_csv_series(DATA / path)
    assert (len(series), series.values.sum(), series.values.min(), series.values.max()) == \
        (144, 40363, 104, 622)


def test_question_marks_are_flagged_not_read_as_numbers() -> None:
    # the jbrownlee copy drops the "?" (reads +0.2); the quirky copy must not do the same silently
    path = DATA / "quirky/daily-min-temperatures_qmarks.csv"
    series = load_csv(path, bad_values="drop").series
    assert len(series) == 3647
    assert pd.Timestamp("1982-07-20") not in series.index
    with pytest.raises(DataError, match=r"3 empty or unreadable cell\(s\): line 567 \('\?0.2'\)"):
        load_csv(path, bad_values="error")


def test_fill_gaps_adds_the_two_missing_days() -> None:
    result = load_csv(DATA / "daily-min-temperatures.csv", fill_gaps=True)
    series = result.series
    assert len(series) == 3652 and series.freq == "D" and series.season == 7
    frame = pd.read_csv(DATA / "daily-min-temperatures.csv", index_col="Date", parse_dates=True)
    for day in ("1984-12-31", "1988-12-31"):
        before, after = pd.Timestamp(day) - pd.Timedelta(days=1), pd.Timestamp(day) + pd.Timedelta(days=1)
        expected = (frame.loc[before, "Temp"] + frame.loc[after, "Temp"]) / 2
        assert series.values[series.index.get_loc(pd.Timestamp(day))] == pytest.approx(expected)
    assert any("Filled 2 missing daily time point(s)" in note for note in result.warnings)


def test_csv_load_reports_columns_for_pickers() -> None:
    result = load_csv(DATA / "uschange_sktime.csv", column="Income")
    assert isinstance(result, CsvLoad)
    assert result.columns == ["col1", "Quarter", "Consumption", "Income", "Production", "Savings",
                              "Unemployment"]
    assert result.numeric_columns == ["Consumption", "Income", "Production", "Savings",
                                      "Unemployment"]
    assert result.date_column == "Quarter" and result.series.name == "Income"


@pytest.mark.parametrize(("path", "numeric"), [
    ("uschange_sktime.csv", ["Consumption", "Income", "Production", "Savings", "Unemployment"]),
    ("longley.csv", ["col1", "col2", "col3", "col4", "col5", "col7"]),
])
def test_several_numeric_columns_ask_for_a_choice(path: str, numeric: list[str]) -> None:
    with pytest.raises(AmbiguousColumnError) as info:
        load_csv(DATA / path)
    assert info.value.numeric_columns == numeric
    assert ", ".join(numeric) in str(info.value)
    restored = pickle.loads(pickle.dumps(info.value))          # st.cache_data pickles results
    assert restored.numeric_columns == numeric
    assert inspect_csv(DATA / path).numeric_columns == numeric


def test_inspect_csv_unpacks_to_three_values() -> None:
    columns, numeric, date_column = inspect_csv(DATA / "macrodata_statsmodels.csv")
    assert columns[:3] == ["year", "quarter", "realgdp"] and len(columns) == 14
    assert "year" not in numeric and "quarter" not in numeric and len(numeric) == 12
    assert date_column == "year"
    assert isinstance(inspect_csv(DATA / "shampoo.csv"), CsvColumns)


def test_existing_callers_keep_working() -> None:
    path = DATA / "airline-passengers.csv"
    series = read_csv_series(path)
    assert isinstance(series, Series) and series.name == "Passengers"
    via_config = load_series(ExperimentConfig(dataset="csv", csv_path=str(path)))
    np.testing.assert_array_equal(via_config.values, series.values)
    with open(path, "rb") as fh:                                  # a binary file object
        assert read_csv_series(fh).source == "airline-passengers.csv"
    upload = read_csv_series(path.read_bytes(), name="mine.csv")  # raw upload bytes
    assert upload.source == "mine.csv" and list(upload.index) == list(series.index)


def test_year_index_data_get_an_integer_period_index_and_season_12() -> None:
    series = read_csv_series(DATA / "shampoo.csv")
    assert series.index.name == "period" and series.index.dtype == np.int64
    assert series.freq is None and series.season == 12 and series.season_override == 12
    with pytest.raises(DataError, match="season_override"):
        Series([1.0, 2.0], range(2), season_override=0)


# ---------------------------------------------------------------------------------------------
# Small inline files: one behaviour each


def load(text: str | bytes, **options) -> CsvLoad:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return load_csv(raw, name="t.csv", **options)


@pytest.mark.parametrize(("text", "values"), [
    ("date;value\n2020-01-01;1,5\n2020-01-02;2,25\n2020-01-03;3\n", [1.5, 2.25, 3.0]),
    ("date\tvalue\n2020-01-01\t1.5\n2020-01-02\t2\n2020-01-03\t3\n", [1.5, 2.0, 3.0]),
    ("date|value\n2020-01-01|1\n2020-01-02|2\n2020-01-03|3\n", [1.0, 2.0, 3.0]),
    ("\ufeffdate,value\r\n2020-01-01,1\r\n2020-01-02,2\r\n2020-01-03,3", [1.0, 2.0, 3.0]),
    ("date,value\r2020-01-01,1\r2020-01-02,2\r2020-01-03,3\r", [1.0, 2.0, 3.0]),  # old Mac CR
    ('"the date","the value"\n"2020-01-01","1"\n"2020-01-02","2"\n"2020-01-03","3"\n',
     [1.0, 2.0, 3.0]),
    ('date,value\n2020-01-01,"1,234.5"\n2020-01-02,"2,000"\n2020-01-03,3\n', [1234.5, 2000, 3]),
    ("Sales report\n\ndate,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n", [1.0, 2.0, 3.0]),
    (",date,value\n0,2020-01-01,1\n1,2020-01-02,2\n2,2020-01-03,3\n", [1.0, 2.0, 3.0]),
    ("date,value,\n2020-01-01,1,\n2020-01-02,2,\n2020-01-03,3,\n,,\n", [1.0, 2.0, 3.0]),
], ids=["semicolon-decimal-comma", "tab", "pipe", "bom-crlf-no-final-newline", "cr-only",
        "quoted-header-with-spaces", "thousands", "title-line", "unnamed-index", "trailing-commas"])
def test_layouts_that_must_load(text: str, values: list[float]) -> None:
    result = load(text)
    assert list(result.series.values) == values
    assert list(result.series.index) == list(pd.date_range("2020-01-01", periods=3, freq="D"))
    assert result.series.freq == "D"


@pytest.mark.parametrize(("cells", "first", "last", "warns"), [
    (["2020-01-15", "2020-02-15", "2020-03-15"], "2020-01-15", "2020-03-15", None),
    (["2020/01/31", "2020/02/29", "2020/03/31"], "2020-01-31", "2020-03-31", None),
    # the first two rows are ambiguous; a later first field above 12 makes all of them day-first
    (["01-02-2020", "02-02-2020", "13-02-2020"], "2020-02-01", "2020-02-13", None),
    (["01/02/2020", "01/03/2020", "01/13/2020"], "2020-01-02", "2020-01-13", None),
    (["05.01.20", "05.02.20", "05.03.20"], "2020-01-05", "2020-03-05", "day/month/year"),
    (["01/05/2020", "02/05/2020", "03/05/2020"], "2020-01-05", "2020-03-05", "month/day/year"),
    (["01.02.2020", "01.03.2020", "01.04.2020"], "2020-02-01", "2020-04-01", "day/month/year"),
    (["Jan-1949", "Feb-1949", "Mar-1949"], "1949-01-01", "1949-03-01", None),
    (["January 2001", "February 2001", "March 2001"], "2001-01-01", "2001-03-01", None),
    (["Nov-98", "Dec-98", "Jan-99", "Feb-99"], "1998-11-01", "1999-02-01", "1998-1999"),
    (["Dec-99", "Jan-00", "Feb-00"], "1999-12-01", "2000-02-01", "1999-2000"),
    (["1970 Q1", "1970 Q2", "1970 Q3"], "1970-01-01", "1970-07-01", None),
    (["2020Q4", "2021Q1", "2021Q2"], "2020-10-01", "2021-04-01", None),
    (["19580329", "19580405", "19580412"], "1958-03-29", "1958-04-12", None),
    (["2020-01-01T00:00", "2020-01-01T01:00", "2020-01-01T02:00"], "2020-01-01 00:00",
     "2020-01-01 02:00", None),
    (["2020-01-01T01:00+01:00", "2020-01-01T01:00Z", "2020-01-01T02:00Z"], "2020-01-01 00:00",
     "2020-01-01 02:00", "converted to UTC"),
    (["1/1/1981 0:00", "1/2/1981 0:00", "1/13/1981 0:00"], "1981-01-01", "1981-01-13", None),
])
def test_date_formats(cells: list[str], first: str, last: str, warns: str | None) -> None:
    text = "date,value\n" + "".join(f"{cell},{k}\n" for k, cell in enumerate(cells))
    result = load(text)
    assert result.series.index[0] == pd.Timestamp(first)
    assert result.series.index[-1] == pd.Timestamp(last)
    if warns:
        assert any(warns in note for note in result.warnings), result.warnings


def test_two_digit_years_never_land_in_the_future() -> None:
    this_year = pd.Timestamp.today().year
    yy = [(this_year + 5 + k) % 100 for k in range(3)]    # the "future" if read with %y
    text = "month,value\n" + "".join(f"Jan-{y:02d},{k}\n" for k, y in enumerate(yy))
    series = load(text).series
    assert (series.index <= pd.Timestamp.today()).all()
    assert list(series.index.year) == [this_year + 5 + k - 100 for k in range(3)]


def test_unsorted_rows_are_sorted_with_a_warning() -> None:
    result = load("date,value\n2020-03-01,3\n2020-01-01,1\n2020-02-01,2\n")
    assert list(result.series.values) == [1.0, 2.0, 3.0] and result.series.freq == "MS"
    assert any("not in time order (line 3" in note for note in result.warnings)


@pytest.mark.parametrize(("policy", "values"), [("mean", [1.0, 3.0, 5.0]), ("last", [1.0, 4.0, 5.0])])
def test_duplicate_policies(policy: str, values: list[float]) -> None:
    text = "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-02,4\n2020-01-03,5\n"
    result = load(text, duplicates=policy)
    assert list(result.series.values) == values
    assert any("appear more than once" in note for note in result.warnings)


@pytest.mark.parametrize(("policy", "values", "index"), [
    ("interpolate", [1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3]),
    ("drop", [1.0, 4.0], [0, 1]),
])
def test_bad_value_policies_on_row_number_time(policy, values, index) -> None:
    result = load("value\n1\n?2\n\nNA\n4\n", bad_values=policy)
    # "?2" is unreadable, "NA" is missing, and the blank line is no row at all
    assert list(result.series.values) == values and list(result.series.index) == index
    assert result.date_column is None
    assert any("row number is the time" in note for note in result.warnings)


def test_gaps_are_reported_then_filled_on_request() -> None:
    text = "date,value\n2020-01-01,1\n2020-02-01,2\n2020-04-01,4\n2020-05-01,5\n"
    reported = load(text)
    assert len(reported.series) == 4 and reported.series.freq is None
    assert any("1 gap(s) in its monthly sequence: 2020-03-01" in n for n in reported.warnings)
    filled = load(text, fill_gaps=True).series
    assert list(filled.values) == [1.0, 2.0, 3.0, 4.0, 5.0] and filled.freq == "MS"


def test_a_file_object_of_text_and_latin_1_bytes() -> None:
    assert len(read_csv_series(io.StringIO("v\n1\n2\n"))) == 2
    result = load("datum;Temperatur °C\n2020-01-01;1,5\n2020-01-02;2,5\n".encode("latin-1"))
    assert result.series.name == "Temperatur °C" and list(result.series.values) == [1.5, 2.5]
    assert any("read as Windows-1252" in note for note in result.warnings)


def test_utf16_excel_unicode_text_loads() -> None:
    raw = "date\tvalue\r\n2020-01-01\t1\r\n2020-01-02\t2\r\n".encode("utf-16")
    assert list(load(raw).series.values) == [1.0, 2.0]


def test_column_names_match_loosely_when_unambiguous() -> None:
    text = "date, Sales ,Cost\n2020-01-01,1,5\n2020-01-02,2,6\n"
    assert load(text, column="sales").series.name == "Sales"


# ---------------------------------------------------------------------------------------------
# Refusals: every one is a DataError naming what was found and what to do


BIG = b"date,value\n" + b"2020-01-01,1\n" * 90_000      # about 1.1 MiB
MANY = b"value\n" + b"1\n" * 60

REFUSED = [
    ("empty", b"", {}, "is empty (0 bytes)"),
    ("blank-lines", b"\n \r\n,,\n", {}, "only blank lines or delimiters"),
    ("header-only", b"date,value\r\n", {}, "has a header ('date', 'value') but no data rows"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, "it looks like a PNG image"),
    ("xlsx", b"PK\x03\x04\x14\x00\x06\x00", {}, "Excel .xlsx workbook"),
    ("nul-bytes", b"date,value\n2020-01-01,1\x00\n", {}, "NUL byte (line 2"),
    ("control-char", b"date,value\n2020-01-01,\x07\n", {}, "control character 0x07 at line 2, column 12"),
    ("bad-utf16", b"\xff\xfea", {}, "not valid UTF-16"),
    ("no-numeric-column", b"date,name\n2020-01-01,a\n2020-01-02,b\n", {}, "no numeric column"),
    ("text-column", b"date,name,v\n2020-01-01,a,1\n2020-01-02,b,2\n", {"column": "name"},
     "column 'name' is not numeric: 2 of 2 filled cells are not numbers (line 2 ('a')"),
    ("unknown-column", b"date,v\n2020-01-01,1\n2020-01-02,2\n", {"column": "x"},
     "has no column 'x' (column). Columns: date, v"),
    ("unknown-date-column", b"date,v\n2020-01-01,1\n2020-01-02,2\n", {"date_column": "when"},
     "has no column 'when' (date_column)"),
    ("not-a-date-column", b"a,v\nx,1\ny,2\n", {"date_column": "a"}, "does not hold dates"),
    ("same-column-twice", b"date,v\n2020-01-01,1\n2020-01-02,2\n", {"column": "v",
                                                                    "date_column": "v"},
     "cannot be both the value column and the date column"),
    ("several-numeric", b"date,a,b\n2020-01-01,1,2\n2020-01-02,3,4\n", {},
     "has 2 numeric columns: a, b"),
    ("infinite", b"date,v\n2020-01-01,1\n2020-01-02,inf\n2020-01-03,3\n", {},
     "1 infinite value(s): line 3 ('inf')"),
    ("overflow-to-inf", b"v\n1\n1e999\n3\n", {}, "infinite value(s): line 3 ('1e999')"),
    ("nan-left-at-start", b"date,v\n2020-01-01,\n2020-01-02,2\n2020-01-03,3\n", {},
     "the first value of column 'v', at line 2 (empty cell), is empty or unreadable"),
    ("nan-left-at-end", b"date,v\n2020-01-01,1\n2020-01-02,2\n2020-01-03,?\n", {},
     "the last value of column 'v', at line 4 ('?')"),
    ("bad-values-error", b"date,v\n2020-01-01,1\n2020-01-02,?2\n2020-01-03,\n2020-01-04,4\n",
     {"bad_values": "error"}, "2 empty or unreadable cell(s): line 3 ('?2'), line 4 (empty cell)"),
    ("duplicate-time", b"date,v\n2020-01-01,1\n2020-01-02,2\n2020-01-02,3\n", {},
     'first 2020-01-02 on lines 3, 4. Keep one row per time, or set "Repeated times" under '
     'Cleaning options to "average them" or "keep the last".'),
    ("mixed-day-first", b"date,v\n13/01/2020,1\n01/13/2020,2\n", {},
     "mixes day-first and month-first dates ('13/01/2020' and '01/13/2020')"),
    ("bad-date-cell", b"Month,v\n2020-01,1\n2020-02,2\nTotal,3\n", {},
     "1 cell(s) in date column 'Month' are not dates like the others (ISO, e.g. 2020-01-31): "
     "line 4 ('Total')"),
    ("empty-value-column", b"date,v,w\n2020-01-01,,1\n2020-01-02,,2\n", {"column": "v"},
     "column 'v' is empty (lines 2-3)"),
    ("impossible-date", b"date,v\n2020-01-30,1\n2020-02-30,2\n2020-03-30,3\n", {},
     "line 3 ('2020-02-30')"),
    ("one-row", b"date,v\n2020-01-01,1\n", {}, "only 1 usable row(s) in column 'v'"),
    ("unclosed-quote", b'date,v\n2020-01-01,1\n"2020-01-02,2\n2020-01-03,3\n', {},
     "line 3 opens a quote (\") that is never closed, so lines 3-4 were read as one field"),
    ("huge-field", b"date,v\n2020-01-01,1\n2020-01-02," + b"9" * 200_000 + b"\n", {},
     "line 3 could not be split into fields (field larger than field limit"),
    ("too-big", BIG, {"limits": Limits(max_upload_mb=1)},
     "the upload limit is 1 MB. Use a smaller file (fewer rows or columns), or raise the limit "
     "with the environment variable LSTM_LAB_MAX_UPLOAD_MB"),
    ("too-many-rows", MANY, {"limits": Limits(max_rows=50)},
     "more than 50 data rows, the row limit. Use fewer rows (e.g. aggregate to a coarser time "
     "step), or raise the limit with the environment variable LSTM_LAB_MAX_ROWS"),
    ("too-many-columns", b"," * 20 + b"\n", {"limits": Limits(max_columns=10)},
     "line 1 has 21 fields; the limit is 10 columns"),
]


@pytest.mark.parametrize(("raw", "options", "fragment"), [case[1:] for case in REFUSED],
                         ids=[case[0] for case in REFUSED])
def test_refused_with_a_clear_message(raw: bytes, options: dict, fragment: str) -> None:
    with pytest.raises(DataError) as info:
        load_csv(raw, name="t.csv", **options)
    assert fragment in str(info.value)
    assert str(info.value).startswith("t.csv")


def test_refused_paths(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No such file: .*nothing.csv. Check the path."):
        load_csv(tmp_path / "nothing.csv")
    with pytest.raises(DataError, match="is a folder, not a CSV file"):
        load_csv(tmp_path)


def test_limits_come_from_environment_variables(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(BIG + BIG[11:])                          # about 2.2 MiB
    monkeypatch.setenv("LSTM_LAB_MAX_UPLOAD_MB", "2")
    with pytest.raises(DataError, match=r"big.csv is 2\.2 MB; the upload limit is 2 MB.*"
                                        r"LSTM_LAB_MAX_UPLOAD_MB"):
        load_csv(path)
    monkeypatch.setenv("LSTM_LAB_MAX_ROWS", "10")
    with pytest.raises(DataError, match="more than 10 data rows.*LSTM_LAB_MAX_ROWS"):
        load_csv(MANY)
    monkeypatch.setenv("LSTM_LAB_MAX_ROWS", "lots")
    with pytest.raises(ConfigError, match="LSTM_LAB_MAX_ROWS must be a whole number. "
                                          "Received: LSTM_LAB_MAX_ROWS='lots'"):
        get_limits()


def test_limits_defaults_and_overrides() -> None:
    assert get_limits({}) == Limits(max_upload_mb=50, max_rows=2_000_000)
    assert get_limits({"LSTM_LAB_MAX_ROWS": "5_000_000"}).max_rows == 5_000_000
    with pytest.raises(ConfigError, match="LSTM_LAB_MAX_UPLOAD_MB must be >= 1"):
        get_limits({"LSTM_LAB_MAX_UPLOAD_MB": "0"})
    with pytest.raises(ConfigError, match="max_rows"):
        Limits(max_rows=0)


@pytest.mark.parametrize(("option", "value"), [("bad_values", "zero"), ("duplicates", "first")])
def test_unknown_policies_are_config_errors(option: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"`{option}` must be one of .* Received: {option}="):
        load_csv(b"v\n1\n2\n", **{option: value})


# ---------------------------------------------------------------------------------------------
# Property-based: whatever arrives, the outcome is a valid Series or a DataError


def check_outcome(raw: bytes, **options) -> None:
    """Only two outcomes are allowed; any other exception fails the test."""
    try:
        series = load_csv(raw, name="h.csv", **options).series
    except DataError:
        return
    assert isinstance(series, Series) and len(series) >= 2
    assert np.isfinite(series.values).all()
    assert series.index.is_monotonic_increasing and not series.index.has_duplicates


POLICIES = st.fixed_dictionaries({"bad_values": st.sampled_from(["interpolate", "drop", "error"]),
                                  "duplicates": st.sampled_from(["error", "mean", "last"]),
                                  "fill_gaps": st.booleans()})
FORMATS = ["%Y-%m-%d", "%Y-%m", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%y", "%b-%y", "%Y%m%d", "%Y",
           "%Y-%m-%d %H:%M", "%d.%m.%Y"]
TRICKY = ["", " ", "?0.2", "NA", "nan", "inf", "-inf", "1e999", "abc", '"', '""', "1,5",
          "1.234,5", "1,234.5", "-0", "Jan-49", "13-03", "1-01", "1970 Q1", "2020Q4", "19580329",
          "1949", "2020-02-30", "31/12/2020", "12/31/2020", "01-02-81", "2020-01-01T10:00Z",
          "\ufeff", "Total", "0000", "9999-12-31", "0001-01-01", "99-99", "Q", ",", ";", "\t",
          "\x1a", "é", "€", "1" * 400]
CELLS = st.one_of(
    st.sampled_from(TRICKY),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.tuples(st.dates(min_value=date(1, 1, 1)), st.sampled_from(FORMATS)).map(
        lambda pair: pair[0].strftime(pair[1])),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=6),  # "\x1a" is in TRICKY
)


@st.composite
def csv_like(draw) -> bytes:
    """Random rows of tricky cells, random delimiter, line ends, header, BOM and encoding."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(CELLS, min_size=1, max_size=width + 1), max_size=25))
    lines = [delimiter.join(row) for row in rows]
    if draw(st.booleans()):
        lines.insert(0, delimiter.join(draw(st.sampled_from(["date", "value", "", "x y", '"q"']))
                                       for _ in range(width)))
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))
    text = draw(st.sampled_from(["", "\ufeff"])) + text
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]))
    return text.encode(encoding, errors="replace")


@st.composite
def messy_series(draw) -> bytes:
    """A date,value file built from a regular series, then shuffled, thinned and spoiled."""
    n = draw(st.integers(0, 40))
    freq = draw(st.sampled_from(["D", "MS", "QS", "YS", "h", "W-SAT"]))
    start = draw(st.dates(min_value=date(1700, 1, 1), max_value=date(2200, 1, 1)))
    times = pd.date_range(start, periods=n, freq=freq)
    fmt = draw(st.sampled_from(FORMATS))
    values = draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n))
    rows = [[t.strftime(fmt), repr(v)] for t, v in zip(times, values)]
    for _ in range(draw(st.integers(0, 3))):                     # spoil a few cells
        if rows:
            row = draw(st.integers(0, len(rows) - 1))
            rows[row][draw(st.integers(0, 1))] = draw(st.sampled_from(TRICKY))
    if rows and draw(st.booleans()):                             # drop rows (gaps)
        del rows[draw(st.integers(0, len(rows) - 1))]
    if rows and draw(st.booleans()):                             # duplicate a row
        rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
    order = draw(st.permutations(range(len(rows)))) if draw(st.booleans()) else range(len(rows))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    body = "\n".join(delimiter.join(rows[k]) for k in order)
    footer = draw(st.sampled_from(["", "\n\nSource: somewhere", "\n,\nTotal"]))
    return f"date{delimiter}value\n{body}{footer}".encode()


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), POLICIES)
def test_random_bytes_give_a_series_or_a_data_error(raw: bytes, options: dict) -> None:
    check_outcome(raw, **options)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_like(), POLICIES)
def test_random_csv_text_gives_a_series_or_a_data_error(raw: bytes, options: dict) -> None:
    check_outcome(raw, **options)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_series(), POLICIES)
def test_spoiled_series_give_a_series_or_a_data_error(raw: bytes, options: dict) -> None:
    check_outcome(raw, **options)


@st.composite
def clean_series(draw) -> tuple[bytes, pd.DatetimeIndex, list[float]]:
    """A regular series written in one of the supported formats, rows possibly shuffled."""
    freq, fmt = draw(st.sampled_from([("D", "%Y-%m-%d"), ("MS", "%Y-%m"), ("h", "%Y-%m-%d %H:%M"),
                                      ("W-SAT", "%Y%m%d"), ("YS", "%Y"), ("QS", "quarter"),
                                      ("MS", "%b %Y"), ("D", "%d.%m.%Y")]))
    n = draw(st.integers(3 if fmt != "%d.%m.%Y" else 13, 60))  # 13+ days: a day above 12
    start = draw(st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 1, 1)))
    times = pd.date_range(start, periods=n, freq=freq)
    values = draw(st.lists(st.floats(-1e9, 1e9, allow_subnormal=False), min_size=n, max_size=n))
    delimiter, decimal = draw(st.sampled_from([(",", "."), (";", ","), ("\t", "."), (";", ".")]))
    stamps = [f"{t.year} Q{t.quarter}" if fmt == "quarter" else t.strftime(fmt) for t in times]
    rows = [f"{stamp}{delimiter}{repr(v).replace('.', decimal)}" for stamp, v in zip(stamps, values)]
    order = draw(st.permutations(range(n)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join([f"date{delimiter}value", *(rows[k] for k in order)])
    return (draw(st.sampled_from(["", "\ufeff"])) + text).encode(), times, values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clean_series())
def test_clean_series_round_trip_exactly(case) -> None:
    raw, times, values = case
    series = load_csv(raw).series
    assert list(series.index) == list(times)
    assert series.values.tolist() == values
    assert series.freq is not None


# ---------------------------------------------------------------------------------------------
# Hints name the Data page's Cleaning options; the parsed rows' preview


def test_the_gap_warning_names_the_fill_gaps_toggle_and_code_words_gives_the_keyword() -> None:
    result = load_csv(DATA / "daily-min-temperatures.csv")
    gaps = next(note for note in result.warnings if "gap(s)" in note)
    assert gaps.endswith('turn on "Fill gaps by interpolation" under Cleaning options to '
                         "interpolate them.")
    assert "fill_gaps" not in gaps
    assert code_words(gaps).endswith("pass fill_gaps=True to interpolate them.")


@pytest.mark.parametrize(("raw", "options", "ui", "code"), [
    (b"date,v\n2020-01-01,1\n2020-01-02,2\n2020-01-02,3\n", {},
     'set "Repeated times" under Cleaning options to "average them" or "keep the last"',
     "pass duplicates='mean' or 'last'"),
    (b"date,v\n2020-01-01,1\n2020-01-02,?\n2020-01-03,3\n", {"bad_values": "error"},
     'set "Unreadable or empty cells" under Cleaning options to "interpolate (warn)" or '
     '"drop the rows"', "pass bad_values='interpolate' or 'drop'"),
    (b"date,v\n2020-01-01,\n2020-01-02,2\n2020-01-03,3\n", {},
     'set "Unreadable or empty cells" under Cleaning options to "drop the rows"',
     "pass bad_values='drop'"),
])
def test_refusals_name_the_cleaning_control_that_would_help(raw, options, ui, code) -> None:
    with pytest.raises(DataError) as info:
        load(raw, **options)
    message = str(info.value)
    assert ui in message and "=" not in message.split(". ")[-1]
    assert code in code_words(message) and ui not in code_words(message)


def test_the_preview_shows_first_and_last_rows_with_line_time_value_and_repairs() -> None:
    rows = ["date,v"] + [f"2020-01-{d:02d},{d}" for d in range(1, 13) if d != 5]
    rows[3] = "2020-01-03,?"                    # line 4: unreadable, interpolated
    result = load("\n".join(rows) + "\n", fill_gaps=True)
    assert len(result.series) == 12 and result.n_rows_read == 11
    assert result.n_filled == 2 and result.n_left_out == 0
    table = result.preview(rows=3)
    assert list(table.columns) == ["Point", "Line in file", "Time", "v", "Note"]
    assert table["Point"].tolist() == [1, 2, 3, 10, 11, 12]
    assert table["Line in file"].tolist() == [2, 3, 4, 10, 11, 12]
    assert table["Time"].iloc[0] == pd.Timestamp("2020-01-01")
    assert table["v"].tolist() == [1.0, 2.0, 3.0, 10.0, 11.0, 12.0]
    assert table["Note"].tolist()[:3] == ["", "", "empty or unreadable: interpolated"]
    whole = result.preview(rows=10)
    assert len(whole) == 12
    gap = whole[whole["Time"] == pd.Timestamp("2020-01-05")].iloc[0]
    assert pd.isna(gap["Line in file"]) and gap["Note"] == "missing time: interpolated"
    assert gap["v"] == 5.0


def test_rows_dropped_or_merged_are_counted_as_left_out() -> None:
    text = "date,v\n2020-01-01,1\n2020-01-02,?\n2020-01-03,3\n2020-01-03,5\n2020-01-04,4\n"
    result = load(text, bad_values="drop", duplicates="mean")
    assert result.n_rows_read == 5 and len(result.series) == 3
    assert result.n_left_out == 2 and result.n_filled == 0
    assert result.series.values.tolist() == [1.0, 4.0, 4.0]
