"""The cleaning page's tables for a clinician: cohorts and variables by name, file names only under "File".

References: the bundled synthetic cohorts (``data/raw``: 313 NACT and 1182 bone-metastasis patients, the
published cohort sizes; 57 NACT patients without an MRI necrosis assessment), the labels of
:mod:`microcalc.labels`, and constructed tables.
"""

import re

import pandas as pd
import pytest

from microcalc import labels
from microcalc.analysis.display import MISSING
from microcalc.cohorts import clean
from microcalc.cohorts.cleaning_page import flow_display, missing_display, reading_display
from microcalc.study import FLOW

CODE = re.compile(r"\b[a-z]+_[a-z_0-9]+\b")
MACHINE = {"True", "False", "nan", "NaN", "<NA>", "None", ""}


@pytest.fixture(scope="module")
def frames(root):
    return clean.clean_cohorts(root / "data" / "raw", root, write=False)


def _bad(frame: pd.DataFrame) -> list[str]:
    cells = [str(v) for v in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
    return [c for c in cells if c in MACHINE or CODE.search(c)]


def test_the_reading_table_names_the_cohorts_and_keeps_the_file_names_under_file(frames):
    shown = reading_display(frames.reading).frame
    assert list(shown.columns) == ["Cohort", "File", "Format", "Encoding", "Delimiter", "Sheet", "Rows", "Note"]
    assert shown["Cohort"].tolist() == ["NACT cohort", "Bone-metastasis cohort"]
    assert shown["File"].tolist() == ["nact_cohort.csv", "bone_cohort.csv"]  # verbatim, as on disk
    assert shown["Rows"].tolist() == ["313", "1182"]
    assert shown["Sheet"].tolist() == [MISSING, MISSING]  # text files have no sheet
    assert _bad(shown.drop(columns=["File"])) == []


def test_the_participant_flow_reads_in_words_with_the_counts_of_the_computed_flow(frames):
    flow = clean.participant_flow(frames, FLOW)
    shown = flow_display(flow).frame
    assert list(shown.columns) == ["Cohort", "Step", "Patients", "Not carried to this step", "Why"]
    assert shown["Patients"].tolist() == [str(n) for n in flow["n"]]
    assert shown["Not carried to this step"].tolist() == [str(n) for n in flow["excluded"]]
    nact = shown[shown["Cohort"] == "NACT cohort"].reset_index(drop=True)
    assert nact.loc[0, "Patients"] == "313" and nact.loc[2, "Patients"] == "256"
    assert nact.loc[2, "Why"] == "necrosis on MRI missing: 57"
    assert nact.loc[0, "Why"] == MISSING
    assert _bad(shown) == []


def test_the_missing_data_tables_label_every_variable(frames):
    for cohort, frame in frames.items():
        table = clean.missing_table(frame, cohort)
        shown = missing_display(table).frame
        assert list(shown.columns) == ["Variable", "Missing", "Missing (%)", "Note"]
        assert shown["Variable"].tolist() == [labels.ALL[v] for v in table["variable"]]
        assert shown["Missing"].tolist() == [str(n) for n in table["missing"]]
        assert _bad(shown) == []
    nact = missing_display(clean.missing_table(frames["nact_cohort"], "nact_cohort")).frame.set_index("Variable")
    assert nact.loc["Necrosis on MRI", ["Missing", "Missing (%)"]].tolist() == ["57", "18.2"]  # 57 / 313
    assert nact.loc["Patient identifier", "Note"] == MISSING


def test_a_constructed_workbook_reading_shows_its_sheet_and_note():
    reading = pd.DataFrame(
        {
            "cohort": ["nact_cohort"],
            "file": ["nact_cohort.xlsx"],
            "format": ["Excel workbook"],
            "encoding": [""],
            "delimiter": [""],
            "sheet": ["Patients"],
            "rows": pd.array([12], dtype="Int64"),
            "note": ["formulas read as their saved values"],
        }
    )
    shown = reading_display(reading).frame
    assert shown.loc[0].tolist() == [
        "NACT cohort",
        "nact_cohort.xlsx",
        "Excel workbook",
        MISSING,
        MISSING,
        "Patients",
        "12",
        "formulas read as their saved values",
    ]
