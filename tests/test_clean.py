"""Cleaning: every bad input gets its exact report and nothing is written; messy valid input
cleans to the same cohorts as the canonical files; raw files are never modified.

References: the corpus under ``tests/inputs/`` (``make_corpus.py`` wrote it), each bad case
with the problems it must produce in ``expected.csv``.
"""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from microcalc.cohorts.clean import CleaningError, clean_cohorts, missing_table, participant_flow, read_processed
from microcalc.cohorts.contract import CONTRACT
from microcalc.core.paths import project_root
from microcalc.study import FLOW

INPUTS = Path(__file__).parent / "inputs"
BAD = sorted(p for p in (INPUTS / "bad").iterdir() if p.is_dir())
MESSY = sorted(p for p in (INPUTS / "messy").iterdir() if p.is_dir())


#: The synthetic ids of the corpus: none may appear in a report.
SYNTHETIC_ID = re.compile(r"SYN-(?:NACT|BONE)|SYN-Zo")


def test_the_corpus_has_at_least_forty_bad_inputs():
    assert len(BAD) >= 40


def test_the_corpus_readme_lists_every_case():
    readme = (INPUTS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([a-z0-9_A-Z]+)`", readme))
    assert {p.name for p in BAD + MESSY} <= listed


def _written(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("case", BAD, ids=[p.name for p in BAD])
def test_bad_input_gets_its_exact_report_and_nothing_is_written(case, tmp_path):
    expected = pd.read_csv(case / "expected.csv", dtype=str, keep_default_na=False)
    before = _digest(case)
    with pytest.raises(CleaningError) as err:
        clean_cohorts(case, tmp_path)
    got = err.value.problems.astype("string").fillna("")
    cols = ["file", "row", "column", "value"]
    assert got[cols].values.tolist() == expected[cols].values.tolist()
    for have, want in zip(got["problem"], expected["problem"], strict=True):
        assert have.startswith(want), (have, want)
    assert (got["allowed"] != "").all()  # every problem says what is allowed
    assert _written(tmp_path) == []
    assert _digest(case) == before  # the raw files are only read
    message = str(err.value)
    assert not SYNTHETIC_ID.search(message) and not got.apply(lambda c: c.str.contains(SYNTHETIC_ID)).any().any()
    assert str(project_root()) not in message and str(case) not in message  # no absolute path


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


def test_a_data_folder_that_does_not_exist_is_reported_without_its_absolute_path(tmp_path):
    with pytest.raises(CleaningError, match="the data folder does not exist") as err:
        clean_cohorts(tmp_path / "no-such-folder", tmp_path)
    assert _written(tmp_path) == []
    assert str(tmp_path) not in str(err.value) and "no-such-folder" in str(err.value)


@pytest.mark.parametrize("case", MESSY, ids=[p.name for p in MESSY])
def test_messy_but_valid_input_cleans_like_the_canonical_file(case, tmp_path):
    canonical = clean_cohorts(INPUTS / "messy/canonical", write=False)
    frames = clean_cohorts(case, tmp_path)
    for cohort, frame in frames.items():
        names = [c.name for c in CONTRACT[cohort]]
        pd.testing.assert_frame_equal(
            frame[names].reset_index(drop=True), canonical[cohort][names].reset_index(drop=True)
        )
        on_disk = read_processed(tmp_path, cohort)
        pd.testing.assert_frame_equal(on_disk[names], canonical[cohort][names].reset_index(drop=True))
        if "city" in frame:  # text beyond ASCII decoded, never mojibake
            assert (frame["city"] == "Zürich – €").all()
    if (case / "reading.csv").exists():
        expected = pd.read_csv(case / "reading.csv", dtype=str, keep_default_na=False)
        assert frames.reading[expected.columns].values.tolist() == expected.values.tolist()
        assert frames.reading["rows"].tolist() == [len(f) for f in frames.values()]


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


def test_cleaning_never_modifies_the_raw_files(root, tmp_path):
    before = _digest(root / "data/raw")
    clean_cohorts(root / "data/raw", tmp_path)
    with pytest.raises(CleaningError):
        clean_cohorts(INPUTS / "bad/age_text", tmp_path)
    assert _digest(root / "data/raw") == before


def test_bundled_data_pass_and_the_flow_accounts_for_every_patient(root, tmp_path):
    frames = clean_cohorts(root / "data/raw", tmp_path)
    flow = participant_flow(frames, FLOW)
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
    flow = participant_flow(frames, FLOW)
    uni = flow[(flow.cohort == "nact_cohort") & flow.step.str.startswith("microcalcification")].iloc[0]
    assert uni["excluded"] == 1 and "pCR missing" in uni["reason for exclusion"]


# ---------------------------------------------------------------- each class, beyond the corpus
def _site(
    folder: Path,
    nact: pd.DataFrame | None = None,
    sep: str = "\t",
    encoding: str = "utf-8",
    name: str = "nact_cohort.tsv",
) -> Path:
    """A data folder: the canonical bone file and ``nact`` (default: the canonical one) as given."""
    folder.mkdir(parents=True, exist_ok=True)
    src = INPUTS / "messy/canonical"
    (folder / "bone_cohort.csv").write_bytes((src / "bone_cohort.csv").read_bytes())
    if nact is None:
        nact = pd.read_csv(src / "nact_cohort.csv", dtype=str, keep_default_na=False)
    nact.to_csv(folder / name, sep=sep, index=False, encoding=encoding, lineterminator="\n")
    return folder


def _canonical_nact() -> pd.DataFrame:
    return pd.read_csv(INPUTS / "messy/canonical/nact_cohort.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("value", ["45", " 45", "45  ", "45.0", "45.00", "045", "  45.0 "])
def test_age_takes_a_whole_number_padded_or_with_a_trailing_dot_zero(value, tmp_path):
    nact = _canonical_nact()
    nact.loc[0, "age"] = value
    frames = clean_cohorts(_site(tmp_path, nact), write=False)
    assert frames["nact_cohort"]["age"].iloc[0] == 45


@pytest.mark.parametrize(
    "value",
    [
        "1e2",
        "4.5e1",
        "45e0",
        "+45",
        "45,0",
        "４５",
        "٤٥",
        "45.",
        "45.5",
        "4 5",
        "0x2d",
        "\u221245",
        "45.0.0",
        "inf",
        "nan",
        "45\u00a0",
        "\u200b45",
        "45\t",
    ],
)
def test_age_refuses_anything_else_showing_the_value(value, tmp_path):
    nact = _canonical_nact()
    nact.loc[0, "age"] = value
    with pytest.raises(CleaningError) as err:
        clean_cohorts(_site(tmp_path, nact), write=False)
    problems = err.value.problems
    assert problems[["row", "column", "value", "problem"]].values.tolist() == [[2, "age", value, "not a whole number"]]
    assert repr(value) in str(err.value)


INVISIBLE = [
    "\x00",
    "\t",
    "\n",
    "\x1f",
    "\x7f",
    "\x85",
    "\u00ad",
    "\u061c",
    "\u180e",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u202e",
    "\u2060",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\u00a0",
    "\u2007",
    "\u202f",
    "\u3000",
    "\u3164",
    "\u2800",
    "\ufe0f",
    "\U000e0041",
    "\ue000",
]


@pytest.mark.parametrize("at_end", [False, True], ids=["inside", "at_the_end"])
@pytest.mark.parametrize("char", INVISIBLE, ids=[f"U+{ord(c):04X}" for c in INVISIBLE])
def test_a_patient_id_with_an_invisible_character_is_refused_by_row_never_quoted(char, at_end, tmp_path):
    nact = _canonical_nact()
    nact.loc[2, "patient_id"] = "SYN-NACT-0003" + char if at_end else "SYN-" + char + "NACT-0003"
    with pytest.raises(CleaningError) as err:
        clean_cohorts(_site(tmp_path, nact), write=False)
    problems = err.value.problems
    assert problems[["column", "value"]].values.tolist() == [["patient_id", None]]
    assert problems["problem"].iloc[0].startswith(f"patient_id contains an invisible character U+{ord(char):04X}")
    assert "SYN-" not in str(err.value)


@pytest.mark.parametrize(
    "written",
    [("age", "AGE"), ("patient_id", "Patient ID"), ("pcr", " PCR "), ("molecular_subtype", "Molecular-Subtype")],
)
def test_two_columns_read_as_one_contract_column_are_refused_naming_both(written, tmp_path):
    nact = _canonical_nact()
    nact[written[1]] = nact[written[0]]
    with pytest.raises(CleaningError) as err:
        clean_cohorts(_site(tmp_path, nact), write=False)
    problems = err.value.problems
    assert problems[["row", "column"]].values.tolist() == [[1, written[0]]]
    assert f"'{written[0]}'" in problems["problem"].iloc[0] and f"'{written[1]}'" in problems["problem"].iloc[0]


CITY = "Zürich – €"


@pytest.mark.parametrize(
    "encoding, bom, label, city",
    [
        ("utf-8", b"", "UTF-8", CITY),
        ("utf-8", b"\xef\xbb\xbf", "UTF-8 with BOM", CITY),
        ("utf-16-le", b"\xff\xfe", "UTF-16 with BOM", CITY),
        ("utf-16-be", b"\xfe\xff", "UTF-16 with BOM", CITY),
        ("utf-32-le", b"\xff\xfe\x00\x00", "UTF-32 with BOM", CITY),
        ("cp1252", b"", "cp1252", CITY),
        ("latin-1", b"", "Latin-1", "Zürich, Genève"),
        ("ascii", b"", "ASCII", "Zurich"),
    ],
)
@pytest.mark.parametrize(
    "name, sep, delimiter", [("nact_cohort.txt", "\t", "tab"), ("nact_cohort.csv", ";", "semicolon")]
)
def test_each_encoding_is_detected_and_reported(encoding, bom, label, city, name, sep, delimiter, tmp_path):
    nact = _canonical_nact().assign(city=city)
    _site(tmp_path, nact, sep=sep, name=name)
    text = (tmp_path / name).read_text(encoding="utf-8")
    (tmp_path / name).write_bytes(bom + text.encode(encoding))
    frames = clean_cohorts(tmp_path, write=False)
    assert (frames["nact_cohort"]["city"] == city).all()
    assert frames.reading.iloc[0][["file", "encoding", "delimiter"]].tolist() == [name, label, delimiter]


@pytest.mark.parametrize("line", range(1, 10))
def test_utf8_with_one_foreign_byte_is_refused_naming_its_line_never_mojibake(line, tmp_path):
    nact = _canonical_nact().assign(city=CITY)
    _site(tmp_path, nact, sep=",", name="nact_cohort.csv")
    lines = (tmp_path / "nact_cohort.csv").read_bytes().split(b"\n")
    lines[line - 1] += b",\xe9" if line == 1 else b""
    if line > 1:
        lines[line - 1] = lines[line - 1].replace(CITY.encode("utf-8"), CITY.encode("cp1252"))
    (tmp_path / "nact_cohort.csv").write_bytes(b"\n".join(lines))
    with pytest.raises(CleaningError) as err:
        clean_cohorts(tmp_path, write=False)
    problems = err.value.problems
    assert problems["row"].tolist() == [line]
    assert problems["problem"].iloc[0] == f"bytes that are not UTF-8 in a file that is UTF-8 elsewhere (line {line})"
    assert "Ã" not in str(err.value)


def _formula_workbook(path: Path, saved: str | None) -> None:
    """The canonical NACT cohort as .xlsx with age in row 2 the formula =40+5, saved with ``saved`` as value."""
    import zipfile

    import openpyxl

    nact = _canonical_nact().astype(object)
    nact.loc[0, "age"] = "=40+5"
    wb = openpyxl.Workbook()
    for r in [list(nact.columns)] + nact.values.tolist():
        wb.active.append(r)
    wb.save(path)
    if saved is None:
        return
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        r"<f>40\+5</f>(<v\s*/>|<v></v>)?", f"<f>40+5</f><v>{saved}</v>", sheet
    ).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)


def test_a_formula_with_its_saved_value_is_read_by_that_value(tmp_path):
    _site(tmp_path)
    (tmp_path / "nact_cohort.tsv").unlink()
    _formula_workbook(tmp_path / "nact_cohort.xlsx", saved="45")
    frames = clean_cohorts(tmp_path, write=False)
    assert frames["nact_cohort"]["age"].iloc[0] == 45
    _formula_workbook(tmp_path / "nact_cohort.xlsx", saved=None)
    with pytest.raises(CleaningError, match=r"nact_cohort.xlsx, row 2, column 'age': value '=40\+5': a formula"):
        clean_cohorts(tmp_path, write=False)


def test_the_report_says_which_sheet_was_read_and_why():
    frames = clean_cohorts(INPUTS / "messy/excel_contract_sheet_among_data_sheets", write=False)
    row = frames.reading.iloc[0]
    assert row["sheet"] == "Data"
    assert row["note"] == "the only one of the sheets with data ('Read me', 'Data') holding the contract's columns"


def test_no_input_file_gives_anything_but_the_report(tmp_path):
    """Random bytes, truncated and corrupted workbooks: always a CleaningError, never a library traceback."""
    import random
    import zipfile

    rng = random.Random(20261130)
    xlsx = (INPUTS / "messy/excel/nact_cohort.xlsx").read_bytes()
    inputs = [("csv", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))) for _ in range(25)]
    inputs += [("xlsx", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))) for _ in range(5)]
    inputs += [("xlsx", xlsx[:cut]) for cut in range(0, len(xlsx), max(1, len(xlsx) // 15))]
    inputs += [("txt", b"\xff\xfe" + b"\x00\xd8" * 3), ("csv", b"a,b\n" + b"\x00" * 50), ("csv", b"\xef\xbb\xbf")]
    with zipfile.ZipFile(tmp_path / "broken.xlsx", "w") as z:  # a zip whose sheet is not XML
        with zipfile.ZipFile(INPUTS / "messy/excel/nact_cohort.xlsx") as src:
            for n in src.namelist():
                z.writestr(n, b"<not xml" if n.startswith("xl/worksheets/") else src.read(n))
    inputs.append(("xlsx", (tmp_path / "broken.xlsx").read_bytes()))
    for i, (ext, data) in enumerate(inputs):
        folder = _site(tmp_path / f"case{i}")
        (folder / "nact_cohort.tsv").unlink()
        (folder / f"nact_cohort.{ext}").write_bytes(data)
        with pytest.raises(CleaningError):
            clean_cohorts(folder, write=False)


def test_a_link_to_a_file_outside_the_data_folder_is_refused_and_never_quoted(tmp_path):
    target = Path("/etc/passwd")
    if not target.is_file():
        pytest.skip("no /etc/passwd here")
    folder = _site(tmp_path / "site")
    (folder / "nact_cohort.tsv").unlink()
    (folder / "nact_cohort.csv").symlink_to(target)
    with pytest.raises(CleaningError) as err:
        clean_cohorts(folder, write=False)
    first_line = target.read_text(errors="replace").splitlines()[0]
    assert first_line not in str(err.value) and "root" not in str(err.value)
    assert "a link to a file outside the data folder" in str(err.value)


def test_a_link_within_the_data_folder_is_followed(tmp_path):
    folder = _site(tmp_path / "site")
    (folder / "nact_cohort.tsv").rename(folder / "export_2026.tsv")
    (folder / "nact_cohort.tsv").symlink_to("export_2026.tsv")
    assert len(clean_cohorts(folder, write=False)["nact_cohort"]) == len(_canonical_nact())


def test_the_report_states_how_each_file_was_read():
    with pytest.raises(CleaningError) as err:
        clean_cohorts(INPUTS / "bad/utf16_txt_unknown_category", write=False)
    assert str(err.value).endswith(
        "How the files were read: nact_cohort.txt (UTF-16 with BOM, tab); bone_cohort.csv (UTF-16 with BOM, comma)."
    )
    assert err.value.reading["rows"].tolist() == [8, 8]


def test_a_file_with_thousands_of_problems_gets_a_short_message_and_the_whole_table(tmp_path):
    nact = pd.concat([_canonical_nact()] * 300, ignore_index=True)
    nact["patient_id"] = [f"P{i}" for i in range(len(nact))]
    nact["age"] = "1e2"
    with pytest.raises(CleaningError) as err:
        clean_cohorts(_site(tmp_path, nact), write=False)
    assert len(err.value.problems) == len(nact) == 2400
    message = str(err.value).splitlines()
    assert len(message) == 1 + 100 + 2
    assert message[-2] == (
        "  … and 2,300 more problems (every one is in the problems table, which the cleaning notebook shows)."
    )


def test_the_extension_is_matched_in_any_case_and_a_folder_is_not_a_file(tmp_path):
    folder = _site(tmp_path / "site")
    (folder / "nact_cohort.tsv").rename(folder / "nact_cohort.TSV")
    assert clean_cohorts(folder, write=False).reading["file"].tolist() == ["nact_cohort.TSV", "bone_cohort.csv"]
    (folder / "nact_cohort.TSV").unlink()
    (folder / "nact_cohort.csv").mkdir()
    with pytest.raises(CleaningError, match=r"nact_cohort.csv: not a readable file \(a folder"):
        clean_cohorts(folder, write=False)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("", "patient_id is empty"),
        ("   ", "patient_id is empty"),
        ("NA", "patient_id is empty (a missing-value word"),
        ("unknown", "patient_id is empty (a missing-value word"),
    ],
)
def test_an_empty_patient_id_is_reported_by_row(value, problem, tmp_path):
    nact = _canonical_nact()
    nact.loc[4, "patient_id"] = value
    with pytest.raises(CleaningError) as err:
        clean_cohorts(_site(tmp_path, nact), write=False)
    assert err.value.problems[["row", "column", "value"]].values.tolist() == [[6, "patient_id", None]]
    assert err.value.problems["problem"].iloc[0].startswith(problem)
