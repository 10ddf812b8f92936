"""Do a paper's numbers hang together?

* :func:`grim` and :func:`grim_denominators`: is a printed percentage
  possible for a denominator (the GRIM test of Brown & Heathers, Soc Psychol
  Personal Sci 2017;8:363-9, applied to proportions)?
* :func:`or_ci_p_coherence`: does a reported P follow from the reported OR
  and 95% CI (Altman & Bland, BMJ 2011;343:d2304), allowing for the rounding
  of every printed number?
* :func:`p_test_verdicts`: which of the usual tests reproduces a reported P
  from a reconstructed table (or from every table of a feasible set), and is
  that the test the paper names?
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.abstract.published import Reported, parse_reported
from microcalc.abstract.pvalues import TESTS, Z_975
from microcalc.abstract.reconstruct import (
    MAX_SIZES,
    Reconstruction,
    SearchTooLarge,
    check_ratio_ci,
    count_range,
    parse_ratio,
    parse_share,
    too_costly,
)

__all__ = ["Coherence", "grim", "grim_denominators", "or_ci_p_coherence", "p_test_verdicts"]


def grim(percent, n) -> np.ndarray:
    """Whether ``percent`` (as printed) is possible with denominator ``n``.

    True when some integer k in 0..n gives ``100 k / n`` that prints as
    ``percent``. Vectorised over ``n``.

    >>> grim("20.6%", [155, 156]).tolist()
    [True, False]
    """
    parse_share(percent, "percentage")
    scalar = np.ndim(n) == 0
    n = np.atleast_1d(np.asarray(n, dtype=np.int64))
    if np.any(n < 1):
        raise ValueError(f"denominators must be positive, got {int(n.min())}")
    lo, hi = count_range(percent, n)
    ok = lo <= hi
    return ok[0] if scalar else ok


def grim_denominators(percent, n_max: int, n_min: int = 1) -> np.ndarray:
    """All denominators in ``n_min..n_max`` for which ``percent`` is possible.

    Refuses (:class:`~microcalc.abstract.reconstruct.SearchTooLarge`) a range of more
    than :data:`~microcalc.abstract.reconstruct.MAX_SIZES` denominators.
    """
    n_min, n_max = int(n_min), int(n_max)
    if n_min < 1 or n_max < n_min:
        raise ValueError(f"need 1 <= n_min <= n_max, got n_min {n_min} and n_max {n_max}")
    if n_max - n_min + 1 > MAX_SIZES:
        raise SearchTooLarge(
            f"{n_max - n_min + 1:,} denominators to test, more than the "
            f"{MAX_SIZES:,} this search holds; give a narrower range"
        )
    n = np.arange(n_min, n_max + 1)
    return n[grim(percent, n)]


@dataclass(frozen=True)
class Coherence:
    """The verdict of :func:`or_ci_p_coherence`.

    Attributes
    ----------
    p_recomputed : float
        P from the printed OR and CI taken at face value.
    p_min, p_max : float
        The range of P over every OR and CI that print as reported.
    p_reported : Reported
    p_consistent : bool
        Whether the reported P is reachable within that range.
    or_from_ci : float
        The geometric midpoint of the printed CI, sqrt(low * high).
    or_from_ci_min, or_from_ci_max : float
        Its range over CI bounds that print as reported.
    or_consistent : bool
        Whether the reported OR is reachable from its CI (a Wald CI is
        symmetric around log OR); False hints at a profile-likelihood or
        otherwise asymmetric interval, or a typo.
    """

    p_recomputed: float
    p_min: float
    p_max: float
    p_reported: Reported
    p_consistent: bool
    or_from_ci: float
    or_from_ci_min: float
    or_from_ci_max: float
    or_consistent: bool

    @property
    def verdict(self) -> str:
        """One line in words."""
        parts = []
        parts.append("P consistent with OR and CI" if self.p_consistent else "P NOT consistent with OR and CI")
        parts.append("OR at the CI's log-midpoint" if self.or_consistent else "OR NOT at the CI's log-midpoint")
        return "; ".join(parts)


def _p_from_z(z):
    return 2 * stats.norm.sf(np.abs(z))


def or_ci_p_coherence(odds_ratio, ci_low, ci_high, p_value, z: float = Z_975) -> Coherence:
    """Check that a reported OR, its 95% CI and its P agree (Altman & Bland 2011).

    On the log scale a Wald CI is ``log OR +/- z SE``, so
    ``SE = (log high - log low) / (2 z)`` and the test statistic is
    ``log OR / SE``. Every printed number is an interval (``"1.065"`` is
    [1.0645, 1.0655]); the P range is taken over all of them, since the
    statistic is monotone in each: largest for the OR farthest from 1 and the
    narrowest CI.

    Parameters
    ----------
    odds_ratio, ci_low, ci_high, p_value : str or Reported
        As printed, e.g. ``"2.352"``, ``"1.186"``, ``"4.667"``, ``"P = 0.014"``.
    z : float
        Normal quantile of the CI (``qnorm(0.975)``; Altman & Bland use 3.92 = 2 x 1.96).

    Returns
    -------
    Coherence

    Examples
    --------
    The bone cohort's univariable OR of the abstract, whose P is printed "< 0.001":

    >>> c = or_ci_p_coherence("2.550", "1.620", "4.012", "P < 0.001")
    >>> c.p_consistent, round(c.p_recomputed, 6)
    (True, 5.2e-05)
    """
    o, lo, hi = (
        parse_ratio(parse_reported(x), w)
        for x, w in ((odds_ratio, "odds ratio"), (ci_low, "CI lower bound"), (ci_high, "CI upper bound"))
    )
    if o is None or lo is None or hi is None:
        raise ValueError("the odds ratio and both CI bounds are needed, as printed")
    check_ratio_ci(o, lo, hi)
    p = parse_reported(p_value)
    width = np.log(hi.value) - np.log(lo.value)
    z_point = np.log(o.value) / (width / (2 * z))
    # Extremes: |log OR| largest / smallest, width smallest / largest.
    log_or_abs = np.abs(np.log([o.low, o.high]))
    if o.low <= 1 <= o.high:
        log_or_min = 0.0
    else:
        log_or_min = log_or_abs.min()
    log_or_max = log_or_abs.max()
    width_min = np.log(hi.low) - np.log(lo.high)
    width_max = np.log(hi.high) - np.log(max(lo.low, 1e-300))
    z_max = log_or_max / (width_min / (2 * z)) if width_min > 0 else np.inf
    z_min = log_or_min / (width_max / (2 * z))
    p_min, p_max = float(_p_from_z(z_max)), float(_p_from_z(z_min))
    p_ok = _interval_overlaps(p, p_min, p_max)
    mid = float(np.sqrt(lo.value * hi.value))
    mid_min, mid_max = float(np.sqrt(lo.low * hi.low)), float(np.sqrt(lo.high * hi.high))
    or_ok = bool(o.high >= mid_min - 1e-12 and o.low <= mid_max + 1e-12)
    return Coherence(float(_p_from_z(z_point)), p_min, p_max, p, p_ok, mid, mid_min, mid_max, or_ok)


def _interval_overlaps(rep: Reported, lo: float, hi: float) -> bool:
    if rep.relation == "<":
        return lo < rep.high
    if rep.relation == ">":
        return hi > rep.low
    return lo <= rep.high + 1e-12 and hi >= rep.low - 1e-12


def p_test_verdicts(
    reconstruction: Reconstruction | np.ndarray, p_value, named: Sequence[str] = (), tests: Sequence[str] = tuple(TESTS)
) -> pd.DataFrame:
    """Which tests reproduce a reported P on the reconstructed table(s).

    Parameters
    ----------
    reconstruction : Reconstruction or array
        A unique table or a feasible set (or a ``(2, k)`` / ``(m, 2, k)``
        array of tables); P under each test is computed on every table.
    p_value : str or Reported
        The reported P as printed.
    named : sequence of str
        Ids of the tests the paper says it used (keys of
        :data:`microcalc.abstract.pvalues.TESTS`).
    tests : sequence of str
        The tests to try.

    Returns
    -------
    DataFrame
        One row per test: ``test``, ``label``, ``p_min`` and ``p_max`` over
        the feasible set (equal for a unique table), ``tables_reproducing``
        (how many tables of the set give a P that prints as reported),
        ``tables``, ``reproduces`` ("yes", "in some tables", "no" or "not
        applicable"), and ``named`` (whether the paper names this test).
    """
    rep = parse_reported(p_value)
    arrays = (
        reconstruction.arrays()
        if isinstance(reconstruction, Reconstruction)
        else np.asarray(reconstruction, dtype=np.int64).reshape(-1, 2, np.shape(reconstruction)[-1])
    )
    k = arrays.shape[2] if arrays.size else 2
    rows = []
    for test in tests:
        label, fn, only_2x2 = TESTS[test]
        applicable = len(arrays) > 0 and not (k > 2 and (only_2x2 or test == "mann_whitney"))
        why = too_costly(test, arrays) if applicable else None
        if why:
            rows.append((test, label, np.nan, np.nan, 0, len(arrays), f"not computed: {why}"))
        elif applicable:
            p = fn(arrays)
            hits = int(rep.matches(p).sum())
            verdict = "yes" if hits == len(p) else ("in some tables" if hits else "no")
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a test undefined on every table: nan
                p_min, p_max = float(np.nanmin(p)), float(np.nanmax(p))
            rows.append((test, label, p_min, p_max, hits, len(p), verdict))
        else:
            rows.append((test, label, np.nan, np.nan, 0, len(arrays), "not applicable"))
    out = pd.DataFrame(rows, columns=["test", "label", "p_min", "p_max", "tables_reproducing", "tables", "reproduces"])
    out["named"] = out["test"].isin(list(named))
    return out
