"""CSV loading: the one place where user files become a Series.

Public API
----------
``load_csv(source, column=None, date_column=None, name=None, bad_values="interpolate",
duplicates="error", fill_gaps=False, *, limits=None) -> CsvLoad``
    Read one numeric column as a Series, plus what the loader found and did: ``CsvLoad.warnings``
    lists every repair (cells interpolated or dropped, rows sorted, gaps, two-digit years,
    footers skipped, ...) for the caller to show. Nothing is printed or logged.
``read_csv_series(source, column=None, date_column=None, name=None, **options) -> Series``
    ``load_csv(...).series``, for callers that do not show warnings (datasets, CLI).
``inspect_csv(source) -> CsvColumns(columns, numeric_columns, date_column)``
    The column lists and the guessed date column, without reading the values: for pickers.
``AmbiguousColumnError(DataError)``
    What ``load_csv`` raises when ``column`` is None and several columns are numeric. It carries
    ``columns``, ``numeric_columns`` and ``date_column``, so a UI can catch it, offer a picker
    (``getattr(err, "numeric_columns", None)``) and call ``load_csv`` again with ``column=``.

Every refusal is a DataError that names the file, what was found (line and column, counted as
in a text editor: the header is line 1) and what to do. An unknown policy raises ConfigError.

What is understood
------------------
- Text: UTF-8 with or without BOM, UTF-16 with BOM; other bytes are read as Windows-1252 (then
  Latin-1) with a warning. Binary files (NUL bytes, control characters, PNG/ZIP/PDF signatures)
  are refused.
- Layout: ``,`` ``;`` tab or ``|`` delimiters, quoted fields and headers, CRLF/LF/CR line ends,
  no final newline, blank lines, trailing delimiters (empty extra columns), an unnamed
  row-number column, no header row (columns are then named col1..colN), a title line above the
  header, and footers (notes or titles after the data, as Excel exports have).
- Numbers: ``1.5``, decimal commas (``1,5`` when the delimiter is not a comma), ``1,234.5`` in
  comma files. Empty or NA cells are *missing*, other text (``?0.2``) is *unreadable*; both
  follow ``bad_values`` (a first or last value cannot be interpolated: it is refused). Infinite
  values are refused.
- Time: ISO dates and times (``1949-01``, ``1949-01-01``, ``1949-01-01T10:00``), ``YYYY/MM/DD``,
  ``D/M/YYYY`` or ``M/D/YYYY`` with ``/`` ``-`` or ``.`` (day first if any first field is above
  12, month first if any second field is; otherwise decided from the data, with a warning),
  two-digit years (``DD-MM-YY``, ``Jan-49``: the century that keeps every date in the past, with
  a warning), month names (``Jan-1949``, ``January 1949``), quarters (``1970 Q1``), integer
  years, ``YYYYMMDD`` integers, a year column plus a quarter or month column, and
  year-index/month labels (``1-01`` .. ``13-03``: an integer index named "period", season 12).
  With no date column the row number is the time. Cells of the date column that are not dates
  are refused with their lines.
- Order: unsorted rows are sorted (warning); repeated times follow ``duplicates``; gaps in a
  regular series are reported (warning) or, with ``fill_gaps=True``, interpolated.

Size limits (bytes, rows, columns) come from lstm_lab.limits; messages name the environment
variable that raises them. Cost: a 48 MB, 1.9-million-row file takes about 6 s and 700 MB at
peak (the csv module makes one Python string per cell).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple

import numpy as np
import pandas as pd

from lstm_lab.data.series import Series, infer_freq
from lstm_lab.errors import ConfigError, DataError
from lstm_lab.limits import Limits, env_var, get_limits

CsvSource = str | os.PathLike | bytes | BinaryIO

BAD_VALUE_POLICIES = ("interpolate", "drop", "error")
DUPLICATE_POLICIES = ("error", "mean", "last")

# Candidate delimiters; on a tie the earlier wins (a ';' or tab on every line is rarely text).
_DELIMITERS = ("\t", ";", "|", ",")
# Cells that mean "no value" (pandas' default NA strings, lower-cased, plus dashes and dots).
_NA_TOKENS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "#na", "<na>",
                        "missing", "-", "--", "."})
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?|[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
# C0/C1 control characters other than tab, LF and CR: text files do not contain them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SIGNATURES = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook (or another Office file)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "a program"), (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
)

# Time formats: name -> full-match pattern. Groups feed _parse_time. Checked on cell text.
_TIME_PATTERNS = {
    "year_index": re.compile(r"(\d{1,3})-(\d{2})"),
    "iso": re.compile(r"\d{4}-\d{1,2}(?:-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                      r"(?:Z|[+-]\d{2}:?\d{2})?)?)?"),
    "ymd": re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})"),
    "dmy": re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})"
                      r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"),
    "month_name": re.compile(r"([A-Za-z]{3,9})\.?[-\s/]?(\d{4}|\d{2})"),
    "quarter": re.compile(r"(\d{4})\s*[-/]?\s*[Qq]([1-4])"),
    "year": re.compile(r"\d{4}"),
    "yyyymmdd": re.compile(r"\d{8}"),
}
_TIME_LABELS = {"year_index": "year-index-month (1-01)", "iso": "ISO, e.g. 2020-01-31",
                "ymd": "YYYY/MM/DD", "dmy": "D/M/Y or M/D/Y", "month_name": "Jan-1949",
                "quarter": "1970 Q1", "year": "YYYY", "yyyymmdd": "YYYYMMDD"}
# Plain integers are years or YYYYMMDD only in a column whose name says so (or has no name).
_INTEGER_KINDS = ("year", "yyyymmdd")
_TIME_NAMES = frozenset({"date", "time", "datetime", "timestamp", "month", "year", "yr", "period",
                         "quarter", "week", "day", "ds", "dt"})
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}
_AUTO_TIME_SHARE = 0.9      # share of a column's cells that must look like times to guess it
_ROW_SLACK = 100            # header, title and footer lines allowed beyond max_rows
_INSPECT_LINES = 5_000      # inspect_csv judges the columns from this many first lines
_MAX_EXTRA_LINES = 20       # title lines above the header, footer lines below the data


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


@dataclass(frozen=True)
class CsvLoad:
    """A loaded series and what the loader found and did, for the UI's pickers and notes.

    ``columns`` lists every column (empty trailing ones dropped), ``numeric_columns`` those that
    could be the value column, ``date_column`` the time column used (None: row numbers; for a
    year + quarter/month pair, the year column), ``n_rows_read`` the data rows in the file.
    """

    series: Series
    warnings: list[str]
    columns: list[str]
    numeric_columns: list[str]
    date_column: str | None
    n_rows_read: int


class CsvColumns(NamedTuple):
    """What ``inspect_csv`` finds; unpacks as ``columns, numeric_columns, date_column``."""

    columns: list[str]
    numeric_columns: list[str]
    date_column: str | None


# ---------------------------------------------------------------------------------------------
# Public functions


def load_csv(source: CsvSource, column: str | None = None, date_column: str | None = None,
             name: str | None = None, bad_values: str = "interpolate", duplicates: str = "error",
             fill_gaps: bool = False, *, limits: Limits | None = None) -> CsvLoad:
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

    Returns:
        CsvLoad with the series, the warnings (plain sentences) and the column lists.

    Raises:
        DataError: the file cannot give a clean series; the message says why and what to do.
        AmbiguousColumnError: ``column`` is None and several columns are numeric.
        ConfigError: ``bad_values`` or ``duplicates`` is not one of the choices.
    """
    _check_choice("bad_values", bad_values, BAD_VALUE_POLICIES)
    _check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
    label = _label(source, name)
    notes: list[str] = []
    table = _read_table(source, label, limits or get_limits(), notes)
    roles = _find_roles(table, column, date_column, label)
    if roles.value is None:
        _refuse_unclear_value_column(table, roles, label)
    series = _build_series(table, roles, label, bad_values, duplicates, fill_gaps, notes)
    return CsvLoad(series=series, warnings=notes, columns=table.columns,
                   numeric_columns=roles.numeric, date_column=roles.time,
                   n_rows_read=len(table.frame))


def read_csv_series(source: CsvSource, column: str | None = None, date_column: str | None = None,
                    name: str | None = None, **options) -> Series:
    """``load_csv(...).series``: the Series alone, for callers that do not show warnings."""
    return load_csv(source, column=column, date_column=date_column, name=name, **options).series


def inspect_csv(source: CsvSource, name: str | None = None, *,
                limits: Limits | None = None) -> CsvColumns:
    """The columns, the numeric ones and the guessed date column, without reading the values.

    Raises DataError only when the file itself cannot be read as a table.
    """
    label = _label(source, name)
    limits = limits or get_limits()
    try:  # the first rows tell the columns apart; a big file need not be split twice
        table = _read_table(source, label, limits, [], max_lines=_INSPECT_LINES)
    except DataError:  # e.g. a quoted field cut by the sample: judge the whole file
        table = _read_table(source, label, limits, [])
    roles = _find_roles(table, None, None, label)
    return CsvColumns(table.columns, roles.numeric, roles.time)


# ---------------------------------------------------------------------------------------------
# Step 1: bytes -> text


def _check_choice(option: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"`{option}` must be one of {', '.join(map(repr, choices))}. "
                          f"Received: {option}={value!r}")


def _label(source: object, name: str | None) -> str:
    """How messages name the source: the caller's name, the file name, or "upload"."""
    if name:
        return name
    path = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", None)
    if isinstance(path, (str, os.PathLike)):
        return os.path.basename(os.fspath(path)) or os.fspath(path)
    return "upload"


def _read_table(source: CsvSource, label: str, limits: Limits, notes: list[str],
                max_lines: int | None = None) -> _Table:
    """The file as a table of text cells; ``max_lines``: only its first lines (a sample)."""
    raw = _read_source(source, label, limits)
    text = raw if isinstance(raw, str) else _decode(raw, label, notes)
    if max_lines is not None:
        text = _head(text, max_lines)
    rows, lines, delimiter = _split_rows(text, label, limits)
    return _build_table(rows, lines, delimiter, label, limits, notes,
                        padded=_has_padding(text, delimiter))


def _read_source(source: CsvSource, label: str, limits: Limits) -> bytes | str:
    """The file's content, refusing it before reading when it is over the size limit."""
    limit = limits.max_upload_bytes
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw: bytes | str = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            if os.path.isdir(path):
                raise DataError(f"{label} is a folder, not a CSV file. Choose a file.")
            size = os.path.getsize(path)
            if size > limit:
                raise DataError(_too_big(label, size, limits))
            with open(path, "rb") as fh:
                raw = fh.read(limit + 1)
        except FileNotFoundError:
            raise DataError(f"No such file: {path}. Check the path.") from None
        except OSError as err:
            raise DataError(f"{label} could not be opened ({err.strerror or err}). Check the "
                            "path and its permissions.") from None
    elif hasattr(source, "read"):
        raw = source.read(limit + 1)
        if not isinstance(raw, (bytes, str)):
            raise TypeError(f"source.read() must return bytes. Received: {type(raw).__name__}")
    else:
        raise TypeError("source must be a path, bytes or a binary file object. "
                        f"Received: {type(source).__name__}")
    if len(raw) > limit:                    # a file object's full size is unknown
        raise DataError(_too_big(label, len(raw) if isinstance(source, (bytes, bytearray,
                                                                        memoryview)) else None,
                                 limits))
    return raw


def _too_big(label: str, size: int | None, limits: Limits) -> str:
    found = f"is {size / 2**20:.1f} MB" if size is not None else "is too large"
    return (f"{label} {found}; the upload limit is {limits.max_upload_mb} MB. Use a smaller "
            f"file (fewer rows or columns), or raise the limit with the environment variable "
            f"{env_var('max_upload_mb')} (in MB).")


def _decode(raw: bytes, label: str, notes: list[str]) -> str:
    """Text from bytes; binary files are refused here, before any parsing.

    Excel's "Unicode text" export is UTF-16 with a BOM (and NUL bytes in every character), so
    it is decoded before the NUL check that refuses other binary files.
    """
    if not raw:
        raise DataError(f"{label} is empty (0 bytes). Choose a CSV file with a header row and "
                        "data rows.")
    for magic, kind in _SIGNATURES:
        if raw.startswith(magic):
            raise DataError(f"{label} is not a CSV file: it looks like {kind}. Open it in the "
                            "program that made it and export or save it as CSV.")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(f"{label} starts like UTF-16 text but is not valid UTF-16. Save it "
                            "as CSV (UTF-8).") from None
    else:
        nul = raw.find(b"\x00")
        if nul >= 0:
            line = raw.count(b"\n", 0, nul) + 1
            raise DataError(f"{label} contains a NUL byte (line {line}, byte {nul + 1}): it is a "
                            "binary file, not CSV text. Choose a CSV file, or save this one as "
                            "CSV (UTF-8).")
        text = _decode_text(raw, label, notes)
    text = text.removesuffix("\x1a")          # old DOS end-of-file mark
    bad = _CONTROL.search(text)
    if bad:
        line, col = _line_and_column(text, bad.start())
        raise DataError(f"{label} contains the control character 0x{ord(bad.group()):02x} at line "
                        f"{line}, column {col}: it looks like a binary file, not CSV text. Choose "
                        "a CSV file (plain text, one row per line).")
    return text


def _decode_text(raw: bytes, label: str, notes: list[str]) -> str:
    """UTF-8 (BOM stripped), else Windows-1252, else Latin-1 (which decodes any byte).

    Excel on Windows still saves "CSV" in the local code page; refusing those files would be
    unfriendly, and their digits and delimiters are ASCII anyway. The warning names the byte.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        where = err.start
    line = raw.count(b"\n", 0, where) + 1
    for encoding, title in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        notes.append(f"{label} is not UTF-8 (byte 0x{raw[where]:02x} on line {line}), so it was "
                     f"read as {title}. Check accented letters in names, or save the file as "
                     "UTF-8.")
        return text
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _line_and_column(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind("\n", 0, pos), text.rfind("\r", 0, pos)) + 1
    return len(re.findall(r"\r\n|\r|\n", text[:pos])) + 1, pos - start + 1


# ---------------------------------------------------------------------------------------------
# Step 2: text -> rows of cells


def _head(text: str, n_lines: int) -> str:
    """The first ``n_lines`` lines of ``text`` (all of it when it is shorter)."""
    end = 0
    for _ in range(n_lines):
        end = text.find("\n", end) + 1
        if end == 0:
            return text
    return text[:end]


def _split_rows(text: str, label: str, limits: Limits) -> tuple[list[list[str]], list[int], str]:
    """The fields of each row and its file line, split by the sniffed delimiter.

    The csv module (pandas' python engine uses it too) accepts ragged rows, which footers and
    title lines are, and reports the line of each row for messages; pandas types the cells.
    Without a quote character no field can span lines, so row i is line i + 1 and the rows are
    read in one call (a million rows in about a second).
    """
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    if '"' not in text:
        try:
            rows = list(itertools.islice(reader, limits.max_rows + _ROW_SLACK + 1))
        except csv.Error as err:
            raise DataError(f"{label}: line {max(reader.line_num, 1)} could not be split into "
                            f"fields ({err}). Save the file again as CSV.") from None
        if len(rows) > limits.max_rows + _ROW_SLACK:
            raise DataError(_too_many_rows(label, limits))
        if rows and max(map(len, rows)) > limits.max_columns:
            wide = next(i for i, row in enumerate(rows) if len(row) > limits.max_columns)
            raise DataError(_too_many_fields(label, wide + 1, len(rows[wide]), limits))
        return rows, list(range(1, len(rows) + 1)), delimiter
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if len(rows) >= limits.max_rows + _ROW_SLACK:
                raise DataError(_too_many_rows(label, limits))
            if len(row) > limits.max_columns:
                raise DataError(_too_many_fields(label, reader.line_num, len(row), limits))
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as err:
        raise DataError(f"{label}: line {max(reader.line_num, 1)} could not be split into fields "
                        f"({err}). Check its quotes, or save the file again as CSV.") from None
    _refuse_unclosed_quote(rows, lines, label)
    return rows, lines, delimiter


def _refuse_unclosed_quote(rows: list[list[str]], lines: list[int], label: str) -> None:
    """A quote opened and never closed swallows the rest of the file into one field.

    The csv module then returns a last row spanning many lines; without this check the user
    would read "only 1 usable row" instead of where the stray quote is.
    """
    if not rows:
        return
    first_line = lines[-2] + 1 if len(rows) > 1 else 1
    if lines[-1] > first_line and any("\n" in cell or "\r" in cell for cell in rows[-1]):
        raise DataError(f"{label}: line {first_line} opens a quote (\") that is never closed, so "
                        f"lines {first_line}-{lines[-1]} were read as one field. Remove the stray "
                        "quote, or close it.")


def _too_many_fields(label: str, line: int, n_fields: int, limits: Limits) -> str:
    return (f"{label}: line {line} has {n_fields:,} fields; the limit is "
            f"{limits.max_columns:,} columns. Keep the columns you need, or raise the limit with "
            f"the environment variable {env_var('max_columns')}.")


def _too_many_rows(label: str, limits: Limits) -> str:
    return (f"{label} has more than {limits.max_rows:,} data rows, the row limit. Use fewer rows "
            f"(e.g. aggregate to a coarser time step), or raise the limit with the environment "
            f"variable {env_var('max_rows')}.")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (2+) of fields most often.

    With no such delimiter (one column), a comma.

    csv.Sniffer, behind pandas' ``sep=None``, reads one line and ranks characters by frequency,
    so it picks ',' for ``2020-01-01;1,5`` (a decimal comma). Counting fields per line with a
    real csv.reader, quotes respected, over 100 lines, does not.
    """
    head = "".join(itertools.islice(io.StringIO(_head(text, 100), newline=""), 100))
    best, best_share = ",", 0.0
    for delimiter in _DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(io.StringIO(head, newline=""),
                                                     delimiter=delimiter, skipinitialspace=True)
                      if any(cell.strip() for cell in row)]
        except csv.Error:
            continue
        if counts:
            mode, hits = Counter(counts).most_common(1)[0]
            if mode > 1 and hits / len(counts) > best_share:
                best, best_share = delimiter, hits / len(counts)
    return best


# ---------------------------------------------------------------------------------------------
# Step 3: rows -> a table of text cells (header, footer, names)


@dataclass
class _Table:
    """The data cells as text ("" when empty), one column per CSV column, and each row's line."""

    frame: pd.DataFrame
    lines: np.ndarray
    delimiter: str
    unnamed: frozenset[str]
    _numbers: dict[str, pd.Series] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def numbers(self, column: str) -> pd.Series:
        """The column as floats: NaN where a cell is empty or not a number (cached)."""
        if column not in self._numbers:
            self._numbers[column] = _to_numbers(self.frame[column], self.delimiter)
        return self._numbers[column]

    def missing(self, column: str) -> pd.Series:
        """Cells that mean "no value": empty, NA, NaN, null, -, ..."""
        return self.frame[column].str.lower().isin(_NA_TOKENS)


def _has_padding(text: str, delimiter: str) -> bool:
    """Whether any cell may start or end with blanks (so the cells need stripping).

    The reader already skips blanks after a delimiter; what remains is blanks at a line start,
    before a delimiter or a line end, and anything inside quotes. Substring tests: a few
    milliseconds on a million rows, where stripping every cell takes seconds.
    """
    if '"' in text or text[:1] in (" ", "\t") or text[-1:] in (" ", "\t"):
        return True
    return any(blank + edge in text or edge + blank in text and edge != delimiter
               for blank in (" ", "\t") for edge in (delimiter, "\n", "\r"))


def _build_table(rows: list[list[str]], lines: list[int], delimiter: str, label: str,
                 limits: Limits, notes: list[str], padded: bool = True) -> _Table:
    """Find the header, drop blank lines, titles and footers, and name the columns.

    Whole-file work is done on a DataFrame (``_cell_grid``); only the first and last few rows
    are looked at one by one.
    """
    grid = _cell_grid(rows, strip=padded)
    filled = np.flatnonzero((grid != "").any(axis=1).to_numpy())
    if not filled.size:
        raise DataError(f"{label} holds no data: it has only blank lines or delimiters. Choose "
                        "a CSV file with a header row and data rows.")
    start = _skip_title_lines(rows, lines, filled, notes)
    first = _stripped(rows[start])
    has_header = not all(cell and _looks_like_value(cell) for cell in first)
    header = first if has_header else []
    body = _drop_footer(rows, lines, filled[filled > start] if has_header else filled[filled >= start],
                        delimiter, notes)
    if not body.size:
        names = ", ".join(repr(cell) for cell in first if cell) or "(empty)"
        raise DataError(f"{label} has a header ({names}) but no data rows. Add rows of data "
                        "below the header.")
    if body.size > limits.max_rows:
        raise DataError(_too_many_rows(label, limits))
    blanks = int(body[-1] - body[0] + 1 - body.size)
    if blanks:
        after = body[np.flatnonzero(np.diff(body) > 1)[0]]
        notes.append(f"Skipped {blanks} empty line(s) inside the data (first after line "
                     f"{lines[after]}).")
    names, unnamed = _column_names(header, grid.shape[1])
    if not has_header:
        notes.append(f"No header row: line {lines[start]} already holds data, so the columns are "
                     f"named {names[0]}..{names[-1]}.")
    frame = grid.iloc[body].reset_index(drop=True)
    frame.columns = names
    empty_extra = [c for c in unnamed if (frame[c] == "").all()]  # from trailing delimiters
    frame = frame.drop(columns=empty_extra)
    return _Table(frame, np.asarray(lines)[body], delimiter, frozenset(unnamed) - set(empty_extra))


def _cell_grid(rows: list[list[str]], strip: bool = True) -> pd.DataFrame:
    """All rows as a DataFrame of stripped text, short rows padded with "" (pandas will stop
    padding ragged rows itself). ``strip=False``: the caller knows no cell has blanks to strip.

    """
    widths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    width = int(widths.max()) if len(rows) else 0
    if not width:
        return pd.DataFrame(index=range(len(rows)), dtype=object)
    if (widths < width).any():
        rows = [row if len(row) == width else row + [""] * (width - len(row)) for row in rows]
    grid = pd.DataFrame(rows, dtype=object)
    return grid.apply(lambda col: col.str.strip()) if strip else grid


def _stripped(row: list[str]) -> list[str]:
    return [cell.strip() for cell in row]


def _looks_like_value(cell: str) -> bool:
    """A number or a time in a known format: tells data rows from headers, titles and footers."""
    return bool(_NUMBER.fullmatch(cell)) or any(p.fullmatch(cell) for p in _TIME_PATTERNS.values())


def _skip_title_lines(rows: list[list[str]], lines: list[int], filled: np.ndarray,
                      notes: list[str]) -> int:
    """Index of the header (or first data) row, past title lines such as "Sales 2020".

    A title line has text in its first cell only, in a file whose rows mostly have 2+ fields.
    """
    width = Counter(len(rows[i]) for i in filled[:1000]).most_common(1)[0][0]
    k = 0
    while width > 1 and k < min(len(filled) - 2, _MAX_EXTRA_LINES):
        cells = _stripped(rows[filled[k]])
        if sum(map(bool, cells)) != 1 or not cells[0] or _looks_like_value(cells[0]):
            break
        k += 1
    if k:
        notes.append(f"Skipped {k} title line(s) above the header (line {lines[filled[0]]}: "
                     f"{rows[filled[0]][0].strip()[:60]!r}).")
    return int(filled[k])


def _drop_footer(rows: list[list[str]], lines: list[int], body: np.ndarray, delimiter: str,
                 notes: list[str]) -> np.ndarray:
    """Body rows without the trailing lines that hold no number or date (notes, titles).

    Excel exports and tutorial copies end with e.g. ``,`` and "International airline passengers:
    monthly totals in thousands. Jan 49 ? Dec 60,". When none of the last lines holds a number or
    a date, the table is text and is left alone, so the column checks can say what is wrong.
    """
    for end in range(len(body), max(0, len(body) - _MAX_EXTRA_LINES), -1):
        if any(_looks_like_value(cell) for cell in _stripped(rows[body[end - 1]])):
            break
    else:
        return body
    if end == len(body):
        return body
    footer = body[end:]
    text = (delimiter if delimiter == "\t" else delimiter + " ").join(_stripped(rows[footer[0]]))
    text = text.strip(delimiter + " ")
    notes.append(f"Ignored {len(footer)} line(s) after the data (from line {lines[footer[0]]}: "
                 f"{text[:70]!r}): they hold no number or date.")
    return body[:end]


def _column_names(header: list[str], width: int) -> tuple[list[str], list[str]]:
    """Stripped, unique names; missing names become col1..colN (1-based positions)."""
    names: list[str] = []
    unnamed: list[str] = []
    for k in range(width):
        name = (header[k] if k < len(header) else "").replace("\ufeff", "").strip()
        if not name:
            name = f"col{k + 1}"
            unnamed.append(name)
        base, n = name, 1
        while name in names:
            name, n = f"{base}.{n}", n + 1
        names.append(name)
    return names, [n for n in names if n in unnamed]


def _to_numbers(cells: pd.Series, delimiter: str) -> pd.Series:
    """Cells as floats, NaN where empty or not a number.

    Cells pandas cannot read get a second chance: a comma is a decimal mark (``1,5``) when it is
    not the delimiter, and a thousands separator (``"1,234.5"``) in comma files. Only failed
    cells are looked at, so a clean column costs one ``pd.to_numeric``.
    """
    numbers = pd.to_numeric(cells, errors="coerce").astype("float64")
    failed = numbers.isna().to_numpy() & (cells != "").to_numpy()
    if failed.any():
        text = cells[failed]
        pattern, mark = (_DECIMAL_COMMA, ".") if delimiter != "," else (_THOUSANDS, "")
        fixable = text[text.str.fullmatch(pattern).astype(bool)]
        if len(fixable):
            repaired = pd.to_numeric(fixable.str.replace(",", mark, regex=False), errors="coerce")
            numbers.loc[repaired.index] = repaired.to_numpy(dtype="float64")
    return numbers


# ---------------------------------------------------------------------------------------------
# Step 4: which column is time, which holds the values


@dataclass
class _Roles:
    value: str | None               # None: not decided (no or several numeric columns)
    time: str | None                # None: row numbers are the time
    kind: str | None                # a key of _TIME_PATTERNS
    companion: str | None           # a quarter or month column combined with a year column
    numeric: list[str]              # candidate value columns
    index_column: str | None        # a row-number column, ignored


def _find_roles(table: _Table, column: str | None, date_column: str | None,
                label: str) -> _Roles:
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
    return _Roles(value, time, kind, companion, numeric, index_column)


def _find_column(table: _Table, wanted: str, label: str, option: str) -> str:
    """The column named ``wanted``: exact, else the one that matches ignoring case and spaces."""
    if wanted in table.columns:
        return wanted
    loose = [c for c in table.columns if c.strip().lower() == str(wanted).strip().lower()]
    if len(loose) == 1:
        return loose[0]
    raise DataError(f"{label} has no column '{wanted}' ({option}). Columns: "
                    f"{', '.join(table.columns)}.")


def _is_numeric(table: _Table, column: str) -> bool:
    """At least half of the rows hold a number: a usable series, not a mostly-empty column."""
    return int(table.numbers(column).notna().sum()) >= max(1, len(table.frame) / 2)


def _is_time_name(name: str) -> bool:
    low = name.strip().lower()
    return low in _TIME_NAMES or "date" in low or "time" in low


def _row_number_column(table: _Table) -> str | None:
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
    for kind, pattern in _TIME_PATTERNS.items():
        share = float(sample.str.fullmatch(pattern).mean())
        if share > best[1]:
            best = (kind, share)
    return best


def _guess_time_column(table: _Table, exclude: set) -> tuple[str | None, str | None]:
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


def _explicit_time_kind(table: _Table, column: str, label: str) -> str:
    kind, share = _guess_time_kind(table.frame[column])
    if kind is None or share <= 0.5:
        examples = ", ".join(repr(c) for c in table.frame[column].iloc[:3])
        raise DataError(f"{label}: column '{column}' does not hold dates in a format I know "
                        f"(first cells: {examples}). Known formats: 2020-01-31, 2020-01, "
                        "31/01/2020, 01/31/2020, 31-01-20, Jan-2020, 2020 Q1, 2020, 20200131. "
                        "Choose another date column, or none (the row number is then the time).")
    return kind


def _companion_column(table: _Table, year: str | None, exclude: set) -> str | None:
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


def _refuse_unclear_value_column(table: _Table, roles: _Roles, label: str) -> None:
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


# ---------------------------------------------------------------------------------------------
# Step 5: the time axis


def _time_values(table: _Table, roles: _Roles, label: str, notes: list[str]) -> pd.Series:
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
        where = _examples(table.lines[bad], cells.to_numpy()[bad])
        raise DataError(f"{label}: {int(bad.sum())} cell(s) in date column '{roles.time}' are not "
                        f"dates like the others ({_TIME_LABELS[roles.kind]}): {where}. Fix or "
                        "delete those rows, or choose another date column.")
    return times.astype("int64") if roles.kind == "year_index" else times


def _parse_time(cells: pd.Series, kind: str, column: str, label: str,
                notes: list[str]) -> pd.Series:
    """Cells -> times with an explicit format per kind; NaT/NaN where a cell does not fit."""
    pattern = _TIME_PATTERNS[kind]
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


def _year_with_companion(table: _Table, roles: _Roles, notes: list[str]) -> pd.Series:
    """A year column plus a quarter (1-4) or month (1-12) column -> the first day of each."""
    years = _parse_time(table.frame[roles.time], "year", roles.time, "", notes).dt.year
    step = table.numbers(roles.companion)
    quarterly = roles.companion.strip().lower().startswith("q")
    notes.append(f"Combined columns '{roles.time}' and '{roles.companion}' into "
                 f"{'quarterly' if quarterly else 'monthly'} dates.")
    return _assemble(years, (step - 1) * 3 + 1 if quarterly else step)


# ---------------------------------------------------------------------------------------------
# Step 6: values, order, duplicates, gaps -> Series


def _build_series(table: _Table, roles: _Roles, label: str, bad_values: str, duplicates: str,
                  fill_gaps: bool, notes: list[str]) -> Series:
    value = roles.value
    numbers = _checked_numbers(table, value, label)
    frame = pd.DataFrame({"value": numbers.to_numpy(), "cell": table.frame[value].to_numpy(),
                          "line": table.lines.astype("float64")})
    period = roles.kind == "year_index"
    if roles.time is not None:
        frame["time"] = _time_values(table, roles, label, notes).to_numpy()
    else:
        notes.append("No column holds dates in a known format, so the row number is the time "
                     "(pick a date column to change this).")
    frame = _apply_bad_value_policy(frame, value, bad_values, label, notes)
    if roles.time is not None:
        frame = _sort_by_time(frame, roles.time, notes)
        frame = _merge_duplicates(frame, roles.time, duplicates, label, notes)
        frame = _handle_gaps(frame, roles.time, fill_gaps, notes)
    frame = _interpolate(frame, value, label, notes)
    if len(frame) < 2:
        raise DataError(f"{label}: only {len(frame)} usable row(s) in column '{value}'; a series "
                        "needs at least 2. Add data rows, or choose another column.")
    if roles.time is None:
        index: pd.Index = pd.RangeIndex(len(frame), name="row")
    elif period:
        index = pd.Index(frame["time"].astype("int64"), name="period")
    else:
        index = pd.DatetimeIndex(frame["time"], name=roles.time)
    return Series(frame["value"].to_numpy(float), index, name=value, freq=_freq(index),
                  source=label, season_override=12 if period else None)


def _checked_numbers(table: _Table, column: str, label: str) -> pd.Series:
    """The value column as floats; refuses text columns and infinite values."""
    numbers = table.numbers(column)
    cells = table.frame[column]
    readable = int(numbers.notna().sum())
    filled = int((~table.missing(column)).sum())
    if filled == 0:
        raise DataError(f"{label}: column '{column}' is empty (lines {table.lines[0]}-"
                        f"{table.lines[-1]}). Choose a column of numbers.")
    if readable < filled / 2:
        bad = (numbers.isna() & ~table.missing(column)).to_numpy()
        where = _examples(table.lines[bad], cells.to_numpy()[bad])
        raise DataError(f"{label}: column '{column}' is not numeric: {filled - readable} of "
                        f"{filled} filled cells are not numbers ({where}). Choose a column of "
                        "numbers.")
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        where = _examples(table.lines[infinite], cells.to_numpy()[infinite])
        raise DataError(f"{label}: column '{column}' has {int(infinite.sum())} infinite "
                        f"value(s): {where}. Replace them with finite numbers, or empty the "
                        "cells to have them treated as missing.")
    return numbers


def _apply_bad_value_policy(frame: pd.DataFrame, column: str, policy: str, label: str,
                            notes: list[str]) -> pd.DataFrame:
    """Refuse or drop rows whose value is empty or unreadable; "interpolate" waits for order."""
    bad = frame["value"].isna().to_numpy()
    if not bad.any() or policy == "interpolate":
        return frame
    where = _examples(frame["line"].to_numpy()[bad], frame["cell"].to_numpy()[bad])
    if policy == "error":
        raise DataError(f"{label}: column '{column}' has {int(bad.sum())} empty or unreadable "
                        f"cell(s): {where}. Fix them, or pass bad_values='interpolate' or "
                        "'drop'.")
    notes.append(f"Dropped {int(bad.sum())} row(s) with an empty or unreadable value in "
                 f"'{column}': {where}.")
    return frame[~bad]


def _sort_by_time(frame: pd.DataFrame, column: str, notes: list[str]) -> pd.DataFrame:
    times = frame["time"]
    if times.is_monotonic_increasing:
        return frame
    later = np.flatnonzero(times.to_numpy()[1:] < times.to_numpy()[:-1])[0] + 1
    notes.append(f"Rows were not in time order (line {int(frame['line'].iloc[later])}, "
                 f"{_time_text(frame['time'].iloc[later])}, comes after a later time); they were "
                 f"sorted by '{column}'.")
    return frame.sort_values("time", kind="stable")


def _merge_duplicates(frame: pd.DataFrame, column: str, policy: str, label: str,
                      notes: list[str]) -> pd.DataFrame:
    repeated = frame["time"].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame
    first = frame["time"].to_numpy()[repeated][0]
    lines = frame["line"].to_numpy()[frame["time"].to_numpy() == first]
    where = f"{_time_text(first)} on lines {', '.join(str(int(n)) for n in lines[:5])}"
    n_times = frame["time"][repeated].nunique()
    if policy == "error":
        raise DataError(f"{label}: {n_times} time(s) appear more than once in column '{column}', "
                        f"first {where}. Keep one row per time, or pass duplicates='mean' "
                        "(average them) or 'last' (keep the last row).")
    if policy == "last":
        frame = frame.drop_duplicates("time", keep="last")
    else:
        frame = frame.groupby("time", as_index=False, sort=True).agg(
            value=("value", "mean"), cell=("cell", "first"), line=("line", "first"))
    notes.append(f"{n_times} time(s) appear more than once in '{column}' (first {where}); kept "
                 f"{'their mean' if policy == 'mean' else 'the last row of each'}.")
    return frame


def _handle_gaps(frame: pd.DataFrame, column: str, fill: bool, notes: list[str]) -> pd.DataFrame:
    """Report the time points missing from a regular series, or add them (values to interpolate)."""
    times = pd.Index(frame["time"])
    found = _regular_grid(times)
    if found is None or len(found[0]) == len(times):
        return frame
    grid, step = found
    missing = grid.difference(times)
    shown = ", ".join(_time_text(t) for t in missing[:5]) + (", ..." if len(missing) > 5 else "")
    if not fill:
        notes.append(f"'{column}' has {len(missing)} gap(s) in its {step} sequence: {shown}. They "
                     "are left out, so time is not evenly spaced there; pass fill_gaps=True to "
                     "interpolate them.")
        return frame
    notes.append(f"Filled {len(missing)} missing {step} time point(s) in '{column}' ({shown}) by "
                 "linear interpolation.")
    filled = frame.set_index("time").reindex(grid)
    return filled.rename_axis("time").reset_index()


def _regular_grid(times: pd.Index) -> tuple[pd.Index, str] | None:
    """The evenly spaced sequence the (sorted, unique) times come from, or None if irregular.

    Month starts and ends are spaced in calendar months (28-31 days apart), other times by
    their smallest step. A grid over twice as long as the data is taken as irregular data.
    """
    if len(times) < 3:
        return None
    if not isinstance(times, pd.DatetimeIndex):         # year-index data: a count of months
        ints = times.to_numpy(dtype="int64")
        step = int(np.diff(ints).min())
        if step < 1 or ((ints - ints[0]) % step).any() or (ints[-1] - ints[0]) // step >= 2 * len(ints):
            return None
        return pd.Index(range(ints[0], ints[-1] + 1, step), dtype="int64"), "monthly"
    midnight = bool((times == times.normalize()).all())
    month_start, month_end = midnight and (times.day == 1).all(), midnight and times.is_month_end.all()
    if month_start or month_end:
        months = np.asarray(times.year * 12 + times.month, dtype="int64")
        step = int(np.diff(months).min())
        if step < 1 or ((months - months[0]) % step).any() or \
                (months[-1] - months[0]) // step >= 2 * len(months):
            return None
        freq = f"{step}{'MS' if month_start else 'ME'}"
        name = {1: "monthly", 3: "quarterly", 12: "yearly"}.get(step, f"{step}-month")
        return pd.date_range(times[0], times[-1], freq=freq), name
    stamps = times.to_numpy()
    step = np.diff(stamps).min()
    if step <= np.timedelta64(0) or ((stamps - stamps[0]) % step).astype("int64").any() or \
            (stamps[-1] - stamps[0]) // step >= 2 * len(stamps):
        return None
    day = np.timedelta64(1, "D")
    if step == day and midnight and not (times.day_of_week >= 5).any():
        return pd.bdate_range(times[0], times[-1]), "business-day"
    name = {day: "daily", 7 * day: "weekly", np.timedelta64(1, "h"): "hourly"}.get(
        step, f"{pd.tseries.frequencies.to_offset(pd.Timedelta(step)).freqstr}-step")
    return pd.date_range(times[0], times[-1], freq=pd.Timedelta(step)), name


def _interpolate(frame: pd.DataFrame, column: str, label: str, notes: list[str]) -> pd.DataFrame:
    """Fill empty or unreadable values (and added gap points) linearly from their neighbours.

    The first and last values have a neighbour on one side only: guessing them would be
    extrapolation, so they are refused with the line to fix.
    """
    missing = frame["value"].isna().to_numpy()
    if not missing.any():
        return frame
    for position, which in ((0, "first"), (-1, "last")):
        if missing[position]:
            where = _examples([frame["line"].iloc[position]], [frame["cell"].iloc[position]])
            raise DataError(f"{label}: the {which} value of column '{column}', at {where}, is "
                            "empty or unreadable and cannot be interpolated: it has a neighbour "
                            "on one side only. Fix that cell, or pass bad_values='drop' to drop "
                            "such rows.")
    own = missing & frame["line"].notna().to_numpy()
    if own.any():
        where = _examples(frame["line"].to_numpy()[own], frame["cell"].to_numpy()[own])
        notes.append(f"Filled {int(own.sum())} empty or unreadable value(s) in '{column}' by "
                     f"linear interpolation: {where}. Pass bad_values='drop' or 'error' to change "
                     "this.")
    frame = frame.copy()
    frame["value"] = frame["value"].interpolate(method="linear")
    return frame


def _freq(index: pd.Index) -> str | None:
    if not isinstance(index, pd.DatetimeIndex):
        return None
    with warnings.catch_warnings():  # pandas 3.1 announces that infer_freq will return offsets
        warnings.simplefilter("ignore", DeprecationWarning)
        return infer_freq(index)


def _time_text(value: object) -> str:
    """A time as a short text: 1984-12-31, 1949-01-01 10:00:00, or period 16."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        text = stamp.isoformat().replace("T", " ")
        return text[:-9] if text.endswith(" 00:00:00") else text
    return f"period {int(value)}"


def _examples(lines, cells, limit: int = 5) -> str:
    """``line 567 ('?0.2'), line 12 (empty), ...``: where the problem cells are."""
    shown = [f"line {int(line)} ({repr(cell) if cell else 'empty cell'})"
             for line, cell in itertools.islice(zip(lines, cells), limit)]
    more = len(lines) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
