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
``code_words(message)``
    A message's hints name the Data page's Cleaning options ('turn on "Fill gaps by
    interpolation" under Cleaning options'); this rewrites them as keyword arguments
    (``fill_gaps=True``) for Python callers. ``CsvLoad.preview()`` is the parsed rows' table.
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

The package, one step per module, in the order a file goes through them:
``source`` (size limit, bytes -> text), ``rows`` (delimiter, text -> rows), ``table`` (header,
titles, footers, column names), ``columns`` (which column is time, which the values), ``times``
(the time axis), ``cleaning`` (bad cells, order, repeats, gaps -> Series); ``patterns`` holds what
numbers and times look like, and ``loading`` the public functions re-exported here.
"""

from lstm_lab.data.csv_reader.columns import ROW_NUMBER, AmbiguousColumnError
from lstm_lab.data.csv_reader.loading import (
    BAD_VALUE_POLICIES,
    DUPLICATE_POLICIES,
    CsvColumns,
    CsvLoad,
    inspect_csv,
    load_csv,
    read_csv_series,
)
from lstm_lab.data.csv_reader.options import (
    BAD_VALUE_LABELS,
    BAD_VALUES_LABEL,
    CLEANING_OPTIONS,
    DUPLICATE_LABELS,
    DUPLICATES_LABEL,
    FILL_GAPS_LABEL,
    code_words,
)
from lstm_lab.data.csv_reader.source import CsvSource

__all__ = ["BAD_VALUES_LABEL", "BAD_VALUE_LABELS", "BAD_VALUE_POLICIES", "CLEANING_OPTIONS",
           "DUPLICATES_LABEL", "DUPLICATE_LABELS", "DUPLICATE_POLICIES", "FILL_GAPS_LABEL",
           "ROW_NUMBER", "AmbiguousColumnError", "CsvColumns", "CsvLoad", "CsvSource",
           "code_words", "inspect_csv", "load_csv", "read_csv_series"]
