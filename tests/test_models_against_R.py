r"""Logistic regression (``microcalc.analysis.models``) against R's ``glm``.

Reference values from R 4.2.2 (base stats), printed with ``sprintf("%.15g")``
by this script:

    i <- 0:79
    d <- data.frame(
      y = as.integer((i * 13) %% 7 < 3 | (i %% 5 == 0)),
      f = factor(c("a", "b", "c")[i %% 3 + 1], levels = c("a", "b", "c")),
      x = ((i * 7) %% 11) / 10,
      b = as.integer((i * 3) %% 4 == 1)
    )
    fit <- glm(y ~ f + x + b, family = binomial, data = d,
               control = glm.control(epsilon = 1e-14, maxit = 100))
    exp(cbind(coef(fit), confint.default(fit))); summary(fit)$coefficients[, 4]
    drop1(fit, test = "LRT")[, "Pr(>Chi)"]

(``epsilon = 1e-14``: with glm's default 1e-8 the last digits of the
standard errors come from the second-to-last iteration.)
"""

import pandas as pd
import pytest

from microcalc.analysis.models import design_matrix, fit_logistic, global_p_values

REL = 1e-6

R_TABLE = {  # term: (OR, CI low, CI high, P)
    "f[b]": (0.635461966649433, 0.215324696021137, 1.8753627359972, 0.411560371669439),
    "f[c]": (0.675710267474028, 0.225193412300298, 2.02752096922339, 0.484424914125098),
    "x": (0.971985581144603, 0.237792329544384, 3.97302962531714, 0.968448002080881),
    "b": (0.662800862868425, 0.238184518357422, 1.84438932827659, 0.430906291126684),
}
R_LRT = {"f": 0.673480569329537, "x": 0.968446899320614, "b": 0.429548262807304}


def test_odds_ratios_wald_ci_and_p_against_R(glm_data):
    fit = fit_logistic(glm_data, "y", ["f", "x", "b"])
    table = fit.table()
    for term, ref in R_TABLE.items():
        got = table.loc[term, ["or", "ci_low", "ci_high", "p"]].to_numpy(dtype=float)
        assert got == pytest.approx(ref, rel=REL), term
    assert (fit.nobs, fit.events) == (80, 42)


def test_global_likelihood_ratio_p_against_R(glm_data):
    gp = global_p_values(glm_data, "y", ["f", "x", "b"])
    for term, ref in R_LRT.items():
        assert gp[term] == pytest.approx(ref, rel=REL), term


def test_first_category_is_the_reference_level(glm_data):
    _, names, columns_of = design_matrix(glm_data, ["f", "b"])
    assert names == ["const", "f[b]", "f[c]", "b"]
    assert columns_of == {"f": [1, 2], "b": [3]}


def test_rows_missing_a_model_variable_are_left_out(glm_data):
    d = glm_data.copy()
    d.loc[:9, "b"] = pd.NA
    assert fit_logistic(d, "y", ["f", "x", "b"]).nobs == 70
