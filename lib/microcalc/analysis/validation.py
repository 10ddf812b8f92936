"""Discrimination and calibration of a logistic model, apparent and optimism-corrected by the bootstrap,
and the Hosmer-Lemeshow test (part of :mod:`microcalc.analysis.performance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from microcalc.analysis.effects import fit_estimable
from microcalc.analysis.models import _fit, design_matrix, drop_aliased
from microcalc.analysis.results import not_estimable
from microcalc.analysis.tables import p_phrase
from microcalc.core.cache import reusable

__all__ = [
    "model_predictions",
    "CStatistic",
    "c_statistic",
    "Calibration",
    "calibration",
    "Validation",
    "bootstrap_validation",
    "HosmerLemeshow",
    "hosmer_lemeshow",
]


def _outcome_and_risk(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"y and p must be 1-d of equal length, got {y.shape} and {p.shape}")
    if not set(np.unique(y)) <= {0.0, 1.0}:
        raise ValueError("y must be 0/1")
    if not np.isfinite(p).all() or (p <= 0).any() or (p >= 1).any():
        raise ValueError("predicted risks must lie strictly between 0 and 1")
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("not estimable: the outcome does not vary")
    return y, p


def _design(df: pd.DataFrame, outcome: str, terms: Sequence[str]):
    """Design without aliased columns (as R's ``glm`` fits a rank-deficient model), outcome, term -> columns."""
    data = df[[outcome, *terms]].dropna()
    X, _, columns_of = design_matrix(data, terms)
    X, keep = drop_aliased(X)
    position = {j: i for i, j in enumerate(keep)}
    columns_of = {t: [position[j] for j in idx if j in position] for t, idx in columns_of.items()}
    return X, data[outcome].astype(float).to_numpy(), columns_of


def model_predictions(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Outcome (0/1) and fitted risks of ``outcome ~ terms`` on its complete cases (R ``fitted(glm)``).

    Aliased columns of a rank-deficient design are left out first, as R's ``glm`` does.
    """
    X, y, _ = _design(df, outcome, terms)
    res = fit_estimable(X, y)
    return y, special.expit(X @ np.asarray(res.params))


@dataclass(frozen=True)
class CStatistic:
    """C-statistic with DeLong's standard error and CI.

    Attributes
    ----------
    c, se, ci_low, ci_high : the C-statistic, its DeLong SE and CI (c +/- z se,
        as ``pROC::ci.auc(method = "delong")``).
    events, non_events : patients with and without the outcome.
    """

    c: float
    se: float
    ci_low: float
    ci_high: float
    events: int
    non_events: int


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    pos, neg = p[y == 1], p[y == 0]
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def c_statistic(y, p, level: float = 0.95) -> CStatistic:
    """C-statistic (area under the ROC curve) with DeLong's CI.

    C = P(p_event > p_non-event) + 0.5 P(tie), via midranks (the
    Mann-Whitney U / (n1 n0)). DeLong's variance: with placement values
    V10_i (share of non-events below event i, ties 1/2) and V01_j (share of
    events above non-event j), var = var(V10) / n1 + var(V01) / n0.

    Parameters
    ----------
    y : 0/1 outcomes.
    p : predicted risks (or any score; higher means more likely an event).
    level : CI coverage.
    """
    y, p = _outcome_and_risk(y, p)
    pos, neg = p[y == 1], p[y == 0]
    n1, n0 = len(pos), len(neg)
    all_ranks = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (all_ranks[:n1] - stats.rankdata(pos)) / n0
    v01 = 1 - (all_ranks[n1:] - stats.rankdata(neg)) / n1
    c = float(v10.mean())
    se = float(np.sqrt(np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n0))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return CStatistic(c, se, c - z * se, c + z * se, n1, n0)


@dataclass(frozen=True)
class Calibration:
    """Calibration intercept and slope of predicted risks against outcomes.

    Attributes
    ----------
    intercept, intercept_ci_low, intercept_ci_high : calibration-in-the-large,
        the intercept of ``glm(y ~ offset(logit(p)), binomial)`` (0 is ideal), Wald CI.
    slope, slope_ci_low, slope_ci_high : the slope of ``glm(y ~ logit(p), binomial)`` (1 is ideal), Wald CI.
    """

    intercept: float
    intercept_ci_low: float
    intercept_ci_high: float
    slope: float
    slope_ci_low: float
    slope_ci_high: float


def _citl(y: np.ndarray, lp: np.ndarray) -> tuple[float, float]:
    """Intercept of logit P(y) = a + offset(lp), by Newton, with its SE."""
    a = 0.0
    for _ in range(100):
        mu = special.expit(a + lp)
        info = np.sum(mu * (1 - mu))
        step = np.sum(y - mu) / info
        a += step
        if abs(step) < 1e-12:
            break
    mu = special.expit(a + lp)
    return float(a), float(1 / np.sqrt(np.sum(mu * (1 - mu))))


def _slope(y: np.ndarray, lp: np.ndarray):
    return _fit(np.column_stack([np.ones_like(lp), lp]), y)


def calibration(y, p, level: float = 0.95) -> Calibration:
    """Calibration intercept (in the large) and slope (Cox 1958; Van Calster et al. 2019).

    On the data a maximum-likelihood model was fitted to, they are 0 and 1 by
    construction; report them from :func:`bootstrap_validation` (optimism
    corrected) or on new data.

    Parameters
    ----------
    y : 0/1 outcomes.
    p : predicted risks.
    level : CI coverage.
    """
    y, p = _outcome_and_risk(y, p)
    lp = special.logit(p)
    z = float(stats.norm.ppf(0.5 + level / 2))
    a, se_a = _citl(y, lp)
    res = _slope(y, lp)
    b, se_b = float(res.params[1]), float(res.bse[1])
    return Calibration(a, a - z * se_a, a + z * se_a, b, b - z * se_b, b + z * se_b)


@dataclass(frozen=True)
class Validation:
    """Apparent, optimism and optimism-corrected performance from a bootstrap.

    Attributes
    ----------
    table : DataFrame indexed by ``c_statistic``, ``calibration_intercept``,
        ``calibration_slope``: ``apparent``, ``optimism``, ``corrected``.
    n_boot : bootstrap samples drawn; n_used : replicates whose model could be fitted (and averaged).
    seed : seed of the resampling.
    method : what was done, in words; ``not estimable: <reason>`` (the optimism and corrected values NaN)
        when no bootstrap sample could be fitted.
    """

    table: pd.DataFrame
    n_boot: int
    n_used: int
    seed: int
    method: str


@reusable
def bootstrap_validation(
    df: pd.DataFrame,
    outcome: str,
    terms: Sequence[str],
    n_boot: int = 200,
    seed: int = 20230314,
    samples: np.ndarray | None = None,
    max_draws: int | None = None,
) -> Validation:
    """Harrell's bootstrap optimism correction of discrimination and calibration.

    For each replicate b: refit the model on a bootstrap sample; its
    performance on that sample (apparent_b) minus its performance on the
    original data (test_b) is the optimism; corrected = apparent - mean
    optimism (Harrell, Lee & Mark, Stat Med 1996;15:361-87). A bootstrap
    sample in which the model cannot be fitted (no convergence: separation,
    e.g. a small category with every patient an event; or a singular design)
    has no maximum-likelihood estimate: it is left out, as ``rms::validate``
    does, and further samples are drawn until ``n_boot`` replicates are fitted
    (at most ``max_draws``). The method text says how many were left out;
    leaving them out may understate the optimism.

    When ``MICROCALC_RESULT_CACHE`` is set (``make all``), the result is kept under a key of the
    data, the arguments, the code and the package versions and read back on a rerun
    (:func:`microcalc.core.cache.reusable`).

    Parameters
    ----------
    df : the cohort (not modified).
    outcome, terms : the model.
    n_boot : fitted replicates wanted (at least 200 for the corrected C).
    seed : seed of ``numpy.random.default_rng`` drawing the samples.
    samples : optional (B, n) integer array of row indices into the model's
        complete cases (for tests); used as given instead of drawing.
    max_draws : most samples drawn (default 20 x ``n_boot``).
    """
    import warnings

    X, y, _ = _design(df, outcome, terms)
    n = len(y)
    full = fit_estimable(X, y)
    lp = X @ np.asarray(full.params)
    app = _metrics(y, lp)
    rng = np.random.default_rng(seed)
    given = None if samples is None else iter(np.asarray(samples))
    limit = len(samples) if samples is not None else (max_draws or 20 * n_boot)
    want = len(samples) if samples is not None else n_boot
    optimism: list[np.ndarray] = []
    drawn = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while len(optimism) < want and drawn < limit:
            idx = next(given) if given is not None else rng.integers(0, n, size=n)
            drawn += 1
            yb = y[idx]
            if yb.min() == yb.max():
                continue
            try:
                res = _fit(X[idx], yb)
            except (np.linalg.LinAlgError, ValueError):
                continue
            beta = np.asarray(res.params)
            if not res.mle_retvals.get("converged", True) or not np.isfinite(beta).all():
                continue
            optimism.append(_metrics(yb, X[idx] @ beta) - _metrics(y, X @ beta))
    opt = np.mean(optimism, axis=0) if optimism else np.full(3, np.nan)
    table = pd.DataFrame(
        {"apparent": app, "optimism": opt, "corrected": app - opt},
        index=pd.Index(["c_statistic", "calibration_intercept", "calibration_slope"], name="measure"),
    )
    left_out = drawn - len(optimism)
    if not optimism:
        method = not_estimable(f"none of the {drawn} bootstrap samples drawn (seed {seed}) could be fitted")
        return Validation(table, drawn, 0, seed, method)
    method = (
        f"Harrell's bootstrap optimism correction, {len(optimism)} fitted replicates (seed {seed})"
        + (f"; {left_out} of {drawn} samples drawn left out (model not estimable: no convergence)" if left_out else "")
        + "; calibration intercept in the large (offset), slope of logit risk"
    )
    return Validation(table, drawn, len(optimism), seed, method)


def _metrics(y: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """C, calibration intercept (in the large) and slope of linear predictor ``lp`` on outcomes ``y``."""
    p = special.expit(lp)
    return np.array([_auc(y, p), _citl(y, lp)[0], float(_slope(y, lp).params[1])])


@dataclass(frozen=True)
class HosmerLemeshow:
    """Hosmer-Lemeshow goodness-of-fit test.

    Attributes
    ----------
    statistic, df, p : chi-squared statistic, degrees of freedom (groups - 2), P.
    groups : number of risk groups actually formed (fewer than asked when quantiles tie).
    table : per group: ``n``, ``observed``, ``expected`` events.
    sentence : the result with its number of groups, in words.
    """

    statistic: float
    df: int
    p: float
    groups: int
    table: pd.DataFrame
    sentence: str


def hosmer_lemeshow(y, p, g: int = 10) -> HosmerLemeshow:
    """Hosmer-Lemeshow test on ``g`` groups of predicted risk (Hosmer & Lemeshow 1980).

    Groups are cut at the quantiles of the predicted risks (R's type 7),
    intervals closed on the right and the lowest one closed on both sides, as
    ``ResourceSelection::hoslem.test(y, p, g)``: statistic
    sum over groups and both outcomes of (O - E)^2 / E, chi-squared on
    (groups - 2) df. Tied quantiles are merged (hoslem.test stops instead);
    with fewer than 3 groups left the test is not estimable (NaN, and the
    sentence says so).
    """
    y, p = _outcome_and_risk(y, p)
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, g + 1)))
    group = np.clip(np.searchsorted(breaks, p, side="left"), 1, len(breaks) - 1) - 1
    frame = pd.DataFrame({"group": group, "y": y, "p": p}).groupby("group")
    table = pd.DataFrame({"n": frame.size(), "observed": frame["y"].sum(), "expected": frame["p"].sum()})
    k = len(table)
    if k < 3:
        reason = not_estimable(f"only {k} distinct groups of predicted risk (the test needs at least 3)")
        return HosmerLemeshow(np.nan, 0, np.nan, k, table, f"Hosmer-Lemeshow test: {reason}.")
    o1, e1 = table["observed"].to_numpy(), table["expected"].to_numpy()
    o0, e0 = table["n"].to_numpy() - o1, table["n"].to_numpy() - e1
    stat = float(np.sum((o1 - e1) ** 2 / e1) + np.sum((o0 - e0) ** 2 / e0))
    pval = float(stats.chi2.sf(stat, k - 2))
    sentence = (
        f"Hosmer-Lemeshow chi-squared {stat:.2f} on {k - 2} df over {k} groups of predicted risk, "
        f"{p_phrase(pval)}"
        + (f" (asked for {g}; tied quantiles merged)" if k != g else "")
        + "; a large P does not show good calibration, only that this test could not detect poor calibration."
    )
    return HosmerLemeshow(stat, k - 2, pval, k, table, sentence)
