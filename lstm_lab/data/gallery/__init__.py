"""The gallery: real series shipped with the package, declared once in ``GALLERY``.

Each CSV next to this file is a byte-for-byte copy of a file in tests/data (itself a copy of a
public source; ``PROVENANCE.md`` here gives each one's origin). They are read with the project's
own CSV reader, so a gallery series is cleaned exactly as the same file uploaded would be.
Nothing is downloaded. The config's ``dataset`` choices, the CLI's ``--dataset NAME``, link
checks and the Data page's picker all come from ``GALLERY``; no other module lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # the registry itself stays light: the config (and so `--help`) imports it
    from lstm_lab.data.csv_reader.loading import CsvLoad
    from lstm_lab.data.series import Series


@dataclass(frozen=True)
class GalleryEntry:
    """One bundled series: what it is (title, story, source), where it is (file, columns) and
    what it must read as (frequency, other numeric columns)."""

    key: str
    title: str
    story: str
    file: str
    date_column: str
    target: str
    freq: str                       # the pandas alias the CSV reader finds in the dates
    others: tuple[str, ...] = ()    # the other numeric columns (parallel series)
    source: str = ""                # short citation; PROVENANCE.md has the full line
    options: dict[str, Any] = field(default_factory=dict)   # cleaning options of load_csv

    @property
    def multivariate(self) -> bool:
        return bool(self.others)


GALLERY: dict[str, GalleryEntry] = {e.key: e for e in (
    GalleryEntry(
        "births", "Daily female births, California 1959",
        "Daily female births in California, 1959: noise around a slowly rising level, where "
        "the naive forecast is hard to beat.",
        "daily-total-female-births.csv", "Date", "Births", "D",
        source="Time Series Data Library (Newton 1988), via jbrownlee/Datasets"),
    GalleryEntry(
        "melbourne_min_temp", "Daily minimum temperature, Melbourne 1981–1990",
        "Ten years of daily minimum temperatures in Melbourne: a strong yearly cycle (365 "
        "days) under day-to-day noise; two missing New Year's Eves are interpolated.",
        "daily-min-temperatures.csv", "Date", "Temp", "D",
        source="Time Series Data Library (Australian Bureau of Meteorology), via "
               "jbrownlee/Datasets",
        options={"fill_gaps": True}),
    GalleryEntry(
        "co2_weekly", "Weekly CO₂ at Mauna Loa, 1958–2001",
        "Weekly atmospheric CO₂ at Mauna Loa: a steady rise with a yearly swing; 59 missing "
        "weeks are interpolated.",
        "co2-weekly_statsmodels.csv", "date", "co2", "W-SAT",
        source="Keeling & Whorf (2004), CDIAC; public domain, via statsmodels"),
    GalleryEntry(
        "car_sales", "Monthly car sales, Quebec 1960–1968",
        "Monthly car sales in Quebec, 1960–68: a trend and a strong yearly season.",
        "monthly-car-sales.csv", "Month", "Sales", "MS",
        source="Time Series Data Library (Abraham & Ledolter 1983), via jbrownlee/Datasets"),
    GalleryEntry(
        "champagne", "Monthly champagne sales, Perrin Frères 1964–1972",
        "Monthly champagne sales: a flat level with a huge December peak every year.",
        "monthly_champagne_sales.csv", "Month", "Sales", "MS",
        source="Time Series Data Library (Makridakis & Wheelwright 1989), via "
               "jbrownlee/Datasets"),
    GalleryEntry(
        "us_change", "US change: consumption, income, production… 1970–2016",
        "Quarterly % changes of US consumption, with income, production, savings and "
        "unemployment alongside: parallel series that move together.",
        "uschange_sktime.csv", "Quarter", "Consumption", "QS-JAN",
        others=("Income", "Production", "Savings", "Unemployment"),
        source="Forecasting: Principles and Practice (fpp2 uschange); BSD-3-Clause, via sktime"),
    GalleryEntry(
        "us_macro", "US macroeconomic data, 1959–2009",
        "Quarterly US real GDP with eleven other macro series (consumption, investment, "
        "prices, rates…): a long trend broken by recessions.",
        "macrodata_statsmodels.csv", "year", "realgdp", "QS-JAN",
        others=("realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp",
                "pop", "infl", "realint"),
        source="FRED and BLS; public domain, via statsmodels"),
    GalleryEntry(
        "nile", "Nile flow at Aswan, 1871–1970",
        "Yearly volume of the Nile at Aswan: no season, and a sudden drop after 1898.",
        "nile_statsmodels.csv", "year", "volume", "YS-JAN",
        source="Cobb (1978); public domain, via statsmodels"),
    GalleryEntry(
        "sunspots_yearly", "Yearly sunspots, 1700–2008",
        "Yearly sunspot activity over three centuries: a cycle of about eleven years whose "
        "peaks vary, which yearly dates do not tell (set the season to 11).",
        "sunspots-yearly_statsmodels.csv", "YEAR", "SUNACTIVITY", "YS-JAN",
        source="National Geophysical Data Center; public domain, via statsmodels"),
)}

FREQ_NAMES = {"D": "daily", "W-SAT": "weekly", "MS": "monthly", "QS-JAN": "quarterly",
              "YS-JAN": "yearly"}


def entry(key: str) -> GalleryEntry:
    return GALLERY[key]


def raw_bytes(key: str) -> bytes:
    """The entry's file as shipped."""
    return resources.files(__name__).joinpath(GALLERY[key].file).read_bytes()


def load_entry(key: str, inputs: tuple[str, ...] = ()) -> CsvLoad:
    """The entry's target series (with ``inputs``, some of its other columns) read by the CSV
    reader, with what it found and did."""
    from lstm_lab.data.csv_reader.loading import CsvLoad, load_csv
    from lstm_lab.data.series import Series

    e = GALLERY[key]
    load = load_csv(raw_bytes(key), column=e.target, date_column=e.date_column, name=e.file,
                    inputs=tuple(inputs), **e.options)
    series = load.series
    named = Series(series.values, series.index, series.name, series.freq, key,
                   series.season_override, series.inputs, series.input_names)
    return CsvLoad(named, load.warnings, load.columns, load.numeric_columns, load.date_column,
                   load.n_rows_read, load.lines, load.filled)


def load_gallery_series(key: str, inputs: tuple[str, ...] = ()) -> Series:
    """The entry's target series, with ``inputs`` (``source`` is the gallery key)."""
    return load_entry(key, inputs).series
