"""Licences that match the contents (REUSE): code MIT, data CC0, text and figures CC-BY-4.0, the abstract not ours."""

import json
import re
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def reuse_report(root):
    run = subprocess.run([sys.executable, "-m", "reuse", "lint", "--json"], cwd=root, capture_output=True, text=True)
    report = json.loads(run.stdout)
    assert run.returncode == 0, report["non_compliant"]
    return report


def _licence_of(report, path):
    entry = next(f for f in report["files"] if f["path"] == path)
    return " ".join(e["value"] for e in entry["spdx_expressions"])


def test_reuse_lint_passes_and_every_file_has_licence_and_copyright(reuse_report):
    summary = reuse_report["summary"]
    assert summary["compliant"]
    assert summary["files_with_licensing_info"] == summary["files_with_copyright_info"] == summary["files_total"]
    assert set(summary["used_licenses"]) == {"MIT", "CC0-1.0", "CC-BY-4.0", "LicenseRef-Quotation-With-Attribution"}


@pytest.mark.parametrize(
    "path, licence",
    [
        ("lib/microcalc/dag/graph.py", "MIT"),
        ("tests/test_archival_licences.py", "MIT"),
        ("Makefile", "MIT"),
        ("data/raw/nact_cohort.csv", "CC0-1.0"),
        ("data/synthetic/assumptions.yaml", "CC0-1.0"),
        ("data/results/replication.csv", "CC0-1.0"),
        ("data/reconstructed/01_consistency.csv", "CC0-1.0"),
        ("data/processed/03_bone_cohort.parquet", "CC0-1.0"),
        ("data/published/abstract_statistics.csv", "CC0-1.0"),
        ("figures/07_or_published_vs_reproduced.png", "CC-BY-4.0"),
        ("README.md", "CC-BY-4.0"),
        ("data/README.md", "CC-BY-4.0"),
        ("reporting/strobe_cohort.csv", "CC-BY-4.0"),
        ("notebooks/04_nact_pcr.ipynb", "CC-BY-4.0 AND MIT"),
        ("data/published/abstract.txt", "LicenseRef-Quotation-With-Attribution"),
    ],
)
def test_each_kind_of_file_has_its_licence(reuse_report, path, licence):
    assert _licence_of(reuse_report, path) == licence


def test_the_abstract_is_marked_as_the_authors_text_quoted_with_attribution(root, reuse_report):
    entry = next(f for f in reuse_report["files"] if f["path"] == "data/published/abstract.txt")
    assert "10.1007/s00432-023-04668-4" in entry["copyrights"][0]["value"]
    text = (root / "LICENSES/LicenseRef-Quotation-With-Attribution.txt").read_text()
    assert "no licence granted" in text and "doi:10.1007/s00432-023-04668-4" in text
    assert "data/published/abstract.txt" in text


def test_make_lint_runs_reuse_and_ci_runs_make_lint(root):
    makefile = (root / "Makefile").read_text()
    lint_rule = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "reuse lint" in lint_rule
    assert re.search(r"^make lint$", (root / ".ci/run").read_text(), flags=re.M)
