"""2 x k tables: every table whose shares of one category print as reported and that gives the reported P.

:func:`reconstruct_2xk`, with :func:`compositions` enumerating the other
categories' counts. Re-exported by :mod:`microcalc.abstract.reconstruct`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from microcalc.abstract.feasible import (
    MAX_TABLES,
    Reconstruction,
    SearchTooLarge,
    _as_arrays,
    _p_columns,
    _p_filter,
    count_candidates,
    parse_share,
)
from microcalc.abstract.published import parse_reported

__all__ = ["compositions", "reconstruct_2xk"]


def compositions(total: int, parts: int) -> np.ndarray:
    """All ways to write ``total`` as an ordered sum of ``parts`` non-negative integers.

    Returns an integer array of shape ``(C(total + parts - 1, parts - 1), parts)``.
    """
    if parts < 1 or total < 0:
        raise ValueError("need parts >= 1 and total >= 0")
    count = math.comb(total + parts - 1, parts - 1)
    if count > MAX_TABLES:
        raise SearchTooLarge(
            f"{count:,} ways to split {total:,} patients into {parts} categories, more "
            f"than the {MAX_TABLES:,} this search holds"
        )
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
    space = float(
        np.sum(special.comb(n_exposed - a_vals + k - 2, k - 2))
        * np.sum(special.comb(n_reference - b_vals + k - 2, k - 2))
    )
    if space > MAX_TABLES:
        raise SearchTooLarge(
            f"{space:,.0f} candidate 2 x {k} tables (every split of the other categories in both groups), "
            f"more than the {MAX_TABLES:,} this search holds; this search suits groups of up to a few "
            "hundred patients"
        )
    others = [c for i, c in enumerate(cats) if i != reported]
    blocks = []
    for a in a_vals:  # one or two values: a loop over reported counts, not over tables
        for b in b_vals:
            rest1 = compositions(int(n_exposed - a), k - 1)
            rest0 = compositions(int(n_reference - b), k - 1)
            i1, i0 = np.meshgrid(np.arange(len(rest1)), np.arange(len(rest0)), indexing="ij")
            block = {
                f"exposed_{cats[reported]}": np.full(i1.size, a),
                f"reference_{cats[reported]}": np.full(i1.size, b),
            }
            for j, c in enumerate(others):
                block[f"exposed_{c}"] = rest1[i1.ravel(), j]
                block[f"reference_{c}"] = rest0[i0.ravel(), j]
            blocks.append(pd.DataFrame(block))
    cells = [f"exposed_{c}" for c in cats] + [f"reference_{c}" for c in cats]
    cand = (pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=cells))[cells]
    cand = cand.astype(np.int64)
    steps = [
        ((f"shares of {cats[reported]} at printed precision, all splits of the other {k - 1} categories"), len(cand))
    ]
    cand = _p_columns(cand, _as_arrays(cand, "2xk", cats), p_tests, needed=p_tests)
    keep = _p_filter(cand, rep_p, p_tests)
    cand = cand[keep].reset_index(drop=True)
    steps.append((f"P prints as {rep_p.text} under {' or '.join(p_tests)}", len(cand)))
    return Reconstruction(cand, cells, pd.DataFrame(steps, columns=["constraint", "candidates left"]), "2xk", cats)
