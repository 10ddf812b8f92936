"""Results rows of the issue-13 inference: ids, values copied unchanged, a file write_results accepts."""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis import inference_rows as rows_of
from microcalc.analysis.clustered import cluster_robust_table, leave_one_centre_out_models
from microcalc.analysis.effects import crude_to_adjusted, same_sample_table, standardised_effects
from microcalc.analysis.imputation import exposure_or_sensitivity
from microcalc.analysis.meta import centre_odds_ratios, leave_one_centre_out, pool_reml_hksj
from microcalc.analysis.multiplicity import adjust_p
from microcalc.analysis.performance import model_checks
from microcalc.analysis.results import read_results, write_results

TERMS = ["b", "f", "x", "z"]


@pytest.fixture
def data(inference_data):
    return inference_data


def test_rows_carry_the_estimates_unchanged_and_write_as_one_results_file(data, tmp_path):
    same = same_sample_table(data, "y", TERMS)
    std = standardised_effects(data, "y", TERMS, "b")
    sens = exposure_or_sensitivity(data, "y", TERMS, "b", "z", m=5, seed=1)
    checks = model_checks(data, "y", TERMS, interactions=[("b", "f")], n_boot=10, seed=1)
    cr = cluster_robust_table(data, "y", TERMS, "g")
    centres = centre_odds_ratios(data, "b", "y", "g")
    pooled = pool_reml_hksj(centres["log_or"], centres["var"])
    adj = adjust_p([0.01, 0.04], labels=["cmp_a", "cmp_b"])
    rows = (
        rows_of.same_sample_rows(same, crude_to_adjusted(same), "toy", "b", "b")
        + rows_of.standardised_rows(std, "toy", "b")
        + rows_of.sensitivity_rows(sens, "toy", "b")
        + rows_of.model_check_rows(checks, "toy")
        + rows_of.pooled_rows(pooled, "toy_or_b_pooled_reml", 80)
        + rows_of.cluster_rows(cr, "toy_or_b_cluster", "b")
        + rows_of.leave_one_out_rows(
            leave_one_centre_out_models(data, "y", TERMS, "g", "b"), "toy", "b", "multivariable"
        )
        + rows_of.leave_one_out_rows(leave_one_centre_out(centres), "toy", "b", "pooled")
        + rows_of.adjusted_p_rows(adj)
    )
    written = read_results(write_results(rows, "toy_results", tmp_path)).set_index("id")
    assert written.loc["toy_or_b_uni_same", "estimate"] == pytest.approx(same.table.loc["b", "or_same"], rel=1e-9)
    assert written.loc["toy_rd_b", "estimate"] == pytest.approx(
        100 * std.table.loc["risk_difference", "estimate"], rel=1e-9
    )
    assert written.loc["toy_or_b_imputed", "n"] == 80 and "toy_or_b_without_z" in written.index
    assert written.loc["toy_c_statistic", "ci_low"] == pytest.approx(checks.c.ci_low, rel=1e-9)
    assert written.loc["toy_or_b_pooled_reml_pi", "ci_high"] == pytest.approx(pooled.pi_high, rel=1e-9)
    assert "unreliable" in written.loc["toy_or_b_cluster", "method"]
    assert written.loc["cmp_b_p_holm", "p"] == pytest.approx(0.04) and written.loc[
        "cmp_a_p_holm", "p"
    ] == pytest.approx(0.02)
    assert {
        "toy_or_b_multivariable_without_0",
        "toy_or_b_pooled_without_3",
        "toy_gvif_f",
        "toy_interaction_b_f",
    } <= set(written.index)
    assert not written.index.duplicated().any()


def test_rows_of_a_model_without_terms_and_of_secondary_comparisons(data):
    from microcalc.analysis.effects import model_without
    from microcalc.analysis.multiplicity import secondary_comparisons

    fit = model_without(data, "y", TERMS, "z")
    row = rows_of.without_rows(fit, "toy_or_b_without_z", "b")[0]
    assert row["estimate"] == pytest.approx(fit.table.loc["b", "or"], rel=1e-12) and row["n"] == fit.n
    counts = pd.DataFrame([[56, 7, 8], [17, 3, 8]], index=[True, False], columns=["lytic", "blastic", "mixed"])
    sc = secondary_comparisons({"type": counts}, {"type": "lytic"})
    rows = {r["id"]: r for r in rows_of.secondary_rows(sc, {"type": 99})}
    assert rows["type_min_expected"]["estimate"] == pytest.approx(2.828282828, rel=1e-9)  # R chisq.test()$expected
    assert rows["type_p_holm"]["p"] == pytest.approx(sc.table.loc["type", "p_holm"]) and rows["type_p_bh"]["n"] == 99
    std = standardised_effects(data, "y", TERMS, "b")
    named = rows_of.standardised_rows(std, "toy", "b", measure="proportion with recorded y")
    assert named[2]["quantity"] == "adjusted difference in the proportion with recorded y (percentage points)"
    assert all("risk" not in r["quantity"] for r in named)


def test_proportion_rows_give_the_percentage_of_the_total():
    """256 of 313 = 81.789...% (by hand: 100 * 256 / 313 = 81.78913738)."""
    row = rows_of.proportion_rows("toy_assessed", "patients assessed (%)", 256, 313, "proportion of the cohort")[0]
    assert row["estimate"] == pytest.approx(81.78913738, rel=1e-9) and row["n"] == 313
    assert row["id"] == "toy_assessed" and row["method"] == "proportion of the cohort"
    assert row["estimator"] == "proportion" and np.isnan(row["ci_low"]) and np.isnan(row["p"])


def test_random_effects_rows_copy_the_pooled_or_and_say_tau2_or_why_not(data, tmp_path):
    from microcalc.analysis.meta import pool_random_effects

    centres = centre_odds_ratios(data, "b", "y", "g")
    pooled = pool_random_effects(centres["log_or"], centres["var"])
    row = rows_of.random_effects_rows(pooled, "toy_or_b_pooled_dl", "b", 80)[0]
    assert [row[k] for k in ("estimate", "ci_low", "ci_high", "p")] == pytest.approx(
        [pooled.or_, pooled.ci_low, pooled.ci_high, pooled.p], rel=1e-12
    )
    assert row["quantity"] == "OR, b, pooled over centres" and row["n"] == 80
    assert row["method"] == (
        f"DerSimonian-Laird random effects over 4 centres; tau2 {pooled.tau2:.4g}, I2 {pooled.i2:.1f}%"
    )
    alone = rows_of.random_effects_rows(pool_random_effects([0.5], [0.1]), "toy_or_b_pooled_dl", "b", 20)[0]
    assert alone["method"].startswith("not estimable: pooling needs at least 2 centres") and np.isnan(alone["estimate"])
    write_results([row, alone | {"id": "toy_alone"}], "toy_results", tmp_path)


def test_covariate_model_rows_copy_the_or_and_keep_a_not_estimable_note():
    row = pd.Series({"or": 2.29, "ci_low": 1.39, "ci_high": 3.78, "p": 0.0012, "note": ""})
    out = rows_of.covariate_model_rows(row, "toy_or_b_centre", "b", 1182, "centre")[0]
    assert (out["estimate"], out["ci_low"], out["ci_high"], out["p"], out["n"]) == (2.29, 1.39, 3.78, 0.0012, 1182)
    assert out["quantity"] == "OR, b, multivariable + centre"
    assert out["method"] == "logistic regression, Wald 95% CI, centre as covariate"
    aliased = row.copy()
    aliased[["or", "ci_low", "ci_high", "p"]] = np.nan
    aliased["note"] = "not estimable: separation"
    assert rows_of.covariate_model_rows(aliased, "x", "b", 10, "centre")[0]["method"] == "not estimable: separation"
