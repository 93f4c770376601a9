"""Step 3, rows -> a table of text cells: the header found, titles, footers and blank lines
dropped, the columns named; cells read as numbers on demand."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lstm_lab.data.csv_reader.patterns import NA_TOKENS, looks_like_value
from lstm_lab.data.csv_reader.rows import too_many_rows
from lstm_lab.errors import DataError
from lstm_lab.limits import Limits

_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_MAX_EXTRA_LINES = 20       # title lines above the header, footer lines below the data


@dataclass
class Table:
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
        return self.frame[column].str.lower().isin(NA_TOKENS)


def has_padding(text: str, delimiter: str) -> bool:
    """Whether any cell may start or end with blanks (so the cells need stripping).

    The reader already skips blanks after a delimiter; what remains is blanks at a line start,
    before a delimiter or a line end, and anything inside quotes. Substring tests: a few
    milliseconds on a million rows, where stripping every cell takes seconds.
    """
    if '"' in text or text[:1] in (" ", "\t") or text[-1:] in (" ", "\t"):
        return True
    return any(blank + edge in text or edge + blank in text and edge != delimiter
               for blank in (" ", "\t") for edge in (delimiter, "\n", "\r"))


def build_table(rows: list[list[str]], lines: list[int], delimiter: str, label: str,
                 limits: Limits, notes: list[str], padded: bool = True) -> Table:
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
    has_header = not all(cell and looks_like_value(cell) for cell in first)
    header = first if has_header else []
    body = _drop_footer(rows, lines, filled[filled > start] if has_header else filled[filled >= start],
                        delimiter, notes)
    if not body.size:
        names = ", ".join(repr(cell) for cell in first if cell) or "(empty)"
        raise DataError(f"{label} has a header ({names}) but no data rows. Add rows of data "
                        "below the header.")
    if body.size > limits.max_rows:
        raise DataError(too_many_rows(label, limits))
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
    return Table(frame, np.asarray(lines)[body], delimiter, frozenset(unnamed) - set(empty_extra))


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


def _skip_title_lines(rows: list[list[str]], lines: list[int], filled: np.ndarray,
                      notes: list[str]) -> int:
    """Index of the header (or first data) row, past title lines such as "Sales 2020".

    A title line has text in its first cell only, in a file whose rows mostly have 2+ fields.
    """
    width = Counter(len(rows[i]) for i in filled[:1000]).most_common(1)[0][0]
    k = 0
    while width > 1 and k < min(len(filled) - 2, _MAX_EXTRA_LINES):
        cells = _stripped(rows[filled[k]])
        if sum(map(bool, cells)) != 1 or not cells[0] or looks_like_value(cells[0]):
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
        if any(looks_like_value(cell) for cell in _stripped(rows[body[end - 1]])):
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


def examples(lines, cells, limit: int = 5) -> str:
    """``line 567 ('?0.2'), line 12 (empty), ...``: where the problem cells are."""
    shown = [f"line {int(line)} ({repr(cell) if cell else 'empty cell'})"
             for line, cell in itertools.islice(zip(lines, cells), limit)]
    more = len(lines) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
