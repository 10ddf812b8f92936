"""Reading an ``.xlsx`` cohort file: the one sheet holding data, saved values of formulas
(part of :mod:`microcalc.cohorts.clean`).
"""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import pandas as pd

from microcalc.cohorts.contract import CONTRACT
from microcalc.cohorts.harmonise import _norm_header
from microcalc.cohorts.problems import Problem

__all__ = []


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
        return (
            None,
            "",
            [
                Problem(
                    name,
                    None,
                    None,
                    None,
                    f"the workbook holds no data (sheets: {listed})",
                    "one sheet with the header in row 1 and one row per patient",
                )
            ],
        )
    if len(with_data) == 1:
        return with_data[0], "", []
    wanted = {c.name for c in CONTRACT.get(cohort, ())}
    holding = [t for t in with_data if wanted and wanted <= {_norm_header(_cell_text(v)) for v in sheets[t][0]}]
    listed = ", ".join(f"'{t}'" for t in with_data)
    if len(holding) != 1:
        which = ", ".join(f"'{t}'" for t in holding) or "none"
        return (
            None,
            "",
            [
                Problem(
                    name,
                    None,
                    None,
                    None,
                    f"data on {len(with_data)} sheets: {listed}; holding the contract's columns: {which}",
                    "one sheet of data, or exactly one sheet holding the contract's columns",
                )
            ],
        )
    return holding[0], f"the only one of the sheets with data ({listed}) holding the contract's columns", []


def _formula_text(formula) -> str:
    """A formula as written (``=40+5``); array and data-table formulas by their text where they have one."""
    return formula if isinstance(formula, str) else getattr(formula, "text", None) or type(formula).__name__


def _read_excel(path: Path, name: str, cohort: str) -> tuple[pd.DataFrame, list[Problem], dict]:
    source = {"format": "Excel workbook"}
    with open(path, "rb") as fh:
        if fh.read(4) == b"\xd0\xcf\x11\xe0":
            return (
                pd.DataFrame(),
                [
                    Problem(
                        name,
                        None,
                        None,
                        None,
                        "cannot read the Excel file: it is an old-format .xls workbook or a password-protected file",
                        "an unprotected .xlsx workbook",
                    )
                ],
                source,
            )
    try:
        sheets = _workbook_sheets(path)
        formulas = _workbook_sheets(path, formulas=True)  # a formula without a saved value reads as empty
    except Exception as err:  # any corrupt workbook: say so, never a traceback
        reason = "not a zip archive" if isinstance(err, zipfile.BadZipFile) else type(err).__name__
        return (
            pd.DataFrame(),
            [
                Problem(
                    name,
                    None,
                    None,
                    None,
                    f"cannot read the Excel file ({reason})",
                    "an .xlsx workbook saved by Excel or LibreOffice",
                )
            ],
            source,
        )
    chosen, source["note"], problems = _choose_sheet(sheets, cohort, name)
    if chosen is None:
        return pd.DataFrame(), problems, source
    source["sheet"] = chosen
    rows = sheets[chosen]
    width = max(len(r) for r in rows)
    while width and all(len(r) < width or r[width - 1] in (None, "") for r in rows):
        width -= 1  # formatted but empty columns on the right
    if all(v is None for v in rows[0]):
        return (
            pd.DataFrame(),
            [Problem(name, 1, None, None, f"row 1 of sheet '{chosen}' is empty", "the header in row 1")],
            source,
        )
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
            problems.append(
                Problem(
                    name,
                    i,
                    head[j] or None,
                    shown,
                    "a formula without a saved value",
                    "values, or formulas saved with their results (open and save the file in Excel)",
                )
            )
        if not unsaved:  # a row with an unknown value is reported once, not read
            keep.append((i, [_cell_text(v) for v in r]))
    if not keep and not problems:
        problems.append(Problem(name, None, None, None, "the file has a header but no rows", "one row per patient"))
    frame = pd.DataFrame([r for _, r in keep], columns=head, index=[i for i, _ in keep], dtype=str)
    return frame, problems, source
