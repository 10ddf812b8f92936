r"""Rubin's rules against a hand computation in R, and the multiple-imputation pipeline's promises.

Rubin's rules with Barnard-Rubin degrees of freedom, computed by hand in R
4.2.2 as ``mice::pool`` does (``mice:::barnard.rubin``), printed with
``sprintf("%.15g")``:

    q <- rbind(c(0.52, -1.10), c(0.61, -0.95), c(0.47, -1.22), c(0.58, -1.01), c(0.66, -1.15))
    u <- rbind(c(0.040, 0.090), c(0.042, 0.085), c(0.039, 0.094), c(0.041, 0.088), c(0.043, 0.091))
    m <- nrow(q); dfcom <- 50
    qbar <- colMeans(q); ubar <- colMeans(u); b <- apply(q, 2, var); t <- ubar + (1 + 1 / m) * b
    lambda <- (1 + 1 / m) * b / t; riv <- (1 + 1 / m) * b / ubar
    dfold <- (m - 1) / lambda^2
    dfobs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda)
    df <- dfold * dfobs / (dfold + dfobs)
    fmi <- (riv + 2 / (df + 3)) / (1 + riv)
    se <- sqrt(t); crit <- qt(0.975, df)
    c(qbar, ubar, b, t, df, riv, lambda, fmi, qbar - crit * se, qbar + crit * se,
      2 * pt(abs(qbar / se), df, lower.tail = FALSE), dfold)

Missingness by exposure and outcome (R 4.2.2; ``d``, ``lr`` and ``out`` as in
``tests/test_effects_against_R.py``):

    d$x[i %% 6 == 0 | (d$y == 1 & i %% 7 == 0)] <- NA
    rec <- as.integer(!is.na(d$x))
    fy <- lr(rec ~ y, d); fb <- lr(rec ~ b, d)
    out(c(or_y = exp(c(coef(fy)[2], confint.default(fy)[2, ])), p_y = fisher.test(table(d$y, rec))$p.value,
          or_b = exp(c(coef(fb)[2], confint.default(fb)[2, ])), p_b = fisher.test(table(d$b, rec))$p.value,
          rec_y1 = sum(rec[d$y == 1]), n_y1 = sum(d$y == 1)))

The imputation itself (statsmodels' MICEData) has no base-R counterpart
(``mice`` is not a base or recommended package); its tests check what it
promises: seeded reproducibility, imputed values that are observed yes/no
values, the patients used, and the complete-case row of the sensitivity table
against ``glm``.
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.imputation import exposure_or_sensitivity, impute_and_pool, missingness_association, rubin_pool
from microcalc.analysis.models import fit_logistic

REL = 1e-9
Q = [[0.52, -1.10], [0.61, -0.95], [0.47, -1.22], [0.58, -1.01], [0.66, -1.15]]
U = [[0.040, 0.090], [0.042, 0.085], [0.039, 0.094], [0.041, 0.088], [0.043, 0.091]]
R = {
    "estimate": (0.568, -1.086),
    "within": (0.041, 0.0896),
    "between": (0.00557, 0.01163),
    "total": (0.047684, 0.103556),
    "df": (34.3822586110386, 35.0112634961172),
    "riv": (0.163024390243903, 0.155758928571429),
    "lambda_": (0.140172804294942, 0.134767661941365),
    "fmi": (0.186174690090636, 0.180292712070099),
    "ci_low": (0.124407207895613, -1.73928361566342),
    "ci_high": (1.01159279210439, -0.432716384336577),
    "p": (0.0136061243044394, 0.00181888481238812),
}
R_DF_RUBIN = (203.578761288871, 220.236148478274)


def test_rubins_rules_with_barnard_rubin_df_against_R():
    pooled = rubin_pool(Q, U, dfcom=50)
    for field, ref in R.items():
        assert getattr(pooled, field) == pytest.approx(ref, rel=REL), field
    assert pooled.m == 5


def test_rubins_rules_without_complete_data_df_use_rubins_1987_df_against_R():
    assert rubin_pool(Q, U).df == pytest.approx(R_DF_RUBIN, rel=REL)


def test_rubins_rules_refuse_a_single_imputation_and_mismatched_shapes():
    with pytest.raises(ValueError, match="at least 2"):
        rubin_pool([[0.1]], [[0.01]])
    with pytest.raises(ValueError, match="shape"):
        rubin_pool(Q, U[:3])


@pytest.fixture
def data(glm_data):
    d = glm_data.copy()
    d["b"] = d["b"].astype("boolean")
    d.loc[np.arange(80) % 6 == 0, "b"] = pd.NA  # 14 patients miss b
    return d


def test_imputation_is_reproducible_with_its_seed_and_changes_with_another(data):
    a = impute_and_pool(data, "y", ["x", "f", "b"], "b", m=20, seed=11)
    again = impute_and_pool(data, "y", ["x", "f", "b"], "b", m=20, seed=11)
    other = impute_and_pool(data, "y", ["x", "f", "b"], "b", m=20, seed=12)
    pd.testing.assert_frame_equal(a.table, again.table)
    assert not np.allclose(a.table["or"], other.table["or"])
    assert (a.n, a.n_missing, a.events, a.m) == (80, 14, 42, 20)
    assert (a.table["fmi"] >= 0).all() and (a.table["fmi"] < 1).all()


def test_imputation_refuses_a_covariate_with_nothing_missing(glm_data):
    with pytest.raises(ValueError, match="nothing to impute"):
        impute_and_pool(glm_data, "y", ["x", "b"], "b")


def test_sensitivity_table_has_complete_case_without_and_imputed_rows(data):
    before = data.copy()
    table = exposure_or_sensitivity(data, "y", ["x", "f", "b"], "x", "b", m=20, seed=3)
    pd.testing.assert_frame_equal(data, before)
    assert list(table["analysis"]) == ["complete case", "without b", "b imputed (m = 20)"]
    assert list(table["n"]) == [66, 80, 80]
    cc = fit_logistic(data, "y", ["x", "f", "b"]).table().loc["x"]
    assert table.loc[0, ["or", "ci_low", "ci_high"]].to_numpy(float) == pytest.approx(
        cc[["or", "ci_low", "ci_high"]].to_numpy(float), rel=1e-12
    )
    assert np.isfinite(table[["or", "ci_low", "ci_high", "p"]].to_numpy(float)).all()


def test_missingness_by_exposure_and_outcome_against_R(glm_data):
    i = np.arange(80)
    d = glm_data.copy()
    d.loc[(i % 6 == 0) | (d["y"].astype(bool).to_numpy() & (i % 7 == 0)), "x"] = np.nan
    m = missingness_association(d, "x", ["y", "b"])
    t = m.table
    assert t.loc["y", ["or", "ci_low", "ci_high"]].to_numpy(float) == pytest.approx(
        (0.249999999999999, 0.0862006246876794, 0.72505275021438), rel=1e-6
    )
    assert t.loc["y", "p"] == pytest.approx(0.0137472545262901, rel=1e-6)
    assert t.loc["b", ["or", "ci_low", "ci_high"]].to_numpy(float) == pytest.approx(
        (3.05128205128205, 0.801272290945858, 11.6194235863138), rel=1e-6
    )
    assert t.loc["b", "p"] == pytest.approx(0.157228222815195, rel=1e-6)
    assert (t.loc["y", "recorded_yes"], t.loc["y", "n_yes"]) == (24, 42)
    assert "related to y" in m.sentence and "not missing completely at random" in m.sentence


def test_sensitivity_sentence_says_each_or_and_whether_the_conclusion_depends_on_the_analysis():
    from microcalc.analysis.imputation import sensitivity_sentence

    table = pd.DataFrame(
        {
            "analysis": ["complete case", "without z", "z imputed (m = 20)"],
            "n": [66, 80, 80],
            "or": [2.4, 1.9, 1.6],
            "ci_low": [1.2, 1.1, 0.93],
            "ci_high": [4.8, 3.3, 2.9],
            "p": [0.013, 0.018, 0.084],
        }
    )
    text = sensitivity_sentence(table, "b")
    assert text.startswith("Adjusted OR of b, complete case: 2.40 (1.20-4.80, P = 0.013; 66 patients)")
    assert "the CI includes 1 under z imputed (m = 20)" in text
    assert sensitivity_sentence(table.iloc[:2], "b").endswith("every analysis' CI excludes 1.")
    assert sensitivity_sentence(table.iloc[2:], "b").endswith("no analysis' CI excludes 1.")


def test_missingness_rows_carry_the_R_checked_or_and_fisher_p(glm_data):
    from microcalc.analysis.inference_rows import missingness_rows

    i = np.arange(80)
    d = glm_data.copy()
    d.loc[(i % 6 == 0) | (d["y"].astype(bool).to_numpy() & (i % 7 == 0)), "x"] = np.nan
    rows = {r["id"]: r for r in missingness_rows(missingness_association(d, "x", ["y", "b"]), "toy")}
    assert rows["toy_or_recorded_y"]["estimate"] == pytest.approx(0.249999999999999, rel=1e-6)
    assert rows["toy_or_recorded_y"]["p"] == pytest.approx(0.0137472545262901, rel=1e-6)
    assert rows["toy_or_recorded_b"]["n"] == 80
