"""The tables of pages 01 and 02 as a clinician reads them (microcalc.narrative.reconstruction_tables,
microcalc.narrative.synthetic_tables): no code names, True/False, NaN or e-notation, and the same numbers
as the computed frames they show."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from microcalc import labels
from microcalc.abstract.published import load_published
from microcalc.cohorts import synthesize
from microcalc.cohorts.contract import read_canonical
from microcalc.core.paths import project_path
from microcalc.narrative import reconstruction_tables as rt
from microcalc.narrative import synthetic_tables as st
from microcalc.paper import consistency_display, reconstruct_paper

#: What a clinician should never meet in a table cell or header (the patterns of the page scan).
BAD = {
    "e-notation": re.compile(r"\d\.\d+e[+-]\d+", re.I),
    "missing": re.compile(r"^(nan|NaN|<NA>|None|NaT)$"),
    "boolean": re.compile(r"^(True|False)$"),
    "code name": re.compile(r"\b[a-z]+_[a-z_0-9]+\b"),
    "term": re.compile(r"\b\w+\[[A-Za-z0-9_.]+\]"),
    "long decimal": re.compile(r"^-?\d+\.\d{5,}$"),
}


def _problems(shown) -> list[str]:
    texts = [str(c) for c in shown.frame.columns] + [str(v) for v in shown.frame.to_numpy().ravel()]
    return [f"{kind}: {t!r}" for t in texts for kind, rx in BAD.items() if rx.search(t)]


@pytest.fixture(scope="module")
def published():
    return load_published()


@pytest.fixture(scope="module")
def paper(published):
    return reconstruct_paper(published)


@pytest.fixture(scope="module")
def cohorts():
    nact = read_canonical(project_path("data/raw/nact_cohort.csv"), "nact_cohort")
    bone = read_canonical(project_path("data/raw/bone_cohort.csv"), "bone_cohort")
    return nact, bone


def test_page_01_tables_read_without_code(published, paper):
    views = [
        rt.published_view(published),
        rt.overview_view(paper),
        rt.steps_view(paper["nact_pcr"]),
        rt.steps_view(paper["nact_necrosis"]),
        rt.feasible_range_view(paper["nact_necrosis"], "necrosis on MRI"),
        rt.feasible_tables_view(paper, "bone_type_2x3"),
        rt.feasible_tables_view(paper, "bone_extent_2x3"),
        rt.consistency_view(paper.consistency(), published),
        rt.consistency_tests_view(paper.consistency(), published),
        rt.verdicts_view(paper.verdicts(), published),
        rt.coherence_view(paper.coherence(), published),
        rt.grim_view(paper.grim(), paper),
    ] + [rt.contingency_view(paper, n) for n in ("nact_pcr", "bone_met", "bone_type_2x2", "bone_extent_2x2")]
    assert [p for v in views for p in _problems(v)] == []


def test_page_02_tables_read_without_code(published, paper, cohorts):
    nact, bone = cohorts
    assumptions, calibration = synthesize.load_assumptions(), synthesize.load_calibration()
    scan = pd.DataFrame({"strength": [1.0, 0.4], "median_p": [3.5258e-05, 0.0612], "share_significant": [0.95, 0.3]})
    views = [
        st.assumptions_view(assumptions),
        st.fixed_and_chosen_view(assumptions),
        st.calibration_view(calibration),
        st.targets_view(synthesize.targets(nact, bone, published, paper, calibration)),
        st.age_view({"nact": synthesize.age_summary(nact), "bone": synthesize.age_summary(bone)}),
        st.covariate_view(synthesize.covariate_summary(nact, "nact_cohort", assumptions)),
        st.covariate_view(synthesize.covariate_summary(bone, "bone_cohort", assumptions)),
        st.subtype_scan_view(scan, 0.05),
        st.subtype_rates_view(synthesize.subtype_pcr_rates(nact)),
    ]
    assert [p for v in views for p in _problems(v)] == []


def test_published_quantities_are_named_by_their_description(published):
    """The abstract: "20.6% vs 31.6%" are pCR rates with and without microcalcification."""
    assert rt.describe(published, "nact_pcr_calc") == "pCR rate, microcalcification"
    assert rt.describe(published, "nact_or_calc_multi") == "OR of non-pCR, microcalcification vs none (multivariable)"
    # the group the measure already names is not said twice
    assert (
        rt.describe(published, "bone_extent_calc_axial")
        == "Most frequent bone metastasis extent with microcalcification"
    )
    shown = rt.published_view(published).frame
    assert "nact_pcr_calc" not in shown.to_numpy()
    row = shown[shown["Published number"] == "OR of non-pCR, microcalcification vs none (univariable)"].iloc[0]
    assert row["As printed"] == "1.780 (1.065–2.974), P = 0.028"  # as printed in the abstract
    assert row["Cohort"] == "NACT cohort"


def test_p_range_in_journal_style():
    """The lead's example: 2.18e-04 to 9.17e-04 reads "P 0.0002 to 0.0009"."""
    assert rt.p_range(2.18e-4, 9.17e-4) == "P 0.0002 to 0.0009"
    assert rt.p_range(0.029325, 0.029325) == "P = 0.0293"
    assert rt.p_range(3.11e-5, 3.11e-5) == "P < 0.0001"


def test_consistency_view_keeps_the_checks_of_the_display(published, paper):
    """Every ✓ and every "reproduces in k of n" of the analysts' display is in the clinicians' views: the
    summary says whether each P agrees, the long table the P of each test, in the same order."""
    table = paper.consistency()
    wide, view = consistency_display(table, published), rt.consistency_view(table, published).frame
    assert len(wide) == len(view)
    assert list(view.columns) == ["Result", "Reported P", "Tested on", "Agrees with the paper"]
    tests = rt.consistency_tests_view(table, published).frame
    assert len(tests) == len(table)
    position = 0
    for _, row in wide.iterrows():
        for test in dict.fromkeys(table["test"]):
            shown = tests.iloc[position]
            position += 1
            assert shown["Test"] == labels.ALL[test]
            before = row[test]
            assert before.endswith("✓") == (shown["Prints as reported"] == "yes")
            counted = re.findall(r"reproduces in (\d+) of (\d+)", before)
            assert counted == re.findall(r"in (\d+) of (\d+) tables", shown["Prints as reported"])
    necrosis = tests[tests["Result"] == "MRI tumour necrosis rate, microcalcification vs none"]
    pearson = necrosis[necrosis["Test"] == "Pearson χ²"].iloc[0]
    assert (pearson["Recomputed P"], pearson["Prints as reported"]) == ("P 0.0002 to 0.0009", "in 43 of 43 tables")
    assert view[view["Tested on"] == "43 feasible 2 × 2 tables"].iloc[0]["Result"] == (
        "MRI tumour necrosis rate, microcalcification vs none"
    )


def test_tables_show_the_reconstructed_counts(paper):
    """The unique NACT table of the abstract's rates, OR, CI and P: 32/155 against 50/158."""
    pcr = rt.contingency_view(paper, "nact_pcr").frame.set_index("Group")
    assert pcr.loc["Microcalcification", ["pCR", "No pCR", "Total", "pCR (%)"]].tolist() == ["32", "123", "155", "20.6"]
    assert pcr.loc["No microcalcification", "pCR (%)"] == "31.6"
    written = pd.read_csv(project_path("data/reconstructed/01_reconstructed_tables.csv"))
    extent = written[written["reconstruction"] == "bone_extent_2x3"]
    view = rt.feasible_tables_view(paper, "bone_extent_2x3").frame
    assert len(view) == extent["solution"].nunique()
    first = extent[(extent["solution"] == 1) & (extent["group"] == "microcalcification")]["count"].tolist()
    assert view.iloc[0, 1] == " / ".join(str(c) for c in first)
    claim = [c for c in view.columns if c.startswith("Agrees with the abstract")]
    assert claim and set(view[claim[0]]) <= {"yes", "no"}


def test_verdicts_and_grim_keep_their_booleans_as_words(published, paper):
    verdicts = paper.verdicts()
    view = rt.verdicts_view(verdicts, published).frame
    assert (view["A test the paper names reproduces it"] == "yes").sum() == int(verdicts["named_test_reproduces"].sum())
    # the abstract names no test for the necrosis comparison: the column says so rather than "no"
    necrosis = view.set_index("Result").loc["MRI tumour necrosis rate, microcalcification vs none"]
    assert necrosis["A test the paper names reproduces it"] == "the paper names no test"
    assert necrosis["Reproduced by"] == "all five tests"
    grim = rt.grim_view(paper.grim(), paper).frame
    assert set(grim["Possible for every denominator"]) == {"yes"}
    assert "100 to 151 (7 values)" in grim["Denominators of the feasible tables"].tolist()
    assert "pCR rate, microcalcification vs none" in rt.verdict_counts(verdicts, published)


def test_assumptions_read_as_words():
    assumptions = synthesize.load_assumptions()
    view = st.assumptions_view(assumptions).frame
    nact = view.iloc[: view.index[view["Cohort"] == labels.COHORT_NAMES["bone"]][0]].set_index("Assumption")
    assert nact.loc["Breast density (BI-RADS)", "Values"] == "a 5%, b 30%, c 48%, d 17%"  # assumptions.yaml, as shares
    assert nact.loc["Menopausal status", "Values"] == "age at which half are postmenopausal: 50"
    sources = st.assumption_sources(assumptions)
    assert "microcalcification shifts the latent stage score upwards (by stage shift with microcalcification" in sources
    assert "`" not in sources and not BAD["code name"].search(sources)
    spec = {"mean": 48, "sd": 10, "min": 24, "max": 75, "source": ""}
    assert st.assumption_values(spec) == ["mean 48, SD 10, range 24 to 75"]
    reasons = st.calibration_reasons(synthesize.load_calibration())
    assert "necrosis table 13 of 43" in reasons and not BAD["code name"].search(reasons)


def test_targets_and_covariates_keep_their_numbers(published, paper, cohorts):
    nact, bone = cohorts
    calibration = synthesize.load_calibration()
    checks = synthesize.targets(nact, bone, published, paper, calibration)
    view = st.targets_view(checks).frame
    assert (view["Met"] == "yes").sum() == int(checks["met"].sum())
    assert view["Synthetic cohort"].tolist() == checks["achieved"].tolist()
    summary = synthesize.covariate_summary(nact, "nact_cohort")
    shown = st.covariate_view(summary).frame
    assert shown["All (%)"].tolist() == [f"{v:.1f}" for v in summary["all %"]]
    luminal_a = shown[shown["Level"] == "luminal A"].iloc[0]
    assert luminal_a["Assumed (with / without microcalcification)"] == "12% / 15%"
    rates = st.subtype_rates_view(synthesize.subtype_pcr_rates(nact)).frame
    assert rates["pCR (%)"].tolist() == [f"{100 * r:.1f}" for r in synthesize.subtype_pcr_rates(nact)]


def test_subtype_scan_view_formats_p_and_shares():
    scan = pd.DataFrame({"strength": [1.0, 0.4], "median_p": [3.5258e-05, 0.0612], "share_significant": [0.95, 0.3]})
    view = st.subtype_scan_view(scan, 0.05).frame
    assert view["Median P of subtype"].tolist() == ["<0.001", "0.061"]
    assert view["Cohorts with P < 0.05 (%)"].tolist() == ["95.0", "30.0"]


def test_reconstruction_terms_change_no_existing_label():
    existing = {**labels.QUANTITIES, **labels.COLUMNS, **labels.LEVELS, **labels.VARIABLES}
    assert not set(labels.RECONSTRUCTION_TERMS) & set(existing)
    assert all("_" in k or "%" in k for k in labels.RECONSTRUCTION_TERMS)
    assert all(labels.ALL[k] == v for k, v in labels.RECONSTRUCTION_TERMS.items())


def test_checksums_name_each_cohort_and_its_file_relative_to_the_root(tmp_path):
    """The SHA-256 of a file holding b"abc" (FIPS 180-2's example): ba7816bf...15ad."""
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "nact_cohort.csv"
    path.write_bytes(b"abc")
    text = st.checksums({"nact_cohort": path}, tmp_path)
    assert text == (
        "- NACT cohort (`data/nact_cohort.csv`): "
        "SHA-256 `ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad`"
    )
    assert str(tmp_path) not in text


def test_wide_tables_keep_their_main_columns_in_few_cells(published, paper, cohorts):
    """The abstract prints OR 2.352 (95% CI 1.186-4.667), P = 0.014: one "As printed" cell; a published target in
    words (the literature's direction of pCR by subtype) is in the caption, not in a column."""
    coherence = rt.coherence_view(paper.coherence(), published).frame.set_index("Result")
    row = coherence.loc["OR of non-pCR, microcalcification vs none (multivariable)"]
    assert row["As printed"] == "2.352 (1.186–4.667), P = 0.014"
    assert (row["P consistent"], row["OR consistent"]) == ("yes", "yes")
    nact, bone = cohorts
    checks = synthesize.targets(nact, bone, published, paper, synthesize.load_calibration())
    shown = st.targets_view(checks)
    words_only = checks["published"].astype(str).str.len() > 30
    assert words_only.any() and (shown.frame.loc[words_only.to_numpy(), "Published"] == "see below").all()
    for text in checks.loc[words_only, "published"]:
        assert text in shown.caption
    assert (
        shown.frame.loc[~words_only.to_numpy(), "Published"].tolist() == checks.loc[~words_only, "published"].tolist()
    )
    grim = rt.grim_view(paper.grim(), paper)
    assert "Reconstruction" not in grim.frame.columns and "pCR by microcalcification (NACT cohort)" in grim.caption


def test_the_seed_and_the_centre_codes_in_plain_words():
    """calibration.yaml's seeds (20230324 for the NACT cohort) and the centre codes of assumptions.yaml."""
    calibration = synthesize.load_calibration()
    view = st.calibration_view(calibration).frame
    seeds = view[view["Setting"] == "Random-number seed that makes the cohort reproducible"]
    assert seeds["Value"].tolist() == [str(calibration["nact"]["seed"]), str(calibration["bone"]["seed"])]
    assert "Seed" not in view["Setting"].tolist()
    sources = st.assumption_sources(synthesize.load_assumptions())
    assert "leading zeros" not in sources
    assert "each with a code written as text (such as 001, not 1), so that no leading zero is lost" in sources
