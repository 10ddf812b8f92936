"""Pooled odds ratios across centres: REML with the Hartung-Knapp-Sidik-Jonkman CI, DerSimonian-Laird,
Mantel-Haenszel, and leave one centre out (part of :mod:`microcalc.analysis.meta`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.analysis.dersimonian_laird import RandomEffectsPooled, pool_random_effects

__all__ = [
    "RandomEffectsPooled",
    "pool_random_effects",
    "PooledOR",
    "reml_tau2",
    "pool_reml_hksj",
    "pool_dersimonian_laird",
    "mantel_haenszel",
    "leave_one_centre_out",
]


@dataclass(frozen=True)
class PooledOR:
    """A pooled odds ratio over centres, with the between-centre variance and what it implies.

    Attributes
    ----------
    method : how it was pooled, in words.
    k : centres pooled.
    log_or, se : pooled log OR and its standard error.
    or_, ci_low, ci_high : pooled OR and its 95% CI.
    p : two-sided P of the pooled log OR (t with ``df`` degrees of freedom, or normal when ``df`` is None).
    df : degrees of freedom of the t reference (k - 1 for Hartung-Knapp), None for a normal reference.
    tau2 : between-centre variance (NaN for Mantel-Haenszel).
    i2 : I-squared (%), metafor's definition for the given tau2.
    q, q_p : Cochran's Q and its chi-squared P (k - 1 df).
    pi_low, pi_high : 95% prediction interval of a new centre's OR (NaN when not computed).
    estimator : how it was pooled, as a key of :data:`microcalc.analysis.tidy.ESTIMATORS` (set where it is
        computed; empty for a pooling outside that vocabulary, whose rows ``write_results`` refuses).
    """

    method: str
    k: int
    log_or: float
    se: float
    or_: float
    ci_low: float
    ci_high: float
    p: float
    df: int | None
    tau2: float
    i2: float
    q: float
    q_p: float
    pi_low: float = np.nan
    pi_high: float = np.nan
    estimator: str = field(default="", kw_only=True)

    @classmethod
    def unestimable(cls, k: int, reason: str, estimator: str = "") -> PooledOR:
        """A pooled OR the data cannot give: every number NaN, ``method`` ``not estimable: <reason>``;
        ``estimator`` is the pooling that was attempted."""
        reason = reason if reason.startswith("not estimable: ") else f"not estimable: {reason}"
        nan = float("nan")
        return cls(reason, k, nan, nan, nan, nan, nan, nan, None, nan, nan, nan, nan, estimator=estimator)

    def as_row(self) -> dict:
        """The fields as one table row (``or`` for ``or_``; the ``estimator`` key is left out)."""
        row = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "estimator"}
        row["or"] = row.pop("or_")
        return row


def _finite(log_or, var) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(log_or, dtype=float)
    v = np.asarray(var, dtype=float)
    if y.shape != v.shape or y.ndim != 1:
        raise ValueError(f"log_or and var must be 1-d of equal length, got {y.shape} and {v.shape}")
    keep = np.isfinite(y) & np.isfinite(v)
    if (v[keep] <= 0).any():
        raise ValueError("every sampling variance must be positive")
    if keep.sum() < 2:
        raise ValueError(
            f"not estimable: pooling needs at least 2 centres with an estimable odds ratio, got {int(keep.sum())}"
        )
    return y[keep], v[keep]


def _q_i2(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float, float]:
    """Cochran's Q, its P, and metafor's I^2 = 100 tau2 / (tau2 + s^2) with the 'typical' variance s^2."""
    k = len(y)
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - fixed) ** 2))
    s2 = (k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2))
    return q, float(stats.chi2.sf(q, k - 1)), float(100 * tau2 / (tau2 + s2))


def reml_tau2(log_or, var, tol: float = 1e-12, max_iter: int = 1000) -> float:
    """Restricted maximum-likelihood between-study variance (metafor's default ``method = "REML"``).

    Fisher scoring as in metafor (Viechtbauer, J Educ Behav Stat 2005;30:261-93):
    with W = diag(1 / (v + tau2)) and P = W - W 1 1' W / sum(W), the step is
    (y' P P y - tr P) / tr(P P), halved while it would make tau2 negative
    (so tau2 is truncated at 0).
    """
    y, v = _finite(log_or, var)
    tau2 = max(0.0, float(np.var(y, ddof=1) - np.mean(v)))  # start: method of moments (unweighted)
    for _ in range(max_iter):
        w = 1 / (v + tau2)
        P = np.diag(w) - np.outer(w, w) / np.sum(w)
        Py = P @ y
        step = (Py @ Py - np.trace(P)) / np.sum(P * P)
        while tau2 + step < 0:
            step /= 2
            if abs(step) < tol:
                step = -tau2
                break
        tau2 += step
        if abs(step) < tol:
            break
    else:
        raise ValueError(f"not estimable: REML Fisher scoring did not converge in {max_iter} iterations")
    return float(max(0.0, tau2))


def pool_reml_hksj(log_or, var, level: float = 0.95, truncate: bool = False) -> PooledOR:
    """REML random-effects pooling with the Hartung-Knapp-Sidik-Jonkman CI and a prediction interval.

    As R ``metafor::rma(yi, vi, method = "REML", test = "knha")`` and
    ``predict()`` of that model: with w = 1 / (v + tau2_REML) and mu the
    weighted mean, the Hartung-Knapp variance is
    sum w (y - mu)^2 / ((k - 1) sum w), untruncated (metafor's default; it may
    be smaller than 1 / sum w); CI and P use t with k - 1 df (IntHout et al.,
    BMC Med Res Methodol 2014;14:25). The prediction interval is
    mu +/- t_{k-1} sqrt(se^2 + tau2) (Riley et al., BMJ 2011;342:d549).

    With few centres that agree (Q < k - 1) the untruncated Hartung-Knapp
    SE is smaller than the usual 1 / sqrt(sum w), and its CI can be narrower
    than the DerSimonian-Laird one; ``truncate=True`` keeps the larger of the
    two (metafor ``test = "adhoc"``; Knapp & Hartung 2003, Jackson et al.,
    Stat Med 2017;36:3923-34) as a check.

    Parameters
    ----------
    log_or, var : per-centre log ORs and their sampling variances (non-finite pairs are left out).
    level : coverage of the CI and prediction interval.
    truncate : never let the Hartung-Knapp variance fall below 1 / sum w (metafor ``test = "adhoc"``).

    Returns
    -------
    PooledOR
    """
    y, v = _finite(log_or, var)
    k = len(y)
    tau2 = reml_tau2(y, v)
    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(np.sum(w * (y - mu) ** 2) / ((k - 1) * np.sum(w))))
    if truncate:
        se = max(se, float(np.sqrt(1 / np.sum(w))))
    crit = float(stats.t.ppf(0.5 + level / 2, k - 1))
    q, q_p, i2 = _q_i2(y, v, tau2)
    half_pi = crit * np.sqrt(se**2 + tau2)
    p = float(2 * stats.t.sf(abs(mu / se), k - 1)) if se > 0 else np.nan
    name = "random effects, REML tau2, Hartung-Knapp-Sidik-Jonkman CI (t, k-1 df" + (
        ", truncated at the standard variance)" if truncate else ", untruncated)"
    )
    return PooledOR(
        name,
        k,
        mu,
        se,
        float(np.exp(mu)),
        float(np.exp(mu - crit * se)),
        float(np.exp(mu + crit * se)),
        p,
        k - 1,
        tau2,
        i2,
        q,
        q_p,
        float(np.exp(mu - half_pi)),
        float(np.exp(mu + half_pi)),
        estimator="random_effects_reml",
    )


def pool_dersimonian_laird(log_or, var) -> PooledOR:
    """DerSimonian-Laird pooling (normal reference) as a :class:`PooledOR`, for comparison beside REML.

    The numbers are those of :func:`pool_random_effects` (R ``rma(method = "DL")``);
    I-squared is recomputed with metafor's definition, which for DL equals
    (Q - (k - 1)) / Q. No prediction interval.
    """
    y, v = _finite(log_or, var)
    d = pool_random_effects(y, v)
    q, q_p, i2 = _q_i2(y, v, d.tau2)
    return PooledOR(
        "random effects, DerSimonian-Laird tau2, Wald CI (normal)",
        d.k,
        d.log_or,
        d.se,
        d.or_,
        d.ci_low,
        d.ci_high,
        d.p,
        None,
        d.tau2,
        i2,
        q,
        q_p,
        estimator="random_effects_dl",
    )


def _strata(centres: pd.DataFrame) -> np.ndarray:
    """(K, 4) cells a, b, c, d of each centre from :func:`centre_odds_ratios` counts."""
    need = ["events_exposed", "n_exposed", "events_reference", "n_reference"]
    missing = [c for c in need if c not in centres.columns]
    if missing:
        raise ValueError(f"centres lacks columns {missing}; expected the output of centre_odds_ratios")
    a = centres["events_exposed"].to_numpy(float)
    b = centres["n_exposed"].to_numpy(float) - a
    c = centres["events_reference"].to_numpy(float)
    d = centres["n_reference"].to_numpy(float) - c
    return np.column_stack([a, b, c, d])


def mantel_haenszel(centres: pd.DataFrame, correct: bool = True, level: float = 0.95) -> PooledOR:
    """Mantel-Haenszel common odds ratio over centres, as R ``mantelhaen.test``.

    Estimate sum(a d / n) / sum(b c / n); CI from the Robins-Breslow-Greenland
    variance of its log (Biometrics 1986;42:311-23); P from the
    Cochran-Mantel-Haenszel chi-squared statistic (1 df), with continuity
    correction by default as R (``correct = TRUE``). Uses every centre's raw
    counts (no 0.5 added). ``q`` and ``q_p`` hold the CMH statistic and its P;
    ``tau2`` and ``i2`` are NaN. Fewer than 2 centres with patients, a centre
    of 1 patient, or a zero sum of cross products raise ``ValueError``
    ("not estimable: ..."; :func:`pooling_fits` turns it into a not-estimable fit).

    Parameters
    ----------
    centres : output of :func:`centre_odds_ratios` (its count columns).
    correct : continuity correction of the CMH statistic.
    level : CI coverage.
    """
    x = _strata(centres)
    x = x[x.sum(axis=1) > 0]
    if len(x) < 2:  # R: "each dimension in table must be >= 2"
        raise ValueError(f"not estimable: pooling needs at least 2 centres with patients, got {len(x)}")
    if (x.sum(axis=1) < 2).any():
        raise ValueError("not estimable: the Mantel-Haenszel test needs at least 2 patients in every centre")
    a, b, c, d = x.T
    n = x.sum(axis=1)
    s_diag, s_offd = np.sum(a * d / n), np.sum(b * c / n)
    if s_diag == 0 or s_offd == 0:
        raise ValueError(
            "not estimable: the Mantel-Haenszel odds ratio is 0 or infinite (a sum of cross products is 0)"
        )
    est = s_diag / s_offd
    sd = np.sqrt(
        np.sum((a + d) * a * d / n**2) / (2 * s_diag**2)
        + np.sum(((a + d) * b * c + (b + c) * a * d) / n**2) / (2 * s_diag * s_offd)
        + np.sum((b + c) * b * c / n**2) / (2 * s_offd**2)
    )
    z = float(stats.norm.ppf(0.5 + level / 2))
    m_row, n_col = a + b, a + c
    delta = np.sum(a) - np.sum(m_row * n_col / n)
    yates = 0.5 if correct and abs(delta) >= 0.5 else 0.0
    stat = (abs(delta) - yates) ** 2 / np.sum(m_row * n_col * (n - m_row) * (n - n_col) / (n**2 * (n - 1)))
    p = float(stats.chi2.sf(stat, 1))
    return PooledOR(
        "Mantel-Haenszel, Robins-Breslow-Greenland CI; CMH chi-squared P"
        + (" (continuity-corrected)" if correct else ""),
        len(x),
        float(np.log(est)),
        float(sd),
        float(est),
        float(est * np.exp(-z * sd)),
        float(est * np.exp(z * sd)),
        p,
        None,
        np.nan,
        np.nan,
        float(stat),
        p,
        estimator="mantel_haenszel",
    )


def leave_one_centre_out(centres: pd.DataFrame) -> pd.DataFrame:
    """Pooled OR with each centre left out in turn (REML + Hartung-Knapp, and Mantel-Haenszel).

    Parameters
    ----------
    centres : output of :func:`centre_odds_ratios`.

    Returns
    -------
    DataFrame
        One row per left-out centre: ``left_out``, ``k``, REML/HKSJ ``or``,
        ``ci_low``, ``ci_high``, ``tau2``, and ``or_mh``, ``ci_low_mh``,
        ``ci_high_mh``; a pooled estimate that cannot be had (fewer than two
        estimable centres left) is NaN and ``note`` says
        ``not estimable: REML: <reason>; Mantel-Haenszel: <reason>`` for those that cannot.
    """
    rows = []
    for i, name in enumerate(centres["centre"]):
        rest = centres.drop(index=centres.index[i])
        row = {"left_out": str(name), "k": int(rest["estimable"].sum()) if "estimable" in rest else len(rest)}
        note = []
        try:
            r = pool_reml_hksj(rest["log_or"], rest["var"])
            row.update({"or": r.or_, "ci_low": r.ci_low, "ci_high": r.ci_high, "tau2": r.tau2})
        except ValueError as err:
            row.update({"or": np.nan, "ci_low": np.nan, "ci_high": np.nan, "tau2": np.nan})
            note.append(f"REML: {str(err).removeprefix('not estimable: ')}")
        try:
            m = mantel_haenszel(rest)
            row.update({"or_mh": m.or_, "ci_low_mh": m.ci_low, "ci_high_mh": m.ci_high})
        except ValueError as err:
            row.update({"or_mh": np.nan, "ci_low_mh": np.nan, "ci_high_mh": np.nan})
            note.append(f"Mantel-Haenszel: {str(err).removeprefix('not estimable: ')}")
        row["note"] = ("not estimable: " + "; ".join(note)) if note else ""
        rows.append(row)
    return pd.DataFrame(rows)
