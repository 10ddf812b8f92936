"""nbval catches a changed number: perturb one input value, rerun, and the affected cells fail.

The perturbation happens in a copy of the project's data (``MICROCALC_ROOT``
points the notebooks there), so the repository is never modified: the test
checks the raw file's checksum before and after. The upgrade check's
comparison (:func:`microcalc.pipeline.upgrade.compare_tables`) of the rerun's results
with the committed ones then reports the numbers the perturbation changes,
and none it cannot change.
"""

import hashlib
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from microcalc.core.paths import project_path
from microcalc.pipeline.upgrade import compare_tables


@pytest.mark.slow
def test_nbval_fails_on_the_cells_a_perturbed_input_changes(tmp_path):
    raw = project_path("data/raw/nact_cohort.csv")
    before = hashlib.sha256(raw.read_bytes()).hexdigest()
    shutil.copytree(project_path("data"), tmp_path / "data")
    (tmp_path / "notebooks").mkdir()
    for name in ("03_cleaning.ipynb", "04_nact_pcr.ipynb"):
        shutil.copy(project_path("notebooks") / name, tmp_path / "notebooks" / name)
    shutil.copy(project_path("pyproject.toml"), tmp_path / "pyproject.toml")
    nact = pd.read_csv(tmp_path / "data/raw/nact_cohort.csv", dtype=str, keep_default_na=False)
    first_pcr = nact.index[nact["pcr"] == "yes"][0]
    nact.loc[first_pcr, "pcr"] = "no"  # one patient's outcome changes
    group = nact.loc[first_pcr, "microcalcification"]
    nact.to_csv(tmp_path / "data/raw/nact_cohort.csv", index=False, lineterminator="\n")

    env = {**os.environ, "MICROCALC_ROOT": str(tmp_path)}

    def nbval(notebook):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--nbval",
                "--nbval-current-env",
                "--nbval-sanitize-with",
                str(project_path("tests/nbval_sanitize.cfg")),
                f"notebooks/{notebook}",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
        )

    cleaning = nbval("03_cleaning.ipynb")  # counts only: one changed outcome leaves them as they were
    assert cleaning.returncode == 0, cleaning.stdout[-2000:]
    analysis = nbval("04_nact_pcr.ipynb")  # rates, tests and models change
    assert analysis.returncode != 0
    assert "Cell outputs differ" in analysis.stdout
    assert 'stats.group_rates(nact, "microcalcification", "pcr")' in analysis.stdout  # the pCR-rate cell is flagged
    summary = analysis.stdout.strip().splitlines()[-1]
    assert "failed" in summary and "passed" in summary, summary  # only the affected cells fail
    assert hashlib.sha256(raw.read_bytes()).hexdigest() == before

    # The rerun wrote its results into the copy: compare them as the upgrade check does.
    moved, files = compare_tables(project_path(), tmp_path, folders=("data/results",))
    assert files == []
    assert moved and all(m.file.startswith("data/results/04_") for m in moved)  # only notebook 04's tables
    assert {"data/results/04_results.csv", "data/results/04_regression_nact_pcr.csv"} <= {m.file for m in moved}
    assert not [m for m in moved if m.column == "n"]  # group sizes cannot change
    rates = {
        m.id: m
        for m in moved
        if m.file.endswith("04_results.csv") and m.column == "estimate" and m.quantity == "pCR rate (%)"
    }
    changed = "nact_pcr_calc" if group == "yes" else "nact_pcr_nocalc"
    in_group = nact[nact["microcalcification"] == group]
    assert set(rates) == {changed}  # the other group's pCR rate did not move
    assert float(rates[changed].after) == pytest.approx(100 * (in_group["pcr"] == "yes").mean(), rel=1e-9)
