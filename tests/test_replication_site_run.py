"""Notebook 07 on a site's data judges findings; on the bundled data, printed numbers. Only the branch
that ran shows on the page.

The site run executes notebooks 03-07 with papermill on the second synthetic
site of ``tests/inputs/sites.yaml`` into a temporary folder (about a minute).
"""

import json

import nbformat
import pandas as pd
import pytest

from microcalc.core.paths import project_path
from microcalc.pipeline.run import load_sites, run_pipeline
from microcalc.replicate import FINDINGS_COLUMNS
from microcalc.study import FINDING_IDS, FINDINGS, is_bundled

BUNDLED_WORDS = "This run used the bundled synthetic data"
SITE_WORDS = "Each number was computed afresh"
FIVE_CRITERIA = (
    "direction_and_significance",
    "published_inside_site_ci",
    "site_inside_prediction_interval",
    "difference_log_or",
    "difference_ci_low",
    "difference_ci_high",
    "difference_p",
    "combined_or",
    "combined_ci_low",
    "combined_ci_high",
    "combined_p",
)


def _outputs(nb) -> str:
    return json.dumps([c.get("outputs", []) for c in nb.cells])


def test_the_committed_page_shows_only_the_bundled_branch():
    nb = nbformat.read(project_path("notebooks/07_replication_report.ipynb"), as_version=4)
    sources = "\n".join(c.source for c in nb.cells)
    assert BUNDLED_WORDS not in sources and SITE_WORDS not in sources  # the prose lives in the library
    assert BUNDLED_WORDS in _outputs(nb) and SITE_WORDS not in _outputs(nb)
    assert "prediction interval for a replication" not in _outputs(nb)


@pytest.fixture(scope="module")
def site_run(tmp_path_factory):
    site = next(s for s in load_sites("tests/inputs/sites.yaml") if not is_bundled(s["data_dir"]))
    root = tmp_path_factory.mktemp("runs")
    return run_pipeline(site["data_dir"], site["name"], runs_root=root, report=False, log=lambda *_: None)


@pytest.mark.slow
def test_a_site_run_judges_every_finding_on_the_five_criteria(site_run):
    findings = pd.read_csv(site_run / "data/results/replication_findings.csv", dtype=str, keep_default_na=False)
    assert list(findings.columns) == FINDINGS_COLUMNS and list(findings["id"]) == list(FINDING_IDS)
    assert not findings["note"].str.startswith("not estimable").any()
    assert (findings["direction_and_significance"].isin(["True", "False"])).all()
    kinds = {f.id: f.kind for f in FINDINGS}
    ors = findings[findings["id"].map(kinds) == "odds_ratio"]
    assert len(ors) == 5
    for column in FIVE_CRITERIA:
        assert (ors[column] != "").all(), column
    comparisons = findings[findings["id"].map(kinds) == "comparison"]
    assert (comparisons["site_inside_prediction_interval"] == "").all()
    assert (project_path(site_run) / "figures/07_findings_published_vs_site.png").is_file()
    assert not (project_path(site_run) / "figures/07_or_published_vs_reproduced.png").exists()


@pytest.mark.slow
def test_a_site_runs_page_shows_only_the_site_branch(site_run):
    nb = nbformat.read(site_run / "notebooks/07_replication_report.ipynb", as_version=4)
    outputs = _outputs(nb)
    assert SITE_WORDS in outputs and BUNDLED_WORDS not in outputs and "synthetic" not in outputs.lower()
    assert "Of the paper's 10 findings, this site's data replicate" in outputs
    assert "published numbers reproduced exactly" not in outputs  # the digit scorecard is not the headline
    assert "Context, not judged" in outputs
