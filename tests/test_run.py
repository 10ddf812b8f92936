"""Batch reruns on other sites' data: parameters checked, failures located, two sites side by side.

The multi-site run executes the site notebooks twice (about a minute); its
executed notebooks are then checked with ``--nbval-lax`` (they must run; their
outputs are not compared with the reference).
"""

import hashlib
import json
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from microcalc.core.paths import project_path
from microcalc.pipeline.run import RunError, check_parameters, load_sites, run_pipeline, run_sites


def test_unknown_parameters_are_refused_with_the_declared_ones_named():
    with pytest.raises(RunError, match=r"does not declare the parameter\(s\) site.*it takes: data_dir, output_dir"):
        check_parameters(project_path("notebooks/04_nact_pcr.ipynb"), {"site": "007", "data_dir": "x"})


def test_a_notebook_without_a_parameters_cell_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "no_params.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(RunError, match="no cell tagged 'parameters'"):
        check_parameters(path, {"data_dir": "x"})


def test_site_codes_in_the_sites_file_stay_text(tmp_path):
    f = tmp_path / "sites.yaml"
    f.write_text("sites:\n  - name: 007\n    data_dir: data/raw\n  - name: no\n    data_dir: x\n")
    assert [s["name"] for s in load_sites(f)] == ["007", "no"]


def test_a_failing_notebook_stops_the_run_and_names_the_executed_notebook(tmp_path):
    with pytest.raises(RunError) as err:
        run_pipeline("tests/inputs/bad/age_text", "bad", runs_root=tmp_path, report=False, log=lambda *_: None)
    message = str(err.value)
    assert "03_cleaning.ipynb failed" in message and "not a whole number" in message
    assert str(tmp_path / "bad.failed" / "notebooks" / "03_cleaning.ipynb") in message
    assert sorted(p.name for p in (tmp_path / "bad.failed" / "notebooks").iterdir()) == ["03_cleaning.ipynb"]
    assert not (tmp_path / "bad").exists()  # a failed run never looks like a complete one


def _digest(folders):
    out = {}
    for folder in folders:
        for p in sorted(project_path(folder).rglob("*")):
            if p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    runs_root = tmp_path_factory.mktemp("runs")
    reference = ("notebooks", "data", "figures")
    before = _digest(reference)
    table = run_sites("tests/inputs/sites.yaml", runs_root=runs_root, log=lambda *_: None)
    return runs_root, table, before == _digest(reference)


@pytest.mark.slow
def test_two_sites_run_in_one_call_and_are_set_side_by_side(two_sites):
    runs_root, table, _ = two_sites
    assert list(table.columns) == ["measure", "published", "bundled", "site_b"]
    assert (runs_root / "sites_side_by_side.csv").is_file()
    assert table.loc["nact_pcr_calc", "bundled"].startswith("20.6%")
    assert not (table == "not computed").any().any()
    for site in ("bundled", "site_b"):
        run = runs_root / site
        assert (run / "report" / "index.html").is_file()
        # only the run on the bundled cohorts is labelled synthetic on its index page
        assert ("Synthetic data." in (run / "report" / "index.html").read_text()) == (site == "bundled")
        assert (run / "data" / "results" / "replication.csv").is_file()
        assert len(list((run / "notebooks").glob("*.ipynb"))) == 5
        assert json.loads((run / "run.json").read_text())["status"] == "complete"


@pytest.mark.slow
def test_a_run_writes_nothing_outside_its_folder(two_sites):
    assert two_sites[2], "the committed reference outputs changed during the site runs"


@pytest.mark.slow
def test_site_run_notebooks_show_no_patient_id(two_sites):
    runs_root = two_sites[0]
    ids = set(
        pd.read_csv(
            project_path("tests/inputs/sites/site_b/nact_cohort.csv"), sep=";", dtype=str, encoding="utf-8-sig"
        )["patient_id"]
    )
    for nb in (runs_root / "site_b" / "notebooks").glob("*.ipynb"):
        outputs = json.dumps([c.get("outputs", []) for c in json.loads(nb.read_text())["cells"]])
        assert not [i for i in ids if i in outputs], nb.name


@pytest.mark.slow
def test_batch_rerun_notebooks_pass_nbval_lax(two_sites):
    notebooks = two_sites[0] / "site_b" / "notebooks"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            str(notebooks),
        ],
        capture_output=True,
        text=True,
        cwd=project_path("."),
    )
    assert done.returncode == 0, done.stdout[-2000:]
