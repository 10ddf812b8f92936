"""Write the corpus of valid but sparse cohorts for ``tests/test_sparse_pipeline.py``.

Run from the project root: ``.venv/bin/python tests/inputs/sparse/make_sparse.py``.
Each class is a folder holding a ``nact_cohort.csv`` and a ``bone_cohort.csv``
made deterministically from the bundled (synthetic) cohorts: the whole NACT
cohort, and every bone-metastasis patient of the bone cohort with its first
300 patients without one, then edited or subset so that both files show the
class (see ``README.md``). Every file is valid under the data contract:
notebook 03 cleans it without a problem.
"""

import shutil
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


def _read(name):
    return pd.read_csv(ROOT / "data" / "raw" / f"{name}.csv", dtype=str, keep_default_na=False)


NACT = _read("nact_cohort")
_bone = _read("bone_cohort")
BONE = pd.concat([_bone[_bone.bone_metastasis == "yes"], _bone[_bone.bone_metastasis == "no"].head(300)])
BONE = BONE.sort_values("patient_id").reset_index(drop=True)


def _no_bone_metastasis(bone, mask):
    """``bone`` with the patients in ``mask`` recorded without bone metastasis (and no type or extent)."""
    bone = bone.copy()
    bone.loc[mask, ["bone_metastasis", "bone_metastasis_type", "bone_metastasis_extent"]] = ["no", "", ""]
    return bone


def zero_events_in_group():
    """No pCR with microcalcification; no bone metastasis without it: the ML ORs of both are infinite."""
    nact = NACT.copy()
    nact.loc[nact.microcalcification == "yes", "pcr"] = "no"
    return nact, _no_bone_metastasis(BONE, BONE.microcalcification == "no")


def absent_level():
    """No lobular tumours and no density a (the reference level) in NACT; no T4 and no mixed-type metastasis in bone."""
    nact = NACT[(NACT.pathology_type != "lobular") & (NACT.breast_density != "a")]
    bone = BONE[(BONE.t_stage != "T4") & (BONE.bone_metastasis_type != "mixed")]
    return nact, bone


def rank_deficient():
    """Collinear covariates: a mass exactly when postmenopausal (NACT); T4 exactly when N3 (bone)."""
    nact = NACT.copy()
    nact["mass"] = nact["menopausal_status"].map({"postmenopausal": "yes", "premenopausal": "no", "": ""})
    bone = BONE.copy()
    bone.loc[bone.t_stage == "T4", "t_stage"] = "T3"
    bone.loc[bone.n_stage == "N3", "t_stage"] = "T4"
    return nact, bone


def one_exposure_group():
    """Every patient of both cohorts has microcalcification."""
    return NACT.assign(microcalcification="yes"), BONE.assign(microcalcification="yes")


def one_centre():
    """The bone cohort comes from one centre (NACT as bundled)."""
    return NACT, BONE[BONE.center == "001"]


def tiny():
    """About 15 patients per cohort: groups far below the suppression threshold."""
    bone = pd.concat([BONE[BONE.bone_metastasis == "yes"].head(5), BONE[BONE.bone_metastasis == "no"].head(10)])
    return NACT.head(15), bone.sort_values("patient_id")


CLASSES = (zero_events_in_group, absent_level, rank_deficient, one_exposure_group, one_centre, tiny)


def main():
    for make in CLASSES:
        folder = HERE / make.__name__
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        for name, frame in zip(("nact_cohort", "bone_cohort"), make(), strict=True):
            frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
        print(f"{folder.relative_to(ROOT)}: {make.__doc__.splitlines()[0]}")


if __name__ == "__main__":
    main()
