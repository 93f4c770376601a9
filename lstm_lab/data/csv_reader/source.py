"""Step 1, the file -> text: the size limit before reading, encodings, binary files refused."""

from __future__ import annotations

import codecs
import os
import re
from typing import BinaryIO

from lstm_lab.errors import DataError
from lstm_lab.limits import Limits, env_var

CsvSource = str | os.PathLike | bytes | BinaryIO

# C0/C1 control characters other than tab, LF and CR: text files do not contain them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SIGNATURES = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook (or another Office file)"),
    (b"\x1f\x8b", "a gzip archive"), (b"\x7fELF", "a program"), (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
)


def source_label(source: object, name: str | None) -> str:
    """How messages name the source: the caller's name, the file name, or "upload"."""
    if name:
        return name
    path = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", None)
    if isinstance(path, (str, os.PathLike)):
        return os.path.basename(os.fspath(path)) or os.fspath(path)
    return "upload"


def read_source(source: CsvSource, label: str, limits: Limits) -> bytes | str:
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


def decode(raw: bytes, label: str, notes: list[str]) -> str:
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
