"""Pooling from bundles: what is refused, what is left out and why, and the pooled notebook end to end."""

import json

import pytest

from microcalc.cohorts.synthesize import DEFAULT_SEED, generate_bone, generate_nact
from microcalc.core.paths import project_path
from microcalc.pipeline import consortium
from microcalc.pipeline.bundle import write_bundle


def _bundle(root, name, seed):
    cohorts = {"nact_cohort": generate_nact(seed=seed), "bone_cohort": generate_bone(seed=seed)}
    return write_bundle(cohorts, root / name / "bundle", {"name": name, "status": "complete"})


@pytest.fixture(scope="module")
def in_project():
    """Bundles inside the project (runs/ is git-ignored), removed afterwards."""
    root = project_path("runs/.test_consortium")
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    folders = [
        _bundle(root, "a", DEFAULT_SEED + 1),
        _bundle(root, "b", DEFAULT_SEED + 2),
        _bundle(root, "c", DEFAULT_SEED + 3),
    ]
    yield [f.relative_to(project_path(".")).as_posix() for f in folders]
    shutil.rmtree(root, ignore_errors=True)


def test_a_site_whose_model_did_not_converge_is_shown_and_left_out(in_project):
    """Seed + 2 gives a NACT multivariable fit that does not converge (a separated category)."""
    loaded = consortium.load_bundles(in_project)
    finding = consortium.pool_finding(loaded, "nact_cohort")
    sites = finding.sites.set_index("centre")
    assert not sites.loc["b", "estimable"]
    assert sites.loc["b", "note"] == "not estimable: the site's model did not converge"
    assert finding.pooled.set_index("label").loc["REML + HKSJ", "k"] == 2
    assert consortium.pool_finding(loaded, "bone_cohort").pooled["k"].tolist() == [3, 3, 3, 3]


def test_the_command_line_refuses_in_one_line_per_bundle(in_project, capsys, tmp_path):
    bad = project_path(in_project[0]) / "bundle.json"
    meta = json.loads(bad.read_text())
    bad.write_text(json.dumps({**meta, "contract_version": "9.0"}))
    try:
        assert consortium.main(["--bundles", in_project[0], in_project[1], "runs/.test_consortium/none"]) == 1
    finally:
        bad.write_text(json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "bundle refused: runs/.test_consortium/a/bundle: bundle.json does not match its sha256 in the manifest "
        "(changed after the bundle was written)",
        "bundle refused: runs/.test_consortium/none: no such bundle folder",
    ]
    assert consortium.main(["--bundles", str(tmp_path)]) == 1
    assert "lies outside the project" in capsys.readouterr().err


def test_one_bundle_is_not_a_consortium(in_project):
    with pytest.raises(consortium.ConsortiumError, match="at least 2 sites"):
        consortium.load_bundles(in_project[:1])


@pytest.mark.slow
def test_pooling_writes_the_notebook_the_tables_and_the_forest_plots(in_project):
    out = consortium.pool_bundles(in_project, output_dir="runs/.test_consortium/pooled", log=lambda *_: None)
    assert (out / "08_consortium.ipynb").is_file()
    for name in ("08_pooled.csv", "08_site_estimates.csv", "08_leave_one_site_out.csv", "08_mantel_haenszel.csv"):
        assert (out / "data" / "results" / name).is_file()
    for name in ("08_forest_nact_non_pcr.png", "08_forest_bone_metastasis.svg"):
        assert (out / "figures" / name).is_file()
    assert (out / "report" / "08_consortium.html").is_file() and (out / "report" / "index.html").is_file()
    text = (out / "08_consortium.ipynb").read_text()
    assert "/runs/" not in text and str(project_path(".")) not in text
    for page in (out / "report").glob("*.html"):
        assert str(project_path(".")) not in page.read_text(), page.name


@pytest.mark.slow
@pytest.mark.parametrize(
    "target, variables, message",
    [
        ("pool", {"BUNDLES": "x$(touch {p})"}, "pooling failed:"),
        ("pool", {"BUNDLES": "a`touch {p}` b"}, "pooling failed:"),
        ("pool", {"BUNDLES": "$(shell touch {p})"}, "pooling failed:"),
        ("sites", {"SITES": "none.yaml", "WORKERS": "`touch {p}`", "SCHEDULER": "$(shell touch {p})"}, "run failed:"),
    ],
)
def test_make_pool_and_sites_run_nothing_that_a_value_holds(tmp_path, target, variables, message):
    import subprocess

    marker = tmp_path / "pwned"
    args = ["make", "-s", target] + [f"{k}={v.replace('{p}', str(marker))}" for k, v in variables.items()]
    done = subprocess.run(args, cwd=project_path("."), capture_output=True, text=True, timeout=120)
    assert not marker.exists(), "a value was run by the shell"
    assert done.returncode != 0 and message in done.stderr, done.stderr
