"""Decoding a cohort text file: byte-order marks, encodings, undecodable lines, the delimiter
(part of :mod:`microcalc.cohorts.reading`).
"""

from __future__ import annotations

import bisect
import codecs
import csv
import re

from microcalc.cohorts.harmonise import _norm_header
from microcalc.cohorts.problems import Problem

__all__: list[str] = []


_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


_ENCODINGS_ALLOWED = "UTF-8 (with or without BOM), Windows-1252/Latin-1, or UTF-16 with BOM"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


_DECODED_NON_ASCII = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")  # a character that decoded, beyond ASCII


def _escaped(text: str) -> str:
    """Undecodable bytes (kept by ``surrogateescape``) written as ``<0xNN>``."""
    return _ESCAPED_BYTE.sub(lambda m: f"<0x{ord(m.group()) - 0xDC00:02X}>", text)


def _first_line(text: str) -> str:
    return _LINE_BREAK.split(text, maxsplit=1)[0]


def _delimiter(header: str) -> str | None:
    """The one of comma, semicolon and tab most frequent in the header (comma on a tie), if any."""
    delimiter = max(_DELIMITERS, key=lambda d: (header.count(d), d == ","))
    return delimiter if header.count(delimiter) else None


def _undecodable_lines(text: str, name: str, problem: str, allowed: str) -> list[Problem]:
    """One problem per line holding undecodable bytes (the first ten, then a count).

    The cell holding the bytes is located through the header (its column, and
    its value with the bytes written ``<0xNN>``); a ``patient_id`` cell is not quoted.
    """
    header = _first_line(text)
    delimiter = _delimiter(header) or ","
    columns = next(csv.reader([header], delimiter=delimiter), [])
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    lines = sorted({bisect.bisect_right(starts, m.start()) for m in _ESCAPED_BYTE.finditer(text)})
    problems = []
    for line in lines[:10]:
        stop = starts[line] if line < len(starts) else len(text)
        cells = next(csv.reader([_LINE_BREAK.sub("", text[starts[line - 1] : stop])], delimiter=delimiter), [])
        at = next((i for i, cell in enumerate(cells) if _ESCAPED_BYTE.search(cell)), None)
        column = columns[at] if at is not None and at < len(columns) else None
        if column is not None and _ESCAPED_BYTE.search(column):
            column = None  # the header itself is undecodable
        value = _escaped(cells[at]) if at is not None and column and _norm_header(column) != "patient_id" else None
        problems.append(Problem(name, line, column, value, f"{problem} (line {line})", allowed))
    if len(lines) > 10:
        problems.append(
            Problem(
                name, None, None, None, f"{problem}: {len(lines)} lines in all, the first ten listed above", allowed
            )
        )
    return problems


def _decode(data: bytes, name: str) -> tuple[str, str, list[Problem]]:
    """Decode a text file: (text, the encoding detected, problems).

    A byte-order mark decides (UTF-8, UTF-16, UTF-32). Without one, a file
    that decodes as UTF-8 is UTF-8. One that does not is Windows-1252
    (Latin-1's superset) only if it holds no valid UTF-8 multi-byte sequence;
    if it does, it is UTF-8 with some broken bytes and is refused, naming
    the lines, rather than decoded into mojibake.
    """
    for magic, what in (
        (b"PK\x03\x04", "a zip archive (an .xlsx workbook?), not text"),
        (b"\xd0\xcf\x11\xe0", "an old-format Excel (.xls) or other binary file, not text"),
    ):
        if data.startswith(magic):
            return (
                "",
                "",
                [
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        f"the file is {what}",
                        "delimited text, or an Excel workbook named .xlsx",
                    )
                ],
            )
    for bom, encoding, label in (
        (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 with BOM"),
        (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 with BOM"),
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 with BOM"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 with BOM"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), label, []
            except UnicodeDecodeError as err:
                if encoding == "utf-8-sig":
                    text = data.decode(encoding, "surrogateescape")
                    return (
                        "",
                        label,
                        _undecodable_lines(
                            text, name, "bytes that are not UTF-8 in a file marked as UTF-8", _ENCODINGS_ALLOWED
                        ),
                    )
                line = data[: err.start].decode(encoding, "replace").count("\n") + 1
                return (
                    "",
                    label,
                    [
                        Problem(
                            name,
                            line,
                            None,
                            None,
                            f"not valid {label.split()[0]} from line {line} on",
                            _ENCODINGS_ALLOWED,
                        )
                    ],
                )
    if data.count(0) > len(data) // 4:
        return (
            "",
            "",
            [
                Problem(
                    name,
                    None,
                    None,
                    None,
                    "the file holds NUL bytes throughout, as UTF-16 without a byte-order mark does",
                    _ENCODINGS_ALLOWED,
                )
            ],
        )
    try:
        return data.decode("utf-8"), "ASCII" if data.isascii() else "UTF-8", []
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    if _DECODED_NON_ASCII.search(text):
        return (
            "",
            "UTF-8",
            _undecodable_lines(
                text,
                name,
                "bytes that are not UTF-8 in a file that is UTF-8 elsewhere",
                "one encoding for the whole file: save it again as UTF-8",
            ),
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return (
            "",
            "",
            _undecodable_lines(
                data.decode("cp1252", "surrogateescape"),
                name,
                "bytes that are neither UTF-8 nor Windows-1252",
                _ENCODINGS_ALLOWED,
            ),
        )
    return text, "cp1252" if re.search(rb"[\x80-\x9f]", data) else "Latin-1", []
