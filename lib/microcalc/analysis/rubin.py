"""Rubin's rules: pool estimates from m completed data sets (part of :mod:`microcalc.analysis.imputation`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["RubinPooled", "rubin_pool"]


@dataclass(frozen=True)
class RubinPooled:
    """Estimates pooled over m imputations by Rubin's rules (one entry per parameter).

    Attributes
    ----------
    estimate : mean of the m estimates (Q-bar).
    within, between, total : within-imputation variance (U-bar), between (B),
        total T = U-bar + (1 + 1/m) B.
    se : sqrt(T).
    df : degrees of freedom of the t reference (Barnard-Rubin when the
        complete-data df is given, else Rubin's 1987 (m - 1) / lambda^2).
    riv, lambda_, fmi : relative increase in variance, proportion of variance
        due to missingness, fraction of missing information (as ``mice::pool``).
    ci_low, ci_high, p : t-based CI (``level``) and two-sided P of estimate / se.
    m : number of imputations.
    """

    estimate: np.ndarray
    within: np.ndarray
    between: np.ndarray
    total: np.ndarray
    se: np.ndarray
    df: np.ndarray
    riv: np.ndarray
    lambda_: np.ndarray
    fmi: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p: np.ndarray
    m: int


def rubin_pool(estimates, variances, dfcom: float | None = None, level: float = 0.95) -> RubinPooled:
    """Rubin's rules (Rubin 1987; van Buuren, *Flexible Imputation of Missing Data*, 2nd ed., 2018, section 5.2).

    Parameters
    ----------
    estimates : (m, p) array, one row per completed data set.
    variances : (m, p) array of the estimates' squared standard errors.
    dfcom : complete-data degrees of freedom (n - number of coefficients, as
        ``mice::pool`` takes from ``df.residual``); None for Rubin's original df.
    level : CI coverage.

    Returns
    -------
    RubinPooled
        Q-bar, U-bar, B = var(Q) (m - 1 denominator), T = U-bar + (1 + 1/m) B;
        lambda = (1 + 1/m) B / T, riv = (1 + 1/m) B / U-bar; df_old = (m - 1) / lambda^2;
        with dfcom, df_obs = (dfcom + 1) / (dfcom + 3) dfcom (1 - lambda) and
        df = df_old df_obs / (df_old + df_obs) (Barnard & Rubin, Biometrika
        1999;86:948-55); fmi = (riv + 2 / (df + 3)) / (1 + riv).
    """
    q = np.atleast_2d(np.asarray(estimates, dtype=float))
    u = np.atleast_2d(np.asarray(variances, dtype=float))
    if q.shape != u.shape:
        raise ValueError(f"estimates {q.shape} and variances {u.shape} differ in shape")
    m = q.shape[0]
    if m < 2:
        raise ValueError(f"Rubin's rules need at least 2 imputations, got {m}")
    if not (np.isfinite(q).all() and np.isfinite(u).all()) or (u < 0).any():
        raise ValueError("estimates and variances must be finite, variances non-negative")
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (1 + 1 / m) * b / t
        riv = (1 + 1 / m) * b / ubar
        df_old = (m - 1) / lam**2
        if dfcom is None:
            df = df_old
        else:
            df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
            df = df_old * df_obs / (df_old + df_obs)
        df = np.where(np.isfinite(df), df, np.inf if dfcom is None else dfcom)
        fmi = (riv + 2 / (df + 3)) / (1 + riv)
    se = np.sqrt(t)
    crit = stats.t.ppf(0.5 + level / 2, df)
    p = 2 * stats.t.sf(np.abs(qbar / se), df)
    return RubinPooled(qbar, ubar, b, t, se, df, riv, lam, fmi, qbar - crit * se, qbar + crit * se, p, m)
