r"""Discrimination, calibration, goodness of fit, VIFs and interaction tests against R.

Reference values from R 4.2.2 (base stats; the code of ``pROC``'s DeLong
variance, ``ResourceSelection::hoslem.test``, ``car::vif`` and Harrell's
optimism bootstrap written out in base R), printed with ``sprintf("%.15g")``
by this script (the data are those of ``tests/test_models_against_R.py``):

    i <- 0:79
    d <- ...  # the data.frame of tests/test_models_against_R.py's docstring (conftest's glm_data)
    lr <- function(formula, data) glm(formula, binomial, data, control = glm.control(epsilon = 1e-14, maxit = 100))
    out <- function(v) cat(sprintf("%s = %.15g\n", names(v), v), sep = "")
    fit <- lr(y ~ f + x + b, d)
    p <- fitted(fit); pos <- p[d$y == 1]; neg <- p[d$y == 0]
    psi <- outer(pos, neg, function(a, b) (a > b) + 0.5 * (a == b))
    v10 <- rowMeans(psi); v01 <- colMeans(psi)            # DeLong placement values
    auc <- mean(psi); se <- sqrt(var(v10) / length(pos) + var(v01) / length(neg))
    w <- wilcox.test(pos, neg, exact = FALSE)$statistic / (length(pos) * length(neg))
    out(c(auc = auc, auc_wilcox = unname(w), se = se, lo = auc - qnorm(0.975) * se, hi = auc + qnorm(0.975) * se))
    # calibration of fixed risks (not fitted to these data)
    q <- plogis(-0.2 + 1.1 * d$x - 0.4 * d$b + 0.01 * i); lq <- qlogis(q)
    citl <- lr(y ~ 1 + offset(lq), d); slope <- lr(y ~ lq, d)
    out(c(int = coef(citl)[1], int_ci = confint.default(citl)[1, ], slope = coef(slope)[2],
          slope_ci = confint.default(slope)[2, ]))
    # Hosmer-Lemeshow, the code of ResourceSelection::hoslem.test(d$y, q, g = 10)
    cutq <- cut(q, breaks = quantile(q, probs = seq(0, 1, 1 / 10)), include.lowest = TRUE)
    obs <- xtabs(cbind(1 - d$y, d$y) ~ cutq); expect <- xtabs(cbind(1 - q, q) ~ cutq)
    chisq <- sum((obs - expect)^2 / expect)
    out(c(hl = chisq, hl_p = 1 - pchisq(chisq, 10 - 2), n_first = sum(obs[1, ]), obs_last = obs[10, 2]))
    # generalised VIFs, the code of car:::vif.default
    V <- vcov(fit)[-1, -1]; R <- cov2cor(V); asg <- attr(model.matrix(fit), "assign")[-1]
    gv <- sapply(1:3, function(k) { s <- which(asg == k)
      det(R[s, s, drop = FALSE]) * det(R[-s, -s, drop = FALSE]) / det(R) })
    out(c(gvif = gv))
    # likelihood-ratio tests of interaction
    a1 <- anova(fit, lr(y ~ f + x + b + b:f, d), test = "LRT")
    a2 <- anova(fit, lr(y ~ f + x + b + b:x, d), test = "LRT")
    out(c(lr_bf = a1$Deviance[2], lr_bf_p = a1[2, "Pr(>Chi)"], lr_bx = a2$Deviance[2], lr_bx_p = a2[2, "Pr(>Chi)"]))
    # Harrell's bootstrap optimism with 5 fixed resamples (rows idx + 1)
    cstat <- function(y, p) { r <- rank(p); n1 <- sum(y); (sum(r[y == 1]) - n1 * (n1 + 1) / 2) / (n1 * sum(1 - y)) }
    perf <- function(y, lp) { lp <- as.vector(lp); c(cstat(y, plogis(lp)), coef(lr(y ~ 1 + offset(lp), data.frame(y, lp)))[1],
                              coef(lr(y ~ lp, data.frame(y, lp)))[2]) }
    X <- model.matrix(fit); lp <- X %*% coef(fit)
    opt <- sapply(c(1, 2, 3, 4, 6), function(r) { idx <- (i * (2 * r + 1) + (i %/% 5) * 13 * r) %% 80 + 1
      fb <- lr(y ~ f + x + b, d[idx, ]); beta <- coef(fb)
      perf(d$y[idx], X[idx, ] %*% beta) - perf(d$y, X %*% beta) })
    app <- perf(d$y, lp)
    out(c(app = app, optimism = rowMeans(opt), corrected = app - rowMeans(opt)))
"""

import numpy as np
import pandas as pd
import pytest
from scipy import special

from microcalc.analysis.performance import (
    bootstrap_validation,
    c_statistic,
    calibration,
    hosmer_lemeshow,
    interaction_lr_test,
    model_checks,
    model_predictions,
    plot_calibration,
    vif,
)

REL = 1e-6
TERMS = ["f", "x", "b"]


@pytest.fixture
def fixed_risk(glm_data):
    i = np.arange(80)
    q = special.expit(-0.2 + 1.1 * glm_data["x"] - 0.4 * glm_data["b"].astype(float) + 0.01 * i)
    return glm_data["y"].astype(float).to_numpy(), q.to_numpy()


def test_c_statistic_with_delong_ci_against_R(glm_data):
    y, p = model_predictions(glm_data, "y", TERMS)
    c = c_statistic(y, p)
    assert c.c == pytest.approx(0.569235588972431, rel=REL)
    assert c.se == pytest.approx(0.0647776635507273, rel=REL)
    assert (c.ci_low, c.ci_high) == pytest.approx((0.442273701410353, 0.69619747653451), rel=REL)
    assert (c.events, c.non_events) == (42, 38)


def test_calibration_intercept_and_slope_of_fixed_risks_against_R(fixed_risk):
    cal = calibration(*fixed_risk)
    assert (cal.intercept, cal.intercept_ci_low, cal.intercept_ci_high) == pytest.approx(
        (-0.533727119078052, -0.983054522834611, -0.0843997153214932), rel=REL
    )
    assert (cal.slope, cal.slope_ci_low, cal.slope_ci_high) == pytest.approx(
        (0.152267710449384, -0.82885960720555, 1.13339502810432), rel=REL
    )


def test_calibration_on_the_fitting_data_is_ideal_by_construction(glm_data):
    cal = calibration(*model_predictions(glm_data, "y", TERMS))
    assert cal.intercept == pytest.approx(0, abs=1e-9) and cal.slope == pytest.approx(1, rel=1e-9)


def test_hosmer_lemeshow_states_its_groups_against_R(fixed_risk):
    hl = hosmer_lemeshow(*fixed_risk, g=10)
    assert hl.statistic == pytest.approx(26.3610012775146, rel=REL)
    assert hl.p == pytest.approx(0.000910827490325117, rel=REL)
    assert (hl.groups, hl.df) == (10, 8)
    assert hl.table["n"].iloc[0] == 8 and hl.table["observed"].iloc[-1] == 3
    assert "8 df over 10 groups" in hl.sentence


def test_generalised_vif_against_R(glm_data):
    v = vif(glm_data, "y", TERMS)
    assert v["gvif"].to_numpy() == pytest.approx([1.01522325629085, 1.01372826797405, 1.00207523065892], rel=REL)
    assert list(v["df"]) == [2, 1, 1]
    assert v.loc["f", "gvif_adjusted"] == pytest.approx(1.01522325629085**0.25, rel=REL)


def test_likelihood_ratio_tests_of_interaction_against_R(glm_data):
    by_factor = interaction_lr_test(glm_data, "y", TERMS, "b", "f")
    assert (by_factor.statistic, by_factor.p, by_factor.df) == pytest.approx(
        (0.38021909271292, 0.826868548545038, 2), rel=REL
    )
    by_number = interaction_lr_test(glm_data, "y", TERMS, "b", "x")
    assert (by_number.statistic, by_number.p, by_number.df) == pytest.approx(
        (1.90232629273386, 0.167818163856419, 1), rel=REL
    )
    assert list(by_factor.table.index) == ["b:f[b]", "b:f[c]"]


def test_bootstrap_optimism_correction_on_fixed_resamples_against_R(glm_data):
    i = np.arange(80)
    samples = np.array([(i * (2 * r + 1) + (i // 5) * 13 * r) % 80 for r in (1, 2, 3, 4, 6)])
    val = bootstrap_validation(glm_data, "y", TERMS, samples=samples)
    t = val.table
    assert t["apparent"].to_numpy() == pytest.approx([0.569235588972431, 0, 1], abs=1e-9)
    assert t["optimism"].to_numpy() == pytest.approx(
        [0.0479030832240075, -0.0495897806176283, 0.41935118944134], rel=REL
    )
    assert t["corrected"].to_numpy() == pytest.approx(
        [0.521332505748424, 0.0495897806176287, 0.580648810558659], rel=REL
    )
    assert val.n_used == 5


def test_bootstrap_validation_is_reproducible_with_its_seed(glm_data):
    a = bootstrap_validation(glm_data, "y", TERMS, n_boot=200, seed=5)
    b = bootstrap_validation(glm_data, "y", TERMS, n_boot=200, seed=5)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.n_used == 200 and a.n_boot >= 200


def test_calibration_plot_returns_its_axes(fixed_risk):
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_calibration(*fixed_risk)
    assert ax.get_xlabel() == "mean predicted risk" and len(ax.lines) >= 1


def test_performance_refuses_an_outcome_that_does_not_vary():
    with pytest.raises(ValueError, match="does not vary"):
        c_statistic(np.ones(5), np.full(5, 0.5))


def test_model_checks_gathers_the_checks_of_one_model(glm_data):
    checks = model_checks(glm_data, "y", TERMS, interactions=[("b", "f")], n_boot=20, seed=1)
    assert checks.c.c == pytest.approx(0.569235588972431, rel=REL)
    assert checks.hosmer_lemeshow.groups <= 10 and list(checks.vif.index) == TERMS
    assert checks.interactions[0].p == pytest.approx(0.826868548545038, rel=REL)
    assert checks.validation.n_used == 20 and len(checks.y) == len(checks.p) == 80


def test_bootstrap_draws_until_it_has_the_replicates_asked_for_and_says_how_many_were_left_out(glm_data):
    d = glm_data.copy()
    rare = np.arange(80) < 4  # a category of 4 patients: bootstrap samples often separate it
    d["r"] = pd.array(rare, dtype="boolean")
    d.loc[rare, "y"] = True
    d.loc[0, "y"] = False
    val = bootstrap_validation(d, "y", TERMS + ["r"], n_boot=50, seed=2)
    assert val.n_used == 50 and val.n_boot > 50
    assert f"{val.n_boot - 50} of {val.n_boot} samples drawn left out" in val.method


def test_checks_sentence_says_the_R_checked_c_and_when_separated_resamples_were_skipped(glm_data):
    import dataclasses

    from microcalc.analysis.performance import checks_sentence

    checks = model_checks(glm_data, "y", TERMS, n_boot=20, seed=1)
    text = checks_sentence(checks)
    assert text.startswith("C-statistic 0.57 (DeLong 95% CI 0.44 to 0.70)")  # pROC values of the test above
    corrected = checks.validation.table["corrected"]
    assert f"by 20 bootstrap replicates (seed 1), {corrected['c_statistic']:.2f}" in text
    assert f"calibration slope {corrected['calibration_slope']:.2f}" in text and "skipped" not in text
    worst = checks.vif["gvif"] ** (1 / checks.vif["df"])
    assert f"{worst.max():.2f}, for {worst.idxmax()}" in text
    skipped = dataclasses.replace(checks, validation=dataclasses.replace(checks.validation, n_boot=27))
    assert "7 of 27 bootstrap samples could not be fitted" in checks_sentence(skipped)
    assert "optimism may be understated" in checks_sentence(skipped)
