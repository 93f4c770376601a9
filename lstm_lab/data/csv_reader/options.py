"""The cleaning options: their values, the dashboard's words for them, and the hint a message
gives to change one, worded for where the message is read.

A loader message tells the reader which option would change the outcome. Its text names the
dashboard's control ('turn on "Fill gaps by interpolation" under Cleaning options'), since that
is where most messages are read; ``code_words`` rewrites those hints as ``load_csv`` keyword
arguments (``fill_gaps=True``) for Python callers. The Data page draws its controls from the
labels here, so the two never drift apart.
"""

from __future__ import annotations

import re

BAD_VALUE_POLICIES = ("interpolate", "drop", "error")
DUPLICATE_POLICIES = ("error", "mean", "last")

CLEANING_OPTIONS = "Cleaning options"            # the Data page's expander
BAD_VALUES_LABEL = "Unreadable or empty cells"
DUPLICATES_LABEL = "Repeated times"
FILL_GAPS_LABEL = "Fill gaps by interpolation"
BAD_VALUE_LABELS = {"interpolate": "interpolate (warn)", "drop": "drop the rows",
                    "error": "stop and show them"}
DUPLICATE_LABELS = {"error": "refuse", "mean": "average them", "last": "keep the last"}

_OPTION_LABELS = {"bad_values": (BAD_VALUES_LABEL, BAD_VALUE_LABELS),
                  "duplicates": (DUPLICATES_LABEL, DUPLICATE_LABELS)}


def choose(option: str, *values: str) -> str:
    """The hint to pick one of ``values`` for ``option``, in the dashboard's words:
    ``choose("duplicates", "mean", "last")`` -> 'set "Repeated times" under Cleaning options to
    "average them" or "keep the last"'."""
    label, names = _OPTION_LABELS[option]
    shown = " or ".join(f'"{names[v]}"' for v in values)
    return f'set "{label}" under {CLEANING_OPTIONS} to {shown}'


def turn_on_fill_gaps() -> str:
    return f'turn on "{FILL_GAPS_LABEL}" under {CLEANING_OPTIONS}'


def code_words(message: str) -> str:
    """``message`` with its dashboard hints as ``load_csv`` keyword arguments, for Python
    callers: 'turn on "Fill gaps by interpolation" under Cleaning options' -> 'pass
    fill_gaps=True'; 'set "Repeated times" under Cleaning options to "average them"' -> 'pass
    duplicates="mean"'."""
    message = message.replace(turn_on_fill_gaps(), "pass fill_gaps=True")
    for option, (label, names) in _OPTION_LABELS.items():
        by_name = {name: value for value, name in names.items()}
        pattern = re.compile(rf'set "{re.escape(label)}" under {re.escape(CLEANING_OPTIONS)} to '
                             r'((?:"[^"]+"(?: or )?)+)')

        def keyword(match: re.Match, option=option, by_name=by_name) -> str:
            values = re.findall(r'"([^"]+)"', match.group(1))
            return f"pass {option}=" + " or ".join(f"'{by_name.get(v, v)}'" for v in values)

        message = pattern.sub(keyword, message)
    return message
