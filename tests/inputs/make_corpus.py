"""Write the corpus of bad and messy-but-valid inputs for ``tests/test_clean.py``.

Run from the project root: ``.venv/bin/python tests/inputs/make_corpus.py`` (add
``--site-b`` to write the smaller messy site of ``tests/inputs/sites.yaml`` instead).
Every case is a folder holding a ``nact_cohort`` and a ``bone_cohort`` file
made from the first rows of the bundled (synthetic) cohorts, with exactly one
defect in a bad case; ``expected.csv`` lists the problem(s) the cleaning must
report (file, row, column, value, problem). Messy cases hold valid data in
unusual encodings and must clean to the same cohorts as the canonical files.
"""

import csv
import shutil
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
N_ROWS = 8

nact = pd.read_csv(ROOT / "data/raw/nact_cohort.csv", dtype=str, keep_default_na=False).head(N_ROWS)
bone = pd.read_csv(ROOT / "data/raw/bone_cohort.csv", dtype=str, keep_default_na=False)
# keep some patients with bone metastasis among the rows
bone = pd.concat([bone[bone.bone_metastasis == "yes"].head(3), bone[bone.bone_metastasis == "no"].head(5)])
bone = bone.reset_index(drop=True)
no_bm = bone.index[bone.bone_metastasis == "no"][0]  # its file row is no_bm + 2


def case(name, nact_df=None, bone_df=None, expected=(), nact_text=None, bone_text=None,
         nact_name="nact_cohort.csv", bone_name="bone_cohort.csv", encoding="utf-8", sep=","):
    folder = HERE / ("bad" if expected else "messy") / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for fname, df, text in ((nact_name, nact if nact_df is None else nact_df, nact_text),
                            (bone_name, bone if bone_df is None else bone_df, bone_text)):
        if fname is None:
            continue
        path = folder / fname
        if text is not None:
            path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
        elif fname.endswith(".xlsx"):
            df.to_excel(path, index=False)
        else:
            df.to_csv(path, index=False, sep=sep, encoding=encoding, lineterminator="\n")
    if expected:
        with open(folder / "expected.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["file", "row", "column", "value", "problem"])
            w.writerows(expected)


def edit(df, row, column, value):
    out = df.copy()
    out.loc[row, column] = value
    return out


def main():
    for sub in ("bad", "messy"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
    n_id = nact.loc[1, "patient_id"]
    # --- bad inputs, one defect each --------------------------------------------------
    case("empty_file", nact_text="", expected=[("nact_cohort.csv", "", "", "", "the file is empty")])
    case("header_only", bone_text=",".join(bone.columns) + "\n",
         expected=[("bone_cohort.csv", "", "", "", "the file has a header but no rows")])
    case("pipe_delimiter", nact_text="\n".join("|".join(r) for r in [list(nact.columns)] + nact.values.tolist()) + "\n",
         expected=[("nact_cohort.csv", 1, "", "|".join(nact.columns)[:60],
                    "no comma, semicolon or tab found in the header")])
    case("unknown_category", nact_df=edit(nact, 2, "molecular_subtype", "luminal_c"),
         expected=[("nact_cohort.csv", 4, "molecular_subtype", "luminal_c", "not an allowed category")])
    case("age_out_of_range", nact_df=edit(nact, 0, "age", "130"),
         expected=[("nact_cohort.csv", 2, "age", "130", "outside 18-100")])
    case("age_negative", bone_df=edit(bone, 4, "age", "-5"),
         expected=[("bone_cohort.csv", 6, "age", "-5", "outside 18-100")])
    case("age_text", nact_df=edit(nact, 3, "age", "forty"),
         expected=[("nact_cohort.csv", 5, "age", "forty", "not a whole number")])
    case("age_decimal", bone_df=edit(bone, 1, "age", "45.5"),
         expected=[("bone_cohort.csv", 3, "age", "45.5", "not a whole number")])
    case("duplicate_id", nact_df=edit(nact, 4, "patient_id", n_id),
         expected=[("nact_cohort.csv", 6, "patient_id", n_id, "duplicate patient_id (first in row 3)")])
    case("empty_id", bone_df=edit(bone, 2, "patient_id", ""),
         expected=[("bone_cohort.csv", 4, "patient_id", "", "patient_id is empty")])
    case("missing_column", nact_df=nact.drop(columns="pcr"),
         expected=[("nact_cohort.csv", 1, "pcr", "", "required column missing")])
    case("type_without_bone_metastasis", bone_df=edit(bone, no_bm, "bone_metastasis_type", "mixed"),
         expected=[("bone_cohort.csv", no_bm + 2, "bone_metastasis_type", "mixed",
                    "bone_metastasis_type given for a patient without bone metastasis")])
    case("extent_without_bone_metastasis", bone_df=edit(bone, no_bm, "bone_metastasis_extent", "axial"),
         expected=[("bone_cohort.csv", no_bm + 2, "bone_metastasis_extent", "axial",
                    "bone_metastasis_extent given for a patient without bone metastasis")])
    case("bad_yes_no", nact_df=edit(nact, 5, "pcr", "maybe"),
         expected=[("nact_cohort.csv", 7, "pcr", "maybe", "not a yes/no value")])
    lines = nact.to_csv(index=False, lineterminator="\n").splitlines()
    lines[3] += ",extra"
    case("ragged_row", nact_text="\n".join(lines) + "\n",
         expected=[("nact_cohort.csv", 4, "", "", "11 fields where the header has 10")])
    case("missing_file", bone_name=None, expected=[("bone_cohort", "", "", "", "file not found")])
    case("unknown_density", nact_df=edit(nact, 6, "breast_density", "e"),
         expected=[("nact_cohort.csv", 8, "breast_density", "e", "not an allowed category")])
    case("excel_unknown_t_stage", bone_df=edit(bone, 3, "t_stage", "T5"), bone_name="bone_cohort.xlsx",
         expected=[("bone_cohort.xlsx", 5, "t_stage", "T5", "not an allowed category")])
    case("semicolon_unknown_n_stage", bone_df=edit(bone, 0, "n_stage", "N4"), sep=";",
         expected=[("bone_cohort.csv", 2, "n_stage", "N4", "not an allowed category")])
    case("latin1_unknown_status", nact_df=edit(nact, 1, "menopausal_status", "ménopausée"),
         encoding="latin-1", expected=[("nact_cohort.csv", 3, "menopausal_status", "ménopausée",
                                        "not an allowed category")])
    case("corrupt_excel", nact_name="nact_cohort.xlsx", nact_text="this is not a workbook\n",
         expected=[("nact_cohort.xlsx", "", "", "", "cannot read the Excel file")])
    case("several_problems_both_files",
         nact_df=edit(edit(nact, 0, "age", "17"), 2, "mass", "perhaps"),
         bone_df=edit(bone, 1, "center", ""),  # a missing centre is allowed: not a problem
         expected=[("nact_cohort.csv", 2, "age", "17", "outside 18-100"),
                   ("nact_cohort.csv", 4, "mass", "perhaps", "not a yes/no value")])
    case("two_files_for_one_cohort", expected=[("nact_cohort", "", "", "",
                                                "several files for nact_cohort: nact_cohort.csv, nact_cohort.xlsx")])
    nact.to_excel(HERE / "bad/two_files_for_one_cohort/nact_cohort.xlsx", index=False)

    # --- messy but valid -------------------------------------------------------------
    m = nact.copy()
    m["molecular_subtype"] = m["molecular_subtype"].map(
        {"luminal_a": "Luminal A", "luminal_b": " luminal-B ", "her2_enriched": "HER2-enriched",
         "triple_negative": "Triple negative"})
    m["pcr"] = m["pcr"].map({"yes": "Y", "no": "n"})
    m["mass"] = m["mass"].map({"yes": "TRUE", "no": "false"})
    m["microcalcification"] = m["microcalcification"].map({"yes": "1", "no": "0"})
    m["mri_necrosis"] = m["mri_necrosis"].replace({"": "N/A"}).str.upper()
    m["breast_density"] = m["breast_density"].str.upper()
    m["menopausal_status"] = "  " + m["menopausal_status"].str.capitalize()
    m["comment"] = "kept as is"
    m.columns = [c.upper() if c == "age" else c for c in m.columns]
    b = bone.copy()
    b["t_stage"] = b["t_stage"].str.lower()
    b["bone_metastasis"] = b["bone_metastasis"].map({"yes": "Yes", "no": "No"})
    b["bone_metastasis_type"] = b["bone_metastasis_type"].replace({"": "unknown"})
    b["bone_metastasis_extent"] = b["bone_metastasis_extent"].replace({"whole_body": "Whole body", "": "NA"})
    case("case_spaces_synonyms_bom_semicolon", nact_df=m, bone_df=b, encoding="utf-8-sig", sep=";")
    case("excel", nact_df=nact, bone_df=bone, nact_name="nact_cohort.xlsx", bone_name="bone_cohort.xlsx")
    case("tab_latin1", nact_df=nact, bone_df=bone, encoding="latin-1", sep="\t",
         nact_name="nact_cohort.tsv", bone_name="bone_cohort.tsv")
    case("canonical", nact_df=nact, bone_df=bone)
    print(f"wrote {len(list((HERE / 'bad').iterdir()))} bad and {len(list((HERE / 'messy').iterdir()))} messy cases")




def make_site_b():
    """A smaller synthetic site with messy but valid encodings, for the multi-site run."""
    import sys

    sys.path.insert(0, str(ROOT / "lib"))  # this script runs outside the package's tests
    from microcalc import synthesize
    from microcalc.contract import to_canonical_csv

    folder = HERE / "sites" / "site_b"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    n = to_canonical_csv(synthesize.generate_nact(seed=11), "nact_cohort").sample(180, random_state=11)
    b = to_canonical_csv(synthesize.generate_bone(seed=11, n=500), "bone_cohort")
    n["patient_id"] = n["patient_id"].str.replace("SYN-NACT-", "B-NACT-")
    b["patient_id"] = b["patient_id"].str.replace("SYN-BONE-", "B-BONE-")
    n["molecular_subtype"] = n["molecular_subtype"].map(
        {"luminal_a": "Luminal A", "luminal_b": "Luminal-B", "her2_enriched": "HER2 enriched",
         "triple_negative": "TRIPLE NEGATIVE"})
    n["pcr"] = n["pcr"].map({"yes": "Y", "no": "N"})
    n["mri_necrosis"] = n["mri_necrosis"].replace({"": "not assessable"}).replace({"not assessable": "unknown"})
    b["bone_metastasis"] = b["bone_metastasis"].map({"yes": "1", "no": "0"})
    b["t_stage"] = b["t_stage"].str.lower()
    b["bone_metastasis_extent"] = b["bone_metastasis_extent"].replace({"whole_body": "whole body"})
    n.to_csv(folder / "nact_cohort.csv", index=False, sep=";", encoding="utf-8-sig", lineterminator="\n")
    b.to_csv(folder / "bone_cohort.csv", index=False, sep="\t", encoding="latin-1", lineterminator="\n")
    (HERE / "sites.yaml").write_text(
        "# Two sites for the multi-site run (python -m microcalc.run --sites tests/inputs/sites.yaml):\n"
        "# the bundled synthetic cohorts, and a smaller synthetic site with messy but valid encodings.\n"
        "sites:\n  - name: bundled\n    data_dir: data/raw\n"
        "  - name: site_b\n    data_dir: tests/inputs/sites/site_b\n", encoding="utf-8")


if __name__ == "__main__":
    import sys as _sys

    make_site_b() if "--site-b" in _sys.argv else main()
