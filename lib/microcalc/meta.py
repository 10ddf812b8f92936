"""Centres of a multicentre cohort: one odds ratio per centre, pooled by random-effects meta-analysis.

:func:`centre_odds_ratios` gives each centre's 2 x 2 odds ratio (with 0.5
added to every cell of a centre that has a zero cell, and a flag saying so);
:func:`pool_random_effects` pools log odds ratios with the DerSimonian-Laird
estimator of the between-centre variance, reporting tau-squared, I-squared and Cochran's Q
(DerSimonian & Laird, Control Clin Trials 1986;7:177-88; Higgins &
Thompson, Stat Med 2002;21:1539-58).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .pvalues import Z_975

__all__ = ["centre_odds_ratios", "pool_random_effects"]


def centre_odds_ratios(df: pd.DataFrame, exposure: str, outcome: str, centre: str) -> pd.DataFrame:
    """Per-centre 2 x 2 counts, log OR and its variance (Woolf), OR with Wald 95% CI.

    Rows with the exposure, outcome or centre missing are left out. A centre
    with a zero cell gets 0.5 added to each of its cells (``corrected``); a
    centre where the exposure or the outcome does not vary is not estimable
    and is left out of pooling (``estimable`` False).
    """
    data = df[[exposure, outcome, centre]].dropna()
    rows = []
    for name, sub in data.groupby(centre, sort=True, observed=True):
        x = sub[exposure].astype(bool)
        y = sub[outcome].astype(bool)
        a, b = int((x & y).sum()), int((x & ~y).sum())
        c, d = int((~x & y).sum()), int((~x & ~y).sum())
        estimable = (a + b) > 0 and (c + d) > 0 and (a + c) > 0 and (b + d) > 0
        corrected = estimable and min(a, b, c, d) == 0
        aa, bb, cc, dd = (v + 0.5 if corrected else v for v in (a, b, c, d))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_or = np.log(aa * dd / (bb * cc)) if estimable else np.nan
            var = 1 / aa + 1 / bb + 1 / cc + 1 / dd if estimable else np.nan
        se = np.sqrt(var)
        rows.append({"centre": str(name), "n": len(sub), "events_exposed": a, "n_exposed": a + b,
                     "events_reference": c, "n_reference": c + d, "log_or": log_or, "var": var,
                     "or": np.exp(log_or), "ci_low": np.exp(log_or - Z_975 * se),
                     "ci_high": np.exp(log_or + Z_975 * se), "corrected": corrected, "estimable": estimable})
    return pd.DataFrame(rows)


def pool_random_effects(log_or, var) -> dict:
    """DerSimonian-Laird random-effects pooling of log odds ratios.

    With inverse-variance weights w = 1/v: Q = sum w (y - y_fixed)^2,
    tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)), and the pooled
    log OR weights each centre by 1 / (v + tau^2); I^2 = max(0, (Q - (k - 1)) / Q).
    Matches R ``metafor::rma(yi, vi, method = "DL")`` (checked on its BCG
    example). statsmodels' ``combine_effects`` is not used because its
    DerSimonian-Laird tau^2 is not truncated at zero.

    Returns the pooled OR with its 95% CI and P, the fixed-effect OR,
    tau-squared, I-squared (%), Cochran's Q with its P, and the number of
    centres pooled. With fewer than 2 estimable centres nothing can be
    pooled: every value is NaN and ``note`` says ``not estimable: <reason>``.
    """
    y = np.asarray(log_or, dtype=float)
    v = np.asarray(var, dtype=float)
    keep = np.isfinite(y) & np.isfinite(v)
    y, v = y[keep], v[keep]
    k = len(y)
    if k < 2:
        nan = float("nan")
        return {"k": k, **dict.fromkeys(("or", "ci_low", "ci_high", "p", "log_or", "se", "or_fixed", "tau2", "i2",
                                         "q", "q_p"), nan),
                "note": f"not estimable: pooling needs at least 2 centres with an estimable odds ratio, got {k}"}
    w = 1 / v
    fixed = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - fixed) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (k - 1)) / c)
    w_re = 1 / (v + tau2)
    est = float(np.sum(w_re * y) / np.sum(w_re))
    se = float(np.sqrt(1 / np.sum(w_re)))
    return {
        "k": k,
        "or": float(np.exp(est)), "ci_low": float(np.exp(est - Z_975 * se)),
        "ci_high": float(np.exp(est + Z_975 * se)), "p": float(2 * stats.norm.sf(abs(est / se))),
        "log_or": est, "se": se, "or_fixed": float(np.exp(fixed)),
        "tau2": tau2, "i2": max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0,
        "q": q, "q_p": float(stats.chi2.sf(q, k - 1)),
    }
