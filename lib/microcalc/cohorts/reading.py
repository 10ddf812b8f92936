"""Finding and reading a cohort file: text files (encoding and delimiter detected, strictly) and
workbooks (part of :mod:`microcalc.cohorts.clean`).
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import os
import re
from pathlib import Path

import pandas as pd

from microcalc.cohorts.harmonise import _norm_header
from microcalc.cohorts.problems import CleaningError, Problem
from microcalc.cohorts.workbook import _read_excel
from microcalc.core.paths import project_path, project_root

__all__ = ["find_cohort_file", "read_table"]


_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx")


_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


# ------------------------------------------------------------------------- reading
def _shown(folder: Path) -> str:
    """A folder as a report may show it: relative to the project root, else its name only."""
    try:
        return folder.resolve().relative_to(project_root()).as_posix()
    except ValueError:
        return folder.name


def find_cohort_file(data_dir: str | os.PathLike, cohort: str) -> Path:
    """The file of ``cohort`` in ``data_dir`` (``<cohort>.csv``, ``.tsv``, ``.txt`` or ``.xlsx``).

    The extension is matched in any case. A symbolic link is followed only
    when it points to a file inside the data folder.

    Raises
    ------
    CleaningError
        If the folder or the file does not exist, several candidates do, or
        the file is a link to somewhere outside the data folder.
    """
    folder = project_path(data_dir)
    if not folder.is_dir():
        raise CleaningError(
            [
                Problem(
                    _shown(folder),
                    None,
                    None,
                    None,
                    "the data folder does not exist",
                    "a folder holding nact_cohort and bone_cohort files",
                )
            ]
        )
    named = sorted(p for p in folder.iterdir() if p.stem.lower() == cohort and p.suffix)
    found = [p for p in named if p.suffix.lower() in _EXTENSIONS]
    names = ", ".join(f"{cohort}{e}" for e in _EXTENSIONS)
    if len(found) > 1:
        raise CleaningError(
            [
                Problem(
                    cohort,
                    None,
                    None,
                    None,
                    f"several files for {cohort}: {', '.join(p.name for p in found)}",
                    "exactly one",
                )
            ]
        )
    if not found:
        others = [p.name for p in named]
        hint = f" ({', '.join(others)} {'is' if len(others) == 1 else 'are'} not a format read here)" if others else ""
        raise CleaningError(
            [
                Problem(
                    cohort,
                    None,
                    None,
                    None,
                    "file not found" + hint,
                    f"one of {names} (save an .xls or .ods workbook as .xlsx)",
                )
            ]
        )
    path = found[0]
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(folder.resolve()):
            raise CleaningError(
                [
                    Problem(
                        path.name,
                        None,
                        None,
                        None,
                        "the file is a link to a file outside the data folder",
                        "the file itself, or a link to a file in the same folder",
                    )
                ]
            )
    if not path.is_file():
        raise CleaningError(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    None,
                    "not a readable file (a folder, a link to nothing, or a device)",
                    "a regular file",
                )
            ]
        )
    return path


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


_CSV_ERRORS = {
    "field larger than field limit": f"a field longer than {csv.field_size_limit():,} characters",
    "unexpected end of data": "a quote opened in this row is never closed",
    "expected after": "a closing quote followed by other text in the same field",
}


def _read_text(path: Path, name: str) -> tuple[pd.DataFrame, list[Problem], dict]:
    source = {"format": "delimited text"}
    text, source["encoding"], problems = _decode(path.read_bytes(), name)
    if problems:
        return pd.DataFrame(), problems, source
    if not text.strip(" \t\r\n"):
        return (
            pd.DataFrame(),
            [Problem(name, None, None, None, "the file is empty", "a header row and one row per patient")],
            source,
        )
    delimiter = _delimiter(_first_line(text))
    if delimiter is None:
        return (
            pd.DataFrame(),
            [
                Problem(
                    name,
                    1,
                    None,
                    None,
                    "no comma, semicolon or tab found in the header (the first line)",
                    "comma-, semicolon- or tab-separated columns",
                )
            ],
            source,
        )
    source["delimiter"] = _DELIMITERS[delimiter]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    head, keep, problems, row = None, [], [], 0
    while True:  # read on after a problem the reader recovers from
        try:
            for r in reader:
                row += 1
                if head is None:
                    head = r
                elif not "".join(r).strip():
                    continue  # blank line
                elif len(r) != len(head):
                    problems.append(
                        Problem(
                            name,
                            row,
                            None,
                            None,
                            f"{len(r)} fields where the header has {len(head)}",
                            f"{len(head)} {_DELIMITERS[delimiter]}-separated fields",
                        )
                    )
                else:
                    keep.append((row, r))
            break
        except csv.Error as err:
            row += 1
            reason = next((v for k, v in _CSV_ERRORS.items() if k in str(err)), "the line cannot be parsed")
            problems.append(
                Problem(
                    name,
                    row,
                    None,
                    None,
                    reason,
                    f'{_DELIMITERS[delimiter]}-separated fields, quoted with " where needed'
                    + (f", each at most {csv.field_size_limit():,} characters" if "field limit" in str(err) else ""),
                )
            )
            if "expected after" not in str(err):
                break  # the reader cannot find the next row reliably
    if head is not None and not keep and not problems:
        problems.append(Problem(name, None, None, None, "the file has a header but no rows", "one row per patient"))
    if head is None:
        return pd.DataFrame(), problems, source
    frame = pd.DataFrame([r for _, r in keep], columns=head, index=[i for i, _ in keep], dtype=str)
    return frame, problems, source


def read_table(path: str | os.PathLike, cohort: str | None = None) -> tuple[pd.DataFrame, list[Problem], dict]:
    """Read one cohort file as text, every cell a string, with the problems of its layout.

    Parameters
    ----------
    path : the file. ``.xlsx`` is read by openpyxl: the one sheet holding
        data (or, when several do, the only one whose header holds the
        contract's columns); formulas by their saved values. Anything else is
        delimited text: the encoding is detected (see :func:`_decode`) and
        the delimiter is the one of comma, semicolon and tab most frequent
        in the header.
    cohort : the contract whose columns pick the sheet (default: the file's name)

    Returns
    -------
    (DataFrame, problems, source). The DataFrame's index is the row number
    in the file (header = 1); it is empty when a problem prevents reading.
    ``source`` says how the file was read: format, encoding, delimiter,
    sheet, note.
    """
    path = Path(path)
    name = path.name
    cohort = cohort or path.stem.lower()
    try:
        if path.suffix.lower() == ".xlsx":
            return _read_excel(path, name, cohort)
        return _read_text(path, name)
    except OSError as err:
        return (
            pd.DataFrame(),
            [
                Problem(
                    name,
                    None,
                    None,
                    None,
                    f"cannot open the file ({err.strerror or type(err).__name__})",
                    "a readable file",
                )
            ],
            {},
        )
