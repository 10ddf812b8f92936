"""Cleaning: every bad input gets its exact report and nothing is written; messy valid input
cleans to the same cohorts as the canonical files; raw files are never modified.

References: the corpus under ``tests/inputs/`` (``make_corpus.py`` wrote it), each bad case
with the problems it must produce in ``expected.csv``.
"""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from microcalc.clean import (CleaningError, clean_cohorts, missing_table, participant_flow,
                             read_processed)
from microcalc.contract import CONTRACT

INPUTS = Path(__file__).parent / "inputs"
BAD = sorted(p for p in (INPUTS / "bad").iterdir() if p.is_dir())
MESSY = sorted(p for p in (INPUTS / "messy").iterdir() if p.is_dir())


def test_the_corpus_has_at_least_twenty_bad_inputs():
    assert len(BAD) >= 20


def _written(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("case", BAD, ids=[p.name for p in BAD])
def test_bad_input_gets_its_exact_report_and_nothing_is_written(case, tmp_path):
    expected = pd.read_csv(case / "expected.csv", dtype=str, keep_default_na=False)
    with pytest.raises(CleaningError) as err:
        clean_cohorts(case, tmp_path)
    got = err.value.problems.astype("string").fillna("")
    got["file"] = got["file"].map(lambda f: Path(f).name)
    cols = ["file", "row", "column", "value"]
    assert got[cols].values.tolist() == expected[cols].values.tolist()
    for have, want in zip(got["problem"], expected["problem"]):
        assert have.startswith(want), (have, want)
    assert _written(tmp_path) == []


def test_report_names_file_row_column_value_and_what_is_allowed():
    with pytest.raises(CleaningError) as err:
        clean_cohorts(INPUTS / "bad/unknown_category", "/nonexistent-output")
    message = str(err.value)
    assert "nact_cohort.csv, row 4, column 'molecular_subtype': value 'luminal_c'" in message
    assert "Allowed: luminal_a, luminal_b, her2_enriched, triple_negative" in message
    assert "nothing was written" in message


def test_every_problem_is_reported_not_only_the_first():
    with pytest.raises(CleaningError) as err:
        clean_cohorts(INPUTS / "bad/several_problems_both_files", write=False)
    assert len(err.value.problems) == 2


def test_a_data_folder_that_does_not_exist_is_reported(tmp_path):
    with pytest.raises(CleaningError, match="the data folder does not exist"):
        clean_cohorts(tmp_path / "no-such-folder", tmp_path)
    assert _written(tmp_path) == []


@pytest.mark.parametrize("case", MESSY, ids=[p.name for p in MESSY])
def test_messy_but_valid_input_cleans_like_the_canonical_file(case, tmp_path):
    canonical = clean_cohorts(INPUTS / "messy/canonical", write=False)
    frames = clean_cohorts(case, tmp_path)
    for cohort, frame in frames.items():
        names = [c.name for c in CONTRACT[cohort]]
        pd.testing.assert_frame_equal(frame[names].reset_index(drop=True),
                                      canonical[cohort][names].reset_index(drop=True))
        on_disk = read_processed(tmp_path, cohort)
        pd.testing.assert_frame_equal(on_disk[names], canonical[cohort][names].reset_index(drop=True))


def test_extra_columns_are_kept():
    frames = clean_cohorts(INPUTS / "messy/case_spaces_synonyms_bom_semicolon", write=False)
    assert (frames["nact_cohort"]["comment"] == "kept as is").all()


def test_ids_and_centres_with_leading_zeros_survive(tmp_path):
    src = INPUTS / "messy/canonical"
    for f in src.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    bone = pd.read_csv(tmp_path / "bone_cohort.csv", dtype=str, keep_default_na=False)
    bone["patient_id"] = [f"{i:05d}" for i in range(len(bone))]
    bone["center"] = "007"
    bone.to_csv(tmp_path / "bone_cohort.csv", index=False)
    frames = clean_cohorts(tmp_path, tmp_path / "out")
    out = read_processed(tmp_path / "out", "bone_cohort")
    assert out["patient_id"].iloc[0] == "00000" and (out["center"] == "007").all()
    assert frames["bone_cohort"]["center"].iloc[0] == "007"


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_cleaning_never_modifies_the_raw_files(root, tmp_path):
    before = _digest(root / "data/raw")
    clean_cohorts(root / "data/raw", tmp_path)
    with pytest.raises(CleaningError):
        clean_cohorts(INPUTS / "bad/age_text", tmp_path)
    assert _digest(root / "data/raw") == before


def test_bundled_data_pass_and_the_flow_accounts_for_every_patient(root, tmp_path):
    frames = clean_cohorts(root / "data/raw", tmp_path)
    flow = participant_flow(frames)
    for cohort, frame in frames.items():
        steps = flow[flow["cohort"] == cohort].reset_index(drop=True)
        assert steps.loc[0, "n"] == len(frame)
        # each step's n is the previous n minus its exclusions (first three steps are nested)
        for i in (1, 2):
            assert steps.loc[i, "n"] == steps.loc[i - 1, "n"] - steps.loc[i, "excluded"]
    nact_steps = flow[flow["cohort"] == "nact_cohort"]
    assert nact_steps["reason for exclusion"].str.contains("mri_necrosis missing").any()


def test_missing_values_are_counted_not_rejected(root, tmp_path):
    src = INPUTS / "messy/canonical"
    for f in src.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    nact = pd.read_csv(tmp_path / "nact_cohort.csv", dtype=str, keep_default_na=False)
    nact.loc[0, "age"] = "unknown"
    nact.loc[1, "pcr"] = ""
    nact.to_csv(tmp_path / "nact_cohort.csv", index=False)
    frames = clean_cohorts(tmp_path, write=False)
    miss = missing_table(frames["nact_cohort"], "nact_cohort").set_index("variable")
    assert miss.loc["age", "missing"] == 1 and miss.loc["pcr", "missing"] == 1
    flow = participant_flow(frames)
    uni = flow[(flow.cohort == "nact_cohort") & flow.step.str.startswith("microcalcification")].iloc[0]
    assert uni["excluded"] == 1 and "pCR missing" in uni["reason for exclusion"]
