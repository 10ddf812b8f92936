r"""Cluster-robust inference with few centres against R, and its caveat in words.

CR1 sandwich (as ``sandwich::vcovCL(fit, cluster = g, type = "HC1")``)
written out in base R 4.2.2, with a t reference on G - 1 df, printed with
``sprintf("%.15g")`` (the data of ``tests/test_models_against_R.py``, four
clusters):

    i <- 0:79
    d <- ...  # the data.frame of tests/test_models_against_R.py's docstring (conftest's glm_data)
    out <- function(v) cat(sprintf("%s = %.15g\n", names(v), v), sep = "")
    lr <- function(formula, data) glm(formula, binomial, data, control = glm.control(epsilon = 1e-14, maxit = 100))
    g <- i %% 4                                  # 4 clusters
    fit <- lr(y ~ f + x + b, d)
    X <- model.matrix(fit); e <- d$y - fitted(fit); B <- vcov(fit)
    meat <- Reduce(`+`, lapply(split(seq_len(nrow(X)), g), function(r) tcrossprod(colSums(X[r, , drop = FALSE] * e[r]))))
    G <- 4; N <- nrow(X); K <- ncol(X)
    V <- G / (G - 1) * (N - 1) / (N - K) * B %*% meat %*% B   # CR1, as sandwich::vcovCL(type = "HC1")
    se <- sqrt(diag(V)); tt <- coef(fit) / se; crit <- qt(0.975, G - 1)
    out(c(se_b = se["b"], or_lo = exp(coef(fit)["b"] - crit * se["b"]), or_hi = exp(coef(fit)["b"] + crit * se["b"]),
          p_b = 2 * pt(abs(tt["b"]), G - 1, lower.tail = FALSE), se_x = se["x"]))
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.clustered import cluster_robust_table, few_clusters_note, leave_one_centre_out_models
from microcalc.analysis.models import fit_logistic

REL = 1e-6
TERMS = ["f", "x", "b"]


@pytest.fixture
def clustered(glm_data):
    return glm_data.assign(g=(np.arange(80) % 4).astype(str))


def test_cluster_robust_se_with_t_reference_on_g_minus_1_df_against_R(clustered):
    res = cluster_robust_table(clustered, "y", TERMS, "g")
    b = res.table.loc["b"]
    assert b["se"] == pytest.approx(0.131486172494722, rel=REL)
    assert (b["ci_low"], b["ci_high"]) == pytest.approx((0.436167744109199, 1.00719273663012), rel=REL)
    assert b["p"] == pytest.approx(0.0521489082549619, rel=REL)
    assert res.table.loc["x", "se"] == pytest.approx(1.207845700023, rel=REL)
    assert (res.n_clusters, res.df, res.nobs) == (4, 3, 80)
    model = fit_logistic(clustered, "y", TERMS).table().loc["b"]
    assert b["p_model"] == pytest.approx(model["p"], rel=1e-9)


def test_few_clusters_are_called_unreliable_in_words():
    assert "unreliable" in few_clusters_note(4) and "3 degrees of freedom" in few_clusters_note(4)
    assert "unreliable" not in few_clusters_note(12)
    assert "not estimable" in few_clusters_note(1)


def test_cluster_robust_with_a_single_cluster_is_not_estimable(glm_data):
    cr = cluster_robust_table(glm_data.assign(g="one"), "y", TERMS, "g")
    assert (
        cr.method
        == "not estimable: cluster-robust standard errors need at least 2 clusters (g); the model's data have 1"
    )
    assert cr.table[["or", "ci_low", "ci_high", "p"]].isna().all().all() and cr.n_clusters == 1
    assert cr.label == "cluster-robust SE by centre (not estimable)"


def test_leave_one_centre_out_models_refit_without_each_centre(clustered):
    before = clustered.copy()
    loo = leave_one_centre_out_models(clustered, "y", TERMS, "g", "b")
    pd.testing.assert_frame_equal(clustered, before)
    assert list(loo["left_out"]) == ["0", "1", "2", "3"] and (loo["n"] == 60).all()
    ref = fit_logistic(clustered[clustered["g"] != "2"], "y", TERMS).table().loc["b"]
    assert loo.loc[2, "or"] == pytest.approx(ref["or"], rel=1e-12)


def test_cluster_sentence_gives_the_R_checked_ci_beside_the_model_based_one_and_the_caveat(clustered):
    from microcalc.analysis.clustered import cluster_sentence

    res = cluster_robust_table(clustered, "y", TERMS, "g")
    text = cluster_sentence(res, "b")
    assert "(CR1, t on 3 df)" in text and "(0.44-1.01, P = 0.052)" in text  # the sandwich::vcovCL values above
    model = res.table.loc["b"]
    assert f"model-based {model['ci_low_model']:.2f}-{model['ci_high_model']:.2f}" in text
    assert text.endswith(few_clusters_note(4))
