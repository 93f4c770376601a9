"""User text made safe for Streamlit's markdown: one place for the escaping every page uses.

A file name, a column name, an imported run's notes or a link's value must show as typed: no
links, images, emphasis, colours, HTML or formulas, on one line.
"""

from __future__ import annotations

import re

_MARKDOWN_CHARS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")
_AUTOLINK = re.compile(r"(?i)(:/|www\.)")


def plain(text: object, limit: int | None = 80) -> str:
    """``text`` as markdown that shows it as it is: control characters and line breaks become
    spaces, it is cut to ``limit`` characters (None: not cut), every markdown character is
    escaped, and ``://`` / ``www.`` are broken up so that no address becomes a link."""
    text = "".join(c if c.isprintable() else " " for c in str(text))
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    text = _MARKDOWN_CHARS.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)


def code_span(text: object, limit: int = 80) -> str:
    """Text from a user as a markdown code span (no backticks or control characters inside)."""
    text = "".join(" " if c == "`" or not c.isprintable() else c for c in str(text))
    return f"`{text[:limit]}{'…' if len(text) > limit else ''}`"
