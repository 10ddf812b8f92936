"""Sparse but valid data, class by class, on the library functions directly (fast).

The classes are those of ``tests/inputs/sparse/README.md``; the notebooks are
run on them in ``tests/test_sparse_pipeline.py``. References: R 4.2.2 for the
Wilson limits (``prop.test(0, 20, correct = FALSE)$conf.int`` is exactly
``c(0, 0.1611252)``; ``prop.test(7, 7, correct = FALSE)$conf.int`` ends at
exactly 1), R's ``glm`` for aliased coefficients (``NA``, "not defined because
of singularities", with the remaining coefficients those of the model without
the aliased column), Firth (1993) for the 2 x 2 Firth estimate.
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.meta import centre_odds_ratios, pool_random_effects
from microcalc.analysis.models import absent_levels, aliased_columns, design_matrix, fit_logistic
from microcalc.analysis.results import is_not_estimable, rate_results, regression_results
from microcalc.analysis.stats import (
    MIN_GROUP_SIZE,
    SUPPRESSED,
    compare_groups,
    events_per_variable,
    firth_table,
    group_rates,
    model_estimates,
    suppress_small_groups,
    wilson_ci,
)
from microcalc.analysis.tables import regression_table, suppression_note, table_one


@pytest.fixture
def cohort(glm_data):
    """80 patients: outcome y, factor f (levels a, b, c, and d nobody has), number x, exposure b."""
    return glm_data.assign(f=pd.Categorical(glm_data["f"].astype(str), categories=["a", "b", "c", "d"]))


# ------------------------------------------------------------------ Wilson limits of 0/n and n/n
@pytest.mark.parametrize("n", [1, 5, 15, 20, 313, 10_000])
def test_wilson_ci_of_none_and_all_is_exactly_0_and_1(n):
    lo, hi = wilson_ci(0, n)
    assert float(lo) == 0.0 and 0 < float(hi) < 1
    lo, hi = wilson_ci(n, n)
    assert float(hi) == 1.0 and 0 < float(lo) < 1


def test_wilson_ci_of_an_empty_group_is_nan_and_its_rate_row_not_estimable():
    assert np.isnan(wilson_ci(0, 0)).all()
    df = pd.DataFrame({"g": [True] * 6, "y": [True, False] * 3})
    rates = group_rates(df, "g", "y")
    rows = rate_results(rates, ("r_yes", "r_no"), "rate")
    assert rows[0]["estimate"] == 50 and rows[1]["method"] == "not estimable: no patient with g = no"


# ------------------------------------------------------------------ zero events in one group: separation
def test_zero_events_in_one_group_ml_not_estimable_firth_given():
    a, b, c, d = 12, 0, 5, 9  # nobody exposed is without the outcome
    df = pd.DataFrame(
        {
            "x": pd.array([True] * (a + b) + [False] * (c + d), dtype="boolean"),
            "y": pd.array([True] * a + [False] * b + [True] * c + [False] * d, dtype="boolean"),
        }
    )
    est = model_estimates(df, "y", ["x"])
    assert est.table.loc["x", "kind"] == "separation" and np.isnan(est.table.loc["x", "or"])
    assert est.table.loc["x", "note"].startswith("not estimable: separation")
    firth = firth_table(df, "y", ["x"])
    assert firth.loc["x", "or"] == pytest.approx((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)), rel=1e-5)
    reg = regression_table(df, "y", ["x"])
    rows = regression_results(reg.tidy, "t", {}, reg.n)
    assert [r["method"][:26] for r in rows] == ["not estimable: separation,"] * 2
    # the comparison of the rates is still computed, and 12/12 ends at exactly 100%
    rates = group_rates(df, "x", "y")
    assert rates.loc[0, "ci_high_pct"] == 100.0
    tests = compare_groups([[a, b], [c, d]])
    assert tests["p"].notna().all()


# ------------------------------------------------------------------ an absent factor level
def test_absent_levels_are_dropped_from_the_design_and_reported(cohort):
    assert absent_levels(cohort, ["f", "x"]) == {"f": ["d"]}
    X, names, _ = design_matrix(cohort, ["f", "x"])
    assert names == ["const", "f[b]", "f[c]", "x"]
    reg = regression_table(cohort, "y", ["f", "x", "b"])
    d = reg.tidy[reg.tidy["term"] == "f[d]"]
    assert len(d) == 2 and d["note"].str.contains("no patient in the model's data has f = d").all()
    assert any("no patient in the model's data has d, so that level is dropped" in n for n in reg.notes)
    assert (reg.display.loc[reg.display["level"] == "d", "OR multivariable (95% CI)"] == "dropped (no patients)").all()
    # the other estimates are those of the model without the empty level (R: glm(y ~ f + x + b))
    full = fit_logistic(cohort.assign(f=cohort["f"].cat.remove_unused_categories()), "y", ["f", "x", "b"]).table()
    multi = reg.tidy[reg.tidy["model"] == "multivariable"].set_index("term")
    assert multi.loc["f[b]", "or"] == pytest.approx(full.loc["f[b]", "or"], rel=1e-12)


def test_an_absent_reference_level_hands_the_reference_to_the_next_level(cohort):
    df = cohort[cohort["f"] != "a"]
    est = model_estimates(df, "y", ["f"])
    assert est.reference == {"f": "b"} and list(est.table.index) == ["f[a]", "f[c]", "f[d]"]
    assert np.isfinite(est.table.loc["f[c]", "or"]) and est.table.loc["f[a]", "kind"] == "level absent"
    assert any("b is the reference" in p for p in est.problems)


def test_an_absent_category_of_a_2xk_table_is_dropped_from_its_tests():
    full = compare_groups([[10, 4, 0], [3, 9, 0]], tests=("pearson_chi2", "fisher_exact"))
    two = compare_groups([[10, 4], [3, 9]], tests=("pearson_chi2", "fisher_exact"))
    assert full["p"].to_numpy() == pytest.approx(two["p"].to_numpy(), rel=1e-12)
    assert full["method"].str.endswith("1 category with no patient dropped").all()


# ------------------------------------------------------------------ rank deficiency, told apart from separation
def test_aliased_columns_are_found_in_order_as_R_glm_does():
    i = np.arange(40)
    a = (i % 3 == 0).astype(float)
    X = np.column_stack([np.ones(40), a, i / 10, a, 1 - a, np.zeros(40)])
    assert aliased_columns(X) == {3: [1], 4: [0, 1], 5: []}


def test_rank_deficiency_is_not_estimable_and_not_called_separation(cohort):
    df = cohort.assign(b2=cohort["b"])  # an identical copy of b
    est = model_estimates(df, "y", ["f", "x", "b", "b2"], with_global_p=True)
    assert est.table.loc["b2", "kind"] == "rank-deficient" and not est.separation
    assert (
        est.table.loc["b2", "note"]
        == "not estimable: rank-deficient design: b2 is a linear combination of b in the model's data"
    )
    assert np.isnan(est.global_p["b2"]) and np.isfinite(est.global_p["f"])
    # the rest are the estimates without the copy (R: NA for b2, the others as glm(y ~ f + x + b))
    ref = fit_logistic(cohort, "y", ["f", "x", "b"]).table()
    assert est.table.loc[["f[b]", "f[c]", "x", "b"], "or"].to_numpy() == pytest.approx(
        ref.loc[["f[b]", "f[c]", "x", "b"], "or"].to_numpy(), rel=1e-8
    )
    reg = regression_table(df, "y", ["f", "x", "b", "b2"])
    shown = reg.display["OR multivariable (95% CI)"]
    first = reg.display.index[reg.display["variable"] == "b2"][0]
    assert shown[first] == "Ref" and shown[first + 1] == "not estimable (rank-deficient)"
    assert shown[first - 1][0].isdigit()  # b = yes is estimated
    assert events_per_variable(df, "y", ["f", "x", "b", "b2"]).parameters == 4  # f[b], f[c], x, b
    firth = firth_table(df, "y", ["f", "x", "b", "b2"])
    assert is_not_estimable(firth.loc["b2", "method"]) and np.isfinite(firth.loc["b", "or"])


# ------------------------------------------------------------------ every patient in one exposure group
def test_one_exposure_group_comparisons_are_not_estimable(cohort):
    df = cohort.assign(b=pd.array([True] * len(cohort), dtype="boolean"))
    tests = compare_groups([[30, 50], [0, 0]])
    assert tests["p"].isna().all()
    assert tests["method"].str.startswith("not estimable: no patient in one of the two groups").all()
    reg = regression_table(df, "y", ["f", "x", "b"])
    b = reg.tidy[reg.tidy["term"] == "b"]
    assert b["note"].eq("not estimable: rank-deficient design: every patient in the model has b = yes").all()
    assert reg.tidy.loc[reg.tidy["term"] == "x", "or"].notna().all()


# ------------------------------------------------------------------ one centre
def test_one_centre_cannot_be_pooled_nor_give_cluster_robust_errors(cohort):
    df = cohort.assign(center="001")
    centres = centre_odds_ratios(df, "b", "y", "center")
    pooled = pool_random_effects(centres["log_or"], centres["var"])
    assert pooled.k == 1 and np.isnan(pooled.or_)
    assert pooled.note == "not estimable: pooling needs at least 2 centres with an estimable odds ratio, got 1"
    robust = model_estimates(df, "y", ["f", "x", "b"], cluster="center").table
    assert (
        robust.drop("f[d]")["note"]
        .str.startswith("not estimable: cluster-robust standard errors need at least 2")
        .all()
    )


# ------------------------------------------------------------------ no variation in the outcome, a tiny cohort
def test_an_outcome_nobody_had_is_not_estimable_but_tables_are_computed(cohort):
    df = cohort.head(15).assign(y=pd.array([False] * 15, dtype="boolean"))
    est = model_estimates(df, "y", ["f", "x", "b"])
    assert est.table.drop("f[d]")["note"].eq("not estimable: no patient in the model's data had the outcome (y)").all()
    assert (
        compare_groups([[0, 7], [0, 8]])["method"]
        .str.startswith("not estimable: every patient in the same category")
        .all()
    )
    assert is_not_estimable(firth_table(df, "y", ["f", "x", "b"]).loc["x", "method"])


# ------------------------------------------------------------------ small groups: continuous summaries suppressed
def test_suppress_small_groups_masks_cells_under_the_threshold():
    summary = pd.DataFrame({"yes": ["47 [40,55]"], "no": ["51 [44,60]"]})
    sizes = pd.DataFrame({"yes": [MIN_GROUP_SIZE - 1], "no": [MIN_GROUP_SIZE]})
    out = suppress_small_groups(summary, sizes)
    assert out.loc[0, "yes"] == SUPPRESSED and out.loc[0, "no"] == "51 [44,60]"
    assert SUPPRESSED == "suppressed (n < 10)"


def test_table_one_shows_no_age_summary_of_fewer_than_ten_patients():
    ages = [31, 44, 58, 62, 70]  # five patients in the exposed group: their ages must not be readable
    df = pd.DataFrame(
        {
            "age": pd.array(ages + list(range(40, 52)), dtype="Int64"),
            "g": pd.array([True] * 5 + [False] * 12, dtype="boolean"),
            "m": pd.array([True, False] * 8 + [True], dtype="boolean"),
        }
    )
    t = table_one(df, "g", ["age", "m"], nonnormal=["age"])
    age = t.loc[[r for r in t.index if r[0].startswith("age")]].iloc[0]
    cols = {c[1]: v for c, v in age.items()}
    assert cols["yes"] == SUPPRESSED and cols["SMD (yes,no)"] == SUPPRESSED
    assert cols["no"] != SUPPRESSED and cols["Overall"] != SUPPRESSED
    text = t.to_csv()
    assert not any(str(a) in text.split("m, n (%)")[0].split("age")[1] for a in ages)
    assert "2 cells suppressed" in suppression_note(t).replace("**", "")  # the summary and its SMD
    assert "every group here is large enough" in suppression_note(
        table_one(df.assign(g=True), "g", ["age"], nonnormal=["age"])
    )


def test_table_one_with_one_group_leaves_out_the_tests():
    df = pd.DataFrame(
        {"age": pd.array(list(range(40, 60)), dtype="Int64"), "g": pd.array([True] * 20, dtype="boolean")}
    )
    t = table_one(df, "g", ["age"], nonnormal=["age"])
    assert [c[1] for c in t.columns] == ["Missing", "Overall", "yes"]
