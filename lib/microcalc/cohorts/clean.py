"""Cleaning: a site's two cohort files into harmonised, typed cohorts, or one report of every problem.

:func:`clean_cohorts` reads ``nact_cohort`` and ``bone_cohort`` from a data
folder, applies the contract's reading rules (:mod:`microcalc.cohorts.contract`), and either

* returns the harmonised cohorts (:class:`Cohorts`, with ``reading``: the
  format, encoding, delimiter and sheet detected for each file) and writes
  them, typed, to ``<output_dir>/data/processed/`` (all files or none), or
* raises :class:`CleaningError` listing **every** problem of both files:
  file, row number as the user sees it in the file (the header is row 1),
  column, value, what is wrong and what is allowed. Nothing is written.

Reading is strict where leniency could be silently wrong:

* text files (``.csv``, ``.tsv``, ``.txt``) with comma, semicolon or tab, in
  UTF-8 (with or without BOM), Windows-1252/Latin-1 or UTF-16 with BOM (Excel's
  "Unicode Text"); a UTF-8 file with a few foreign bytes is refused, naming
  the lines, never decoded into mojibake;
* ``.xlsx`` workbooks: the one sheet holding data, or the only one of several
  holding the contract's columns; a formula without a saved value is refused;
* two columns read as one contract column (``age`` and ``AGE``), or two
  extra columns of one name, are refused naming both;
* an age is digits, optionally padded with spaces or followed by ``.0``;
* a ``patient_id`` with an invisible character (control, zero-width, non-ASCII
  space) is refused, and no problem ever quotes a ``patient_id``;
* a file that is a link to outside the data folder is not read.

A report quotes at most the offending cell, never a line of a file, and no
library traceback reaches the user for any input file. Raw files are only
read, never modified. Missing values are not errors: a patient missing what
an analysis needs is left out of that analysis, and :func:`participant_flow`
and :func:`missing_table` count them.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import datetime
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.cohorts.contract import CONTRACT, MISSING_TOKENS, NO_TOKENS, YES_TOKENS, Column, schema
from microcalc.analysis.models import BONE_TERMS, NACT_TERMS
from microcalc.core.paths import project_path, project_root

__all__ = [
    "Problem", "CleaningError", "find_cohort_file", "read_table", "harmonise", "clean_cohorts",
    "read_processed", "processed_path", "participant_flow", "missing_table", "PROCESSED_NAMES", "Cohorts",
]

#: Problems listed one per line in a CleaningError's message (all of them are in its ``problems``).
_MESSAGE_LIMIT = 100
#: Columns of the reading report (how each file was read).
READING_COLUMNS = ["cohort", "file", "format", "encoding", "delimiter", "sheet", "rows", "note"]
#: File names of the harmonised cohorts under ``<output_dir>/data/processed/``.
PROCESSED_NAMES = {"nact_cohort": "03_nact_cohort.parquet", "bone_cohort": "03_bone_cohort.parquet"}
_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx")
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    problem: str
    allowed: str = ""


def _reading_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=READING_COLUMNS)
    text = [c for c in READING_COLUMNS if c != "rows"]
    frame[text] = frame[text].astype(object).where(frame[text].notna(), "").astype(str)
    frame["rows"] = frame["rows"].astype("Int64")
    return frame


def _how_read(r) -> str:
    """``UTF-8, comma`` or ``sheet 'Data'``: one file's row of the reading report in words."""
    said = [v for v in (r.encoding, r.delimiter, r.sheet and f"sheet {r.sheet!r}") if v]
    return ", ".join(said) or "not read"


class Cohorts(dict):
    """The harmonised cohorts (cohort name -> DataFrame), and ``reading``: how each file was read.

    ``reading`` is a DataFrame with one row per file: cohort, file, format,
    encoding and delimiter (text files), sheet (workbooks), rows read, note.
    """

    def __init__(self, frames: dict[str, pd.DataFrame], reading: pd.DataFrame):
        super().__init__(frames)
        self.reading = reading


class CleaningError(ValueError):
    """The input data cannot be cleaned; ``problems`` lists every reason (a DataFrame).

    The message is a readable report of all problems, then how each file was
    read (``reading``, as far as it got); nothing was written. No problem
    quotes a ``patient_id`` or a line of a file: at most the offending cell.
    """

    def __init__(self, problems: list[Problem], reading: pd.DataFrame | None = None):
        self.reading = _reading_frame([]) if reading is None else reading
        self.problems = pd.DataFrame([asdict(p) for p in problems],
                                     columns=["file", "row", "column", "value", "problem", "allowed"])
        self.problems["row"] = self.problems["row"].astype("Int64")
        lines = [f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the input data; "
                 "nothing was written. Fix these and run again:"]
        for p in problems[:_MESSAGE_LIMIT]:
            where = p.file + (f", row {p.row}" if p.row is not None else "")
            where += f", column '{p.column}'" if p.column else ""
            value = f" value {p.value!r}:" if p.value is not None else ""
            allowed = f" Allowed: {p.allowed}." if p.allowed else ""
            lines.append(f"  - {where}:{value} {p.problem}.{allowed}")
        if len(problems) > _MESSAGE_LIMIT:
            lines.append(f"  … and {len(problems) - _MESSAGE_LIMIT:,} more problems (every one is in the "
                         "problems table, which the cleaning notebook shows).")
        if len(self.reading):
            lines.append("How the files were read: "
                         + "; ".join(f"{r.file} ({_how_read(r)})" for r in self.reading.itertuples()) + ".")
        super().__init__("\n".join(lines))


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
        raise CleaningError([Problem(_shown(folder), None, None, None, "the data folder does not exist",
                                     "a folder holding nact_cohort and bone_cohort files")])
    named = sorted(p for p in folder.iterdir() if p.stem.lower() == cohort and p.suffix)
    found = [p for p in named if p.suffix.lower() in _EXTENSIONS]
    names = ", ".join(f"{cohort}{e}" for e in _EXTENSIONS)
    if len(found) > 1:
        raise CleaningError([Problem(cohort, None, None, None,
                                     f"several files for {cohort}: {', '.join(p.name for p in found)}",
                                     "exactly one")])
    if not found:
        others = [p.name for p in named]
        hint = f" ({', '.join(others)} {'is' if len(others) == 1 else 'are'} not a format read here)" if others else ""
        raise CleaningError([Problem(cohort, None, None, None, "file not found" + hint,
                                     f"one of {names} (save an .xls or .ods workbook as .xlsx)")])
    path = found[0]
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(folder.resolve()):
            raise CleaningError([Problem(path.name, None, None, None,
                                         "the file is a link to a file outside the data folder",
                                         "the file itself, or a link to a file in the same folder")])
    if not path.is_file():
        raise CleaningError([Problem(path.name, None, None, None, "not a readable file (a folder, "
                                     "a link to nothing, or a device)", "a regular file")])
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
        cells = next(csv.reader([_LINE_BREAK.sub("", text[starts[line - 1]:stop])], delimiter=delimiter), [])
        at = next((i for i, cell in enumerate(cells) if _ESCAPED_BYTE.search(cell)), None)
        column = columns[at] if at is not None and at < len(columns) else None
        if column is not None and _ESCAPED_BYTE.search(column):
            column = None  # the header itself is undecodable
        value = _escaped(cells[at]) if at is not None and column and _norm_header(column) != "patient_id" else None
        problems.append(Problem(name, line, column, value, f"{problem} (line {line})", allowed))
    if len(lines) > 10:
        problems.append(Problem(name, None, None, None, f"{problem}: {len(lines)} lines in all, "
                                f"the first ten listed above", allowed))
    return problems


def _decode(data: bytes, name: str) -> tuple[str, str, list[Problem]]:
    """Decode a text file: (text, the encoding detected, problems).

    A byte-order mark decides (UTF-8, UTF-16, UTF-32). Without one, a file
    that decodes as UTF-8 is UTF-8. One that does not is Windows-1252
    (Latin-1's superset) only if it holds no valid UTF-8 multi-byte sequence;
    if it does, it is UTF-8 with some broken bytes and is refused, naming
    the lines, rather than decoded into mojibake.
    """
    for magic, what in ((b"PK\x03\x04", "a zip archive (an .xlsx workbook?), not text"),
                        (b"\xd0\xcf\x11\xe0", "an old-format Excel (.xls) or other binary file, not text")):
        if data.startswith(magic):
            return "", "", [Problem(name, None, None, None, f"the file is {what}",
                                    "delimited text, or an Excel workbook named .xlsx")]
    for bom, encoding, label in ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32 with BOM"),
                                 (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 with BOM"),
                                 (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
                                 (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 with BOM"),
                                 (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 with BOM")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), label, []
            except UnicodeDecodeError as err:
                if encoding == "utf-8-sig":
                    text = data.decode(encoding, "surrogateescape")
                    return "", label, _undecodable_lines(text, name, "bytes that are not UTF-8 in a file "
                                                         "marked as UTF-8", _ENCODINGS_ALLOWED)
                line = data[:err.start].decode(encoding, "replace").count("\n") + 1
                return "", label, [Problem(name, line, None, None,
                                           f"not valid {label.split()[0]} from line {line} on", _ENCODINGS_ALLOWED)]
    if data.count(0) > len(data) // 4:
        return "", "", [Problem(name, None, None, None, "the file holds NUL bytes throughout, as UTF-16 "
                                "without a byte-order mark does", _ENCODINGS_ALLOWED)]
    try:
        return data.decode("utf-8"), "ASCII" if data.isascii() else "UTF-8", []
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "surrogateescape")
    if _DECODED_NON_ASCII.search(text):
        return "", "UTF-8", _undecodable_lines(
            text, name, "bytes that are not UTF-8 in a file that is UTF-8 elsewhere",
            "one encoding for the whole file: save it again as UTF-8")
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return "", "", _undecodable_lines(data.decode("cp1252", "surrogateescape"), name,
                                          "bytes that are neither UTF-8 nor Windows-1252", _ENCODINGS_ALLOWED)
    return text, "cp1252" if re.search(rb"[\x80-\x9f]", data) else "Latin-1", []


_CSV_ERRORS = {"field larger than field limit": f"a field longer than {csv.field_size_limit():,} characters",
               "unexpected end of data": "a quote opened in this row is never closed",
               "expected after": "a closing quote followed by other text in the same field"}


def _read_text(path: Path, name: str) -> tuple[pd.DataFrame, list[Problem], dict]:
    source = {"format": "delimited text"}
    text, source["encoding"], problems = _decode(path.read_bytes(), name)
    if problems:
        return pd.DataFrame(), problems, source
    if not text.strip(" \t\r\n"):
        return pd.DataFrame(), [Problem(name, None, None, None, "the file is empty",
                                        "a header row and one row per patient")], source
    delimiter = _delimiter(_first_line(text))
    if delimiter is None:
        return pd.DataFrame(), [Problem(name, 1, None, None,
                                        "no comma, semicolon or tab found in the header (the first line)",
                                        "comma-, semicolon- or tab-separated columns")], source
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
                    problems.append(Problem(name, row, None, None,
                                            f"{len(r)} fields where the header has {len(head)}",
                                            f"{len(head)} {_DELIMITERS[delimiter]}-separated fields"))
                else:
                    keep.append((row, r))
            break
        except csv.Error as err:
            row += 1
            reason = next((v for k, v in _CSV_ERRORS.items() if k in str(err)), "the line cannot be parsed")
            problems.append(Problem(name, row, None, None, reason,
                                    f"{_DELIMITERS[delimiter]}-separated fields, quoted with \" where needed"
                                    + (f", each at most {csv.field_size_limit():,} characters"
                                       if "field limit" in str(err) else "")))
            if "expected after" not in str(err):
                break  # the reader cannot find the next row reliably
    if head is not None and not keep and not problems:
        problems.append(Problem(name, None, None, None, "the file has a header but no rows",
                                "one row per patient"))
    if head is None:
        return pd.DataFrame(), problems, source
    frame = pd.DataFrame([r for _, r in keep], columns=head, index=[i for i, _ in keep], dtype=str)
    return frame, problems, source


def _cell_text(value) -> str:
    """An Excel cell's value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)  # 45.0 stays '45.0' (read as 45), 4.5e+21 stays visibly not a whole number
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _sheet_rows(sheet) -> list[list]:
    sheet.reset_dimensions()  # some writers record wrong dimensions
    return [list(r) for r in sheet.iter_rows(min_row=1, values_only=True)]


def _has_data(rows: list[list]) -> bool:
    return any(v is not None and str(v).strip() for r in rows for v in r)


def _workbook_sheets(path: Path, formulas: bool = False) -> dict[str, list[list]]:
    """Every worksheet's rows of cell values (``formulas``: formulas as written, else their saved values)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=not formulas)
    try:
        return {ws.title: _sheet_rows(ws) for ws in book.worksheets}
    finally:
        book.close()


def _choose_sheet(sheets: dict[str, list[list]], cohort: str, name: str) -> tuple[str | None, str, list[Problem]]:
    """The sheet to read: (title, note, problems). The one holding data, or the only one of
    several whose first row holds the contract's columns."""
    with_data = [title for title, rows in sheets.items() if _has_data(rows)]
    if not with_data:
        listed = ", ".join(f"'{t}'" for t in sheets)
        return None, "", [Problem(name, None, None, None, f"the workbook holds no data (sheets: {listed})",
                                  "one sheet with the header in row 1 and one row per patient")]
    if len(with_data) == 1:
        return with_data[0], "", []
    wanted = {c.name for c in CONTRACT.get(cohort, ())}
    holding = [t for t in with_data if wanted and wanted <= {_norm_header(_cell_text(v)) for v in sheets[t][0]}]
    listed = ", ".join(f"'{t}'" for t in with_data)
    if len(holding) != 1:
        which = ", ".join(f"'{t}'" for t in holding) or "none"
        return None, "", [Problem(name, None, None, None, f"data on {len(with_data)} sheets: {listed}; "
                                  f"holding the contract's columns: {which}",
                                  "one sheet of data, or exactly one sheet holding the contract's columns")]
    return holding[0], f"the only one of the sheets with data ({listed}) holding the contract's columns", []


def _formula_text(formula) -> str:
    """A formula as written (``=40+5``); array and data-table formulas by their text where they have one."""
    return formula if isinstance(formula, str) else getattr(formula, "text", None) or type(formula).__name__


def _read_excel(path: Path, name: str, cohort: str) -> tuple[pd.DataFrame, list[Problem], dict]:
    source = {"format": "Excel workbook"}
    with open(path, "rb") as fh:
        if fh.read(4) == b"\xd0\xcf\x11\xe0":
            return pd.DataFrame(), [Problem(name, None, None, None, "cannot read the Excel file: it is an "
                                            "old-format .xls workbook or a password-protected file",
                                            "an unprotected .xlsx workbook")], source
    try:
        sheets = _workbook_sheets(path)
        formulas = _workbook_sheets(path, formulas=True)  # a formula without a saved value reads as empty
    except Exception as err:  # any corrupt workbook: say so, never a traceback
        reason = "not a zip archive" if isinstance(err, zipfile.BadZipFile) else type(err).__name__
        return pd.DataFrame(), [Problem(name, None, None, None, f"cannot read the Excel file ({reason})",
                                        "an .xlsx workbook saved by Excel or LibreOffice")], source
    chosen, source["note"], problems = _choose_sheet(sheets, cohort, name)
    if chosen is None:
        return pd.DataFrame(), problems, source
    source["sheet"] = chosen
    rows = sheets[chosen]
    width = max(len(r) for r in rows)
    while width and all(len(r) < width or r[width - 1] in (None, "") for r in rows):
        width -= 1  # formatted but empty columns on the right
    if all(v is None for v in rows[0]):
        return pd.DataFrame(), [Problem(name, 1, None, None, f"row 1 of sheet '{chosen}' is empty",
                                        "the header in row 1")], source
    head = [_cell_text(v) for v in (rows[0] + [None] * width)[:width]]
    written = formulas.get(chosen, [])
    keep = []
    for i, r in enumerate(rows[1:], start=2):
        r = (r + [None] * width)[:width]
        if not any(v is not None and str(v).strip() for v in r):
            continue
        f = (written[i - 1] if i - 1 < len(written) else []) + [None] * width
        unsaved = [j for j in range(width) if r[j] is None and f[j] not in (None, "")]
        for j in unsaved:
            shown = None if _norm_header(head[j]) == "patient_id" else _formula_text(f[j])
            problems.append(Problem(name, i, head[j] or None, shown, "a formula without a saved value",
                                    "values, or formulas saved with their results "
                                    "(open and save the file in Excel)"))
        if not unsaved:  # a row with an unknown value is reported once, not read
            keep.append((i, [_cell_text(v) for v in r]))
    if not keep and not problems:
        problems.append(Problem(name, None, None, None, "the file has a header but no rows",
                                "one row per patient"))
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
        return pd.DataFrame(), [Problem(name, None, None, None,
                                        f"cannot open the file ({err.strerror or type(err).__name__})",
                                        "a readable file")], {}


# ------------------------------------------------------------------------- rules
def _norm_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def _norm_token(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def _is_missing(s: pd.Series) -> pd.Series:
    return s.str.strip().str.lower().isin(MISSING_TOKENS)


#: Unicode categories of characters that do not show: controls (NUL, tab, ...), format characters
#: (zero-width space and joiners, BOM, direction marks), separators, private-use, unassigned, surrogates.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
#: Characters of other categories that render as blank (fillers, blank braille, variation selectors).
_INVISIBLE_OTHERS = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10)}
_CATEGORY_NAMES = {"Cc": "a control character", "Cf": "a format character", "Zs": "a space",
                   "Zl": "a line separator", "Zp": "a paragraph separator", "Co": "a private-use character",
                   "Cn": "an unassigned code point", "Cs": "a surrogate"}


def _first_invisible(text: str) -> str | None:
    """The first character of ``text`` that does not show (the ASCII space aside), if any."""
    for ch in text:
        if ch != " " and (unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ord(ch) in _INVISIBLE_OTHERS):
            return ch
    return None


def _describe_char(ch: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``; a control character by its category."""
    name = unicodedata.name(ch, "") or _CATEGORY_NAMES.get(unicodedata.category(ch), "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def _invisible_problems(s: pd.Series, column: str, name: str, quote: bool) -> tuple[np.ndarray, list[Problem]]:
    """Rows whose text holds an invisible character: (mask, problems); ids are never quoted."""
    suspect = s[~s.str.fullmatch(r"[\x20-\x7e]*")]  # printable ASCII needs no closer look
    found = suspect.map(_first_invisible).dropna()
    problems = [Problem(name, int(row), column, s[row] if quote else None,
                        f"{column} contains an invisible character {_describe_char(ch)}",
                        "visible characters only (no control, zero-width or non-ASCII space characters)")
                for row, ch in zip(found.index, found, strict=True)]
    return s.index.isin(found.index), problems


def _id_problems(s: pd.Series, col: Column, name: str) -> tuple[pd.Series, list[Problem]]:
    """The id column: empty, invisible characters, duplicates; reported by row, never quoting an id."""
    stripped = s.str.strip(" ")
    invisible, problems = _invisible_problems(stripped, col.name, name, quote=False)
    missing = _is_missing(s) & ~invisible
    for row in s.index[missing]:
        how = "" if stripped[row] == "" else " (a missing-value word: NA, N/A or unknown)"
        problems.append(Problem(name, int(row), col.name, None, "patient_id is empty" + how,
                                "a unique, non-empty study code"))
    key = stripped.mask(missing | invisible)
    composed = key.notna() & ~key.fillna("").str.isascii()  # é and e + ◌́ are one id
    key[composed] = key[composed].map(lambda v: unicodedata.normalize("NFC", v))
    dup = key.duplicated(keep=False) & key.notna()
    first: dict[str, int] = {}
    for row in s.index[dup]:
        if first.setdefault(key[row], row) != row:
            problems.append(Problem(name, int(row), col.name, None,
                                    f"duplicate patient_id: same id as row {first[key[row]]}",
                                    "each patient_id once"))
    return stripped.mask(missing | invisible).astype("string"), problems


#: An age as the contract takes it: digits, optionally padded with spaces or followed by ".0"
#: (as Excel writes a whole number); ASCII digits only, no sign but "-" (read, then out of range).
_WHOLE_NUMBER = r" *(-?[0-9]+)(?:\.0+)? *"


def _harmonise_column(col: Column, s: pd.Series, name: str) -> tuple[pd.Series, list[Problem]]:
    if col.kind == "id":
        return _id_problems(s, col, name)
    problems: list[Problem] = []
    missing = _is_missing(s)
    stripped = s.str.strip()
    if col.kind == "text":
        invisible, problems = _invisible_problems(s, col.name, name, quote=True)
        return stripped.mask(missing | invisible).astype("string"), problems
    if col.kind == "integer":
        digits = s.str.extract(f"^{_WHOLE_NUMBER}$", expand=False)
        num = pd.to_numeric(digits, errors="coerce")
        bad_type = ~missing & num.isna()
        lo, hi = col.allowed
        allowed = f"a whole number of years, {lo}-{hi} (digits, optionally followed by .0)"
        for row in s.index[bad_type]:
            problems.append(Problem(name, int(row), col.name, s[row], "not a whole number", allowed))
        out_range = ~missing & ~bad_type & ((num < lo) | (num > hi))
        for row in s.index[out_range]:
            problems.append(Problem(name, int(row), col.name, s[row], f"outside {lo}-{hi}", allowed))
        return num.where(~(bad_type | out_range)).astype("Int64"), problems
    if col.kind == "yesno":
        token = stripped.str.lower()
        yes, no = token.isin(YES_TOKENS), token.isin(NO_TOKENS)
        for row in s.index[~(yes | no | missing)]:
            problems.append(Problem(name, int(row), col.name, s[row], "not a yes/no value",
                                    "yes/no, y/n, true/false, 1/0, or empty for missing"))
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[yes] = True
        out[no] = False
        return out, problems
    # category
    lookup = {_norm_token(level): level for level in col.allowed}
    token = s.map({value: _norm_token(value) for value in s.unique()})  # normalise each distinct text once
    known = token.isin(lookup)
    for row in s.index[~(known | missing)]:
        problems.append(Problem(name, int(row), col.name, s[row], "not an allowed category",
                                ", ".join(col.allowed) + " (any case; spaces or hyphens for _)"))
    values = token.map(lookup).where(known)
    return pd.Series(pd.Categorical(values, categories=list(col.allowed)), index=s.index), problems


def _header_problems(raw: pd.DataFrame, cohort: str, name: str) -> tuple[dict[str, int], dict[str, int],
                                                                            list[Problem]]:
    """Map the header to column positions: (contract name -> position, extra name -> position, problems).

    Refused: two columns read as the same contract column (``age`` and
    ``AGE``), two extra columns of the same name, a column without a name
    that holds values, a name with an invisible character. A column without
    a name and without values (a trailing delimiter) is ignored.
    """
    contract = [c.name for c in CONTRACT[cohort]]
    positions: dict[str, list[int]] = {}
    problems = []
    for i, header in enumerate(raw.columns):
        header = str(header)
        if not header.strip():
            if raw.iloc[:, i].str.strip().ne("").any():
                problems.append(Problem(name, 1, None, None, f"column {i + 1} has no name but holds values",
                                        "a name in the header for every column"))
            continue
        ch = _first_invisible(header)
        if ch is not None:
            problems.append(Problem(name, 1, None, None, f"the name of column {i + 1} contains an invisible "
                                    f"character {_describe_char(ch)}", "column names of visible characters"))
            continue
        norm = _norm_header(header)
        positions.setdefault(norm if norm in contract else f"extra:{header}", []).append(i)
    columns = list(map(str, raw.columns))
    for key, where in positions.items():
        if len(where) < 2:
            continue
        written = " and ".join(f"'{columns[i]}' (column {i + 1})" for i in where)
        if key.startswith("extra:"):
            problems.append(Problem(name, 1, key[6:], None, f"{len(where)} columns named {written}",
                                    "distinct column names"))
        else:
            problems.append(Problem(name, 1, key, None, f"{len(where)} columns read as {key}: {written}",
                                    "each column of the contract once"))
    ok = {k: v[0] for k, v in positions.items() if len(v) == 1}
    return ({k: i for k, i in ok.items() if not k.startswith("extra:")},
            {k[6:]: i for k, i in ok.items() if k.startswith("extra:")}, problems)


def harmonise(raw: pd.DataFrame, cohort: str, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Apply the contract's reading rules to a text table; return it typed, with every problem.

    Parameters
    ----------
    raw : DataFrame of strings indexed by file row number (from :func:`read_table`)
    cohort : ``"nact_cohort"`` or ``"bone_cohort"``
    name : the file name used in problem reports

    Returns
    -------
    (DataFrame, problems): the contract's columns first, typed, then any
    extra columns as text; the index keeps the file row numbers. A problem
    with ``patient_id`` never quotes the id.
    """
    contract_at, extra_at, problems = _header_problems(raw, cohort, name)
    out = {}
    for col in CONTRACT[cohort]:
        if col.name not in contract_at:
            if not any(p.column == col.name for p in problems):  # not already reported as duplicated
                problems.append(Problem(name, 1, col.name, None, "required column missing",
                                        "the columns " + ", ".join(c.name for c in CONTRACT[cohort])))
            continue
        series, found = _harmonise_column(col, raw.iloc[:, contract_at[col.name]].astype(str), name)
        out[col.name] = series
        problems += found
    frame = pd.DataFrame(out, index=raw.index)
    if cohort == "bone_cohort" and {"bone_metastasis", "bone_metastasis_type",
                                    "bone_metastasis_extent"} <= set(frame):
        without = frame["bone_metastasis"].eq(False).fillna(False).astype(bool)
        for field in ("bone_metastasis_type", "bone_metastasis_extent"):
            for row in frame.index[without & frame[field].notna()]:
                problems.append(Problem(name, int(row), field, raw.iloc[:, contract_at[field]][row],
                                        f"{field} given for a patient without bone metastasis",
                                        "empty when bone_metastasis is no"))
    for original, i in extra_at.items():
        frame[original] = raw.iloc[:, i].astype("string")
    return frame, problems


# ------------------------------------------------------------------------- the step
def processed_path(output_dir: str | os.PathLike, cohort: str) -> Path:
    """``<output_dir>/data/processed/<03_cohort>.parquet``."""
    return project_path(output_dir) / "data" / "processed" / PROCESSED_NAMES[cohort]


def clean_cohorts(data_dir: str | os.PathLike = "data/raw", output_dir: str | os.PathLike = ".",
                  write: bool = True) -> dict[str, pd.DataFrame]:
    """Read, validate and harmonise both cohort files; write them typed, all or nothing.

    Parameters
    ----------
    data_dir : folder holding ``nact_cohort`` and ``bone_cohort`` (relative to the project root)
    output_dir : root of the outputs; the cohorts go to ``<output_dir>/data/processed/``
    write : set False to validate only

    Returns
    -------
    :class:`Cohorts`: dict cohort -> harmonised DataFrame (index: file row
    numbers), with ``reading``, how each file was read (encoding, delimiter, sheet).

    Raises
    ------
    CleaningError
        Listing every problem of both files; nothing is written then.
    """
    frames, problems, read = {}, [], []
    for cohort in CONTRACT:
        try:
            path = find_cohort_file(data_dir, cohort)
        except CleaningError as err:
            problems += [Problem(*r) for r in err.problems.astype(object).where(err.problems.notna(), None)
                         .itertuples(index=False)]  # the columns are Problem's fields, in order
            continue
        raw, found, source = read_table(path, cohort)
        read.append({"cohort": cohort, "file": path.name, **source,
                     "rows": None if raw.empty and found else len(raw)})
        problems += found
        if found and (raw.empty or not len(raw.columns)):
            continue
        frame, found = harmonise(raw, cohort, path.name)
        problems += found
        frames[cohort] = frame
    reading = _reading_frame(read)
    if problems:
        raise CleaningError(problems, reading)
    for cohort, frame in frames.items():  # the contract's schema: a guard behind the rules above
        schema(cohort).validate(frame, lazy=True)
    if write:
        _write_all({processed_path(output_dir, c): f for c, f in frames.items()})
    return Cohorts(frames, reading)


def _write_all(targets: dict[Path, pd.DataFrame]) -> None:
    """Write every frame to a temporary file first, then rename them all into place."""
    temps = {}
    try:
        for path, frame in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            temps[path] = Path(tmp_name)
            frame.reset_index(drop=True).to_parquet(tmp_name, index=False)
        for path, tmp in temps.items():
            os.replace(tmp, path)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def read_processed(output_dir: str | os.PathLike, cohort: str) -> pd.DataFrame:
    """A harmonised cohort written by :func:`clean_cohorts`, with its types."""
    return pd.read_parquet(processed_path(output_dir, cohort))


# ------------------------------------------------------------------------- reporting
def missing_table(frame: pd.DataFrame, cohort: str) -> pd.DataFrame:
    """Missing values per contract variable (STROBE item 14b): n and % missing, and what missing means."""
    rows = []
    for col in CONTRACT[cohort]:
        if col.name not in frame:
            continue
        miss = int(frame[col.name].isna().sum())
        if col.nullable and cohort == "bone_cohort":
            expected = int((~frame["bone_metastasis"].fillna(False).astype(bool)).sum())
            note = f"expected for the {expected} patients without bone metastasis"
        elif col.nullable:
            note = f"missing means: {col.missing_means}"
        else:
            note = ""
        rows.append({"variable": col.name, "missing": miss,
                     "% missing": round(100 * miss / len(frame), 1) if len(frame) else 0.0,
                     "note": note})
    return pd.DataFrame(rows)


def participant_flow(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Patients at each step of each analysis, with the reason for every exclusion (STROBE 13a-c).

    Steps: records read; with exposure and outcome known (univariable
    analyses); with every covariate of the multivariable model known
    (complete cases); for the bone cohort, with type and extent known among
    those with bone metastasis.
    """
    rows = []

    def step(cohort, label, mask, previous, reason):
        n = int(mask.sum())
        rows.append({"cohort": cohort, "step": label, "n": n, "excluded": int(previous.sum()) - n,
                     "reason for exclusion": reason if int(previous.sum()) - n else ""})
        return mask

    specs = (("nact_cohort", "pcr", NACT_TERMS, "pCR"),
             ("bone_cohort", "bone_metastasis", BONE_TERMS, "bone metastasis"))
    for cohort, outcome, terms, outcome_label in specs:
        if cohort not in frames:
            continue
        f = frames[cohort]
        every = pd.Series(True, index=f.index)
        m0 = step(cohort, "records in the file", every, every, "")
        m1 = step(cohort, f"microcalcification and {outcome_label} known (univariable analyses)",
                  m0 & f["microcalcification"].notna() & f[outcome].notna(), m0,
                  f"microcalcification or {outcome_label} missing")
        complete = m1.copy()
        reasons = []
        for term in terms:
            if term == "microcalcification":
                continue
            lacking = complete & f[term].isna()
            if lacking.any():
                reasons.append(f"{term} missing: {int(lacking.sum())}")
            complete &= f[term].notna()
        step(cohort, "every covariate known (multivariable model)", complete, m1, "; ".join(reasons))
        if cohort == "bone_cohort":
            with_bm = m1 & f["bone_metastasis"].fillna(False).astype(bool)
            step(cohort, "with bone metastasis", with_bm, m1, "no bone metastasis")
            step(cohort, "bone metastasis type and extent known", with_bm
                 & f["bone_metastasis_type"].notna() & f["bone_metastasis_extent"].notna(), with_bm,
                 "type or extent missing")
    return pd.DataFrame(rows)
