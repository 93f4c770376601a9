"""What a number, a missing cell and a time look like: the vocabulary every step shares."""

from __future__ import annotations

import re

# Cells that mean "no value" (pandas' default NA strings, lower-cased, plus dashes and dots).
NA_TOKENS = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "#n/a", "#na", "<na>",
                        "missing", "-", "--", "."})
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?|[+-]?\d{1,3}(,\d{3})+(\.\d+)?")

# Time formats: name -> full-match pattern. Groups feed _parse_time. Checked on cell text.
TIME_PATTERNS = {
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


def looks_like_value(cell: str) -> bool:
    """A number or a time in a known format: tells data rows from headers, titles and footers."""
    return bool(_NUMBER.fullmatch(cell)) or any(p.fullmatch(cell) for p in TIME_PATTERNS.values())
