"""The synthetic cohorts: exact where the abstract is exact, calibrated where it is adjusted.

References: the published abstract (``data/published/abstract_statistics.csv``)
for every target; the files' own recorded checksums for reproducibility.
"""

import re

import numpy as np
import pandas as pd
import pytest

from microcalc.cohorts import synthesize
from microcalc.cohorts.contract import dictionary_markdown, read_canonical, schema, to_canonical_csv
from microcalc.core.outputs import write_csv


@pytest.fixture(scope="module")
def bundled(root):
    return (
        read_canonical(root / "data/raw/nact_cohort.csv", "nact_cohort"),
        read_canonical(root / "data/raw/bone_cohort.csv", "bone_cohort"),
    )


def test_bundled_cohorts_meet_every_published_target(bundled, published):
    checks = synthesize.targets(*bundled, published)
    failed = checks[~checks["met"]]
    assert failed.empty, failed.to_string()
    # every univariate number of the abstract, both ORs' and the necrosis OR, the six claims
    ids = set(checks["id"])
    assert {
        "nact_pcr_calc",
        "nact_pcr_compare",
        "nact_necrosis_compare",
        "nact_or_calc_uni",
        "nact_or_calc_multi",
        "nact_or_necrosis_multi",
        "bone_met_compare",
        "bone_or_calc_uni",
        "bone_or_calc_multi",
        "bone_type_compare",
        "bone_extent_compare",
        "nact_ns_molecular",
    } <= ids


def test_multivariable_targets_use_the_stated_tolerances(bundled, published):
    checks = synthesize.targets(*bundled, published).set_index(["id", "quantity"])
    assert checks.loc[("nact_or_calc_multi", "OR"), "criterion"] == "within ±5%"
    assert checks.loc[("bone_or_calc_multi", "CI low"), "criterion"] == "within ±15%"


def test_bundled_files_satisfy_the_contract_schema(bundled):
    schema("nact_cohort", complete=True).validate(bundled[0], lazy=True)
    schema("bone_cohort", complete=True).validate(bundled[1], lazy=True)
    assert len(bundled[0]) == 313 and len(bundled[1]) == 1182


def test_regeneration_from_the_stored_calibration_is_byte_identical(root, tmp_path):
    for cohort, frame in (("nact_cohort", synthesize.generate_nact()), ("bone_cohort", synthesize.generate_bone())):
        path = write_csv(to_canonical_csv(frame, cohort), tmp_path / f"{cohort}.csv")
        assert path.read_bytes() == (root / "data/raw" / f"{cohort}.csv").read_bytes(), cohort


@pytest.mark.slow
def test_stored_calibration_is_what_calibrate_computes():
    assert synthesize.calibrate() == synthesize.load_calibration()


def test_data_readme_records_generator_seed_and_checksums(root):
    readme = (root / "data/README.md").read_text()
    cal = synthesize.load_calibration()
    for cohort, key in (("nact_cohort", "nact"), ("bone_cohort", "bone")):
        digest = synthesize.sha256(root / "data/raw" / f"{cohort}.csv")
        row = next(
            line for line in readme.splitlines() if f"data/raw/{cohort}.csv" in line and "|" in line and digest in line
        )
        assert str(cal[key]["seed"]) in row and "microcalc.cohorts.synthesize" in row


def test_data_readme_dictionary_is_the_contract(root):
    readme = (root / "data/README.md").read_text()
    for cohort in ("nact_cohort", "bone_cohort"):
        assert dictionary_markdown(cohort) in readme, cohort


def test_synthetic_is_said_wherever_the_cohorts_appear(root):
    assert "SYNTHETIC" in (root / "data/README.md").read_text()
    assert re.search(r"synthetic", (root / "README.md").read_text(), flags=re.I)
    import nbformat

    nb = nbformat.read(root / "notebooks/02_synthetic_cohorts.ipynb", as_version=4)
    assert "Synthetic data" in nb.cells[0].source
    ids = pd.read_csv(root / "data/raw/nact_cohort.csv", dtype=str)["patient_id"]
    assert ids.str.startswith("SYN-").all()


def test_generator_is_deterministic_for_a_seed_and_changes_with_it():
    a = synthesize.generate_nact(seed=1)
    b = synthesize.generate_nact(seed=1)
    c = synthesize.generate_nact(seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["age"].equals(c["age"])
    # counts fixed by the reconstruction do not depend on the seed
    for df in (a, c):
        assert int((df["microcalcification"] & df["pcr"]).sum()) == 32


def test_a_cohort_of_any_size_keeps_the_structure_and_the_rates():
    big = synthesize.generate_bone(n=20_000)
    schema("bone_cohort", complete=True).validate(big, lazy=True)
    assert len(big) == 20_000 and big["patient_id"].is_unique
    calc = big["microcalcification"].astype(bool)
    rate = big.groupby(calc)["bone_metastasis"].mean()
    assert round(100 * rate[True], 1) == 11.6 and round(100 * rate[False], 1) == 4.9


def test_every_assumption_has_a_source():
    for cohort, items in synthesize.load_assumptions().items():
        for item, spec in items.items():
            source = spec.get("source", "")
            assert source.startswith("assumption") or re.search(r"\d{4}", source), (cohort, item)


def test_reconstructed_tables_are_read_back_unchanged(published):
    from microcalc.paper import reconstruct_paper

    paper = reconstruct_paper(published)
    tables = synthesize.load_reconstructed()
    for name, item in paper.items.items():
        assert np.array_equal(tables[name], item.reconstruction.arrays()), name


def test_schema_rejects_a_type_given_without_bone_metastasis(bundled):
    import pandera.errors

    bad = bundled[1].copy()
    first_without = bad.index[~bad["bone_metastasis"].astype(bool)][0]
    bad.loc[first_without, "bone_metastasis_type"] = "mixed"
    with pytest.raises(pandera.errors.SchemaErrors, match="bone_metastasis_type must be given"):
        schema("bone_cohort", complete=True).validate(bad, lazy=True)


def test_schema_rejects_out_of_range_age_and_duplicate_ids(bundled):
    import pandera.errors

    bad = bundled[0].copy()
    bad.loc[0, "age"] = 130
    bad.loc[1, "patient_id"] = bad.loc[2, "patient_id"]
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        schema("nact_cohort", complete=True).validate(bad, lazy=True)
    cases = err.value.failure_cases
    assert set(cases["column"]) >= {"age", "patient_id"}


def test_pcr_by_subtype_follows_the_literature_direction(bundled):
    """Cortazar et al., Lancet 2014 (CTNeoBC): pCR lowest in luminal A-like tumours, higher in
    HER2-positive and triple-negative ones; the bundled cohort keeps that order."""
    rates = synthesize.subtype_pcr_rates(bundled[0])
    assert rates.idxmin() == "luminal_a"
    assert rates["her2_enriched"] > rates["luminal_b"] and rates["triple_negative"] > rates["luminal_b"]
    assert synthesize.load_calibration()["nact"]["pcr_subtype_strength"] > 0


def test_subtype_direction_check_fails_when_luminal_a_has_the_highest_pcr(bundled):
    nact = bundled[0].copy()
    nact["pcr"] = (nact["molecular_subtype"] == "luminal_a").astype("boolean")
    assert not synthesize.subtype_direction_ok(nact)


def test_full_literature_subtype_effect_would_contradict_the_abstract():
    """At the literature's full strength most cohorts of 313 show a significant subtype effect, which the
    abstract's "molecular ... not significantly associated" rules out; the chosen strength does not."""
    cal = synthesize.load_calibration()["nact"]
    trial = {k: cal[k] for k in ("necrosis_table", "pcr_split")}
    scan = synthesize.subtype_strength_scan(
        trial,
        synthesize.load_assumptions(),
        synthesize.load_reconstructed(),
        synthesize.DEFAULT_SEED,
        strengths=[1.0, cal["pcr_subtype_strength"]],
    )
    full, chosen = scan.set_index("strength")["median_p"].loc[[1.0, cal["pcr_subtype_strength"]]]
    assert full < 0.05 < chosen
