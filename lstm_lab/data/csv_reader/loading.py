"""The public functions: load_csv, read_csv_series and inspect_csv, each running the steps in
order (source -> rows -> table -> columns -> times -> cleaning)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from lstm_lab.data.csv_reader.cleaning import build_series
from lstm_lab.data.csv_reader.columns import (
    find_roles,
    input_columns,
    refuse_unclear_value_column,
)
from lstm_lab.data.csv_reader.options import BAD_VALUE_POLICIES, DUPLICATE_POLICIES
from lstm_lab.data.csv_reader.rows import first_lines, split_rows
from lstm_lab.data.csv_reader.source import CsvSource, decode, read_source, source_label
from lstm_lab.data.csv_reader.table import Table, build_table, has_padding
from lstm_lab.data.series import Series
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.limits import Limits, env_var, get_limits

_INSPECT_LINES = 5_000      # inspect_csv judges the columns from this many first lines


@dataclass(frozen=True)
class CsvLoad:
    """A loaded series and what the loader found and did, for the UI's pickers and notes.

    ``columns`` lists every column (empty trailing ones dropped), ``numeric_columns`` those that
    could be the value column, ``date_column`` the time column used (None: row numbers; for a
    year + quarter/month pair, the year column), ``n_rows_read`` the data rows in the file.
    ``lines`` gives each point's line in the file (NaN for a filled gap; the first line of
    repeated rows averaged into one) and ``filled`` whether its value was interpolated; ``preview`` shows them.
    """

    series: Series
    warnings: list[str]
    columns: list[str]
    numeric_columns: list[str]
    date_column: str | None
    n_rows_read: int
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0))
    filled: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def n_filled(self) -> int:
        """Points whose value was interpolated (empty or unreadable cells, filled gaps)."""
        return int(np.count_nonzero(self.filled))

    @property
    def n_left_out(self) -> int:
        """Data rows of the file not kept as points of their own (dropped for an unreadable
        value, or merged into another row with the same time)."""
        kept = int(np.count_nonzero(~np.isnan(self.lines))) if len(self.lines) else \
            len(self.series)
        return max(0, self.n_rows_read - kept)

    def preview(self, rows: int = 5) -> pd.DataFrame:
        """The first and last ``rows`` points as parsed: file line, time, value and what was
        done to it (all points when there are at most ``2 * rows``)."""
        series = self.series
        n = len(series)
        keep = np.arange(n) if n <= 2 * rows else np.r_[0:rows, n - rows:n]
        lines = self.lines if len(self.lines) == n else np.full(n, np.nan)
        filled = self.filled if len(self.filled) == n else np.zeros(n, bool)
        notes = np.where(filled & np.isnan(lines), "missing time: interpolated",
                         np.where(filled, "empty or unreadable: interpolated", ""))
        return pd.DataFrame({
            "Point": keep + 1,
            "Line in file": pd.array([None if np.isnan(v) else int(v) for v in lines[keep]],
                                     dtype="Int64"),
            "Time": series.index[keep],
            series.name: series.values[keep],
            "Note": notes[keep]})


class CsvColumns(NamedTuple):
    """What ``inspect_csv`` finds; unpacks as ``columns, numeric_columns, date_column``."""

    columns: list[str]
    numeric_columns: list[str]
    date_column: str | None


def load_csv(source: CsvSource, column: str | None = None, date_column: str | None = None,
             name: str | None = None, bad_values: str = "interpolate", duplicates: str = "error",
             fill_gaps: bool = False, *, limits: Limits | None = None,
             inputs: tuple[str, ...] | list[str] = ()) -> CsvLoad:
    """Read one numeric column of a CSV file as a Series, and report what was repaired.

    Args:
        source: a path, the raw bytes of an upload, or a binary file object.
        column: the value column; None picks the only numeric one (AmbiguousColumnError if
            there are several).
        date_column: the time column; None guesses it (row numbers when none looks like time);
            ``ROW_NUMBER`` uses the row number even when a column looks like time.
        name: a label for the source in messages (defaults to the file name, else "upload").
        bad_values: what to do with empty or unreadable cells in the value column:
            "interpolate" (linear, from the neighbours), "drop" (drop those rows) or "error".
        duplicates: what to do when a time appears twice: "error", "mean" or "last".
        fill_gaps: interpolate the time points missing from a regular series (else only warn).
        limits: size limits; ``get_limits()`` (defaults and environment variables) when None.
        inputs: other numeric columns to read beside the value (``Series.inputs``), cleaned by
            the same options; at most ``limits.max_inputs``.

    Returns:
        CsvLoad with the series, the warnings (plain sentences) and the column lists.

    Raises:
        DataError: the file cannot give a clean series; the message says why and what to do.
        AmbiguousColumnError: ``column`` is None and several columns are numeric.
        ConfigError: ``bad_values`` or ``duplicates`` is not one of the choices.
    """
    _check_choice("bad_values", bad_values, BAD_VALUE_POLICIES)
    _check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
    label = source_label(source, name)
    notes: list[str] = []
    limits = limits or get_limits()
    table = read_table(source, label, limits, notes)
    roles = find_roles(table, column, date_column, label)
    if roles.value is None:
        refuse_unclear_value_column(table, roles, label)
    chosen = input_columns(table, roles, tuple(inputs), label, limits.max_inputs,
                           env_var("max_inputs"))
    series, lines, filled = build_series(table, roles, label, bad_values, duplicates, fill_gaps,
                                         notes, chosen)
    return CsvLoad(series=series, warnings=notes, columns=table.columns,
                   numeric_columns=roles.numeric, date_column=roles.time,
                   n_rows_read=len(table.frame), lines=lines, filled=filled)


def read_csv_series(source: CsvSource, column: str | None = None, date_column: str | None = None,
                    name: str | None = None, **options) -> Series:
    """``load_csv(...).series``: the Series alone, for callers that do not show warnings."""
    return load_csv(source, column=column, date_column=date_column, name=name, **options).series


def inspect_csv(source: CsvSource, name: str | None = None, *,
                limits: Limits | None = None) -> CsvColumns:
    """The columns, the numeric ones and the guessed date column, without reading the values.

    Raises DataError only when the file itself cannot be read as a table.
    """
    label = source_label(source, name)
    limits = limits or get_limits()
    try:  # the first rows tell the columns apart; a big file need not be split twice
        table = read_table(source, label, limits, [], max_lines=_INSPECT_LINES)
    except DataError:  # e.g. a quoted field cut by the sample: judge the whole file
        table = read_table(source, label, limits, [])
    roles = find_roles(table, None, None, label)
    return CsvColumns(table.columns, roles.numeric, roles.time)


def _check_choice(option: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"`{option}` must be one of {', '.join(map(repr, choices))}. "
                          f"Received: {option}={value!r}")


def read_table(source: CsvSource, label: str, limits: Limits, notes: list[str],
                max_lines: int | None = None) -> Table:
    """The file as a table of text cells; ``max_lines``: only its first lines (a sample)."""
    raw = read_source(source, label, limits)
    text = raw if isinstance(raw, str) else decode(raw, label, notes)
    if max_lines is not None:
        text = first_lines(text, max_lines)
    rows, lines, delimiter = split_rows(text, label, limits)
    return build_table(rows, lines, delimiter, label, limits, notes,
                        padded=has_padding(text, delimiter))
