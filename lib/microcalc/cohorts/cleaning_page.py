"""The tables of the cleaning page (notebook 03), for reading: cohorts and variables by their clinical names.

Display only: each function takes a frame :mod:`microcalc.cohorts.clean` computed
(how each file was read, the participant flow, the missing data) and returns it
formatted by :func:`microcalc.analysis.display.show` with the labels of
:mod:`microcalc.labels`. File names stay as they are, in the column headed
"File": analysts need them to find the file.
"""

from __future__ import annotations

import pandas as pd

from microcalc import labels
from microcalc.analysis.display import Shown, show

__all__ = ["flow_display", "missing_display", "reading_display"]

#: Headers of the reading table (how each file was read).
READING_HEADERS = {
    "cohort": "Cohort",
    "format": "Format",
    "encoding": "Encoding",
    "delimiter": "Delimiter",
    "sheet": "Sheet",
    "rows": "Rows",
    "note": "Note",
}

#: Headers of the participant flow: patients counted at each step, and those not carried to it.
FLOW_HEADERS = {
    "cohort": "Cohort",
    "step": "Step",
    "n": "Patients",
    "excluded": "Not carried to this step",
    "reason for exclusion": "Why",
}

#: Headers of a missing-data table.
MISSING_HEADERS = {"variable": "Variable", "missing": "Missing", "% missing": "Missing (%)", "note": "Note"}


def reading_display(reading: pd.DataFrame) -> Shown:
    """How each file was read, with the cohort named and the file name kept verbatim under "File".

    Parameters
    ----------
    reading : ``clean_cohorts(...).reading`` (columns cohort, file, format, encoding, delimiter, sheet,
        rows, note).

    Returns
    -------
    Shown
        Cohort (its clinical name), File (as found on disk), then how it was read; an empty cell shows "–".
    """
    shown = show(reading.drop(columns=["file"]).replace("", None), labels.ALL, headers=READING_HEADERS, counts=["rows"])
    frame = shown.frame.copy()
    frame.insert(1, "File", reading["file"].astype(str).to_numpy())
    return Shown(frame, shown.caption)


def flow_display(flow: pd.DataFrame) -> Shown:
    """The participant flow (STROBE 13a-c) with the cohorts and the variables of each reason by name.

    Parameters
    ----------
    flow : :func:`microcalc.cohorts.clean.participant_flow`

    Returns
    -------
    Shown
        Cohort, Step, Patients, Not carried to this step, Why ("–" where nobody was left out).
    """
    return show(flow.replace("", None), labels.ALL, headers=FLOW_HEADERS)


def missing_display(missing: pd.DataFrame) -> Shown:
    """Missing values per variable (STROBE 14b), variables by their clinical labels.

    Parameters
    ----------
    missing : :func:`microcalc.cohorts.clean.missing_table`

    Returns
    -------
    Shown
        Variable, Missing, Missing (%) with one decimal, Note ("–" where the contract expects none).
    """
    return show(missing.replace("", None), labels.ALL, headers=MISSING_HEADERS)
