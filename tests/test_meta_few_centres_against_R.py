r"""Few-centre pooling against R: REML tau^2, Hartung-Knapp-Sidik-Jonkman CI, prediction interval, Mantel-Haenszel.

REML, HKSJ and the prediction interval on metafor's BCG example (log risk
ratios; Viechtbauer, J Stat Softw 2010;36(3)): metafor's documentation gives
``rma(yi, vi, data = dat)`` tau^2 = 0.3132 and estimate -0.7145, and the
tests of easystats' ``model_performance.rma`` expect its I^2 = 0.9222139. The full-precision values below come from
the same model written out in base R 4.2.2 (REML by ``optimize``; the
Hartung-Knapp variance and ``predict()``'s t_{k-1} prediction interval as
metafor computes them for ``test = "knha"``):

    dat <- data.frame(
      tpos = c(4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27),
      tneg = c(119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886),
      cpos = c(11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29),
      cneg = c(128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825))
    yi <- with(dat, log((tpos / (tpos + tneg)) / (cpos / (cpos + cneg))))   # escalc("RR")
    vi <- with(dat, 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg))
    knha <- function(yi, vi) {
      k <- length(yi)
      nll <- function(t2) { w <- 1 / (vi + t2); mu <- sum(w * yi) / sum(w)        # minus REML log-likelihood
        0.5 * (sum(log(vi + t2)) + log(sum(w)) + sum(w * (yi - mu)^2)) }
      tau2 <- optimize(nll, c(0, 10), tol = 1e-12)$minimum
      w <- 1 / (vi + tau2); mu <- sum(w * yi) / sum(w)
      se <- sqrt(sum(w * (yi - mu)^2) / ((k - 1) * sum(w)))                     # Hartung-Knapp, untruncated
      crit <- qt(0.975, k - 1); s2 <- (k - 1) * sum(1 / vi) / (sum(1 / vi)^2 - sum(1 / vi^2))
      c(tau2 = tau2, mu = mu, se = se, ci_lb = mu - crit * se, ci_ub = mu + crit * se,
        p = 2 * pt(abs(mu / se), k - 1, lower.tail = FALSE),
        pi_lb = mu - crit * sqrt(se^2 + tau2), pi_ub = mu + crit * sqrt(se^2 + tau2), I2 = 100 * tau2 / (tau2 + s2))
    }
    out <- function(v) cat(sprintf("%s = %.15g\n", names(v), v), sep = "")
    out(knha(yi, vi)); out(c(loo1 = knha(yi[-1], vi[-1])))

Mantel-Haenszel against R's ``mantelhaen.test`` (base stats):

    out <- function(v) cat(sprintf("%s = %.15g\n", names(v), v), sep = "")
    x <- array(c(12, 8, 30, 50,   5, 9, 20, 40,   7, 3, 15, 25,   2, 6, 11, 30), dim = c(2, 2, 4))
    # x[, , k] = matrix(c(a, c, b, d), 2): rows exposed / unexposed, columns event / no event
    m1 <- mantelhaen.test(x); m0 <- mantelhaen.test(x, correct = FALSE)
    out(c(or = unname(m1$estimate), lo = m1$conf.int[1], hi = m1$conf.int[2], stat = unname(m1$statistic),
          p = m1$p.value, stat0 = unname(m0$statistic), p0 = m0$p.value))
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.meta import (
    leave_one_centre_out,
    mantel_haenszel,
    pool_dersimonian_laird,
    pool_reml_hksj,
    reml_tau2,
)

REL = 1e-6
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    dtype=float,
)
R_KNHA = {
    "tau2": 0.313243253546379,
    "log_or": -0.714532341738199,
    "se": 0.180791743996353,
    "ci": (-1.10844371305537, -0.320620970421032),
    "p": 0.00192001509679633,
    "pi": (-1.99601682520968, 0.566952141733281),
    "i2": 92.2213844161516,
}
R_LOO1 = {"tau2": 0.336156700234679, "ci": (-1.13408093279721, -0.280086636360916), "log_or": -0.707083784579065}
STRATA = [(12, 8, 30, 50), (5, 9, 20, 40), (7, 3, 15, 25), (2, 6, 11, 30)]  # (a, c, b, d) as R's array
R_MH = {
    "or": 1.89666456302737,
    "ci": (1.02209784069919, 3.5195617497665),
    "stat": 3.47020501766901,
    "p": 0.0624835659387314,
    "stat0": 4.08899267363205,
    "p0": 0.0431633592508863,
}


def bcg():
    t, tn, c, cn = BCG.T
    return np.log((t / (t + tn)) / (c / (c + cn))), 1 / t - 1 / (t + tn) + 1 / c - 1 / (c + cn)


def bcg_centres():
    yi, vi = bcg()
    t, tn, c, cn = BCG.T
    return pd.DataFrame(
        {
            "centre": [f"t{i + 1}" for i in range(13)],
            "log_or": yi,
            "var": vi,
            "events_exposed": t,
            "n_exposed": t + tn,
            "events_reference": c,
            "n_reference": c + cn,
        }
    )


def counts_frame(cells):
    a, c, b, d = (np.array(x, dtype=float) for x in zip(*cells, strict=True))
    return pd.DataFrame(
        {
            "centre": [f"c{i}" for i in range(len(a))],
            "events_exposed": a,
            "n_exposed": a + b,
            "events_reference": c,
            "n_reference": c + d,
        }
    )


def test_reml_tau2_against_metafor_bcg_example():
    yi, vi = bcg()
    tau2 = reml_tau2(yi, vi)
    assert round(tau2, 4) == 0.3132  # metafor's documented value
    assert tau2 == pytest.approx(R_KNHA["tau2"], rel=REL)


def test_hartung_knapp_ci_and_prediction_interval_against_metafor_bcg_example():
    yi, vi = bcg()
    r = pool_reml_hksj(yi, vi)
    assert round(r.log_or, 4) == -0.7145 and round(r.i2 / 100, 4) == round(0.9222139, 4)
    assert r.log_or == pytest.approx(R_KNHA["log_or"], rel=REL)
    assert r.se == pytest.approx(R_KNHA["se"], rel=REL)
    assert np.log([r.ci_low, r.ci_high]) == pytest.approx(R_KNHA["ci"], rel=REL)
    assert r.p == pytest.approx(R_KNHA["p"], rel=REL)
    assert np.log([r.pi_low, r.pi_high]) == pytest.approx(R_KNHA["pi"], rel=REL)
    assert r.i2 == pytest.approx(R_KNHA["i2"], rel=REL)
    assert (r.k, r.df) == (13, 12)


def test_reml_tau2_is_zero_when_centres_agree_and_the_hksj_se_is_not_truncated():
    y = np.array([0.70, 0.75, 0.72])
    v = np.array([0.10, 0.20, 0.15])
    r = pool_reml_hksj(y, v)
    w = 1 / v
    mu = np.sum(w * y) / np.sum(w)
    assert r.tau2 == 0 and r.log_or == pytest.approx(mu, rel=1e-12)
    assert r.se == pytest.approx(np.sqrt(np.sum(w * (y - mu) ** 2) / (2 * np.sum(w))), rel=1e-12)
    assert r.se < np.sqrt(1 / np.sum(w))  # untruncated, as metafor's default
    adhoc = pool_reml_hksj(y, v, truncate=True)  # metafor test = "adhoc": never below 1 / sum(w)
    assert adhoc.se == pytest.approx(np.sqrt(1 / np.sum(w)), rel=1e-12) and "truncated" in adhoc.method
    bcg_adhoc = pool_reml_hksj(*bcg(), truncate=True)  # HK variance already the larger: unchanged
    assert bcg_adhoc.se == pytest.approx(R_KNHA["se"], rel=REL)


def test_dersimonian_laird_result_sits_beside_reml_in_the_same_shape():
    yi, vi = bcg()
    dl = pool_dersimonian_laird(yi, vi)
    assert round(dl.log_or, 4) == -0.7141 and round(dl.tau2, 4) == 0.3088 and dl.df is None
    assert set(dl.as_row()) == set(pool_reml_hksj(yi, vi).as_row())


def test_mantel_haenszel_or_rbg_ci_and_cmh_p_against_R():
    centres = counts_frame(STRATA)
    mh = mantel_haenszel(centres)
    assert mh.or_ == pytest.approx(R_MH["or"], rel=REL)
    assert (mh.ci_low, mh.ci_high) == pytest.approx(R_MH["ci"], rel=REL)
    assert (mh.q, mh.p) == pytest.approx((R_MH["stat"], R_MH["p"]), rel=REL)
    raw = mantel_haenszel(centres, correct=False)
    assert (raw.q, raw.p) == pytest.approx((R_MH["stat0"], R_MH["p0"]), rel=REL)


def test_leave_one_centre_out_refits_without_each_centre_against_R():
    yi, vi = bcg()
    centres = bcg_centres()
    loo = leave_one_centre_out(centres)
    assert len(loo) == 13 and loo.loc[0, "left_out"] == "t1" and loo.loc[0, "k"] == 12
    assert loo.loc[0, "tau2"] == pytest.approx(R_LOO1["tau2"], rel=REL)
    assert np.log(loo.loc[0, ["ci_low", "ci_high"]].to_numpy(float)) == pytest.approx(R_LOO1["ci"], rel=REL)
    assert np.log(loo.loc[0, "or"]) == pytest.approx(R_LOO1["log_or"], rel=REL)
    rest = mantel_haenszel(centres.iloc[1:])
    assert loo.loc[0, "or_mh"] == pytest.approx(rest.or_, rel=1e-12)


def test_pooling_refuses_fewer_than_two_centres():
    with pytest.raises(ValueError, match="at least 2"):
        pool_reml_hksj([0.5], [0.1])


def test_heterogeneity_with_few_centres_is_never_called_homogeneity():
    from microcalc.analysis.meta import heterogeneity_sentence

    y = np.array([0.70, 0.75, 0.72, 0.71])
    v = np.array([0.10, 0.20, 0.15, 0.12])
    text = heterogeneity_sentence(pool_reml_hksj(y, v))
    assert "I² = 0%" in text and "cannot show that the centres agree" in text and "homogene" not in text
    assert "prediction interval" in text
    many = heterogeneity_sentence(pool_reml_hksj(*bcg()))
    assert "cannot show" not in many and "over 13 centres" in many


def test_pooling_comparison_puts_the_R_checked_methods_side_by_side_and_says_which_ci_is_narrower():
    from microcalc.analysis.meta import pooling_comparison, pooling_fits, pooling_sentence

    yi, vi = bcg()
    centres = bcg_centres()
    table = pooling_comparison(pooling_fits(centres))
    assert list(table.index) == ["reml_hksj", "reml_hksj_truncated", "dersimonian_laird", "mantel_haenszel"]
    assert np.log(table.loc["reml_hksj", ["ci_low", "ci_high"]].to_numpy(float)) == pytest.approx(R_KNHA["ci"], rel=REL)
    assert table.loc["reml_hksj", "tau2"] == pytest.approx(R_KNHA["tau2"], rel=REL)
    assert round(float(table.loc["dersimonian_laird", "tau2"]), 4) == 0.3088
    text = pooling_sentence(table)
    assert text.startswith("Over 13 centres, REML gives τ² = 0.313") and "agree more closely" not in text
    # three centres that agree closely (tau2 = 0): the untruncated HK SE falls below the standard one
    y, v = np.array([0.70, 0.75, 0.72]), np.array([0.10, 0.20, 0.15])
    few = pd.DataFrame(
        {
            "centre": ["a", "b", "c"],
            "log_or": y,
            "var": v,
            "events_exposed": [10, 8, 9],
            "n_exposed": [30, 25, 28],
            "events_reference": [6, 5, 5],
            "n_reference": [32, 27, 30],
        }
    )
    text = pooling_sentence(pooling_comparison(pooling_fits(few)))
    w = 1 / v
    mu = np.sum(w * y) / np.sum(w)
    hk = np.sqrt(np.sum(w * (y - mu) ** 2) / (2 * np.sum(w)))
    assert (
        f"untruncated Hartung-Knapp SE ({hk:.3f}) is smaller than the standard one ({np.sqrt(1 / np.sum(w)):.3f})"
        in text
    )
    narrower = 2 * hk * 4.302652729911275 < 2 * 1.959963984540054 * np.sqrt(1 / np.sum(w))  # qt(0.975, 2), qnorm(0.975)
    assert ("narrower than the DerSimonian-Laird CI" in text) == narrower
