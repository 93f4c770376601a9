"""Step 5, the time axis: each row's time parsed with an explicit format; bad cells refused."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstm_lab.data.csv_reader.columns import Roles
from lstm_lab.data.csv_reader.patterns import TIME_PATTERNS
from lstm_lab.data.csv_reader.table import Table, examples
from lstm_lab.errors import DataError

_TIME_LABELS = {"year_index": "year-index-month (1-01)", "iso": "ISO, e.g. 2020-01-31",
                "ymd": "YYYY/MM/DD", "dmy": "D/M/Y or M/D/Y", "month_name": "Jan-1949",
                "quarter": "1970 Q1", "year": "YYYY", "yyyymmdd": "YYYYMMDD"}
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}


def time_values(table: Table, roles: Roles, label: str, notes: list[str]) -> pd.Series:
    """Each row's time (datetime64, or int64 months for year-index data); refuses bad cells."""
    cells = table.frame[roles.time]
    if roles.companion is not None:
        times = _year_with_companion(table, roles, notes)
    else:
        times = _parse_time(cells, roles.kind, roles.time, label, notes)
    if roles.kind != "year_index":          # pandas accepts year 0, Python's datetime does not
        times = times.where(times.dt.year >= 1)
    bad = times.isna().to_numpy()
    if bad.any():
        where = examples(table.lines[bad], cells.to_numpy()[bad])
        raise DataError(f"{label}: {int(bad.sum())} cell(s) in date column '{roles.time}' are not "
                        f"dates like the others ({_TIME_LABELS[roles.kind]}): {where}. Fix or "
                        "delete those rows, or choose another date column.")
    return times.astype("int64") if roles.kind == "year_index" else times


def _parse_time(cells: pd.Series, kind: str, column: str, label: str,
                notes: list[str]) -> pd.Series:
    """Cells -> times with an explicit format per kind; NaT/NaN where a cell does not fit."""
    pattern = TIME_PATTERNS[kind]
    if kind == "iso":
        parsed = pd.to_datetime(cells, format="ISO8601", errors="coerce", utc=True)
        if cells.iloc[:1000].str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).any():
            notes.append(f"Column '{column}' has time-zone offsets; times were converted to UTC.")
        return parsed.dt.tz_convert(None)
    if kind == "ymd":
        sep = cells.iloc[:1000].str.extract(pattern)[1].dropna()
        fmt = "%Y{0}%m{0}%d".format(sep.iloc[0] if len(sep) else "/")
        return pd.to_datetime(cells, format=fmt, errors="coerce")
    if kind in ("year", "yyyymmdd"):
        fmt = "%Y" if kind == "year" else "%Y%m%d"
        return pd.to_datetime(cells.where(cells.str.fullmatch(pattern)), format=fmt,
                              errors="coerce")
    parts = cells.str.extract(pattern)
    if kind == "year_index":
        return _year_index(parts, cells, column, notes)
    if kind == "quarter":
        quarter = pd.to_numeric(parts[1])
        return _assemble(pd.to_numeric(parts[0]), (quarter - 1) * 3 + 1)
    if kind == "month_name":
        month = parts[0].str.lower().map(_MONTHS)
        return _assemble(_full_years(parts[1], column, notes), month)
    first, second = pd.to_numeric(parts[0]), pd.to_numeric(parts[2])
    day_first = _day_first(first, second, parts[1], cells, column, label, notes)
    day, month = (first, second) if day_first else (second, first)
    clock = {unit: pd.to_numeric(parts[k]).fillna(0) for unit, k in
             (("hour", 4), ("minute", 5), ("second", 6))}
    return _assemble(_full_years(parts[3], column, notes), month, day, **clock)


def _assemble(year: pd.Series, month: pd.Series, day: pd.Series | int = 1, **clock) -> pd.Series:
    """Datetimes from numeric parts; pandas checks the calendar (NaT for 31 Feb or month 13)."""
    parts = pd.DataFrame({"year": year, "month": month, "day": day, **clock}, dtype="float64")
    ok = parts.notna().all(axis=1) & parts["month"].between(1, 12) & parts["day"].between(1, 31)
    result = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[us]")
    if ok.any():
        result[ok] = pd.to_datetime(parts[ok], errors="coerce")
    return result


def _year_index(parts: pd.DataFrame, cells: pd.Series, column: str,
                notes: list[str]) -> pd.Series:
    """"1-01".."13-03" = (year number, month) -> months since the first year's January.

    These are not calendar dates (pd.to_datetime reads "1-01" as year 0001 or fails on "13-03"),
    so time is an integer count of months, and the caller sets season 12.
    """
    year, month = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
    month = month.where(month.between(1, 12))
    ordinal = (year - year.min()) * 12 + (month - 1)
    notes.append(f"Column '{column}' holds year-number/month labels ({cells.iloc[0]!r}.."
                 f"{cells.iloc[-1]!r}), not calendar dates: time is a month count named "
                 "'period' (season 12).")
    return ordinal


def _full_years(text: pd.Series, column: str, notes: list[str]) -> pd.Series:
    """Four-digit years; two-digit ones go to the century that keeps every date in the past.

    strptime's %y puts 00-68 in the 2000s, so "Jan-49" becomes 2049. Here the 100-year window
    ending this year (or earlier, if that keeps the series shorter) decides: 49..60 -> 1949-1960,
    98..05 -> 1998-2005. Years are compared, not days.
    """
    years = pd.to_numeric(text)
    short = text.str.len() == 2
    if not short.any():
        return years
    two = years[short]
    unique = np.unique(two.dropna().to_numpy(dtype=int))
    this_year = pd.Timestamp.today().year
    best_start, best_span = this_year - 99, None
    for back in range(100):
        start = this_year - 99 - back
        span = int(np.ptp(start + (unique - start) % 100)) if unique.size else 0
        if best_span is None or span < best_span:
            best_start, best_span = start, span
    years[short] = best_start + (two - best_start) % 100
    notes.append(f"Column '{column}' has two-digit years; they were read as "
                 f"{int(years[short].min())}-{int(years[short].max())} so that no date lies in "
                 "the future. Write four-digit years to be sure.")
    return years


def _day_first(first: pd.Series, second: pd.Series, seps: pd.Series, cells: pd.Series,
               column: str, label: str, notes: list[str]) -> bool:
    """Whether 01-02-1981 is 1 February: decided from all rows, never from the first alone.

    A first field above 12 means day first, a second one month first. With neither, a field
    that never changes while the other does is the day (monthly data); else the separator
    decides ('/' month first as in the US, '-' and '.' day first) and a warning says so.
    """
    big_first, big_second = (first > 12).to_numpy(), (second > 12).to_numpy()
    if big_first.any() and big_second.any():
        a, b = int(np.argmax(big_first)), int(np.argmax(big_second))
        raise DataError(f"{label}: column '{column}' mixes day-first and month-first dates "
                        f"({cells.iloc[a]!r} and {cells.iloc[b]!r}). Use one format, ideally "
                        "YYYY-MM-DD.")
    if big_first.any() or big_second.any():
        return bool(big_first.any())
    if first.nunique() == 1 and second.nunique() > 1:
        day_first, why = True, "the first field never changes, so it is the day"
    elif second.nunique() == 1 and first.nunique() > 1:
        day_first, why = False, "the second field never changes, so it is the day"
    else:
        sep = seps.dropna().iloc[0] if seps.notna().any() else "/"
        day_first = sep != "/"
        why = f"no field is above 12; '{sep}' dates are usually " + (
            "day first" if day_first else "month first")
    order = "day/month/year" if day_first else "month/day/year"
    notes.append(f"Column '{column}': dates such as {cells.iloc[0]!r} could be day/month or "
                 f"month/day; read as {order} ({why}). Write YYYY-MM-DD dates to be sure.")
    return day_first


def _year_with_companion(table: Table, roles: Roles, notes: list[str]) -> pd.Series:
    """A year column plus a quarter (1-4) or month (1-12) column -> the first day of each."""
    years = _parse_time(table.frame[roles.time], "year", roles.time, "", notes).dt.year
    step = table.numbers(roles.companion)
    quarterly = roles.companion.strip().lower().startswith("q")
    notes.append(f"Combined columns '{roles.time}' and '{roles.companion}' into "
                 f"{'quarterly' if quarterly else 'monthly'} dates.")
    return _assemble(years, (step - 1) * 3 + 1 if quarterly else step)
