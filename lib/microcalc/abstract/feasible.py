"""The feasible set of a reconstruction and what every search shares.

:class:`Reconstruction` (the feasible tables and the steps that led to
them), the parsing of printed shares and ratios, the range of counts a
printed percentage allows (:func:`count_range`), the search limits, and the
P columns and filters of a set of candidate tables. The searches themselves
are in :mod:`microcalc.abstract.reconstruct`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import SupportsInt, cast

import numpy as np
import pandas as pd

from microcalc.abstract.published import Reported, parse_reported
from microcalc.abstract.pvalues import TESTS, odds_ratio_wald

__all__ = [
    "MAX_EXAMINED",
    "MAX_FISHER_TABLES",
    "MAX_FISHER_WORK",
    "MAX_SIZES",
    "MAX_TABLES",
    "Reconstruction",
    "SearchTooLarge",
    "check_ratio_ci",
    "count_candidates",
    "count_range",
    "parse_ratio",
    "parse_share",
    "too_costly",
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
        return pd.DataFrame({"min": cells.min(), "max": cells.max(), "distinct": cells.nunique()}).rename_axis("cell")

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
        raise ValueError(
            f"{what} {rep.text!r}: give a percentage with its % sign (e.g. 20.6%) or a proportion between 0 and 1"
        )
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
        lo = hi = int(cast(SupportsInt, spec))  # np.isscalar narrows to numpy's whole scalar union
    else:
        lo, hi = (int(x) for x in spec)
    if lo < 1 or hi < lo:
        raise ValueError(f"{what} must be a positive size or a range MIN:MAX with 1 <= MIN <= MAX, got {lo}..{hi}")
    _check_sizes(hi - lo + 1, what)
    return np.arange(lo, hi + 1)


def _check_sizes(count: int, what: str) -> None:
    if count > MAX_SIZES:
        raise SearchTooLarge(
            f"{what}: {count:,} sizes to search, more than the {MAX_SIZES:,} this search holds; give a narrower range"
        )


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
            f"range, more than the {MAX_TABLES * 5:,} this search holds; give a narrower range"
        )
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
        return (
            f"{len(arrays):,} tables of up to {int(arrays[0].sum()):,} patients need {work:.2g} "
            f"grid cells, more than the {MAX_FISHER_WORK:.2g} it is computed for"
        )
    return None


def _p_columns(
    df: pd.DataFrame, arrays: np.ndarray, tests: Iterable[str], steps: list | None = None, needed: Sequence[str] = ()
) -> pd.DataFrame:
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
                raise SearchTooLarge(
                    f"{TESTS[test][0]}: {why}; narrow the search (OR, CI, group sizes) or leave this test out"
                )
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
    df["p_reproduced_by"] = [" ".join(c[2:] for c, h in zip(cols, row, strict=True) if h) for row in hits]
    return np.asarray(hits.any(axis=1))
