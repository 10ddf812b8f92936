"""Tidy results rows for the analysis notebooks: rates, comparisons, regressions, E-values, claims.

The table itself (its columns, the :data:`ESTIMATORS` vocabulary, :func:`result`,
reading and writing) is :mod:`microcalc.analysis.tidy`; its names are
importable from here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from microcalc.analysis.tidy import (
    COLUMNS,
    ESTIMATORS,
    NOT_ESTIMABLE,
    check_estimators,
    estimator_of,
    is_not_estimable,
    not_estimable,
    read_results,
    reason_or,
    result,
    said_reason,
    with_estimators,
    write_results,
)

if TYPE_CHECKING:
    from microcalc.analysis.stats import EValue, EventsPerVariable

__all__ = [
    "COLUMNS",
    "ESTIMATORS",
    "NOT_ESTIMABLE",
    "category_rows",
    "check_estimators",
    "comparison_results",
    "epv_row",
    "estimator_of",
    "evalue_row",
    "firth_results",
    "global_p_rows",
    "is_not_estimable",
    "not_estimable",
    "not_estimable_text",
    "rate_results",
    "read_results",
    "reason_or",
    "regression_results",
    "result",
    "said_reason",
    "top_share_row",
    "with_estimators",
    "write_results",
]


def rate_results(rates: pd.DataFrame, ids: tuple[str, str], quantity: str) -> list[dict]:
    """Rows for the two group rates of :func:`microcalc.analysis.stats.group_rates` (exposed first), in %."""
    rows = []
    for ident, (_, r) in zip(ids, rates.iterrows(), strict=True):
        if r["n"] == 0:
            group = rates.columns[0]
            rows.append(
                result(
                    ident,
                    quantity,
                    n=0,
                    method=not_estimable(f"no patient with {group} = {'yes' if r[group] else 'no'}"),
                    estimator="wilson_proportion",
                )
            )
            continue
        rows.append(
            result(
                ident,
                quantity,
                r["rate_pct"],
                r["ci_low_pct"],
                r["ci_high_pct"],
                n=r["n"],
                method="proportion (%), 95% Wilson score CI",
                estimator="wilson_proportion",
            )
        )
    return rows


def comparison_results(tests: pd.DataFrame, ident: str, quantity: str, n: int, table_shape: str = "2x2") -> list[dict]:
    """One row per test of :func:`microcalc.analysis.stats.compare_groups`, sharing the published id."""
    return [
        result(ident, quantity, p=r["p"], n=n, method=r["method"], estimator=r["test"], table_shape=table_shape)
        for _, r in tests.iterrows()
    ]


def regression_results(
    tidy: pd.DataFrame, prefix: str, published_ids: dict, n_multi: int, method: str = "logistic regression, Wald 95% CI"
) -> list[dict]:
    """Rows for every OR of a :class:`microcalc.analysis.tables.RegressionTable`'s ``tidy`` frame.

    ``published_ids`` maps ``(term, model)`` to the paper's id; other rows get
    ``<prefix>_or_<uni|multi>_<term>``. A row whose ``note`` says it is not
    estimable keeps that note as its method, and no numbers.
    """
    rows = []
    for _, r in tidy.iterrows():
        short = "uni" if r["model"] == "univariable" else "multi"
        ident = published_ids.get((r["term"], r["model"]), f"{prefix}_or_{short}_{r['term']}")
        note = r.get("note", "")
        rows.append(
            result(
                ident,
                f"OR, {r['term']} ({r['model']})",
                r["or"],
                r["ci_low"],
                r["ci_high"],
                r["p"],
                r["n"],
                note if is_not_estimable(note) else f"{method} ({r['model']})",
                estimator="wald_logistic",
            )
        )
    return rows


def firth_results(firth: pd.DataFrame, prefix: str, n: int) -> list[dict]:
    """Rows ``<prefix>_or_firth_<term>`` of a :func:`microcalc.analysis.stats.firth_table` (not estimable kept)."""
    return [
        result(
            f"{prefix}_or_firth_{t}",
            f"OR, {t} (Firth)",
            r["or"],
            r["ci_low"],
            r["ci_high"],
            r["p"],
            n,
            r["method"] if is_not_estimable(r["method"]) else f"Firth-penalised logistic regression ({r['method']})",
            estimator="firth_logistic",
        )
        for t, r in firth.iterrows()
    ]


def not_estimable_text(rows: list[dict]) -> str:
    """Markdown listing every not-estimable row of a results list with its reason (or saying there is none)."""
    lines = [f"- {r['quantity']} (`{r['id']}`): {r['method']}" for r in rows if is_not_estimable(r["method"])]
    if not lines:
        return "Every estimate of this notebook could be computed from the data."
    return "**Not estimable from these data** (written as such to the results file):\n\n" + "\n".join(lines)


def evalue_row(ident: str, ev: EValue, n: int, converted: bool) -> dict:
    """The row of an E-value (:func:`microcalc.analysis.stats.evalue`); ``converted``: the OR was taken to a RR
    by its square root (a common outcome)."""
    if pd.isna(ev.evalue_estimate):
        return result(
            ident,
            "E-value, adjusted OR of microcalcification",
            n=n,
            estimator="evalue",
            method=not_estimable("the adjusted OR is not estimable"),
        )
    how = ", OR to RR by square root" if converted else ""
    return result(
        ident,
        "E-value, adjusted OR of microcalcification",
        ev.evalue_estimate,
        ev.evalue_ci,
        n=n,
        method=f"E-value (VanderWeele & Ding 2017){how}; ci_low holds the CI limit's E-value",
        estimator="evalue",
    )


def epv_row(ident: str, epv: EventsPerVariable) -> dict:
    """The row of :func:`microcalc.analysis.stats.events_per_variable`."""
    return result(
        ident,
        "events per variable, multivariable model",
        epv.epv,
        n=epv.n,
        method=f"limiting events {epv.limiting_events} / {epv.parameters} coefficients",
        estimator="events_per_variable",
    )


def global_p_rows(global_p: dict, claims: dict[str, str], n: int) -> list[dict]:
    """One row per claim (id -> term): the term's likelihood-ratio P over all its levels in the multivariable model."""
    return [
        result(
            ident,
            f"global P, {term} (multivariable)",
            p=global_p.get(term),
            n=n,
            estimator="lr_test",
            method="likelihood-ratio test of all levels in the multivariable model"
            if pd.notna(global_p.get(term))
            else not_estimable("the multivariable model is not estimable"),
        )
        for ident, term in claims.items()
    ]


def category_rows(counts: pd.DataFrame, tests: pd.DataFrame, category: str, ident: str) -> list[dict]:
    """One row per test of :func:`microcalc.analysis.stats.category_comparison` of a 2 x k ``counts``, sharing
    the published ``ident``, with the shape of the table each was run on."""
    from microcalc.analysis.stats import TEST_METHODS  # stats builds on this module

    n = int(counts.values.sum())
    return [
        result(
            ident,
            f"{category}, microcalcification vs none ({t['comparison']})",
            p=t["p"],
            n=n,
            method=f"{t['method'] if is_not_estimable(t['method']) else TEST_METHODS[t['test']]}"
            f" on the {t['comparison']} table",
            estimator=t["test"],
            table_shape=t["comparison"][:3],
        )
        for _, t in tests.iterrows()
    ]


def top_share_row(ident: str, counts: pd.Series, what: str, who: str = "") -> dict:
    """The most frequent category of ``counts`` with its share (%), e.g. "most frequent bone metastasis type"."""
    share = 100 * counts / counts.sum()
    return result(
        ident,
        f"most frequent {what}{' ' + who if who else ''}: {share.idxmax()}",
        share.max(),
        n=int(counts.sum()),
        method=f"share (%) of the most frequent {what.split()[-1]}" + (f", patients {who}" if who else ""),
        estimator="proportion",
        category=str(share.idxmax()),
    )
