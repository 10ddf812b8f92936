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

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import special

from microcalc.abstract.published import Reported, parse_reported
from microcalc.abstract.pvalues import TESTS, Z_975, odds_ratio_wald

__all__ = [
    "Reconstruction", "reconstruct_2x2", "reconstruct_2xk", "count_candidates", "count_range",
    "compositions", "parse_share", "parse_ratio", "check_ratio_ci", "too_costly", "SearchTooLarge",
    "MAX_TABLES", "MAX_SIZES", "MAX_EXAMINED", "MAX_FISHER_TABLES", "MAX_FISHER_WORK",
]

#: Most candidate tables held in memory at once (the direct search); larger
#: searches run in chunks within analytic bounds, or are refused.
MAX_TABLES = 1_000_000
#: Most group sizes (or denominators) a search ranges over.
MAX_SIZES = 5_000_000
#: Most (group size, events) rows a chunked search examines before refusing.
MAX_EXAMINED = 200_000_000
# Most candidate tables for the direct search (all at once); above it, the chunked one.
_DIRECT = MAX_TABLES
#: Most tables for which Fisher's exact P is computed (its cost grows with each table's size).
MAX_FISHER_TABLES = 250_000
#: Most grid cells Fisher's exact test enumerates for a set of 2 x k tables (k > 2), a few seconds.
MAX_FISHER_WORK = 5e7
#: Rows examined per chunk of the chunked search (bounds memory).
_CHUNK = 1_000_000


class SearchTooLarge(ValueError):
    """A search space or feasible set too large to hold; the message says how large and what narrows it."""


_CELLS_2X2 = ["events_exposed", "n_exposed", "events_reference", "n_reference"]


@dataclass
class Reconstruction:
    """The feasible set: every table consistent with all reported numbers.

    Attributes
    ----------
    tables : DataFrame
        One row per feasible table: its cells, and the statistics computed
        from it (OR, CI, P under every test that applies).
    cells : list of str
        The columns of ``tables`` that hold the table's counts.
    steps : DataFrame
        How many candidate tables survived each constraint in turn; when the
        set is empty it shows which reported number ruled the last ones out.
    kind : str
        ``"2x2"`` or ``"2xk"``.
    categories : list of str
        Column labels of the outcome (2 x k only).
    """

    tables: pd.DataFrame
    cells: list[str]
    steps: pd.DataFrame
    kind: str = "2x2"
    categories: list[str] = field(default_factory=list)

    @property
    def n_solutions(self) -> int:
        """How many tables are feasible."""
        return len(self.tables)

    @property
    def unique(self) -> bool:
        """Whether exactly one table is feasible."""
        return len(self.tables) == 1

    @property
    def status(self) -> str:
        """``"unique"``, ``"not unique (N tables)"`` or ``"no table"``."""
        if self.n_solutions == 0:
            return "no table"
        return "unique" if self.unique else f"not unique ({self.n_solutions} tables)"

    def summary(self) -> pd.DataFrame:
        """The range of each cell over the feasible set (min, max, number of distinct values)."""
        cells = self.tables[self.cells]
        return pd.DataFrame(
            {"min": cells.min(), "max": cells.max(), "distinct": cells.nunique()}
        ).rename_axis("cell")

    def arrays(self) -> np.ndarray:
        """The feasible tables as an integer array of shape ``(m, 2, k)``."""
        return _as_arrays(self.tables, self.kind, self.categories)


def _as_arrays(tables: pd.DataFrame, kind: str, categories: Sequence[str]) -> np.ndarray:
    if kind == "2x2":
        a = tables["events_exposed"].to_numpy()
        n1 = tables["n_exposed"].to_numpy()
        b = tables["events_reference"].to_numpy()
        n0 = tables["n_reference"].to_numpy()
        return np.stack([np.stack([a, n1 - a], -1), np.stack([b, n0 - b], -1)], 1).astype(int)
    exposed = tables[[f"exposed_{c}" for c in categories]].to_numpy()
    reference = tables[[f"reference_{c}" for c in categories]].to_numpy()
    return np.stack([exposed, reference], axis=1).astype(int)


def _reported(x) -> Reported | None:
    return None if x is None or (isinstance(x, str) and x.strip() == "") else parse_reported(x)


def parse_share(x, what: str) -> Reported:
    """A printed share of a group: a percentage in 0-100% (or a proportion in 0-1)."""
    rep = parse_reported(x)
    if rep.is_p:
        raise ValueError(f"{what} {rep.text!r} is a P value, not a percentage")
    if rep.is_percent and rep.value > 100:
        raise ValueError(f"{what} {rep.text!r} is not a possible percentage: a share lies between 0% and 100%")
    if not rep.is_percent and rep.value > 1:
        raise ValueError(f"{what} {rep.text!r}: give a percentage with its % sign (e.g. 20.6%) "
                         "or a proportion between 0 and 1")
    return rep


def parse_ratio(x, what: str) -> Reported | None:
    """A printed ratio estimate or CI bound: positive."""
    rep = _reported(x)
    if rep is not None and (rep.is_p or rep.is_percent):
        raise ValueError(f"{what} {rep.text!r} should be a plain number such as 1.780")
    if rep is not None and rep.value <= 0:
        raise ValueError(f"{what} {rep.text!r} is not possible: a ratio and its CI are positive")
    return rep


def check_ratio_ci(estimate: Reported | None, low: Reported | None, high: Reported | None) -> None:
    """Refuse a reversed or zero-width CI (the estimate outside its CI is a finding, not an error)."""
    if low is not None and high is not None and low.value >= high.value:
        raise ValueError(f"CI {low.text} to {high.text}: the lower bound must be below the upper bound")


def _size_range(spec, n_max: int | None, what: str) -> np.ndarray:
    if spec is None:
        if n_max is None:
            raise ValueError(f"give {what}, a total, or n_max to bound the search")
        lo, hi = 1, int(n_max)
    elif np.isscalar(spec):
        lo = hi = int(spec)  # type: ignore[arg-type]  # np.isscalar's TypeGuard drops int
    else:
        lo, hi = (int(x) for x in spec)
    if lo < 1 or hi < lo:
        raise ValueError(f"{what} must be a positive size or a range MIN:MAX with 1 <= MIN <= MAX, "
                         f"got {lo}..{hi}")
    _check_sizes(hi - lo + 1, what)
    return np.arange(lo, hi + 1)


def _check_sizes(count: int, what: str) -> None:
    if count > MAX_SIZES:
        raise SearchTooLarge(
            f"{what}: {count:,} sizes to search, more than the {MAX_SIZES:,} this search holds; "
            "give a narrower range")


def count_range(percent, n_values) -> tuple[np.ndarray, np.ndarray]:
    """The counts k with ``100 k / n`` printing as ``percent``, as a range per ``n``.

    For each n the counts that print as a given percentage are contiguous, so
    they are ``lo[i] <= k <= hi[i]`` (empty where ``lo > hi``); nothing is
    enumerated, so this is the GRIM test at any n.

    Parameters
    ----------
    percent : str or Reported
        The printed percentage, e.g. ``"20.6%"``.
    n_values : array of int
        Candidate denominators (positive).

    Returns
    -------
    lo, hi : arrays of int
    """
    frac = parse_reported(percent).fraction
    n = np.asarray(n_values, dtype=np.int64)
    base_lo = np.floor(frac.low * n).astype(np.int64)
    base_hi = np.ceil(frac.high * n).astype(np.int64)
    lo = np.full(n.shape, 1, dtype=np.int64) + n  # "none found" sentinel: lo > hi
    hi = np.full(n.shape, -1, dtype=np.int64)
    # The first (last) matching count is within two of floor(low n) (ceil(high n)).
    with np.errstate(invalid="ignore", divide="ignore"):
        for step in (2, 1, 0):
            k = base_lo + step
            ok = (k >= 0) & (k <= n) & (k <= base_hi) & frac.matches(k / n)
            lo = np.where(ok, k, lo)
            k = base_hi - step
            ok = (k >= 0) & (k <= n) & (k >= base_lo) & frac.matches(k / n)
            hi = np.where(ok, k, hi)
    return lo, hi


def count_candidates(percent, n_values) -> pd.DataFrame:
    """Every (n, k) with n in ``n_values`` whose ``100 k / n`` prints as ``percent``.

    A vectorised GRIM enumeration: for a percentage reported to one decimal,
    n <= 1000 allows at most one k, larger n may allow several.

    Parameters
    ----------
    percent : str or Reported
        The printed percentage, e.g. ``"20.6%"``.
    n_values : array of int
        Candidate denominators.

    Returns
    -------
    DataFrame with integer columns ``n`` and ``k``.
    """
    n = np.asarray(n_values, dtype=np.int64)
    n = n[n > 0]
    lo, hi = count_range(percent, n)
    width = np.maximum(hi - lo + 1, 0)
    total = int(width.sum())
    if total > MAX_TABLES * 5:
        raise SearchTooLarge(
            f"{parse_reported(percent).text} allows {total:,} (denominator, count) pairs in this "
            f"range, more than the {MAX_TABLES * 5:,} this search holds; give a narrower range")
    nn = np.repeat(n, width)
    offsets = np.arange(total) - np.repeat(np.cumsum(width) - width, width)
    kk = np.repeat(lo, width) + offsets
    return pd.DataFrame({"n": nn, "k": kk})


def _stats_2x2(df: pd.DataFrame, z: float) -> pd.DataFrame:
    arrays = _as_arrays(df, "2x2", [])
    wald = odds_ratio_wald(arrays, z=z)
    out = df.copy()
    # OR of the reported event; for the complement orientation the OR of its absence.
    flip = (out["orientation"] == "complement").to_numpy()
    out["or"] = np.where(flip, 1 / wald["or"], wald["or"])
    out["or_low"] = np.where(flip, 1 / wald["high"], wald["low"])
    out["or_high"] = np.where(flip, 1 / wald["low"], wald["high"])
    out["p_wald"] = wald["p"]
    return out


def too_costly(test: str, arrays: np.ndarray) -> str | None:
    """Why P under ``test`` is not computed for these tables, or None when it is.

    Only Fisher's exact test has a cost that grows with the tables: for
    2 x 2 tables it is computed for up to :data:`MAX_FISHER_TABLES` tables;
    for 2 x k tables (k > 2), which it enumerates on a grid of the first row's
    first k - 1 cells, up to :data:`MAX_FISHER_WORK` grid cells in all.
    """
    if test != "fisher_exact" or not len(arrays):
        return None
    if arrays.shape[2] == 2:
        if len(arrays) > MAX_FISHER_TABLES:
            return f"{len(arrays):,} tables, more than the {MAX_FISHER_TABLES:,} it is computed for"
        return None
    cols = arrays.sum(axis=1)[:, :-1].max(axis=0)
    work = float(len(arrays)) * float(np.prod(cols + 1.0))
    if work > MAX_FISHER_WORK:
        return (f"{len(arrays):,} tables of up to {int(arrays[0].sum()):,} patients need {work:.2g} "
                f"grid cells, more than the {MAX_FISHER_WORK:.2g} it is computed for")
    return None


def _p_columns(df: pd.DataFrame, arrays: np.ndarray, tests: Iterable[str], steps: list | None = None,
               needed: Sequence[str] = ()) -> pd.DataFrame:
    k = arrays.shape[2]
    for test in tests:
        _, fn, only_2x2 = TESTS[test]
        if only_2x2 and k != 2:
            continue
        if test == "mann_whitney" and k > 2:
            continue  # unordered categories: a rank test is not defined
        why = too_costly(test, arrays)
        if why:
            if test in needed:
                raise SearchTooLarge(f"{TESTS[test][0]}: {why}; narrow the search (OR, CI, group "
                                     "sizes) or leave this test out")
            if steps is not None:
                steps.append((f"{test} P not computed: {why}", len(arrays)))
            continue
        df[f"p_{test}"] = fn(arrays) if len(arrays) else np.array([], dtype=float)
    return df


def _p_filter(df: pd.DataFrame, p_value: Reported, p_tests: Sequence[str]) -> np.ndarray:
    cols = [f"p_{t}" for t in p_tests if f"p_{t}" in df]
    if not cols:
        raise ValueError(f"none of the tests {list(p_tests)} applies to these tables")
    hits = np.column_stack([p_value.matches(df[c].to_numpy()) for c in cols])
    df["p_reproduced_by"] = [
        " ".join(c[2:] for c, h in zip(cols, row, strict=True) if h) for row in hits
    ]
    return np.asarray(hits.any(axis=1))



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
                "reported numbers (CI, P) to narrow it")
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
                    found.append(pd.DataFrame({"events_exposed": aa[hit], "n_exposed": mm1[hit],
                                               "events_reference": b[hit], "n_reference": mm0[hit],
                                               "orientation": orient}))
                    held += int(hit.sum())
                    if held > MAX_TABLES:
                        raise SearchTooLarge(
                            f"more than {MAX_TABLES:,} tables reproduce the reported numbers, so they "
                            "do not determine the table; too many to list: give the group sizes or "
                            "more reported numbers")
    if not found:
        return _stats_2x2(pd.DataFrame({c: pd.Series(dtype=np.int64) for c in _CELLS_2X2})
                          .assign(orientation=pd.Series(dtype=object)), z)
    cand = pd.concat(found, ignore_index=True)
    order = cand["orientation"].map({o: i for i, o in enumerate(orients)})
    cand = cand.assign(_o=order).sort_values(["_o", "n_exposed", "events_exposed", "n_reference",
                                              "events_reference"]).drop(columns="_o")
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
    rep_or, rep_lo, rep_hi = (parse_ratio(x, w) for x, w in (
        (odds_ratio, "odds ratio"), (ci_low, "CI lower bound"), (ci_high, "CI upper bound")))
    check_ratio_ci(rep_or, rep_lo, rep_hi)
    rep_orp, rep_p = _reported(or_p), _reported(p_value)
    if not (np.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive number, got {z}")

    if n_total is not None:
        n_total = int(n_total)
        if n_total < 2:
            raise ValueError(f"n_total must be at least 2 (two groups of at least one patient), "
                             f"got {n_total}")
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

    small = (n_candidates * len(orients) <= _DIRECT
             and max(int(w1.sum()), int(w0.sum())) <= MAX_TABLES * 5)
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
                "or the group sizes")
        if n_total is None:
            _check_sizes(len(i) * len(j), "pairs of group sizes")
            i, j = np.repeat(i, len(j)), np.tile(j, len(i))
        pairs = (sizes1[i], sizes0[j], lo1[i], hi1[i], lo0[j], hi0[j])
        cand = _search_chunked(pairs, orients, rep_or, rep_lo, rep_hi, rep_orp, z)
        shown = [f"{label} {rep.text}" for label, rep in (("OR", rep_or), ("CI", rep_lo), ("to", rep_hi),
                                                          ("Wald P", rep_orp)) if rep is not None]
        steps.append((f"{', '.join(shown)} (searched in chunks within analytic bounds)", len(cand)))

    cand = cand.reset_index(drop=True)
    cand = _p_columns(cand, _as_arrays(cand, "2x2", []), p_tests, steps,
                      needed=p_tests if rep_p is not None else ())
    if rep_p is not None:
        keep = _p_filter(cand, rep_p, p_tests)
        cand = cand[keep].reset_index(drop=True)
        steps.append((f"comparison P prints as {rep_p.text} under {' or '.join(p_tests)}", len(cand)))
    steps_df = pd.DataFrame(steps, columns=["constraint", "candidates left"])
    return Reconstruction(cand, list(_CELLS_2X2), steps_df, "2x2")


def compositions(total: int, parts: int) -> np.ndarray:
    """All ways to write ``total`` as an ordered sum of ``parts`` non-negative integers.

    Returns an integer array of shape ``(C(total + parts - 1, parts - 1), parts)``.
    """
    if parts < 1 or total < 0:
        raise ValueError("need parts >= 1 and total >= 0")
    count = math.comb(total + parts - 1, parts - 1)
    if count > MAX_TABLES:
        raise SearchTooLarge(f"{count:,} ways to split {total:,} patients into {parts} categories, more "
                             f"than the {MAX_TABLES:,} this search holds")
    if parts == 1:
        return np.array([[total]], dtype=np.int64)
    axes = [np.arange(total + 1)] * (parts - 1)
    head = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, parts - 1)
    head = head[head.sum(axis=1) <= total]
    return np.column_stack([head, total - head.sum(axis=1)]).astype(np.int64)


def reconstruct_2xk(
    pct_exposed,
    pct_reference,
    *,
    n_exposed: int,
    n_reference: int,
    categories: Sequence[str] | int,
    p_value,
    p_tests: Sequence[str] = ("pearson_chi2", "fisher_exact"),
    reported: int = 0,
) -> Reconstruction:
    """Every 2 x k table whose category ``reported`` has the given shares and whose P prints as reported.

    Use this when the paper reports the share of one category of a
    k-category variable in each group (e.g. "osteolytic 78.9% vs 60.7%")
    with one P for the whole comparison, and no 2 x 2 table reproduces it.

    Parameters
    ----------
    pct_exposed, pct_reference : str or Reported
        Share of category ``reported`` in each group, as printed.
    n_exposed, n_reference : int
        Group sizes (e.g. the patients with bone metastasis in each group).
    categories : sequence of str or int
        Category labels, or their number k (labels ``c0 .. c{k-1}``).
    p_value : str or Reported
        The reported P; a table is kept when any test in ``p_tests`` reproduces it.
    p_tests : sequence of str
        Tests that apply to 2 x k tables (``pearson_chi2``, ``fisher_exact``).
    reported : int
        Index of the category whose shares were reported.

    Returns
    -------
    Reconstruction
        Columns ``exposed_<category>`` and ``reference_<category>``, P under
        every test and ``p_reproduced_by``.
    """
    cats = [f"c{i}" for i in range(categories)] if isinstance(categories, int) else list(categories)
    k = len(cats)
    parse_share(pct_exposed, "pct_exposed"), parse_share(pct_reference, "pct_reference")
    if k < 3:
        raise ValueError("use reconstruct_2x2 for two categories")
    rep_p = parse_reported(p_value)
    n_exposed, n_reference = int(n_exposed), int(n_reference)
    if n_exposed < 1 or n_reference < 1:
        raise ValueError(f"group sizes must be positive, got {n_exposed} and {n_reference}")
    if not 0 <= reported < k:
        raise ValueError(f"reported must index one of the {k} categories, got {reported}")
    a_vals = count_candidates(pct_exposed, [n_exposed])["k"].to_numpy()
    b_vals = count_candidates(pct_reference, [n_reference])["k"].to_numpy()
    # Splits of the rest of each group into the other k - 1 categories: C(rest + k - 2, k - 2).
    space = float(np.sum(special.comb(n_exposed - a_vals + k - 2, k - 2))
                  * np.sum(special.comb(n_reference - b_vals + k - 2, k - 2)))
    if space > MAX_TABLES:
        raise SearchTooLarge(
            f"{space:,.0f} candidate 2 x {k} tables (every split of the other categories in both groups), "
            f"more than the {MAX_TABLES:,} this search holds; this search suits groups of up to a few "
            "hundred patients")
    others = [c for i, c in enumerate(cats) if i != reported]
    blocks = []
    for a in a_vals:  # one or two values: a loop over reported counts, not over tables
        for b in b_vals:
            rest1 = compositions(int(n_exposed - a), k - 1)
            rest0 = compositions(int(n_reference - b), k - 1)
            i1, i0 = np.meshgrid(np.arange(len(rest1)), np.arange(len(rest0)), indexing="ij")
            block = {f"exposed_{cats[reported]}": np.full(i1.size, a),
                     f"reference_{cats[reported]}": np.full(i1.size, b)}
            for j, c in enumerate(others):
                block[f"exposed_{c}"] = rest1[i1.ravel(), j]
                block[f"reference_{c}"] = rest0[i0.ravel(), j]
            blocks.append(pd.DataFrame(block))
    cells = [f"exposed_{c}" for c in cats] + [f"reference_{c}" for c in cats]
    cand = (pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=cells))[cells]
    cand = cand.astype(np.int64)
    steps = [(f"shares of {cats[reported]} at printed precision, all splits of the other "
              f"{k - 1} categories", len(cand))]
    cand = _p_columns(cand, _as_arrays(cand, "2xk", cats), p_tests, needed=p_tests)
    keep = _p_filter(cand, rep_p, p_tests)
    cand = cand[keep].reset_index(drop=True)
    steps.append((f"P prints as {rep_p.text} under {' or '.join(p_tests)}", len(cand)))
    return Reconstruction(cand, cells, pd.DataFrame(steps, columns=["constraint", "candidates left"]),
                          "2xk", cats)
