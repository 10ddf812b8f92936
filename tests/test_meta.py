"""Multicentre tools: DerSimonian-Laird pooling, per-centre ORs, cluster-robust SEs.

References: metafor's BCG example (R ``rma(yi, vi, data = escalc("RR", ai = tpos,
bi = tneg, ci = cpos, di = cneg, data = dat.bcg), method = "DL")``: estimate
-0.7141, SE 0.1787, tau^2 0.3088, I^2 92.12%, Q 152.2330; Viechtbauer, J Stat
Softw 2010;36(3)), DerSimonian-Laird computed by hand, and the Liang-Zeger
sandwich written out below.
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.meta import centre_odds_ratios, pool_random_effects
from microcalc.analysis.models import design_matrix, fit_logistic
from microcalc.analysis.stats import category_comparison, crosstab

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


def test_dersimonian_laird_against_metafor_bcg_example():
    t, tn, c, cn = BCG.T
    yi = np.log((t / (t + tn)) / (c / (c + cn)))
    vi = 1 / t - 1 / (t + tn) + 1 / c - 1 / (c + cn)
    r = pool_random_effects(yi, vi)
    assert round(r.log_or, 4) == -0.7141 and round(r.se, 4) == 0.1787
    assert round(r.tau2, 4) == 0.3088 and round(r.i2, 2) == 92.12 and round(r.q, 4) == 152.2330


def test_between_centre_variance_is_truncated_at_zero():
    # Q below its degrees of freedom: tau^2 = 0 and the pooled estimate is the fixed-effect one
    y = np.array([0.70, 0.75, 0.72])
    v = np.array([0.10, 0.20, 0.15])
    r = pool_random_effects(y, v)
    w = 1 / v
    assert r.tau2 == 0 and r.i2 == 0
    assert r.log_or == pytest.approx(np.sum(w * y) / np.sum(w), rel=1e-12)
    assert r.se == pytest.approx(np.sqrt(1 / np.sum(w)), rel=1e-12)


def test_pooling_needs_two_centres():
    r = pool_random_effects([0.5], [0.1])
    assert r.k == 1 and np.isnan(r.or_) and np.isnan(r.tau2)
    assert r.note == "not estimable: pooling needs at least 2 centres with an estimable odds ratio, got 1"
    assert pool_random_effects([0.5, 0.7], [0.1, 0.2]).note == ""


def test_centre_odds_ratios_count_cells_and_correct_zero_cells():
    rows = []
    for centre, cells in (("001", (10, 40, 5, 45)), ("002", (4, 20, 0, 30))):
        a, b, c, d = cells
        rows += [(centre, True, True)] * a + [(centre, True, False)] * b
        rows += [(centre, False, True)] * c + [(centre, False, False)] * d
    df = pd.DataFrame(rows, columns=["center", "x", "y"])
    out = centre_odds_ratios(df, "x", "y", "center").set_index("centre")
    assert out.loc["001", "or"] == pytest.approx(10 * 45 / (40 * 5))
    assert not out.loc["001", "corrected"] and out.loc["002", "corrected"]
    assert out.loc["002", "or"] == pytest.approx(4.5 * 30.5 / (20.5 * 0.5))
    assert out.loc["001", "var"] == pytest.approx(1 / 10 + 1 / 40 + 1 / 5 + 1 / 45)


def test_cluster_robust_standard_errors_are_the_liang_zeger_sandwich(glm_data):
    d = glm_data.assign(site=np.array(["s1", "s2", "s3", "s4", "s5"])[np.arange(80) % 5])
    fit = fit_logistic(d, "y", ["f", "x", "b"], cluster="site")
    X, _, _ = design_matrix(d, ["f", "x", "b"])
    y = d["y"].astype(float).to_numpy()
    mu = 1 / (1 + np.exp(-X @ fit.params))
    bread = np.linalg.inv(X.T @ (X * (mu * (1 - mu))[:, None]))
    scores = X * (y - mu)[:, None]
    meat = sum(
        np.outer(s, s) for s in (scores[d["site"].to_numpy() == g].sum(axis=0) for g in ["s1", "s2", "s3", "s4", "s5"])
    )
    n, k, g = X.shape[0], X.shape[1], 5
    vcov = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    assert fit.bse == pytest.approx(np.sqrt(np.diag(vcov)), rel=1e-8)


def test_category_comparison_tests_the_full_and_the_collapsed_table():
    counts = pd.DataFrame(
        [[56, 7, 8], [17, 3, 8]], index=[True, False], columns=["osteolytic", "osteoblastic", "mixed"]
    )
    out = category_comparison(
        counts, "osteolytic", {"2x3 chosen": ["pearson_chi2"], "2x2 56/71": []}, ["pearson_chi2", "mann_whitney"]
    )
    full = out[out["comparison"] == "2x3"].set_index("test")
    assert set(full.index) == {"pearson_chi2", "fisher_exact"}  # no rank test on unordered categories
    assert full.loc["pearson_chi2", "reproduces_published_p"]
    assert round(full.loc["pearson_chi2", "p"], 3) == 0.099  # the abstract's P = 0.099
    collapsed = out[out["comparison"].str.startswith("2x2")]
    assert "yates_chi2" in set(collapsed["test"]) and not collapsed["reproduces_published_p"].any()


def test_crosstab_keeps_category_order_and_drops_missing():
    df = pd.DataFrame(
        {"g": [True, True, False, False], "c": pd.Categorical(["b", None, "a", "b"], categories=["b", "a"])}
    )
    t = crosstab(df, "g", "c")
    assert list(t.columns) == ["b", "a"] and t.loc[True].tolist() == [1, 0] and t.loc[False].tolist() == [1, 1]


def test_the_pooled_result_as_a_row_keeps_the_order_and_names_of_its_table():
    row = pool_random_effects([0.5, 0.7], [0.1, 0.2]).as_row()
    assert list(row) == ["k", "or", "ci_low", "ci_high", "p", "log_or", "se", "or_fixed", "tau2", "i2", "q", "q_p"]
    assert list(pool_random_effects([0.5], [0.1]).as_row())[-1] == "note"
