"""Step 4, which column is time and which holds the values: guessed, or checked when named."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstm_lab.data.csv_reader.patterns import TIME_PATTERNS
from lstm_lab.data.csv_reader.table import Table
from lstm_lab.errors import DataError

# Plain integers are years or YYYYMMDD only in a column whose name says so (or has no name).
_INTEGER_KINDS = ("year", "yyyymmdd")
_TIME_NAMES = frozenset({"date", "time", "datetime", "timestamp", "month", "year", "yr", "period",
                         "quarter", "week", "day", "ds", "dt"})
_AUTO_TIME_SHARE = 0.9      # share of a column's cells that must look like times to guess it

# date_column value meaning "no date column: the row number is the time".
ROW_NUMBER = "(row number)"


class AmbiguousColumnError(DataError):
    """Several numeric columns and no ``column`` given: let the user pick one of them."""

    def __init__(self, message: str, *, columns: list[str] | tuple = (),
                 numeric_columns: list[str] | tuple = (), date_column: str | None = None) -> None:
        super().__init__(message)
        self.columns = list(columns)
        self.numeric_columns = list(numeric_columns)
        self.date_column = date_column


@dataclass
class Roles:
    value: str | None               # None: not decided (no or several numeric columns)
    time: str | None                # None: row numbers are the time
    kind: str | None                # a key of TIME_PATTERNS
    companion: str | None           # a quarter or month column combined with a year column
    numeric: list[str]              # candidate value columns
    index_column: str | None        # a row-number column, ignored


def find_roles(table: Table, column: str | None, date_column: str | None,
                label: str) -> Roles:
    value = _find_column(table, column, label, "column") if column is not None else None
    index_column = _row_number_column(table)
    if date_column == ROW_NUMBER:
        time, kind = None, None
    elif date_column is not None:
        time = _find_column(table, date_column, label, "date_column")
        if time == value:
            raise DataError(f"{label}: column '{time}' cannot be both the value column and the "
                            "date column. Choose another date column, or none.")
        kind = _explicit_time_kind(table, time, label)
    else:
        time, kind = _guess_time_column(table, exclude={value, index_column})
    companion = _companion_column(table, time, exclude={value}) if kind == "year" else None
    taken = {index_column, time, companion}
    numeric = [c for c in table.columns if c not in taken and _is_numeric(table, c)]
    if value is None and len(numeric) == 1:
        value = numeric[0]
    return Roles(value, time, kind, companion, numeric, index_column)


def input_columns(table: Table, roles: Roles, wanted: tuple[str, ...] | list[str], label: str,
                  limit: int, limit_var: str) -> tuple[str, ...]:
    """The input columns named in ``wanted``, as the file spells them: each must exist, be
    neither the value nor the time column, and be named once; at most ``limit`` of them."""
    if len(wanted) > limit:
        raise DataError(f"{len(wanted)} input columns were asked for; at most {limit} are "
                        f"allowed on this server ({limit_var}). Pick fewer.")
    found: list[str] = []
    for name in wanted:
        column = _find_column(table, name, label, "inputs")
        if column == roles.value:
            raise DataError(f"{label}: '{column}' is the value column (the target), so it "
                            "cannot also be an input: its past values are already in every "
                            "window. Leave it out of the inputs.")
        if column in (roles.time, roles.companion):
            raise DataError(f"{label}: '{column}' is the time column, not an input. Pick "
                            "columns of measurements.")
        if column in found:
            raise DataError(f"{label}: input column '{column}' is named twice. Name each "
                            "input once.")
        found.append(column)
    return tuple(found)


def _find_column(table: Table, wanted: str, label: str, option: str) -> str:
    """The column named ``wanted``: exact, else the one that matches ignoring case and spaces."""
    if wanted in table.columns:
        return wanted
    loose = [c for c in table.columns if c.strip().lower() == str(wanted).strip().lower()]
    if len(loose) == 1:
        return loose[0]
    raise DataError(f"{label} has no column '{wanted}' ({option}). Columns: "
                    f"{', '.join(table.columns)}.")


def _is_numeric(table: Table, column: str) -> bool:
    """At least half of the rows hold a number: a usable series, not a mostly-empty column."""
    return int(table.numbers(column).notna().sum()) >= max(1, len(table.frame) / 2)


def _is_time_name(name: str) -> bool:
    low = name.strip().lower()
    return low in _TIME_NAMES or "date" in low or "time" in low


def _row_number_column(table: Table) -> str | None:
    """A first column holding 0..n-1 or 1..n with no name (or "index"): pandas' saved index."""
    if len(table.columns) < 2:
        return None
    first = table.columns[0]
    if first not in table.unnamed and first.lower() not in {"index", "unnamed: 0", "id", "row"}:
        return None
    numbers = table.numbers(first).to_numpy()
    if np.isnan(numbers).any() or numbers[0] not in (0, 1):
        return None
    return first if np.array_equal(numbers, numbers[0] + np.arange(len(numbers))) else None


def _guess_time_kind(cells: pd.Series) -> tuple[str | None, float]:
    """The time format that most non-empty cells match (checked on up to 500), and that share."""
    sample = cells[cells != ""].iloc[:500]
    best: tuple[str | None, float] = (None, 0.0)
    if sample.empty:
        return best
    for kind, pattern in TIME_PATTERNS.items():
        share = float(sample.str.fullmatch(pattern).mean())
        if share > best[1]:
            best = (kind, share)
    return best


def _guess_time_column(table: Table, exclude: set) -> tuple[str | None, str | None]:
    """The leftmost column whose cells look like times.

    90% of the cells must match one format, or half in a column named like time ("Date",
    "Month", ...): a few bad cells in a date column are then reported, not the column ignored.
    Plain integers (1949, 19580329) count only in a column named like time, or with no name
    and steadily rising or falling values (headerless longley.csv), so a column of counts such
    as 1120, 1160 is never taken for years.
    """
    for name in table.columns:
        if name in exclude:
            continue
        kind, share = _guess_time_kind(table.frame[name])
        if kind is None or share < (0.5 if _is_time_name(name) else _AUTO_TIME_SHARE):
            continue
        if kind in _INTEGER_KINDS and not _is_time_name(name):
            diffs = np.diff(table.numbers(name).to_numpy())
            steady = len(diffs) > 0 and ((diffs > 0).all() or (diffs < 0).all())
            if name not in table.unnamed or not steady:
                continue
        return name, kind
    return None, None


def _explicit_time_kind(table: Table, column: str, label: str) -> str:
    kind, share = _guess_time_kind(table.frame[column])
    if kind is None or share <= 0.5:
        examples = ", ".join(repr(c) for c in table.frame[column].iloc[:3])
        raise DataError(f"{label}: column '{column}' does not hold dates in a format I know "
                        f"(first cells: {examples}). Known formats: 2020-01-31, 2020-01, "
                        "31/01/2020, 01/31/2020, 31-01-20, Jan-2020, 2020 Q1, 2020, 20200131. "
                        "Choose another date column, or none (the row number is then the time).")
    return kind


def _companion_column(table: Table, year: str | None, exclude: set) -> str | None:
    """A "quarter" (1-4) or "month" (1-12) column to combine with a year column (macrodata)."""
    for name in table.columns:
        top = {"quarter": 4, "qtr": 4, "q": 4, "month": 12, "mon": 12, "mo": 12, "m": 12}.get(
            name.strip().lower())
        if name == year or name in exclude or top is None:
            continue
        numbers = table.numbers(name)
        if numbers.notna().all() and numbers.between(1, top).all() and (numbers % 1 == 0).all():
            return name
    return None


def refuse_unclear_value_column(table: Table, roles: Roles, label: str) -> None:
    """No column given: explain that there is no numeric column, or list the candidates."""
    if not roles.numeric:
        firsts = ", ".join(f"{c}={table.frame[c].iloc[0]!r}" for c in table.columns[:6])
        raise DataError(f"{label} has no numeric column to forecast (first data row, line "
                        f"{table.lines[0]}: {firsts}). Check the delimiter and decimal mark, or "
                        "choose a file with a column of numbers.")
    raise AmbiguousColumnError(
        f"{label} has {len(roles.numeric)} numeric columns: {', '.join(roles.numeric)}. Choose "
        "the one to forecast (CLI: --column NAME).",
        columns=table.columns, numeric_columns=roles.numeric, date_column=roles.time)
