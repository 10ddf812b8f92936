"""Which patient counts do a paper's reported numbers imply?

Given two group percentages as printed, what is known of the group sizes,
and, where reported, an odds ratio with its 95% CI and P, or the P of a
comparison, :func:`reconstruct_2x2` returns every integer 2 x 2 table that
reproduces all of them at their printed precision. When the percentages are
shares of one category of a k-category variable, :func:`reconstruct_2xk`
returns every 2 x k table that reproduces them and the reported P.

The search is exhaustive and vectorised: all (n, events) pairs a percentage
allows are generated as arrays, paired on the group sizes, and filtered
constraint by constraint; no Python loop runs over candidate tables.

At registry sizes (a total of 10^5 to 10^6 patients) the candidate tables
are far too many to hold, so they are never materialised: every percentage
allows a contiguous range of counts for each group size, the number of
candidates is counted from those ranges, and when an odds ratio or its CI is
reported the search is bounded analytically (the CI's width bounds the
standard error, hence the group sizes; the OR bounds the reference count for
each exposed count) and run in chunks. A search whose space or feasible set
is larger than the limits below is refused with a message saying how large
it is and what would narrow it.

Table orientation (as in :mod:`microcalc.abstract.pvalues`): row 0 is the exposed
group, row 1 the reference group; for 2 x 2 tables column 0 counts the
patients with the reported event (the one the percentages describe).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from microcalc.abstract.feasible import (
    _CELLS_2X2,
    _CHUNK,
    _DIRECT,
    MAX_EXAMINED,
    MAX_FISHER_TABLES,
    MAX_FISHER_WORK,
    MAX_SIZES,
    MAX_TABLES,
    Reconstruction,
    SearchTooLarge,
    _as_arrays,
    _check_sizes,
    _p_columns,
    _p_filter,
    _reported,
    _size_range,
    _stats_2x2,
    check_ratio_ci,
    count_candidates,
    count_range,
    parse_ratio,
    parse_share,
    too_costly,
)
from microcalc.abstract.pvalues import TESTS, Z_975, odds_ratio_wald
from microcalc.abstract.search_2xk import compositions, reconstruct_2xk

__all__ = [
    "MAX_EXAMINED",
    "MAX_FISHER_TABLES",
    "MAX_FISHER_WORK",
    "MAX_SIZES",
    "MAX_TABLES",
    "Reconstruction",
    "SearchTooLarge",
    "check_ratio_ci",
    "compositions",
    "count_candidates",
    "count_range",
    "parse_ratio",
    "parse_share",
    "reconstruct_2x2",
    "reconstruct_2xk",
    "too_costly",
]


def _inverse_log_terms(n, k):
    """``n / (k (n - k))``: the part of the squared log-OR standard error one group contributes."""
    return n / (k * (n - k))


def _log_or_bounds(rep_or, rep_lo, rep_hi, z):
    """Bounds on the (event) log OR and its squared SE implied by a printed OR and CI (with slack)."""
    slack = 1e-6
    lor_lo, lor_hi = -np.inf, np.inf
    if rep_or is not None:
        lor_lo, lor_hi = np.log(max(rep_or.low, 1e-300)) - slack, np.log(rep_or.high) + slack
    se2_lo, se2_hi = 0.0, np.inf
    if rep_lo is not None and rep_hi is not None:
        lo_lo, lo_hi = np.log(max(rep_lo.low, 1e-300)), np.log(max(rep_lo.high, 1e-300))
        hi_lo, hi_hi = np.log(max(rep_hi.low, 1e-300)), np.log(max(rep_hi.high, 1e-300))
        # A Wald CI is symmetric around log OR: its midpoint is log OR, its width 2 z SE.
        lor_lo = max(lor_lo, (lo_lo + hi_lo) / 2 - slack)
        lor_hi = min(lor_hi, (lo_hi + hi_hi) / 2 + slack)
        se2_lo = (max(hi_lo - lo_hi, 0.0) / (2 * z)) ** 2 * (1 - slack)
        se2_hi = ((hi_hi - lo_lo) / (2 * z)) ** 2 * (1 + slack)
    return lor_lo, lor_hi, se2_lo, se2_hi


def _expand(start, width):
    """Index of each row repeated ``width`` times and the values ``start .. start + width - 1``."""
    total = int(width.sum())
    rows = np.repeat(np.arange(len(width)), width)
    offsets = np.arange(total) - np.repeat(np.cumsum(width) - width, width)
    return rows, start[rows] + offsets


def _chunks(width, limit):
    """Slices of consecutive rows whose widths add up to at most ``limit`` (one row at least)."""
    ends = np.cumsum(width)
    start = 0
    while start < len(width):
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + limit, side="right")))
        yield slice(start, stop)
        start = stop


def _search_chunked(pairs, orients, rep_or, rep_lo, rep_hi, rep_orp, z) -> pd.DataFrame:
    """The feasible 2 x 2 tables of a large search, never holding more than a chunk of candidates.

    Each pair of group sizes allows a rectangle of counts (one range per
    group). Pairs whose rectangle cannot give the printed CI width (the SE of
    log OR is smallest at the counts nearest n/2 and largest at the range's
    ends) or the printed OR (it rises with the exposed count and falls with
    the reference count) are dropped without enumeration; for the rest each
    exposed count gives the range of reference counts the OR allows, and only
    those tables are computed and checked exactly, a chunk at a time.
    """
    n1, n0, lo1, hi1, lo0, hi0 = (np.asarray(x, dtype=np.int64) for x in pairs)
    # A zero cell gives no OR or CI (nan), which never prints as a number.
    lo1, hi1 = np.maximum(lo1, 1), np.minimum(hi1, n1 - 1)
    lo0, hi0 = np.maximum(lo0, 1), np.minimum(hi0, n0 - 1)
    keep = (lo1 <= hi1) & (lo0 <= hi0)
    n1, n0, lo1, hi1, lo0, hi0 = (x[keep] for x in (n1, n0, lo1, hi1, lo0, hi0))

    def se2_range(n, lo, hi):
        mid = np.clip(n // 2, lo, hi)
        low = np.minimum(_inverse_log_terms(n, mid), _inverse_log_terms(n, np.clip(mid + 1, lo, hi)))
        high = np.maximum(_inverse_log_terms(n, lo), _inverse_log_terms(n, hi))
        return low, high

    a_min, a_max = se2_range(n1, lo1, hi1)
    b_min, b_max = se2_range(n0, lo0, hi0)
    found = []
    held = 0
    for orient in orients:
        lor_lo, lor_hi, se2_lo, se2_hi = _log_or_bounds(rep_or, rep_lo, rep_hi, z)
        if orient == "complement":  # the printed OR is that of the event's absence
            lor_lo, lor_hi = -lor_hi, -lor_lo
        with np.errstate(divide="ignore"):
            or_min = np.log(lo1) + np.log(n0 - hi0) - np.log(n1 - lo1) - np.log(hi0)
            or_max = np.log(hi1) + np.log(n0 - lo0) - np.log(n1 - hi1) - np.log(lo0)
        ok = (a_min + b_min <= se2_hi) & (a_max + b_max >= se2_lo) & (or_max >= lor_lo) & (or_min <= lor_hi)
        idx = np.flatnonzero(ok)
        width = (hi1 - lo1 + 1)[idx]
        examined = int(width.sum())
        if examined > MAX_EXAMINED:
            raise SearchTooLarge(
                f"the reported numbers leave {examined:,} (group size, events) candidates to examine, "
                f"more than the {MAX_EXAMINED:,} this search allows; give the group sizes or more "
                "reported numbers (CI, P) to narrow it"
            )
        r_lo, r_hi = np.exp(lor_lo), np.exp(lor_hi)
        for sl in _chunks(width, _CHUNK):
            sel = idx[sl]
            rows, a = _expand(lo1[sel], width[sl])
            p = sel[rows]
            m1, m0 = n1[p], n0[p]
            a_term = _inverse_log_terms(m1, a)
            fit = (a_term + b_min[p] <= se2_hi) & (a_term + b_max[p] >= se2_lo)
            p, a, m1, m0 = p[fit], a[fit], m1[fit], m0[fit]
            # OR = a (n0 - b) / ((n1 - a) b) falls with b: the b that give an OR in [r_lo, r_hi].
            with np.errstate(divide="ignore", invalid="ignore"):
                b_lo = np.floor(a * m0 / (a + r_hi * (m1 - a))) - 1 if np.isfinite(r_hi) else lo0[p]
                b_hi = np.ceil(a * m0 / (a + r_lo * (m1 - a))) + 1 if r_lo > 0 else hi0[p]
            b_lo = np.maximum(np.nan_to_num(b_lo, nan=0).astype(np.int64), lo0[p])
            b_hi = np.minimum(np.nan_to_num(b_hi, nan=0).astype(np.int64), hi0[p])
            wb = np.maximum(b_hi - b_lo + 1, 0)
            for sub in _chunks(wb, _CHUNK):
                r2, b = _expand(b_lo[sub], wb[sub])
                aa, mm1, mm0 = a[sub][r2], m1[sub][r2], m0[sub][r2]
                tables = np.stack([np.stack([aa, mm1 - aa], -1), np.stack([b, mm0 - b], -1)], 1)
                w = odds_ratio_wald(tables, z=z)
                est, low, high = w["or"], w["low"], w["high"]
                if orient == "complement":
                    est, low, high = 1 / est, 1 / high, 1 / low
                hit = np.ones(len(b), dtype=bool)
                for rep, values in ((rep_or, est), (rep_lo, low), (rep_hi, high), (rep_orp, w["p"])):
                    if rep is not None:
                        hit &= rep.matches(values)
                if hit.any():
                    found.append(
                        pd.DataFrame(
                            {
                                "events_exposed": aa[hit],
                                "n_exposed": mm1[hit],
                                "events_reference": b[hit],
                                "n_reference": mm0[hit],
                                "orientation": orient,
                            }
                        )
                    )
                    held += int(hit.sum())
                    if held > MAX_TABLES:
                        raise SearchTooLarge(
                            f"more than {MAX_TABLES:,} tables reproduce the reported numbers, so they "
                            "do not determine the table; too many to list: give the group sizes or "
                            "more reported numbers"
                        )
    if not found:
        return _stats_2x2(
            pd.DataFrame({c: pd.Series(dtype=np.int64) for c in _CELLS_2X2}).assign(
                orientation=pd.Series(dtype=object)
            ),
            z,
        )
    cand = pd.concat(found, ignore_index=True)
    order = cand["orientation"].map({o: i for i, o in enumerate(orients)})
    cand = (
        cand.assign(_o=order)
        .sort_values(["_o", "n_exposed", "events_exposed", "n_reference", "events_reference"])
        .drop(columns="_o")
    )
    return _stats_2x2(cand[_CELLS_2X2 + ["orientation"]].reset_index(drop=True), z)


def reconstruct_2x2(
    pct_exposed,
    pct_reference,
    *,
    n_total=None,
    n_exposed=None,
    n_reference=None,
    n_max: int | None = None,
    odds_ratio=None,
    ci_low=None,
    ci_high=None,
    or_p=None,
    orientation: str = "auto",
    p_value=None,
    p_tests: Sequence[str] = tuple(TESTS),
    z: float = Z_975,
) -> Reconstruction:
    """Every 2 x 2 table consistent with reported percentages, sizes, OR, CI and P.

    Parameters
    ----------
    pct_exposed, pct_reference : str or Reported
        The share of each group with the event, as printed (``"20.6%"``).
    n_total : int, optional
        Patients in both groups together.
    n_exposed, n_reference : int or (min, max), optional
        Group sizes when known, or the range they must lie in.
    n_max : int, optional
        Upper bound for a group size when neither it nor the total is known.
    odds_ratio, ci_low, ci_high, or_p : str or Reported, optional
        A reported univariable OR with its 95% Wald CI bounds and Wald P
        (logistic regression of the outcome on the group), as printed.
    orientation : {"auto", "event", "complement"}
        Whether the OR is that of the event the percentages describe
        (``"event"``), of its absence (``"complement"``, e.g. the OR of
        non-pCR next to pCR rates), or either (``"auto"``; the ``orientation``
        column of the result says which fitted).
    p_value : str or Reported, optional
        The reported P of the comparison of the two percentages; a table is
        kept when any test in ``p_tests`` reproduces it.
    p_tests : sequence of str
        Test ids from :data:`microcalc.abstract.pvalues.TESTS`; P under every one of
        them is computed for each feasible table.
    z : float
        Normal quantile of the CI (R's ``qnorm(0.975)`` by default).

    Returns
    -------
    Reconstruction

    Examples
    --------
    >>> r = reconstruct_2x2("11.6%", "4.9%", n_total=1182, odds_ratio="2.550",
    ...                     ci_low="1.620", ci_high="4.012", or_p="P < 0.001")
    >>> r.status, r.tables[["events_exposed", "n_exposed", "events_reference", "n_reference"]].values.tolist()
    ('unique', [[71, 611, 28, 571]])
    """
    if orientation not in ("auto", "event", "complement"):
        raise ValueError("orientation must be 'auto', 'event' or 'complement'")
    p1, p0 = parse_share(pct_exposed, "pct_exposed"), parse_share(pct_reference, "pct_reference")
    rep_or, rep_lo, rep_hi = (
        parse_ratio(x, w)
        for x, w in ((odds_ratio, "odds ratio"), (ci_low, "CI lower bound"), (ci_high, "CI upper bound"))
    )
    check_ratio_ci(rep_or, rep_lo, rep_hi)
    rep_orp, rep_p = _reported(or_p), _reported(p_value)
    if not (np.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive number, got {z}")

    if n_total is not None:
        n_total = int(n_total)
        if n_total < 2:
            raise ValueError(f"n_total must be at least 2 (two groups of at least one patient), got {n_total}")
        sizes1 = _size_range(n_exposed, n_total - 1, "n_exposed")
        sizes0 = _size_range(n_reference, n_total - 1, "n_reference")
    else:
        sizes1 = _size_range(n_exposed, n_max, "n_exposed")
        sizes0 = _size_range(n_reference, n_max, "n_reference")
    lo1, hi1 = count_range(p1, sizes1)
    lo0, hi0 = count_range(p0, sizes0)
    w1, w0 = np.maximum(hi1 - lo1 + 1, 0), np.maximum(hi0 - lo0 + 1, 0)
    steps = [("percentages at printed precision, group sizes", int(w1.sum()) * int(w0.sum()))]
    if n_total is not None:
        # Pair each exposed size with the reference size that completes the total.
        j = n_total - sizes1 - sizes0[0]
        ok = (j >= 0) & (j < len(sizes0))
        i, j = np.flatnonzero(ok), j[ok]
        n_candidates = int((w1[i] * w0[j]).sum())
        steps.append((f"groups add up to {n_total}", n_candidates))
    else:
        i, j = np.flatnonzero(w1), np.flatnonzero(w0)
        n_candidates = int(w1.sum()) * int(w0.sum())

    orients = ["event", "complement"] if orientation == "auto" else [orientation]
    if rep_or is None:
        orients = orients[:1] if orientation != "auto" else ["event"]

    small = n_candidates * len(orients) <= _DIRECT and max(int(w1.sum()), int(w0.sum())) <= MAX_TABLES * 5
    if small:  # the direct search: every candidate table at once
        g1 = count_candidates(p1, sizes1).rename(columns={"n": "n_exposed", "k": "events_exposed"})
        g0 = count_candidates(p0, sizes0).rename(columns={"n": "n_reference", "k": "events_reference"})
        if n_total is not None:
            g1["n_reference"] = n_total - g1["n_exposed"]
            cand = g1.merge(g0, on="n_reference", how="inner")
        else:
            cand = g1.merge(g0, how="cross")
        cand = cand[_CELLS_2X2].astype(np.int64)
        cand = pd.concat([cand.assign(orientation=o) for o in orients], ignore_index=True)
        cand = _stats_2x2(cand, z)

        for label, rep, col in (
            ("odds ratio", rep_or, "or"),
            ("CI lower bound", rep_lo, "or_low"),
            ("CI upper bound", rep_hi, "or_high"),
            ("Wald P of the OR", rep_orp, "p_wald"),
        ):
            if rep is not None:
                cand = cand[rep.matches(cand[col].to_numpy())]
                steps.append((f"{label} prints as {rep.text}", len(cand)))
    else:
        if rep_or is None and (rep_lo is None or rep_hi is None):
            raise SearchTooLarge(
                f"the percentages and group sizes allow {n_candidates:,} tables, more than the "
                f"{MAX_TABLES:,} this search holds; give the odds ratio or its 95% CI to bound it, "
                "or the group sizes"
            )
        if n_total is None:
            _check_sizes(len(i) * len(j), "pairs of group sizes")
            i, j = np.repeat(i, len(j)), np.tile(j, len(i))
        pairs = (sizes1[i], sizes0[j], lo1[i], hi1[i], lo0[j], hi0[j])
        cand = _search_chunked(pairs, orients, rep_or, rep_lo, rep_hi, rep_orp, z)
        shown = [
            f"{label} {rep.text}"
            for label, rep in (("OR", rep_or), ("CI", rep_lo), ("to", rep_hi), ("Wald P", rep_orp))
            if rep is not None
        ]
        steps.append((f"{', '.join(shown)} (searched in chunks within analytic bounds)", len(cand)))

    cand = cand.reset_index(drop=True)
    cand = _p_columns(cand, _as_arrays(cand, "2x2", []), p_tests, steps, needed=p_tests if rep_p is not None else ())
    if rep_p is not None:
        keep = _p_filter(cand, rep_p, p_tests)
        cand = cand[keep].reset_index(drop=True)
        steps.append((f"comparison P prints as {rep_p.text} under {' or '.join(p_tests)}", len(cand)))
    steps_df = pd.DataFrame(steps, columns=["constraint", "candidates left"])
    return Reconstruction(cand, list(_CELLS_2X2), steps_df, "2x2")
