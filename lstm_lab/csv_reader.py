"""read_csv_series: the one place where user CSV files become a Series.

Checks, in order: the file can be read and parsed; the value column exists and is numeric; the
dates (if any) parse and increase; no values are missing. Every refusal is a DataError that names
what was found and what to do.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import numpy as np
import pandas as pd

from lstm_lab.errors import DataError
from lstm_lab.series import Series, infer_freq

CsvSource = str | os.PathLike | bytes | BinaryIO


def read_csv_series(source: CsvSource, column: str | None = None,
                    date_column: str | None = None, name: str | None = None) -> Series:
    """Read one numeric column of a CSV as a Series.

    Args:
        source: a path, the raw bytes of an upload, or a binary file object.
        column: the value column; None picks the only numeric column.
        date_column: the time column; None picks the first column that parses as dates, else
            the row number is used as time.
        name: a label for the source (defaults to the file name).

    Raises:
        DataError: the file is missing, unreadable, or has no usable numeric column.
    """
    label = name or (os.path.basename(os.fspath(source)) if isinstance(source, (str, os.PathLike))
                     else "upload")
    frame = _read_frame(source, label)
    value_col = _pick_value_column(frame, column, label)
    date_col = _pick_date_column(frame, date_column, exclude=value_col, label=label)
    values = frame[value_col]
    if date_col is None:
        index: pd.Index = pd.RangeIndex(len(frame), name="row")
    else:
        index = pd.DatetimeIndex(_parse_dates(frame[date_col], date_col, label), name=date_col)
    order = np.argsort(index.values, kind="stable")
    if (order != np.arange(len(order))).any():
        values, index = values.iloc[order], index[order]
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise DataError(f"{label}: the date {dup} appears more than once in column '{date_col}'. "
                        "Keep one row per time point.")
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise DataError(f"{label}: column '{value_col}' has {missing.size} empty value(s), first "
                        f"at data row {missing[0] + 1}. Fill or remove them.")
    freq = infer_freq(index) if isinstance(index, pd.DatetimeIndex) else None
    return Series(values.to_numpy(float), index, name=str(value_col), freq=freq, source=label)


def _read_frame(source: CsvSource, label: str) -> pd.DataFrame:
    try:
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        frame = pd.read_csv(source, sep=None, engine="python", skipinitialspace=True)
    except FileNotFoundError:
        raise DataError(f"No such file: {label}. Check the path.") from None
    except IsADirectoryError:
        raise DataError(f"{label} is a folder, not a CSV file.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{label} is empty. Choose a CSV with a header and data rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, csv_error()) as err:
        raise DataError(f"{label} could not be read as CSV ({err}). Save it as UTF-8 CSV.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError(f"{label} has a header but no data rows.")
    return frame


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def _pick_value_column(frame: pd.DataFrame, column: str | None, label: str) -> str:
    if column is not None:
        if column not in frame.columns:
            raise DataError(f"{label} has no column '{column}'. Columns: "
                            f"{', '.join(map(str, frame.columns))}.")
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise DataError(f"{label}: column '{column}' is not numeric (first value "
                            f"{frame[column].iloc[0]!r}). Pick a numeric column.")
        return column
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not _looks_like_time(frame[c], c)]
    if not numeric:
        raise DataError(f"{label} has no numeric column. Columns: "
                        f"{', '.join(map(str, frame.columns))}.")
    if len(numeric) > 1:
        raise DataError(f"{label} has several numeric columns ({', '.join(numeric)}). "
                        "Choose one (CLI: --column NAME).")
    return numeric[0]


def _looks_like_time(col: pd.Series, name: str) -> bool:
    return str(name).strip().lower() in {"year", "date", "time", "month", "period"}


def _pick_date_column(frame: pd.DataFrame, date_column: str | None, exclude: str,
                      label: str) -> str | None:
    if date_column is not None:
        if date_column not in frame.columns:
            raise DataError(f"{label} has no column '{date_column}'. Columns: "
                            f"{', '.join(map(str, frame.columns))}.")
        return date_column
    for col in frame.columns:
        if col == exclude:
            continue
        if _looks_like_time(frame[col], col) or frame[col].dtype == object:
            try:
                _parse_dates(frame[col], col, label)
            except DataError:
                continue
            return col
    return None


def _parse_dates(col: pd.Series, name: str, label: str) -> pd.Series:
    if pd.api.types.is_integer_dtype(col) and col.between(1000, 2999).all():
        return pd.to_datetime(col.astype(str), format="%Y")
    try:
        return pd.to_datetime(col.astype(str), format="mixed")
    except (ValueError, TypeError) as err:
        raise DataError(f"{label}: column '{name}' does not hold dates ({err}).") from None
