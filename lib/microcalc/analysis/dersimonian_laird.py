"""DerSimonian-Laird random-effects pooling of log odds ratios (part of :mod:`microcalc.analysis.pooling`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy import stats

from microcalc.abstract.pvalues import Z_975

__all__ = ["RandomEffectsPooled", "pool_random_effects"]


@dataclass(frozen=True)
class RandomEffectsPooled:
    """A DerSimonian-Laird random-effects pooled odds ratio (:func:`pool_random_effects`).

    Attributes
    ----------
    k : centres pooled (those with a finite log OR and variance).
    or_, ci_low, ci_high, p : pooled OR, its 95% CI and two-sided P (normal reference).
    log_or, se : pooled log OR and its standard error.
    or_fixed : the fixed-effect (inverse-variance) OR.
    tau2, i2 : between-centre variance and I-squared (%).
    q, q_p : Cochran's Q and its chi-squared P (k - 1 df).
    note : ``not estimable: <reason>`` when fewer than 2 centres could be pooled (every number NaN), else empty.
    """

    k: int
    or_: float
    ci_low: float
    ci_high: float
    p: float
    log_or: float
    se: float
    or_fixed: float
    tau2: float
    i2: float
    q: float
    q_p: float
    note: str = ""

    def as_row(self) -> dict:
        """The fields as one table row, in order (``or`` for ``or_``; ``note`` only when not estimable)."""
        row = {("or" if f.name == "or_" else f.name): getattr(self, f.name) for f in fields(self)}
        if not row["note"]:
            del row["note"]
        return row


def pool_random_effects(log_or, var) -> RandomEffectsPooled:
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
        return RandomEffectsPooled(
            k,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            note=f"not estimable: pooling needs at least 2 centres with an estimable odds ratio, got {k}",
        )
    w = 1 / v
    fixed = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - fixed) ** 2))
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (k - 1)) / c)
    w_re = 1 / (v + tau2)
    est = float(np.sum(w_re * y) / np.sum(w_re))
    se = float(np.sqrt(1 / np.sum(w_re)))
    return RandomEffectsPooled(
        k=k,
        or_=float(np.exp(est)),
        ci_low=float(np.exp(est - Z_975 * se)),
        ci_high=float(np.exp(est + Z_975 * se)),
        p=float(2 * stats.norm.sf(abs(est / se))),
        log_or=est,
        se=se,
        or_fixed=float(np.exp(fixed)),
        tau2=tau2,
        i2=max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0,
        q=q,
        q_p=float(stats.chi2.sf(q, k - 1)),
    )
