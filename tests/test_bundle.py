"""Results bundles: written from the harmonised cohorts, validated, and refused when tampered with."""

import json

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.models import fit_logistic
from microcalc.cohorts.contract import CONTRACT_VERSION
from microcalc.cohorts.synthesize import generate_bone, generate_nact
from microcalc.pipeline import bundle

RECORD = {"name": "site_t", "status": "complete", "versions": {"python": "3.11"}}


@pytest.fixture(scope="module")
def cohorts():
    return {"nact_cohort": generate_nact(), "bone_cohort": generate_bone()}


@pytest.fixture
def written(tmp_path, cohorts):
    return bundle.write_bundle(cohorts, tmp_path / "bundle", RECORD)


def test_a_bundle_validates_and_holds_no_patient_row(written, cohorts):
    meta = bundle.validate_bundle(written)
    assert meta["contract_version"] == CONTRACT_VERSION and meta["site"] == "site_t"
    assert sorted(p.name for p in written.iterdir()) == sorted(
        [*bundle.SCHEMAS, "bundle.json", "run.json", "manifest.json"]
    )
    text = "".join(p.read_text() for p in written.iterdir())
    ids = pd.concat([c["patient_id"] for c in cohorts.values()])
    assert not any(i in text for i in ids), "a patient id is in the bundle"
    assert "patient_id" not in text


def test_the_terms_are_the_models_log_odds_ratios(written, cohorts):
    """The multivariable microcalcification term is fit_logistic's (itself checked against R's glm)."""
    terms = pd.read_csv(written / "terms.csv")
    nact = cohorts["nact_cohort"].assign(non_pcr=lambda d: ~d["pcr"])
    fit = fit_logistic(nact, "non_pcr", bundle.MODELS["nact_cohort"][1])
    row = terms[
        (terms.cohort == "nact_cohort") & (terms.model == "multivariable") & (terms.term == "microcalcification")
    ].iloc[0]
    i = fit.names.index("microcalcification")
    assert row["log_or"] == pytest.approx(fit.params[i], rel=1e-9)
    assert row["se"] == pytest.approx(fit.bse[i], rel=1e-9)
    assert row["n"] == fit.nobs
    # every term of both models, univariable and multivariable
    assert set(terms.model) == {"univariable", "multivariable"}
    assert (terms.groupby(["cohort", "model"]).size() > 0).all()


def test_counts_behind_the_comparison(written, cohorts):
    counts = pd.read_csv(written / "counts.csv", dtype={"row_level": str, "column_level": str})
    c = counts[
        (counts.cohort == "bone_cohort")
        & (counts.row_variable == "microcalcification")
        & (counts.column_variable == "bone_metastasis")
    ].set_index(["row_level", "column_level"])["count"]
    bone = cohorts["bone_cohort"]
    assert c["yes", "yes"] == int((bone.microcalcification & bone.bone_metastasis).sum())
    assert c.sum() == len(bone)


def test_a_small_group_is_suppressed(tmp_path, cohorts):
    nact = cohorts["nact_cohort"].copy()
    nact.loc[nact.index[:7], "pathology_type"] = "lobular"
    nact.loc[nact.index[7:], "pathology_type"] = nact.loc[nact.index[7:], "pathology_type"].replace("lobular", "other")
    out = bundle.write_bundle({**cohorts, "nact_cohort": nact}, tmp_path / "b", RECORD)
    counts = pd.read_csv(out / "counts.csv", dtype={"row_level": str})
    lob = counts[
        (counts.cohort == "nact_cohort") & (counts.row_variable == "pathology_type") & (counts.row_level == "lobular")
    ]
    assert lob["suppressed"].all() and lob["count"].isna().all()
    terms = pd.read_csv(out / "terms.csv")
    path = terms[(terms.cohort == "nact_cohort") & (terms.variable == "pathology_type")].set_index("model")
    assert path.loc["univariable", "suppressed"].all() and path.loc["univariable", "log_or"].isna().all()
    assert not path.loc["multivariable", "suppressed"].any() and path.loc["multivariable", "se"].notna().all()
    assert not terms.loc[terms.variable != "pathology_type", "suppressed"].any()
    bundle.validate_bundle(out)


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda b: b.joinpath("terms.csv").write_text(b.joinpath("terms.csv").read_text().replace("0.", "0.1", 1)),
            "terms.csv does not match its sha256",
        ),
        (lambda b: b.joinpath("cohorts.csv").unlink(), "cohorts.csv is listed in the manifest but missing"),
        (lambda b: b.joinpath("extra.csv").write_text("patient_id\n1\n"), "extra.csv is not listed in the manifest"),
    ],
)
def test_a_tampered_bundle_is_refused(written, change, expected):
    change(written)
    with pytest.raises(bundle.BundleError, match=expected) as err:
        bundle.validate_bundle(written)
    assert "\n" not in str(err.value)


def _rewrite(folder, name, content):
    (folder / name).write_text(content)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = bundle.sha256(folder / name)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_an_incompatible_contract_version_is_refused(written):
    meta = json.loads((written / "bundle.json").read_text())
    _rewrite(written, "bundle.json", json.dumps({**meta, "contract_version": "2.0"}))
    with pytest.raises(bundle.BundleError, match=r"data-contract version 2\.0; this compendium reads version 1\.x"):
        bundle.validate_bundle(written)


def test_a_schema_breach_is_refused_even_with_a_consistent_manifest(written):
    counts = pd.read_csv(written / "counts.csv")
    counts.loc[0, "count"] = 3
    counts.loc[1, "count"] = 2  # a group of 5 patients shown
    _rewrite(written, "counts.csv", counts.to_csv(index=False))
    terms = pd.read_csv(written / "terms.csv").rename(columns={"se": "stderr"})
    _rewrite(written, "terms.csv", terms.to_csv(index=False))
    with pytest.raises(bundle.BundleError) as err:
        bundle.validate_bundle(written)
    msg = str(err.value)
    assert "terms.csv: columns" in msg and "small-group rule" in msg


def test_the_command_line_says_it_in_one_line(written, capsys):
    assert bundle.main(["validate", str(written)]) == 0
    assert "valid bundle of site 'site_t'" in capsys.readouterr().out
    (written / "run.json").write_text("{}")
    assert bundle.main(["validate", str(written)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bundle refused: bundle: run.json does not match") and err.count("\n") == 1
    assert str(written.parent) not in err


def test_a_bundle_is_written_once(written, cohorts):
    with pytest.raises(bundle.BundleError, match="exists already"):
        bundle.write_bundle(cohorts, written, RECORD)
    assert np.isfinite(pd.read_csv(written / "terms.csv")["log_or"]).all()


def test_a_suppressed_term_with_an_estimate_is_refused(written):
    terms = pd.read_csv(written / "terms.csv")
    terms.loc[0, "suppressed"] = True
    _rewrite(written, "terms.csv", terms.to_csv(index=False))
    with pytest.raises(bundle.BundleError, match="terms.csv: a suppressed term carries an estimate"):
        bundle.validate_bundle(written)


def test_results_hash_ignores_the_versions_and_times_a_bundle_records(tmp_path):
    """Two bundles with the same result tables but another Python in bundle.json/run.json have the same
    results hash (notebook 08 shows it), and a changed table changes it."""
    import shutil

    from microcalc.pipeline import bundle

    a = tmp_path / "a"
    a.mkdir()
    for name in bundle.SCHEMAS:
        (a / name).write_text(f"{name},1\n", encoding="utf-8")
    (a / "bundle.json").write_text('{"python": "3.11.7"}', encoding="utf-8")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    (b / "bundle.json").write_text('{"python": "3.13.0"}', encoding="utf-8")
    assert bundle.results_sha256(a) == bundle.results_sha256(b)
    first = sorted(bundle.SCHEMAS)[0]
    (b / first).write_text(f"{first},2\n", encoding="utf-8")
    assert bundle.results_sha256(a) != bundle.results_sha256(b)
