"""Step 2, text -> rows of cells: the delimiter sniffed, quotes checked, row and column limits."""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter

from lstm_lab.errors import DataError
from lstm_lab.limits import Limits, env_var

# Candidate delimiters; on a tie the earlier wins (a ';' or tab on every line is rarely text).
_DELIMITERS = ("\t", ";", "|", ",")
_ROW_SLACK = 100            # header, title and footer lines allowed beyond max_rows


def first_lines(text: str, n_lines: int) -> str:
    """The first ``n_lines`` lines of ``text`` (all of it when it is shorter)."""
    end = 0
    for _ in range(n_lines):
        end = text.find("\n", end) + 1
        if end == 0:
            return text
    return text[:end]


def split_rows(text: str, label: str, limits: Limits) -> tuple[list[list[str]], list[int], str]:
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
            raise DataError(too_many_rows(label, limits))
        if rows and max(map(len, rows)) > limits.max_columns:
            wide = next(i for i, row in enumerate(rows) if len(row) > limits.max_columns)
            raise DataError(_too_many_fields(label, wide + 1, len(rows[wide]), limits))
        return rows, list(range(1, len(rows) + 1)), delimiter
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if len(rows) >= limits.max_rows + _ROW_SLACK:
                raise DataError(too_many_rows(label, limits))
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


def too_many_rows(label: str, limits: Limits) -> str:
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
    head = "".join(itertools.islice(io.StringIO(first_lines(text, 100), newline=""), 100))
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
