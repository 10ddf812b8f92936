"""Several tests at once: multiplicity-adjusted P values, and sparse tables said in words.

* :func:`adjust_p`: Holm (1979) and Benjamini-Hochberg (1995) adjusted P
  values, as R ``p.adjust(p, method = "holm" | "BH")`` (the ``BH`` column is
  what gtsummary's ``add_q()`` shows by default).
* :func:`sparse_cells`: the expected counts of a contingency table under
  independence, and a sentence saying how many fall below 5 (Cochran's rule),
  so that a chi-squared P is never shown without that caveat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from microcalc.analysis.tables import fmt_percent, p_phrase

__all__ = ["AdjustedP", "adjust_p", "SparseCells", "sparse_cells", "category_contrast_sentence"]


@dataclass(frozen=True)
class AdjustedP:
    """Raw and adjusted P values of a family of comparisons.

    Attributes
    ----------
    table : DataFrame
        One row per comparison (the input's labels as index): ``p``, ``p_holm``,
        ``p_bh``.
    family_size : number of P values adjusted together (missing ones left out).
    """

    table: pd.DataFrame
    family_size: int


def _holm(p: np.ndarray) -> np.ndarray:
    n = len(p)
    order = np.argsort(p, kind="mergesort")
    adj = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * p[order]))
    out = np.empty(n)
    out[order] = adj
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    n = len(p)
    order = np.argsort(p, kind="mergesort")[::-1]  # largest first
    adj = np.minimum(1.0, np.minimum.accumulate(n / np.arange(n, 0, -1) * p[order]))
    out = np.empty(n)
    out[order] = adj
    return out


def adjust_p(p, labels=None) -> AdjustedP:
    """Holm and Benjamini-Hochberg adjusted P values of one family of comparisons.

    Parameters
    ----------
    p : sequence of float
        Raw P values; NaN entries are kept as NaN and not counted in the
        family (as R's ``p.adjust`` with its default ``n = length(p[!is.na(p)])``).
    labels : sequence, optional
        Names of the comparisons (the result's index).

    Returns
    -------
    AdjustedP

    Notes
    -----
    Holm: step-down, ``min(1, cummax((m - i + 1) p_(i)))``. Benjamini-Hochberg:
    step-up false-discovery rate, ``min(1, cummin(m / i p_(i)))`` from the
    largest P down. Both as R ``stats::p.adjust``.
    """
    values = np.asarray(p, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"p must be one-dimensional, got shape {values.shape}")
    bad = values[np.isfinite(values) & ((values < 0) | (values > 1))]
    if len(bad):
        raise ValueError(f"P values must lie in [0, 1]; got {bad.tolist()}")
    index = list(labels) if labels is not None else list(range(len(values)))
    if len(index) != len(values):
        raise ValueError(f"{len(index)} labels for {len(values)} P values")
    ok = np.isfinite(values)
    holm = np.full(len(values), np.nan)
    bh = np.full(len(values), np.nan)
    if ok.any():
        holm[ok] = _holm(values[ok])
        bh[ok] = _bh(values[ok])
    table = pd.DataFrame({"p": values, "p_holm": holm, "p_bh": bh}, index=index)
    return AdjustedP(table, int(ok.sum()))


@dataclass(frozen=True)
class SparseCells:
    """Expected counts of a contingency table and what they mean for its chi-squared test.

    Attributes
    ----------
    expected : DataFrame of expected counts under independence (row total x
        column total / grand total), labelled as the input.
    n_cells, n_below : cells in all, and cells with an expected count below ``threshold``.
    min_expected : the smallest expected count.
    threshold : the rule's cut-off (5).
    sentence : the finding in words.
    """

    expected: pd.DataFrame
    n_cells: int
    n_below: int
    min_expected: float
    threshold: float
    sentence: str


def sparse_cells(counts, threshold: float = 5.0) -> SparseCells:
    """Flag expected counts below ``threshold`` in a contingency table, in words.

    Parameters
    ----------
    counts : DataFrame or 2-d array of non-negative counts (rows: groups).
    threshold : expected count below which the chi-squared approximation is
        doubtful (Cochran 1954: all expected counts at least 1 and no more than
        20% below 5; here every cell below 5 is reported).

    Returns
    -------
    SparseCells
        Expected counts as R ``chisq.test(x)$expected``, and a sentence that
        recommends the exact (Fisher-Freeman-Halton) P when any cell is sparse.
    """
    frame = counts if isinstance(counts, pd.DataFrame) else pd.DataFrame(np.asarray(counts))
    t = frame.to_numpy(dtype=float)
    if t.ndim != 2 or (t < 0).any() or not np.isfinite(t).all():
        raise ValueError("counts must be a 2-d table of non-negative finite counts")
    total = t.sum()
    if total == 0:
        raise ValueError("counts is an empty table (all cells zero)")
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / total
    below = int((expected < threshold).sum())
    cells = expected.size
    low = float(expected.min())
    if below:
        sentence = (
            f"{below} of {cells} cells ({100 * below / cells:.1f}%) have an expected count below "
            f"{threshold:g} (smallest {low:.2f}): the chi-squared P is an unreliable approximation here; "
            "the exact (Fisher-Freeman-Halton) P is the one to read."
        )
    else:
        sentence = (
            f"All {cells} expected counts are at least {threshold:g} (smallest {low:.2f}): "
            "the chi-squared approximation is adequate."
        )
    return SparseCells(
        pd.DataFrame(expected, index=frame.index, columns=frame.columns), cells, below, low, threshold, sentence
    )


def category_contrast_sentence(
    category: str, counts: pd.DataFrame, p_contrast: float, contrast_test: str, p_overall: float, overall_test: str
) -> str:
    """Say that a single-category contrast and the overall 2 x k comparison answer different questions.

    Parameters
    ----------
    category : the category contrasted with all others (a column of ``counts``).
    counts : 2 x k counts, rows the two groups (exposed first), columns the categories.
    p_contrast, contrast_test : P of the 2 x 2 table ``category`` against the rest, and its test.
    p_overall, overall_test : P of the whole 2 x k table, and its test.

    Returns
    -------
    str
        The two shares ("no patients" for an empty group), each P with its
        table and test ("P not estimable" when NaN), and the warning that
        neither P stands for the other.
    """
    if category not in counts.columns:
        raise ValueError(f"'{category}' is not a category of the table; categories are {list(counts.columns)}")
    t = counts.to_numpy(dtype=float)
    rows = t.sum(axis=1)
    share = [100 * x / r if r else np.nan for x, r in zip(counts[category].to_numpy(dtype=float), rows, strict=True)]
    k = t.shape[1]
    name = category.replace("_", " ")
    return (
        f"The {name} share ({fmt_percent(share[0])} vs {fmt_percent(share[1])}) "
        f"was compared on the 2 x 2 table of {name} "
        f"against the other {k - 1} categories ({contrast_test}, {p_phrase(p_contrast)}); the overall 2 x {k} "
        f"comparison of all categories ({overall_test}, {p_phrase(p_overall)}) asks a different question, and "
        "neither P stands for the other."
    )


__all__ += ["SecondaryComparisons", "secondary_comparisons"]


@dataclass(frozen=True)
class SecondaryComparisons:
    """Exact and chi-squared P of a family of 2 x k comparisons, with sparse cells and adjusted P.

    Attributes
    ----------
    table : DataFrame indexed by comparison label: ``comparison`` (the table in
        words), ``p_chi2`` (Pearson, no continuity correction), ``p_exact``
        (Fisher; Fisher-Freeman-Halton for k > 2), ``cells_below_5``,
        ``min_expected``, ``sparse`` (the :func:`sparse_cells` sentence),
        ``p_holm``, ``p_bh`` (of the exact P, over the whole family).
    adjusted : the :class:`AdjustedP` of the exact P values.
    """

    table: pd.DataFrame
    adjusted: AdjustedP


def secondary_comparisons(tables: dict, categories: dict | None = None) -> SecondaryComparisons:
    """Chi-squared beside exact P for each 2 x k table and single-category contrast; Holm and BH over all of them.

    Parameters
    ----------
    tables : label -> 2 x k counts (rows the two groups, columns the categories).
    categories : label -> a category contrasted with the rest of that table
        (adds a row ``<label>_<category>`` on the collapsed 2 x 2 table).

    Returns
    -------
    SecondaryComparisons
        P values as R ``chisq.test(x, correct = FALSE)$p.value`` and
        ``fisher.test(x)$p.value``; adjusted as ``p.adjust(p_exact, "holm")`` and ``"BH"``.
        A category of a 2 x k table (k > 2) that no patient has is dropped
        (``comparison`` says so), as :func:`microcalc.analysis.stats.compare_groups`
        does. A table with a group without patients, or every patient in one
        category, has no P (NaN, left out of the adjustment) and ``sparse``
        says ``not estimable: <reason>``.
    """
    from microcalc.abstract.pvalues import fisher_exact, pearson_chi2
    from microcalc.analysis.results import not_estimable
    from microcalc.analysis.stats import _untestable

    rows = {}
    for label, counts in tables.items():
        k = counts.shape[1]
        parts = [(label, f"2 x {k}, all categories", counts)]
        cat = (categories or {}).get(label)
        if cat is not None:
            if cat not in counts.columns:
                raise ValueError(f"'{cat}' is not a category of '{label}'; categories are {list(counts.columns)}")
            collapsed = pd.DataFrame({cat: counts[cat], "other": counts.drop(columns=cat).sum(axis=1)})
            parts.append((f"{label}_{cat}", f"2 x 2, {cat.replace('_', ' ')} vs the other {k - 1}", collapsed))
        for name, words, tab in parts:
            empty = tab.columns[tab.sum(axis=0) == 0]
            if tab.shape[1] > 2 and len(empty) and tab.shape[1] - len(empty) >= 2:  # as compare_groups
                tab = tab.drop(columns=empty)
                words += f"; {len(empty)} category with no patient dropped"
            x = tab.to_numpy(dtype=float)
            reason = _untestable(x)
            if reason:  # no P: one group without patients, or every patient in one category
                sc = sparse_cells(tab) if x.sum() > 0 else None
                rows[name] = {
                    "comparison": words,
                    "p_chi2": np.nan,
                    "p_exact": np.nan,
                    "cells_below_5": sc.n_below if sc else x.size,
                    "min_expected": sc.min_expected if sc else np.nan,
                    "sparse": not_estimable(reason),
                }
                continue
            sc = sparse_cells(tab)
            rows[name] = {
                "comparison": words,
                "p_chi2": float(pearson_chi2(x)),
                "p_exact": float(fisher_exact(x)),
                "cells_below_5": sc.n_below,
                "min_expected": sc.min_expected,
                "sparse": sc.sentence,
            }
    table = pd.DataFrame(rows).T
    adjusted = adjust_p(table["p_exact"].astype(float).to_numpy(), labels=table.index)
    table = table.join(adjusted.table[["p_holm", "p_bh"]])
    for c in ("p_chi2", "p_exact", "min_expected", "p_holm", "p_bh"):
        table[c] = table[c].astype(float)
    table["cells_below_5"] = table["cells_below_5"].astype(int)
    return SecondaryComparisons(table, adjusted)


__all__ += ["share_line"]


def share_line(
    counts: pd.DataFrame,
    category: str,
    tests: pd.DataFrame,
    printed: Sequence[str],
    printed_p: str,
    names: Mapping[str, str] | None = None,
) -> str:
    """One category's shares in the two groups, the P that reproduced the paper's, and what the paper printed.

    Parameters
    ----------
    counts : 2 x k counts, rows the two groups (True, the exposed, first), columns the categories.
    category : the category whose shares are said.
    tests : :func:`microcalc.analysis.stats.category_comparison` of ``counts``; the first test that reproduced the
        paper's P is shown (else the first test), with its ``not estimable: <reason>`` when P is NaN.
    printed : the paper's two shares as printed (any sequence of two); printed_p : the paper's P as printed.
    names : test and category code name -> words (e.g. ``"pearson_chi2"`` -> ``"Pearson χ²"``); a name not
        in it is shown as it is, a category with its underscores as spaces.
    """
    names = names or {}
    printed = list(printed)
    totals = counts.sum(axis=1)
    share = 100 * counts[category] / totals.where(totals > 0)
    best = tests[tests["reproduces_published_p"]]
    shown = best.iloc[0] if len(best) else tests.iloc[0]
    return (
        f"{names.get(category, category.replace('_', ' '))}: {fmt_percent(share[True])} vs "
        f"{fmt_percent(share[False])} ({names.get(shown['test'], shown['test'])} on the {shown['comparison']} table, "
        + (p_phrase(shown["p"]) if pd.notna(shown["p"]) else shown["method"])
        + "); the paper printed "
        f"{printed[0]} vs {printed[1]}, {printed_p}."
    )
