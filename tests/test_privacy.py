"""Privacy: no notebook output shows a patient_id or a patient-level row.

Reference: the patient_id values of the data the notebooks ran on (the
bundled files in ``data/raw``); none may appear in any executed notebook.
"""

import json

import pandas as pd


def test_no_executed_notebook_contains_a_patient_id(root):
    ids = set()
    for cohort in ("nact_cohort", "bone_cohort"):
        ids |= set(pd.read_csv(root / f"data/raw/{cohort}.csv", dtype=str)["patient_id"])
    assert ids
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
        leaked = sorted(i for i in ids if i in outputs)
        assert not leaked, f"{path.name} shows patient ids, e.g. {leaked[:3]}"
