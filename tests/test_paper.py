"""This paper's reconstructions, checked against the abstract itself.

Reference: ``data/published/abstract_statistics.csv`` (the abstract as
printed). A reconstructed table must reprint every number it was built from.
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.abstract.published import format_fixed, format_p, format_percent
from microcalc.abstract.pvalues import odds_ratio_wald
from microcalc.paper import reconstruct_paper


@pytest.fixture(scope="module")
def paper(published):
    return reconstruct_paper(published)


@pytest.mark.parametrize(
    "name, pct1, pct0, n, or_id",
    [
        ("nact_pcr", "nact_pcr_calc", "nact_pcr_nocalc", "nact_n", "nact_or_calc_uni"),
        ("bone_met", "bone_met_calc", "bone_met_nocalc", "bone_n", "bone_or_calc_uni"),
    ],
)
def test_cohort_tables_are_unique_and_reprint_the_abstract(paper, published, name, pct1, pct0, n, or_id):
    r = paper[name]
    assert r.unique
    t = r.arrays()[0]

    def v(i, f="value"):
        return published.loc[i, f]

    assert format_percent(t[0, 0] / t[0].sum()) == v(pct1)
    assert format_percent(t[1, 0] / t[1].sum()) == v(pct0)
    assert str(t.sum()) == v(n)
    table = t if r.tables.loc[0, "orientation"] == "event" else t[:, ::-1]
    w = odds_ratio_wald(table)
    assert [format_fixed(float(w[k]), 3) for k in ("or", "low", "high")] == [
        v(or_id),
        v(or_id, "ci_low"),
        v(or_id, "ci_high"),
    ]
    assert format_p(float(w["p"])) == v(or_id, "p")


def test_subgroup_denominators_chain_from_the_bone_table(paper):
    bone = paper["bone_met"].arrays()[0]
    for name in ("bone_type_2x2", "bone_extent_2x2", "bone_type_2x3", "bone_extent_2x3"):
        sizes = paper[name].arrays().sum(axis=2)
        assert (sizes == [bone[0, 0], bone[1, 0]]).all(), name


def test_necrosis_subset_is_a_feasible_set_within_the_nact_groups(paper):
    pcr = paper["nact_pcr"].arrays()[0]
    nec = paper["nact_necrosis"]
    assert nec.n_solutions > 1
    assert (nec.tables["n_exposed"] <= pcr[0].sum()).all()
    assert (nec.tables["n_reference"] <= pcr[1].sum()).all()


def test_every_p_of_the_abstract_has_a_verdict(paper, published):
    from microcalc.paper import consistency_display

    table = consistency_display(paper.consistency(), published)
    p_ids = set(published.index[published["p"] != ""])
    assert p_ids <= set(table["id"])
    assert table["agrees"].str.len().gt(0).all()
    assert table["reproduced by"].notna().all()


def test_every_odds_ratio_is_checked_for_coherence(paper, published):
    coh = paper.coherence()
    assert set(coh["id"]) == set(published.index[published["kind"] == "odds_ratio"])


def test_every_reconstructed_percentage_passes_grim(paper):
    g = paper.grim()
    assert g["all possible (GRIM)"].all()
    assert len(g) == 10


def test_long_tables_hold_every_feasible_table(paper):
    long = paper.long_tables()
    for name, item in paper.items.items():
        sub = long[long["reconstruction"] == name]
        assert sub["solution"].nunique() == item.reconstruction.n_solutions
        assert sub["count"].sum() == item.reconstruction.arrays().sum()
    assert np.issubdtype(long["count"].dtype, np.integer)


# ------------------------------------------------------------------ the typed consistency table
def test_the_consistency_table_is_long_and_typed(paper):
    from microcalc.paper import CONSISTENCY_COLUMNS

    table = paper.consistency()
    assert list(table.columns) == CONSISTENCY_COLUMNS
    for col in ("applicable", "reproduces", "named_by_paper"):
        assert table[col].dtype == bool, col
    assert table["p_min"].dtype == float and str(table["n_tables"].dtype) == "Int64"
    assert not table.duplicated(["id", "basis", "test"]).any()
    assert (table["p_min"] <= table["p_max"]).where(table["applicable"], True).all()


def test_the_pcr_comparison_is_reproduced_by_fisher_only_which_the_paper_does_not_name(paper, published):
    """R: x <- matrix(c(32, 123, 50, 108), 2, byrow = TRUE); fisher.test(x)$p.value = 0.02932537939
    ("P = 0.029" as printed); chisq.test(x, correct = FALSE)$p.value = 0.02690430787 does not print as 0.029."""
    from microcalc.paper import consistency_display

    t = paper.consistency().set_index(["id", "test"]).loc["nact_pcr_compare"]
    assert t.loc["fisher_exact", "reproduces"] and not t.loc["fisher_exact", "named_by_paper"]
    assert abs(t.loc["fisher_exact", "p_min"] - 0.02932537939) < 1e-10
    assert abs(t.loc["pearson_chi2", "p_min"] - 0.02690430787) < 1e-10
    assert not t.loc["pearson_chi2", "reproduces"] and t.loc["pearson_chi2", "named_by_paper"]
    shown = consistency_display(paper.consistency(), published).set_index("id").loc["nact_pcr_compare"]
    assert shown["fisher_exact"] == "0.0293 ✓" and shown["agrees"] == "no: the named test does not reproduce it"


def test_the_verdicts_and_the_reproducing_tests_are_read_from_the_typed_columns(paper, tmp_path):
    from microcalc.core.outputs import write_csv
    from microcalc.paper import VERDICTS, read_consistency, reproducing_tests

    verdicts = paper.verdicts().set_index("id")
    assert set(verdicts["verdict"]) <= set(VERDICTS)
    assert verdicts.loc["nact_pcr_compare", "verdict"] == "only an unnamed test reproduces it"
    assert verdicts.loc["nact_or_calc_multi", "reproduced by"] == "Wald P from the CI"
    back = read_consistency(write_csv(paper.consistency(), tmp_path / "c.csv"))
    pd.testing.assert_frame_equal(back, paper.consistency())
    assert reproducing_tests("bone_type_compare", back) == {"2x2": [], "2x3": ["pearson_chi2"]}


def test_the_committed_consistency_file_is_the_typed_table(root, paper):
    from microcalc.paper import read_consistency

    pd.testing.assert_frame_equal(read_consistency(root / "data/reconstructed/01_consistency.csv"), paper.consistency())
