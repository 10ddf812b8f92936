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

Table orientation (as in :mod:`microcalc.pvalues`): row 0 is the exposed
group, row 1 the reference group; for 2 x 2 tables column 0 counts the
patients with the reported event (the one the percentages describe).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .published import Reported, parse_reported
from .pvalues import TESTS, Z_975, odds_ratio_wald

__all__ = ["Reconstruction", "reconstruct_2x2", "reconstruct_2xk", "count_candidates", "compositions"]

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


def _size_range(spec, n_max: int | None, what: str) -> np.ndarray:
    if spec is None:
        if n_max is None:
            raise ValueError(f"give {what}, a total, or n_max to bound the search")
        return np.arange(1, n_max + 1)
    if np.isscalar(spec):
        return np.array([int(spec)])
    lo, hi = spec
    return np.arange(int(lo), int(hi) + 1)


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
    rep = parse_reported(percent)
    frac = rep.fraction
    n = np.asarray(n_values, dtype=np.int64)
    n = n[n > 0]
    kmin = np.floor(frac.low * n).astype(np.int64)
    kmax = np.ceil(frac.high * n).astype(np.int64)
    width = kmax - kmin + 1
    nn = np.repeat(n, width)
    offsets = np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width)
    kk = np.repeat(kmin, width) + offsets
    keep = (kk >= 0) & (kk <= nn) & frac.matches(kk / nn)
    return pd.DataFrame({"n": nn[keep], "k": kk[keep]})


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


def _p_columns(df: pd.DataFrame, arrays: np.ndarray, tests: Iterable[str]) -> pd.DataFrame:
    k = arrays.shape[2]
    for test in tests:
        _, fn, only_2x2 = TESTS[test]
        if only_2x2 and k != 2:
            continue
        if test == "mann_whitney" and k > 2:
            continue  # unordered categories: a rank test is not defined
        df[f"p_{test}"] = fn(arrays) if len(arrays) else np.array([], dtype=float)
    return df


def _p_filter(df: pd.DataFrame, p_value: Reported, p_tests: Sequence[str]) -> np.ndarray:
    cols = [f"p_{t}" for t in p_tests if f"p_{t}" in df]
    if not cols:
        raise ValueError(f"none of the tests {list(p_tests)} applies to these tables")
    hits = np.column_stack([p_value.matches(df[c].to_numpy()) for c in cols])
    df["p_reproduced_by"] = [
        " ".join(c[2:] for c, h in zip(cols, row) if h) for row in hits
    ]
    return hits.any(axis=1)


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
        Test ids from :data:`microcalc.pvalues.TESTS`; P under every one of
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
    p1, p0 = parse_reported(pct_exposed), parse_reported(pct_reference)
    rep_or, rep_lo, rep_hi, rep_orp = map(_reported, (odds_ratio, ci_low, ci_high, or_p))
    rep_p = _reported(p_value)

    if n_total is not None:
        n_total = int(n_total)
        bound = n_total - 1
        sizes1 = _size_range(n_exposed, bound, "n_exposed")
        sizes0 = _size_range(n_reference, bound, "n_reference")
    else:
        sizes1 = _size_range(n_exposed, n_max, "n_exposed")
        sizes0 = _size_range(n_reference, n_max, "n_reference")
    g1 = count_candidates(p1, sizes1).rename(columns={"n": "n_exposed", "k": "events_exposed"})
    g0 = count_candidates(p0, sizes0).rename(columns={"n": "n_reference", "k": "events_reference"})
    steps = [("percentages at printed precision, group sizes", len(g1) * len(g0))]
    if n_total is not None:
        g1["n_reference"] = n_total - g1["n_exposed"]
        cand = g1.merge(g0, on="n_reference", how="inner")
        steps.append((f"groups add up to {n_total}", len(cand)))
    else:
        cand = g1.merge(g0, how="cross")
    cand = cand[_CELLS_2X2].astype(np.int64)

    orients = ["event", "complement"] if orientation == "auto" else [orientation]
    if rep_or is None:
        orients = orients[:1] if orientation != "auto" else ["event"]
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

    cand = cand.reset_index(drop=True)
    cand = _p_columns(cand, _as_arrays(cand, "2x2", []), p_tests)
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
    if k < 3:
        raise ValueError("use reconstruct_2x2 for two categories")
    rep_p = parse_reported(p_value)
    a_vals = count_candidates(pct_exposed, [n_exposed])["k"].to_numpy()
    b_vals = count_candidates(pct_reference, [n_reference])["k"].to_numpy()
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
    cand = _p_columns(cand, _as_arrays(cand, "2xk", cats), p_tests)
    keep = _p_filter(cand, rep_p, p_tests)
    cand = cand[keep].reset_index(drop=True)
    steps.append((f"P prints as {rep_p.text} under {' or '.join(p_tests)}", len(cand)))
    return Reconstruction(cand, cells, pd.DataFrame(steps, columns=["constraint", "candidates left"]),
                          "2xk", cats)
