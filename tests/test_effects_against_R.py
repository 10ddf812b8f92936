r"""Same-sample ORs, the crude-to-adjusted split, sensitivity models and standardised effects against R.

Reference values from R 4.2.2 (base stats), printed with ``sprintf("%.15g")``
by this script (the data are those of ``tests/test_models_against_R.py``,
with x missing for every sixth patient):

    i <- 0:79
    d <- ...  # the data.frame of tests/test_models_against_R.py's docstring (conftest's glm_data)
    lr <- function(formula, data) glm(formula, binomial, data, control = glm.control(epsilon = 1e-14, maxit = 100))
    d$x[i %% 6 == 0] <- NA                      # 14 patients miss x
    cc <- d[complete.cases(d), ]
    all_b  <- lr(y ~ b, d)
    same_b <- lr(y ~ b, cc)
    adj    <- lr(y ~ b + f + x, cc)
    wo_x   <- lr(y ~ b + f, d)                  # (a) without x: every patient
    wo_fx  <- lr(y ~ b, d)                      # without f and x
    or <- function(fit, t) exp(c(coef(fit)[t], confint.default(fit)[t, ]))
    or(all_b, "b"); or(same_b, "b"); or(adj, "b"); or(wo_x, "b"); or(wo_fx, "b")  # the last is the crude OR on all patients
    summary(same_b)$coefficients["b", 4]
    # standardisation on the complete cases, delta method with the analytic gradient
    X <- model.matrix(adj); beta <- coef(adj); V <- vcov(adj)
    X1 <- X; X1[, "b"] <- 1; X0 <- X; X0[, "b"] <- 0
    p1 <- predict(adj, transform(cc, b = 1), type = "response")
    p0 <- predict(adj, transform(cc, b = 0), type = "response")
    r1 <- mean(p1); r0 <- mean(p0)
    g1 <- colMeans(p1 * (1 - p1) * X1); g0 <- colMeans(p0 * (1 - p0) * X0)
    se_rd <- sqrt(t(g1 - g0) %*% V %*% (g1 - g0))
    g_lrr <- g1 / r1 - g0 / r0; se_lrr <- sqrt(t(g_lrr) %*% V %*% g_lrr)
    z <- qnorm(0.975)
    c(r1, r0, sqrt(t(g1) %*% V %*% g1), r1 - r0, r1 - r0 - z * se_rd, r1 - r0 + z * se_rd,
      r1 / r0, exp(log(r1 / r0) - z * se_lrr), exp(log(r1 / r0) + z * se_lrr))
    # numeric gradient of the RD agrees with the analytic one to 4.4e-11:
    rd_of <- function(bb) mean(plogis(X1 %*% bb)) - mean(plogis(X0 %*% bb))
    h <- 1e-6; gnum <- sapply(seq_along(beta), function(k) { e <- replace(numeric(length(beta)), k, h)
      (rd_of(beta + e) - rd_of(beta - e)) / (2 * h) })
    max(abs(gnum - (g1 - g0)))

E-values, by hand in R (VanderWeele & Ding 2017; common outcome: RR = sqrt(OR)):

    e <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
    e(sqrt(2.41)); e(sqrt(1.21)); e(sqrt(9)); e(sqrt(4)); e(0.5); e(0.8)
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.effects import (
    crude_to_adjusted,
    decomposition_sentence,
    evalue_sentence,
    model_without,
    same_sample_display,
    same_sample_table,
    standardised_effects,
)

REL = 1e-6
TERMS = ["b", "f", "x"]

R_OR = {  # (OR, CI low, CI high) of b
    "all": (0.669421487603306, 0.242062016465454, 1.85128230611505),
    "same": (0.687272727272727, 0.239347143177446, 1.97346747231785),
    "adjusted": (0.592182723820303, 0.194398827017504, 1.80392229609316),
    "without_x": (0.663063288598778, 0.238316568734816, 1.84482735305175),
}
R_P_SAME = 0.48590556298465
R_STD = {  # quantity: (estimate, CI low, CI high)
    "risk_difference": (-0.127871434202788, -0.393995204602758, 0.138252336197182),
    "risk_ratio": (0.769000065720983, 0.428445204340364, 1.38024908456926),
}
R_R1, R_R0, R_SE_R1 = 0.425684715507351, 0.553556149710139, 0.112228086042506


@pytest.fixture
def data(glm_data):
    d = glm_data.copy()
    d.loc[np.arange(80) % 6 == 0, "x"] = np.nan
    return d


def test_univariable_or_on_all_patients_and_on_the_model_sample_against_R(data):
    same = same_sample_table(data, "y", TERMS)
    row = same.table.loc["b"]
    for key, suffix in (("all", "all"), ("same", "same"), ("adjusted", "adjusted")):
        got = row[[f"or_{suffix}", f"ci_low_{suffix}", f"ci_high_{suffix}"]].to_numpy(dtype=float)
        assert got == pytest.approx(R_OR[key], rel=REL), key
    assert row["p_same"] == pytest.approx(R_P_SAME, rel=REL)
    assert row["n_all"] == 80 and same.n_model == 66


def test_change_of_sample_plus_adjustment_is_the_whole_move_on_the_log_scale(data):
    split = crude_to_adjusted(same_sample_table(data, "y", TERMS)).loc["b"]
    assert split["change_of_sample"] == pytest.approx(np.log(R_OR["same"][0] / R_OR["all"][0]), rel=REL)
    assert split["adjustment"] == pytest.approx(np.log(R_OR["adjusted"][0] / R_OR["same"][0]), rel=REL)
    assert split["change_of_sample"] + split["adjustment"] == pytest.approx(split["total"], abs=1e-12)


def test_model_without_a_term_uses_every_patient_with_the_other_covariates_against_R(data):
    fit = model_without(data, "y", TERMS, "x")
    assert fit.n == 80
    got = fit.table.loc["b", ["or", "ci_low", "ci_high"]].to_numpy(dtype=float)
    assert got == pytest.approx(R_OR["without_x"], rel=REL)
    both = model_without(data, "y", TERMS, ["f", "x"])
    assert both.label == "without f and x" and both.n == 80
    assert both.table.loc["b", ["or", "ci_low", "ci_high"]].to_numpy(dtype=float) == pytest.approx(R_OR["all"], rel=REL)
    with pytest.raises(ValueError, match="not a term"):
        model_without(data, "y", TERMS, "z")


def test_standardised_risk_difference_and_ratio_with_delta_method_ci_against_R(data):
    res = standardised_effects(data, "y", TERMS, "b")
    t = res.table
    assert t.loc["risk_exposed", "estimate"] == pytest.approx(R_R1, rel=REL)
    assert t.loc["risk_unexposed", "estimate"] == pytest.approx(R_R0, rel=REL)
    half = t.loc["risk_exposed", "ci_high"] - t.loc["risk_exposed", "estimate"]
    assert half == pytest.approx(1.959963984540054 * R_SE_R1, rel=REL)
    for q, ref in R_STD.items():
        assert t.loc[q, ["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float) == pytest.approx(ref, rel=REL), q
    assert t.loc["odds_ratio", "estimate"] == pytest.approx(R_OR["adjusted"][0], rel=REL)
    assert res.n == 66


def test_standardisation_refuses_an_exposure_that_is_not_yes_no(data):
    with pytest.raises(ValueError, match="yes/no"):
        standardised_effects(data, "y", TERMS, "f")


def test_functions_do_not_modify_their_input(data):
    before = data.copy()
    same_sample_table(data, "y", TERMS)
    standardised_effects(data, "y", TERMS, "b")
    model_without(data, "y", TERMS, "x")
    pd.testing.assert_frame_equal(data, before)


def test_evalue_sentence_with_a_weak_ci_limit_never_says_a_weaker_confounder_could_not():
    ev = evalue_sentence(2.41, 1.21, 4.81, rare=False, exposure="microcalcification", outcome="non-pCR")
    assert ev.estimate == pytest.approx(2.47847498963974, rel=REL)
    assert ev.ci_limit == pytest.approx(1.43166247903554, rel=REL)
    assert not ev.robust
    assert "could not" not in ev.sentence and "not robust" in ev.sentence
    assert "2.48" in ev.sentence and "1.43" in ev.sentence


def test_evalue_sentence_with_a_strong_ci_limit_states_both_values():
    ev = evalue_sentence(9, 4, 20, rare=False, exposure="A", outcome="B")
    assert (ev.estimate, ev.ci_limit) == pytest.approx((5.44948974278318, 3.41421356237309), rel=REL)
    assert ev.robust and "5.45" in ev.sentence and "3.41" in ev.sentence


def test_evalue_sentence_for_a_protective_rare_outcome_and_a_ci_including_one():
    ev = evalue_sentence(0.5, 0.3, 0.8, rare=True, exposure="A", outcome="B")
    assert (ev.estimate, ev.ci_limit) == pytest.approx((3.41421356237309, 1.80901699437495), rel=REL)
    null = evalue_sentence(1.3, 0.9, 1.9, rare=True, exposure="A", outcome="B")
    assert null.ci_limit == 1.0 and not null.robust and "already includes 1" in null.sentence


def test_same_sample_display_shows_the_three_ors_of_R(data):
    shown = same_sample_display(same_sample_table(data, "y", TERMS), {"b": "exposure b"}).set_index("term")
    row = shown.loc["exposure b"]
    assert row["OR univariable, all patients (95% CI)"] == "0.67 (0.24-1.85)"
    assert row["OR univariable, model sample of 66 (95% CI)"] == "0.69 (0.24-1.97)"
    assert row["OR multivariable (95% CI)"] == "0.59 (0.19-1.80)"
    assert row["P, model sample"] == "0.486" and row["n"] == 80


def test_decomposition_sentence_says_both_parts_and_when_they_pull_apart(data):
    split = crude_to_adjusted(same_sample_table(data, "y", TERMS))
    text = decomposition_sentence(split, "b", "exposure b")
    assert text.startswith("exposure b: crude OR 0.67 on all patients, 0.69 on the model's own patients, 0.59 adjusted")
    assert "+0.03" in text and "-0.15" in text and "opposite directions" in text
    toy = pd.DataFrame(
        {
            "log_or_all": [0.0],
            "log_or_same": [0.2],
            "log_or_adjusted": [0.5],
            "change_of_sample": [0.2],
            "adjustment": [0.3],
            "total": [0.5],
            "share_sample": [40.0],
        },
        index=["t"],
    )
    assert "40% of the move comes from the change of sample" in decomposition_sentence(toy, "t")


def test_a_separated_model_is_not_estimable_rather_than_silently_wrong(glm_data):
    d = glm_data.assign(s=glm_data["y"])  # a covariate equal to the outcome: complete separation
    std = standardised_effects(d, "y", ["b", "s"], "b")
    assert std.method.startswith("not estimable: separation")
    assert std.table.isna().all().all() and std.n == len(d.dropna(subset=["y", "b"]))


def test_standardised_sentence_says_the_R_checked_risks_and_reads_the_or_against_the_risk_ratio(data):
    from microcalc.analysis.effects import standardised_sentence

    std = standardised_effects(data, "y", TERMS, "b")
    text = standardised_sentence(std, "b", "the outcome")
    rd, rr = R_STD["risk_difference"], R_STD["risk_ratio"]
    assert f"would be {100 * R_R1:.1f}% if every patient had b and {100 * R_R0:.1f}% if none had" in text
    assert (
        f"risk difference of {100 * rd[0]:.1f} percentage points (95% CI {100 * rd[1]:.1f} to {100 * rd[2]:.1f})"
        in text
    )
    assert f"risk ratio of {rr[0]:.2f} ({rr[1]:.2f} to {rr[2]:.2f}); CIs by the delta method" in text
    assert (
        f"{rr[0]:.2f} times as likely" in text
        and f"adjusted OR ({R_OR['adjusted'][0]:.2f}) lies further from 1" in text
    )
    share = 100 * std.events / std.n
    assert (
        share >= 15
        and f"{share:.1f}% of the model's {std.n} patients have the outcome" in text
        and "exaggerates" in text
    )
    recorded = standardised_sentence(
        std,
        "b",
        "recorded y",
        measure="proportion with recorded y",
        difference_name="difference in the proportion with recorded y",
        ratio_name="ratio of proportions",
        likely=False,
    )
    assert "likely" not in recorded and "risk" not in recorded.replace("ratio of risks", "")
    assert f"ratio of proportions of {rr[0]:.2f}" in recorded


def test_mediator_sentence_gives_both_ors_and_says_which_is_closer_to_a_direct_effect(data):
    from microcalc.analysis.effects import mediator_sentence

    full = same_sample_table(data, "y", TERMS).table.loc["b"]
    adjusted = pd.Series(
        {"or": full["or_adjusted"], "ci_low": full["ci_low_adjusted"], "ci_high": full["ci_high_adjusted"]}
    )
    text = mediator_sentence(adjusted, model_without(data, "y", TERMS, "x"), "b", "x")
    lo, hi = R_OR["without_x"][1:]
    assert f"the OR of b is {R_OR['without_x'][0]:.2f} ({lo:.2f}-{hi:.2f})" in text
    assert f"against {R_OR['adjusted'][0]:.2f}" in text and "(80 patients" in text
    assert "closer to a direct effect" in text and "closer to the total effect" in text
