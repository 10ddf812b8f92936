"""The inference of issue 13 on sparse data: each function says "not estimable: <reason>" instead of raising.

Small constructed data (fast). Classes as ``tests/inputs/sparse/README.md``:
separation (a covariate equal to the outcome), a rank-deficient design (a
column that copies another), one exposure group, one centre, few patients.
References: R's ``glm`` on a rank-deficient design reports the aliased
coefficient as ``NA`` and every other one as in the model without that column
(``glm(y ~ b + f + x + x2, binomial)`` with ``x2 <- x`` equals
``glm(y ~ b + f + x, binomial)``), so the computable analyses here must equal
the same analyses without the copy; under separation R's ``glm`` warns
"fitted probabilities numerically 0 or 1 occurred" and gives no
maximum-likelihood estimate, so nothing built on that fit is estimable;
``mantelhaen.test`` and ``rma`` need at least 2 strata / studies.
"""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from microcalc.analysis import inference_rows as rows_of
from microcalc.analysis.clustered import cluster_robust_table, cluster_sentence, leave_one_centre_out_models
from microcalc.analysis.effects import (
    crude_to_adjusted,
    decomposition_sentence,
    evalue_sentence,
    mediator_sentence,
    model_without,
    same_sample_table,
    standardised_effects,
    standardised_sentence,
)
from microcalc.analysis.imputation import (
    exposure_or_sensitivity,
    impute_and_pool,
    missingness_association,
    sensitivity_sentence,
)
from microcalc.analysis.meta import (
    PooledOR,
    centre_odds_ratios,
    heterogeneity_sentence,
    leave_one_centre_out,
    pooling_comparison,
    pooling_fits,
    pooling_sentence,
)
from microcalc.analysis.multiplicity import category_contrast_sentence
from microcalc.analysis.performance import (
    bootstrap_validation,
    checks_sentence,
    hosmer_lemeshow,
    interaction_lr_test,
    model_checks,
    model_predictions,
    plot_calibration,
    vif,
)
from microcalc.analysis.results import is_not_estimable, write_results
from microcalc.analysis.tables import or_text

matplotlib.use("Agg")

TERMS = ["b", "f", "x"]


@pytest.fixture
def data(inference_data):
    return inference_data


@pytest.fixture
def separated(data):
    """A covariate equal to the outcome: complete separation, no maximum-likelihood model."""
    return data.assign(s=data["y"])


@pytest.fixture
def aliased(data):
    """x2 copies x: a rank-deficient design (R: x2 is NA, the rest as without it)."""
    return data.assign(x2=data["x"])


def _all_nan(values) -> bool:
    return bool(np.isnan(np.asarray(values, dtype=float)).all())


def _rows_are_not_estimable(rows, start="not estimable: "):
    assert rows and all(r["method"].startswith(start) for r in rows), [r["method"] for r in rows]
    assert all(_all_nan([r["estimate"], r["ci_low"], r["ci_high"], r["p"]]) for r in rows)


# ------------------------------------------------------------------ effects
def test_evalue_sentence_of_a_not_estimable_or_says_so_and_still_refuses_an_impossible_one():
    ev = evalue_sentence(np.nan, np.nan, np.nan, False, "b", "y", reason="not estimable: separation, x")
    assert np.isnan(ev.estimate) and np.isnan(ev.ci_limit) and not ev.robust
    assert ev.sentence == "E-value of b for y: not estimable: separation, x."
    assert "not estimable: the OR of b is not estimable" in evalue_sentence(2.0, 1.1, np.inf, True, "b", "y").sentence
    with pytest.raises(ValueError, match="inside its CI"):
        evalue_sentence(3.0, 1.1, 2.0, True, "b", "y")


def test_same_sample_split_under_separation_is_not_estimable_with_its_reason(separated):
    same = same_sample_table(separated, "y", ["b", "x", "s"])
    assert same.table.loc["s", "note_all"].startswith("not estimable: separation")
    assert np.isfinite(same.table.loc["x", "or_all"])  # the univariable ORs that exist are given
    split = crude_to_adjusted(same)
    assert split.loc["b", "note"].startswith("not estimable: separation") and np.isnan(split.loc["b", "total"])
    assert "change of sample and adjustment: not estimable: separation" in decomposition_sentence(split, "b")
    rows = rows_of.same_sample_rows(same, split, "toy", "b", "b")
    assert [r["id"] for r in rows] == ["toy_or_b_uni_same", "toy_logor_b_change_of_sample", "toy_logor_b_adjustment"]
    assert np.isfinite(rows[0]["estimate"]) and np.isfinite(rows[1]["estimate"])  # both univariable ORs exist
    _rows_are_not_estimable(rows[2:], "not estimable: separation")  # the adjusted one does not


def test_standardised_effects_leave_an_aliased_column_out_as_R_glm_does(data, aliased):
    with_copy = standardised_effects(aliased, "y", TERMS + ["x2"], "b")
    without = standardised_effects(data, "y", TERMS, "b")
    pd.testing.assert_frame_equal(with_copy.table, without.table, rtol=1e-9)
    assert with_copy.method == without.method


def test_standardised_effects_of_one_exposure_group_or_separation_are_not_estimable(data, separated):
    std = standardised_effects(data.assign(b=pd.array([True] * 80, dtype="boolean")), "y", TERMS, "b")
    assert std.method == "not estimable: rank-deficient design: every patient in the model has b = yes"
    assert std.table.isna().all().all() and std.n == 80
    assert standardised_sentence(std, "b", "y").endswith(": " + std.method + ".")
    rows = rows_of.standardised_rows(std, "toy", "b")
    assert [r["id"] for r in rows] == ["toy_risk_b_exposed", "toy_risk_b_unexposed", "toy_rd_b", "toy_rr_b"]
    _rows_are_not_estimable(rows, "not estimable: rank-deficient design")
    sep = standardised_effects(separated, "y", ["b", "x", "s"], "b")
    assert sep.method.startswith("not estimable: separation")


def test_model_without_and_the_mediator_sentence_carry_the_reason(separated):
    fit = model_without(separated, "y", ["b", "x", "s", "f"], "f")
    assert fit.table.loc["b", "note"].startswith("not estimable: separation") and np.isnan(fit.table.loc["b", "or"])
    adjusted = pd.Series({"or": np.nan, "ci_low": np.nan, "ci_high": np.nan, "note": "not estimable: separation, s"})
    text = mediator_sentence(adjusted, fit, "b", "f")
    assert (
        text.startswith("The OR of b without f (80 patients") and "; with them: not estimable: separation, s." in text
    )
    _rows_are_not_estimable(rows_of.without_rows(fit, "toy_or_b_without_f", "b"), "not estimable: separation")


# ------------------------------------------------------------------ imputation
def test_imputation_under_separation_is_not_estimable_and_so_is_every_sensitivity_row(separated):
    mi = impute_and_pool(separated, "y", ["b", "x", "s", "z"], "z", m=3, seed=1)
    assert mi.pooled is None and mi.method.startswith("not estimable: the model without z cannot be fitted (separation")
    assert mi.table.isna().all().all() and list(mi.table.index) == ["b", "x", "s", "z"]
    sens = exposure_or_sensitivity(separated, "y", ["b", "x", "s", "z"], "b", "z", m=3, seed=1)
    assert sens["method"].map(is_not_estimable).all() and sens[["or", "ci_low", "ci_high", "p"]].isna().all().all()
    assert sensitivity_sentence(sens, "b").endswith("Across these analyses none gives an estimate.")
    _rows_are_not_estimable(rows_of.sensitivity_rows(sens, "toy", "b"))


def test_imputation_with_an_aliased_column_pools_the_rest(data, aliased):
    # as mice (remove.collinear = TRUE) the copy is also left out of the imputation model
    with_copy = impute_and_pool(aliased, "y", TERMS + ["x2", "z"], "z", m=3, seed=1)
    without = impute_and_pool(data, "y", TERMS + ["z"], "z", m=3, seed=1)
    assert with_copy.table.loc["x2"].isna().all()
    pd.testing.assert_frame_equal(with_copy.table.drop(index="x2"), without.table, rtol=1e-6)


def test_nothing_to_impute_is_said_and_a_missingness_table_with_an_empty_group_is_not_estimable(data):
    complete = data.assign(z=data["z"].fillna(False))
    sens = exposure_or_sensitivity(complete, "y", TERMS + ["z"], "b", "z", m=3)
    assert sens.loc[2, "method"] == "not estimable: no patient of the model lacks z: there is nothing to impute"
    assert np.isfinite(sens.loc[:1, "or"]).all()
    one_group = data.assign(b=pd.array([True] * 80, dtype="boolean"))
    missing = missingness_association(one_group, "z", ["b", "y"])
    assert missing.table.loc["b", "note"] == "not estimable: no patient with b = no" and np.isnan(
        missing.table.loc["b", "p"]
    )
    assert "and no patients without (Fisher P not estimable" in missing.sentence
    assert np.isfinite(missing.table.loc["y", "p"])
    rows = rows_of.missingness_rows(missing, "toy")
    _rows_are_not_estimable(rows[:1])
    # a zero cell: the Wald OR does not exist, Fisher's exact P does (a second row under the same id)
    zero = data.assign(z=data["z"].where(~data["b"].astype(bool), True))
    cell = missingness_association(zero, "z", ["b"])
    rows = rows_of.missingness_rows(cell, "toy")
    assert [r["id"] for r in rows] == ["toy_or_recorded_b"] * 2
    _rows_are_not_estimable(rows[:1], "not estimable: a zero cell")
    assert rows[1]["p"] == cell.table.loc["b", "p"] and rows[1]["method"] == "Fisher's exact test, two-sided"


# ------------------------------------------------------------------ model checks
def test_model_checks_under_separation_are_not_estimable_and_the_plot_says_so(separated, tmp_path):
    checks = model_checks(separated, "y", ["b", "x", "s"], interactions=[("b", "x")], n_boot=5, seed=1)
    assert checks.note.startswith("not estimable: separation")
    assert np.isnan(checks.c.c) and checks.validation.table["corrected"].isna().all()
    assert checks_sentence(checks) == f"Discrimination, calibration and collinearity of the model: {checks.note}."
    assert checks.hosmer_lemeshow.sentence.startswith("Hosmer-Lemeshow test: not estimable: separation")
    assert checks.interactions[0].sentence.startswith("Interaction b x x: not estimable: separation")
    rows = rows_of.model_check_rows(checks, "toy")
    assert {r["id"] for r in rows} >= {"toy_c_statistic", "toy_hosmer_lemeshow", "toy_gvif_b", "toy_interaction_b_x"}
    _rows_are_not_estimable(rows, "not estimable: separation")
    ax = plot_calibration(checks.y, checks.p)
    assert [t.get_text() for t in ax.texts] == ["not estimable"]
    ax.figure.savefig(tmp_path / "c.png")


def test_model_checks_of_a_rank_deficient_model_equal_those_without_the_copy(data, aliased):
    y1, p1 = model_predictions(aliased, "y", TERMS + ["x2"])
    y0, p0 = model_predictions(data, "y", TERMS)
    np.testing.assert_allclose(p1, p0, rtol=1e-9)
    v = vif(aliased, "y", TERMS + ["x2"])
    assert np.isnan(v.loc["x2", "gvif"]) and v.loc["x2", "df"] == 0
    pd.testing.assert_frame_equal(v.drop(index="x2"), vif(data, "y", TERMS), rtol=1e-6)
    rows = rows_of.model_check_rows(model_checks(aliased, "y", TERMS + ["x2"], n_boot=5, seed=1), "toy")
    gvif = next(r for r in rows if r["id"] == "toy_gvif_x2")
    assert gvif["method"] == "not estimable: every column of x2 is aliased (rank-deficient design)"
    inter = interaction_lr_test(aliased, "y", TERMS + ["x2"], "x", "x2")  # x * x2 = x^2 varies: estimable
    assert np.isfinite(inter.statistic)
    none = interaction_lr_test(data.assign(c=1.0), "y", TERMS + ["c"], "b", "c")  # b * c = b: aliased
    assert np.isnan(none.p) and "not estimable: no product of b and c varies" in none.sentence


def test_hosmer_lemeshow_with_fewer_than_3_risk_groups_and_a_bootstrap_that_never_fits(data):
    y = np.array([0, 1, 0, 1, 1, 0], dtype=float)
    hl = hosmer_lemeshow(y, np.array([0.3, 0.3, 0.3, 0.6, 0.6, 0.6]))
    assert np.isnan(hl.statistic) and hl.groups == 2
    assert (
        hl.sentence
        == "Hosmer-Lemeshow test: not estimable: only 2 distinct groups of predicted risk (the test needs at least 3)."
    )
    no_event = np.flatnonzero(~data["y"].astype(bool).to_numpy())
    samples = np.tile(no_event[:1], (4, 80))  # every resample one patient without the outcome: nothing to fit
    v = bootstrap_validation(data, "y", TERMS, samples=samples)
    assert (
        v.n_used == 0
        and v.method == "not estimable: none of the 4 bootstrap samples drawn (seed 20230314) could be fitted"
    )
    assert v.table["corrected"].isna().all() and np.isfinite(v.table["apparent"]).all()


# ------------------------------------------------------------------ centres
def test_one_centre_gives_no_pooling_no_cluster_robust_errors_and_no_leave_one_out(data):
    one = data.assign(g="A")
    centres = centre_odds_ratios(one, "b", "y", "g")
    fits = pooling_fits(centres)
    assert all(is_not_estimable(f.method) and np.isnan(f.or_) for _, f in fits.items())
    assert (
        fits.reml_hksj.method == "not estimable: pooling needs at least 2 centres with an estimable odds ratio, got 1"
    )
    assert np.isfinite(fits.mantel_haenszel.k)
    table = pooling_comparison(fits)
    assert pooling_sentence(table).startswith(
        "Pooling over centres by REML with the Hartung-Knapp-Sidik-Jonkman CI: "
        "not estimable: pooling needs at least 2 centres"
    )
    assert heterogeneity_sentence(fits.reml_hksj).startswith("Between-centre heterogeneity: not estimable")
    rows = rows_of.pooled_rows(fits.reml_hksj, "toy_or_b_pooled_reml", 80)
    assert [r["id"] for r in rows] == ["toy_or_b_pooled_reml"]
    _rows_are_not_estimable(rows, "not estimable: pooling needs at least 2 centres")
    loo = leave_one_centre_out(centres)
    assert loo.loc[0, "note"].startswith("not estimable: REML: pooling needs at least 2 centres")
    _rows_are_not_estimable(rows_of.leave_one_out_rows(loo, "toy", "b", "pooled"))
    models = leave_one_centre_out_models(one, "y", TERMS, "g", "b")
    assert models.loc[0, "note"] == "not estimable: no patient has every variable of the model"
    _rows_are_not_estimable(rows_of.leave_one_out_rows(models, "toy", "b", "multivariable"))
    cr = cluster_robust_table(one, "y", TERMS, "g")
    assert cluster_sentence(cr, "b").startswith(f"Cluster-robust SEs by centre for the OR of b: {cr.method}.")
    _rows_are_not_estimable(rows_of.cluster_rows(cr, "toy_or_b_cluster", "b"), "not estimable: cluster-robust")


def test_cluster_robust_errors_leave_an_aliased_column_out_and_say_separation(data, aliased, separated):
    with_copy = cluster_robust_table(aliased, "y", TERMS + ["x2"], "g")
    without = cluster_robust_table(data, "y", TERMS, "g")
    assert with_copy.table.loc["x2", "note"].startswith("not estimable: rank-deficient design")
    cols = ["or", "se", "ci_low", "ci_high", "p", "se_model"]
    pd.testing.assert_frame_equal(with_copy.table.drop(index="x2")[cols], without.table[cols], rtol=1e-6)
    sep = cluster_robust_table(separated, "y", ["b", "x", "s"], "g")
    assert sep.method.startswith("not estimable: separation") and sep.label.endswith("(not estimable)")


def test_a_mantel_haenszel_centre_of_one_patient_and_an_empty_group_share_are_said(data):
    tiny = data.iloc[:41].assign(g=["A"] * 20 + ["B"] * 20 + ["C"])
    fits = pooling_fits(centre_odds_ratios(tiny, "b", "y", "g"))
    assert fits.mantel_haenszel.method == (
        "not estimable: the Mantel-Haenszel test needs at least 2 patients in every centre"
    )
    counts = pd.DataFrame([[3, 1, 2], [0, 0, 0]], index=[True, False], columns=["u", "v", "w"])
    text = category_contrast_sentence("u", counts, 0.2, "Fisher", np.nan, "FFH")
    assert "(50.0% vs no patients)" in text and "(FFH, P not estimable)" in text


def test_pooled_or_unestimable_and_or_text_without_a_limit():
    p = PooledOR.unestimable(3, "too few")
    assert p.method == "not estimable: too few" and p.k == 3 and np.isnan(p.or_) and np.isnan(p.pi_low)
    assert or_text(pd.Series({"or": 1.894, "ci_low": np.nan, "ci_high": 294.99, "p": 0.5})) == "1.89 (CI not estimable)"


def test_not_estimable_rows_write_as_one_results_file(separated, tmp_path):
    std = standardised_effects(separated, "y", ["b", "x", "s"], "b")
    checks = model_checks(separated, "y", ["b", "x", "s"], n_boot=5, seed=1)
    path = write_results(
        rows_of.standardised_rows(std, "toy", "b") + rows_of.model_check_rows(checks, "toy"), "toy", tmp_path
    )
    frame = pd.read_csv(path)
    assert frame["method"].str.startswith("not estimable: separation").all()


def test_share_line_says_the_reproducing_test_or_why_there_is_no_p():
    from microcalc.analysis.multiplicity import share_line
    from microcalc.analysis.stats import category_comparison

    counts = pd.DataFrame([[6, 2, 2], [3, 3, 4]], index=[True, False], columns=["u", "v", "w"])
    tests = category_comparison(counts, "u", {"2x3": ["fisher_exact"]}, ["pearson_chi2"])
    p = tests.loc[(tests["comparison"] == "2x3") & (tests["test"] == "fisher_exact"), "p"].iloc[0]
    assert share_line(counts, "u", tests, ("60%", "30%"), "P = 0.3") == (
        f"u: 60.0% vs 30.0% (fisher_exact on the 2x3 table, P = {p:.3f}); the paper printed 60% vs 30%, P = 0.3."
    )
    names = {"fisher_exact": "Fisher's exact test", "u": "category U"}
    assert share_line(counts, "u", tests, ("60%", "30%"), "P = 0.3", names=names).startswith(
        "category U: 60.0% vs 30.0% (Fisher's exact test on the 2x3 table, P = "
    )
    empty = counts.assign(u=[6, 0], v=[2, 0], w=[2, 0])
    text = share_line(empty, "u", category_comparison(empty, "u", {}, []), ("60%", "30%"), "P = 0.3")
    assert text.startswith("u: 60.0% vs no patients (pearson_chi2 on the 2x3 table, not estimable: no patient in one")


def test_secondary_comparisons_drop_an_empty_category_and_give_no_p_for_an_empty_group():
    from microcalc.analysis.multiplicity import secondary_comparisons

    full = pd.DataFrame([[7, 3, 0], [2, 6, 0]], index=[True, False], columns=["u", "v", "w"])
    dropped = secondary_comparisons({"t": full}).table.loc["t"]
    reduced = secondary_comparisons({"t": full[["u", "v"]]}).table.loc["t"]
    assert dropped["comparison"] == "2 x 3, all categories; 1 category with no patient dropped"
    assert dropped["p_chi2"] == reduced["p_chi2"] and dropped["p_exact"] == reduced["p_exact"]
    one_group = pd.DataFrame([[7, 3, 2], [0, 0, 0]], index=[True, False], columns=["u", "v", "w"])
    sec = secondary_comparisons({"t": one_group, "s": full}, {"t": "u"})
    assert sec.table.loc[["t", "t_u"], ["p_chi2", "p_exact", "p_holm", "p_bh"]].isna().all().all()
    assert (sec.table.loc[["t", "t_u"], "sparse"] == "not estimable: no patient in one of the two groups").all()
    assert sec.adjusted.family_size == 1 and sec.table.loc["s", "p_holm"] == sec.table.loc["s", "p_exact"]
    rows = [r for r in rows_of.secondary_rows(sec) if r["id"].startswith("t_") and r["id"].endswith(("holm", "bh"))]
    _rows_are_not_estimable(rows, "not estimable: no patient in one of the two groups")
