"""Finding and reading a cohort file: text files (encoding and delimiter detected, strictly) and
workbooks (part of :mod:`microcalc.cohorts.clean`; decoding in :mod:`microcalc.cohorts.decoding`).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from microcalc.cohorts.decoding import _DELIMITERS, _decode, _delimiter, _first_line
from microcalc.cohorts.problems import CleaningError, Problem
from microcalc.cohorts.workbook import _read_excel
from microcalc.core.paths import project_path, project_root

__all__ = ["find_cohort_file", "read_table"]


_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx")


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
