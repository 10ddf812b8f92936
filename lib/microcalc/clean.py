"""Cleaning: a site's two cohort files into harmonised, typed cohorts, or one report of every problem.

:func:`clean_cohorts` reads ``nact_cohort`` and ``bone_cohort`` from a data
folder (CSV with comma, semicolon or tab; UTF-8 with or without BOM, or
Latin-1; or Excel ``.xlsx``), applies the contract's reading rules
(:mod:`microcalc.contract`), and either

* returns the harmonised cohorts and writes them, typed, to
  ``<output_dir>/data/processed/`` (all files or none), or
* raises :class:`CleaningError` listing **every** problem of both files:
  file, row number as the user sees it in the file (the header is row 1),
  column, value, what is wrong and what is allowed. Nothing is written.

Raw files are only read, never modified. Missing values are not errors: a
patient missing what an analysis needs is left out of that analysis, and
:func:`participant_flow` and :func:`missing_table` count them.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import CONTRACT, MISSING_TOKENS, NO_TOKENS, YES_TOKENS, Column, schema
from .models import BONE_TERMS, NACT_TERMS
from .paths import project_path

__all__ = [
    "Problem", "CleaningError", "find_cohort_file", "read_table", "harmonise", "clean_cohorts",
    "read_processed", "processed_path", "participant_flow", "missing_table", "PROCESSED_NAMES",
]

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


class CleaningError(ValueError):
    """The input data cannot be cleaned; ``problems`` lists every reason (a DataFrame).

    The message is a readable report of all problems; nothing was written.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = pd.DataFrame([asdict(p) for p in problems],
                                     columns=["file", "row", "column", "value", "problem", "allowed"])
        self.problems["row"] = self.problems["row"].astype("Int64")
        lines = [f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the input data; "
                 "nothing was written. Fix these and run again:"]
        for p in problems:
            where = p.file + (f", row {p.row}" if p.row is not None else "")
            where += f", column '{p.column}'" if p.column else ""
            value = f" value {p.value!r}:" if p.value is not None else ""
            allowed = f" Allowed: {p.allowed}." if p.allowed else ""
            lines.append(f"  - {where}:{value} {p.problem}.{allowed}")
        super().__init__("\n".join(lines))


# ------------------------------------------------------------------------- reading
def find_cohort_file(data_dir: str | os.PathLike, cohort: str) -> Path:
    """The file of ``cohort`` in ``data_dir`` (``<cohort>.csv``, ``.tsv``, ``.txt`` or ``.xlsx``).

    Raises
    ------
    CleaningError
        If the folder or the file does not exist, or several candidates do.
    """
    folder = project_path(data_dir)
    if not folder.is_dir():
        raise CleaningError([Problem(str(data_dir), None, None, None, "the data folder does not exist",
                                     "a folder holding nact_cohort and bone_cohort files")])
    found = [folder / f"{cohort}{ext}" for ext in _EXTENSIONS if (folder / f"{cohort}{ext}").is_file()]
    if len(found) == 1:
        return found[0]
    names = ", ".join(f"{cohort}{e}" for e in _EXTENSIONS)
    if not found:
        raise CleaningError([Problem(str(folder / cohort), None, None, None, "file not found",
                                     f"one of {names}")])
    raise CleaningError([Problem(str(folder / cohort), None, None, None,
                                 f"several files for {cohort}: {', '.join(p.name for p in found)}",
                                 "exactly one")])


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "latin-1"):  # latin-1 decodes anything: the fallback
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("unreachable")


def read_table(path: str | os.PathLike) -> tuple[pd.DataFrame, list[Problem]]:
    """Read one cohort file as text, every cell a string, with the problems of its layout.

    Parameters
    ----------
    path : the file (``.xlsx`` read by openpyxl; anything else as delimited text; the
        delimiter is the one of comma, semicolon and tab most frequent in the header)

    Returns
    -------
    (DataFrame, problems). The DataFrame's index is the row number in the
    file (header = 1); it is empty when a problem prevents reading.
    """
    path = Path(path)
    name = path.name
    if path.suffix.lower() == ".xlsx":
        try:
            raw = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as err:  # a corrupt workbook: say so, do not crash
            return pd.DataFrame(), [Problem(name, None, None, None, f"cannot read the Excel file ({err})",
                                            "an .xlsx workbook whose first sheet holds the table")]
        raw.index = np.arange(2, len(raw) + 2)
        if raw.empty:
            return raw, [Problem(name, None, None, None, "the file has a header but no rows",
                                 "one row per patient")]
        return raw.astype(str), []
    text = _decode(path.read_bytes())
    if not text.strip():
        return pd.DataFrame(), [Problem(name, None, None, None, "the file is empty",
                                        "a header row and one row per patient")]
    header = text.splitlines()[0]
    delimiter = max(_DELIMITERS, key=lambda d: (header.count(d), d == ","))
    if header.count(delimiter) == 0:
        return pd.DataFrame(), [Problem(name, 1, None, header[:60],
                                        "no comma, semicolon or tab found in the header",
                                        "comma-, semicolon- or tab-separated columns")]
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    head, body = rows[0], rows[1:]
    problems = []
    keep = []
    for i, r in enumerate(body, start=2):
        if not any(cell.strip() for cell in r):
            continue  # blank line
        if len(r) != len(head):
            problems.append(Problem(name, i, None, None,
                                    f"{len(r)} fields where the header has {len(head)}",
                                    f"{len(head)} {_DELIMITERS[delimiter]}-separated fields"))
            continue
        keep.append((i, r))
    if not keep and not problems:
        return pd.DataFrame(columns=head), [Problem(name, None, None, None,
                                                    "the file has a header but no rows",
                                                    "one row per patient")]
    frame = pd.DataFrame([r for _, r in keep], columns=head, index=[i for i, _ in keep], dtype=str)
    return frame, problems


# ------------------------------------------------------------------------- rules
def _norm_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def _norm_token(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def _is_missing(s: pd.Series) -> pd.Series:
    return s.str.strip().str.lower().isin(MISSING_TOKENS)


def _harmonise_column(col: Column, s: pd.Series, name: str) -> tuple[pd.Series, list[Problem]]:
    problems: list[Problem] = []
    missing = _is_missing(s)
    stripped = s.str.strip()
    if col.kind in ("id", "text"):
        if col.kind == "id":
            for row in s.index[missing | (stripped == "")]:
                problems.append(Problem(name, int(row), col.name, s[row], "patient_id is empty",
                                        "a unique, non-empty study code"))
            dup = stripped.duplicated(keep=False) & ~missing
            first = {}
            for row in s.index[dup]:
                first.setdefault(stripped[row], row)
            for row in s.index[dup & stripped.duplicated(keep="first")]:
                problems.append(Problem(name, int(row), col.name, s[row],
                                        f"duplicate patient_id (first in row {first[stripped[row]]})",
                                        "each patient_id once"))
        return stripped.mask(missing).astype("string"), problems
    if col.kind == "integer":
        num = pd.to_numeric(stripped.mask(missing), errors="coerce")
        bad_type = ~missing & (num.isna() | (num % 1 != 0))
        lo, hi = col.allowed
        for row in s.index[bad_type]:
            problems.append(Problem(name, int(row), col.name, s[row], "not a whole number",
                                    f"a whole number of years, {lo}-{hi}"))
        out_range = ~missing & ~bad_type & ((num < lo) | (num > hi))
        for row in s.index[out_range]:
            problems.append(Problem(name, int(row), col.name, s[row], f"outside {lo}-{hi}",
                                    f"a whole number of years, {lo}-{hi}"))
        return num.where(~bad_type).round().astype("Int64"), problems
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
    extra columns as text; the index keeps the file row numbers.
    """
    headers = {_norm_header(c): c for c in raw.columns}
    problems: list[Problem] = []
    out = {}
    for col in CONTRACT[cohort]:
        if col.name not in headers:
            problems.append(Problem(name, 1, col.name, None, "required column missing",
                                    "the columns " + ", ".join(c.name for c in CONTRACT[cohort])))
            continue
        series, found = _harmonise_column(col, raw[headers[col.name]].astype(str), name)
        out[col.name] = series
        problems += found
    frame = pd.DataFrame(out, index=raw.index)
    if cohort == "bone_cohort" and {"bone_metastasis", "bone_metastasis_type",
                                    "bone_metastasis_extent"} <= set(frame):
        without = frame["bone_metastasis"].eq(False).fillna(False).astype(bool)
        for field in ("bone_metastasis_type", "bone_metastasis_extent"):
            for row in frame.index[without & frame[field].notna()]:
                problems.append(Problem(name, int(row), field, raw.loc[row, headers[field]],
                                        f"{field} given for a patient without bone metastasis",
                                        "empty when bone_metastasis is no"))
    contract_names = {c.name for c in CONTRACT[cohort]}
    for norm, original in headers.items():
        if norm not in contract_names:
            frame[original] = raw[original].astype("string")
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
    dict cohort -> harmonised DataFrame (index: file row numbers)

    Raises
    ------
    CleaningError
        Listing every problem of both files; nothing is written then.
    """
    frames, problems = {}, []
    for cohort in CONTRACT:
        try:
            path = find_cohort_file(data_dir, cohort)
        except CleaningError as err:
            problems += [Problem(**r) for r in err.problems.replace({pd.NA: None}).to_dict("records")]
            continue
        raw, found = read_table(path)
        problems += found
        if raw.empty and found:
            continue
        frame, found = harmonise(raw, cohort, path.name)
        problems += found
        frames[cohort] = frame
    if problems:
        raise CleaningError(problems)
    for cohort, frame in frames.items():  # the contract's schema: a guard behind the rules above
        schema(cohort).validate(frame, lazy=True)
    if write:
        _write_all({processed_path(output_dir, c): f for c, f in frames.items()})
    return frames


def _write_all(targets: dict[Path, pd.DataFrame]) -> None:
    """Write every frame to a temporary file first, then rename them all into place."""
    temps = {}
    try:
        for path, frame in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            temps[path] = Path(tmp)
            frame.reset_index(drop=True).to_parquet(tmp, index=False)
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
