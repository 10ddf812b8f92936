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

The machinery sits in sibling modules, whose public names this module
re-exports: :mod:`~microcalc.cohorts.reading` (finding and decoding files)
with :mod:`~microcalc.cohorts.workbook` (``.xlsx``),
:mod:`~microcalc.cohorts.harmonise` (validating and typing values against
the contract) and :mod:`~microcalc.cohorts.problems` (what is reported).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from microcalc.cohorts.contract import CONTRACT, schema
from microcalc.cohorts.harmonise import harmonise
from microcalc.cohorts.problems import CleaningError, Cohorts, Problem, _reading_frame
from microcalc.cohorts.reading import find_cohort_file, read_table
from microcalc.core.paths import project_path

__all__ = [
    "Problem",
    "CleaningError",
    "find_cohort_file",
    "read_table",
    "harmonise",
    "clean_cohorts",
    "read_processed",
    "processed_path",
    "participant_flow",
    "participant_flow_by_group",
    "missing_table",
    "PROCESSED_PREFIX",
    "Cohorts",
]

#: The harmonised cohort ``<c>`` is written to ``<output_dir>/data/processed/<PROCESSED_PREFIX><c>.parquet``
#: (the number of the cleaning notebook, so that the file sorts with that notebook's other outputs).
PROCESSED_PREFIX = "03_"


# ------------------------------------------------------------------------- the step
def processed_path(output_dir: str | os.PathLike, cohort: str) -> Path:
    """``<output_dir>/data/processed/<03_cohort>.parquet``."""
    return project_path(output_dir) / "data" / "processed" / f"{PROCESSED_PREFIX}{cohort}.parquet"


def clean_cohorts(
    data_dir: str | os.PathLike = "data/raw", output_dir: str | os.PathLike = ".", write: bool = True
) -> dict[str, pd.DataFrame]:
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
    frames, problems, reading = {}, [], []
    for cohort in CONTRACT:
        try:
            path = find_cohort_file(data_dir, cohort)
        except CleaningError as err:
            problems += [
                Problem(**r) for r in err.problems.astype(object).where(err.problems.notna(), None).to_dict("records")
            ]
            continue
        raw, found, source = read_table(path, cohort)
        reading.append(
            {"cohort": cohort, "file": path.name, **source, "rows": None if raw.empty and found else len(raw)}
        )
        problems += found
        if found and (raw.empty or not len(raw.columns)):
            continue
        frame, found = harmonise(raw, cohort, path.name)
        problems += found
        frames[cohort] = frame
    reading = _reading_frame(reading)
    if problems:
        raise CleaningError(problems, reading)
    for cohort, frame in frames.items():  # the contract's schema: a guard behind the rules above
        schema(cohort).validate(frame, lazy=True)
    if write:
        _write_all({processed_path(output_dir, c): f for c, f in frames.items()})
    return Cohorts(frames, reading)


def _write_all(targets: dict[Path, pd.DataFrame]) -> None:
    """Write every frame to a temporary file first, then rename them all into place."""
    temps: dict[Path, Path] = {}
    try:
        for path, frame in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            temps[path] = Path(name)
            frame.reset_index(drop=True).to_parquet(name, index=False)
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
        rows.append(
            {
                "variable": col.name,
                "missing": miss,
                "% missing": round(100 * miss / len(frame), 1) if len(frame) else 0.0,
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def participant_flow(
    frames: dict[str, pd.DataFrame], models: Mapping[str, tuple[str, Sequence[str], str]]
) -> pd.DataFrame:
    """Patients at each step of each analysis, with the reason for every exclusion (STROBE 13a-c).

    ``models`` maps each cohort to its outcome column, the terms of its
    multivariable model (exposure first) and the outcome in words, e.g.
    :data:`microcalc.study.FLOW`; cohorts missing from ``frames`` are skipped.

    Steps: records read; with exposure and outcome known (univariable
    analyses); with every covariate of the multivariable model known
    (complete cases); for the bone cohort, with type and extent known among
    those with bone metastasis.
    """
    rows = []

    def step(cohort, label, mask, previous, reason):
        n = int(mask.sum())
        rows.append(
            {
                "cohort": cohort,
                "step": label,
                "n": n,
                "excluded": int(previous.sum()) - n,
                "reason for exclusion": reason if int(previous.sum()) - n else "",
            }
        )
        return mask

    for cohort, (outcome, terms, outcome_label) in models.items():
        if cohort not in frames:
            continue
        f = frames[cohort]
        every = pd.Series(True, index=f.index)
        m0 = step(cohort, "records in the file", every, every, "")
        m1 = step(
            cohort,
            f"{terms[0]} and {outcome_label} known (univariable analyses)",
            m0 & f[terms[0]].notna() & f[outcome].notna(),
            m0,
            f"{terms[0]} or {outcome_label} missing",
        )
        complete = m1.copy()
        reasons = []
        for term in terms[1:]:
            lacking = complete & f[term].isna()
            if lacking.any():
                reasons.append(f"{term} missing: {int(lacking.sum())}")
            complete &= f[term].notna()
        step(cohort, "every covariate known (multivariable model)", complete, m1, "; ".join(reasons))
        if cohort == "bone_cohort":
            with_bm = m1 & f["bone_metastasis"].fillna(False).astype(bool)
            step(cohort, "with bone metastasis", with_bm, m1, "no bone metastasis")
            step(
                cohort,
                "bone metastasis type and extent known",
                with_bm & f["bone_metastasis_type"].notna() & f["bone_metastasis_extent"].notna(),
                with_bm,
                "type or extent missing",
            )
    return pd.DataFrame(rows)


def participant_flow_by_group(
    frames: dict[str, pd.DataFrame], models: Mapping[str, tuple[str, Sequence[str], str]], groups: Mapping
) -> pd.DataFrame:
    """:func:`participant_flow` within each exposure group, with a ``group`` column first.

    ``groups`` maps a value of the exposure (the first term of each cohort's
    model in ``models``) to the group's name, e.g. ``{True: "with
    microcalcification", False: "without microcalcification"}``. Patients
    whose exposure is missing are in no group.
    """
    parts = {}
    for value, name in groups.items():
        subset = {c: f[f[models[c][1][0]].eq(value).fillna(False)] for c, f in frames.items() if c in models}
        parts[name] = participant_flow(subset, models)
    return pd.concat(parts, names=["group"]).reset_index(level=0).reset_index(drop=True)
