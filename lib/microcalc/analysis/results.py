"""Machine-readable results: one tidy row per estimate, the shape every analysis notebook writes.

Columns: ``id`` (the published id wherever the paper reports that number),
``quantity``, ``estimate``, ``ci_low``, ``ci_high``, ``p``, ``n``, ``method``.
The replication report reads these files. An estimate that the data cannot
give has no numbers and its ``method`` reads ``not estimable: <reason>``
(:func:`not_estimable`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.core.outputs import write_csv
from microcalc.core.paths import project_path

__all__ = ["COLUMNS", "NOT_ESTIMABLE", "not_estimable", "is_not_estimable", "result", "write_results", "read_results", "rate_results", "comparison_results",
           "regression_results", "firth_results", "not_estimable_text"]

COLUMNS = ["id", "quantity", "estimate", "ci_low", "ci_high", "p", "n", "method"]

#: The words that open the ``method`` of every estimate the data cannot give.
NOT_ESTIMABLE = "not estimable"


def not_estimable(reason: str) -> str:
    """``"not estimable: <reason>"``, the method (and the text) of an estimate that cannot be had."""
    return f"{NOT_ESTIMABLE}: {reason}"


def is_not_estimable(method) -> bool:
    """Whether a method text (or a note) says the estimate is not estimable."""
    return isinstance(method, str) and method.startswith(f"{NOT_ESTIMABLE}:")


def result(ident: str, quantity: str, estimate=np.nan, ci_low=np.nan, ci_high=np.nan, p=np.nan,
           n=np.nan, method: str = "") -> dict:
    """One row of results (numbers as floats; missing as NaN)."""
    return {"id": ident, "quantity": quantity, "estimate": float(estimate), "ci_low": float(ci_low),
            "ci_high": float(ci_high), "p": float(p), "n": float(n), "method": method}


def write_results(rows: list[dict], name: str, output_dir: str | os.PathLike = ".") -> Path:
    """Write ``<output_dir>/data/results/<name>.csv``; ids must be unique per method."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    dup = frame.duplicated(["id", "method"])
    if dup.any():
        raise ValueError(f"duplicate result rows: {frame.loc[dup, ['id', 'method']].values.tolist()}")
    frame["n"] = frame["n"].astype("Int64")
    return write_csv(frame, project_path(output_dir) / "data" / "results" / f"{name}.csv")


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """A results file, ids as text."""
    return pd.read_csv(path, dtype={"id": str, "quantity": str, "method": str})


def rate_results(rates: pd.DataFrame, ids: tuple[str, str], quantity: str) -> list[dict]:
    """Rows for the two group rates of :func:`microcalc.analysis.stats.group_rates` (exposed first), in %."""
    rows = []
    for ident, (_, r) in zip(ids, rates.iterrows(), strict=True):
        if r["n"] == 0:
            group = rates.columns[0]
            rows.append(result(ident, quantity, n=0, method=not_estimable(
                f"no patient with {group} = {'yes' if r[group] else 'no'}")))
            continue
        rows.append(result(ident, quantity, r["rate %"], r["ci low %"], r["ci high %"], n=r["n"],
                           method="proportion (%), 95% Wilson score CI"))
    return rows


def comparison_results(tests: pd.DataFrame, ident: str, quantity: str, n: int) -> list[dict]:
    """One row per test of :func:`microcalc.analysis.stats.compare_groups`, sharing the published id."""
    return [result(ident, quantity, p=r["p"], n=n, method=r["method"]) for _, r in tests.iterrows()]


def regression_results(tidy: pd.DataFrame, prefix: str, published_ids: dict, n_multi: int,
                       method: str = "logistic regression, Wald 95% CI") -> list[dict]:
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
        rows.append(result(ident, f"OR, {r['term']} ({r['model']})", r["or"], r["ci_low"], r["ci_high"],
                           r["p"], r["n"], note if is_not_estimable(note) else f"{method} ({r['model']})"))
    return rows


def firth_results(firth: pd.DataFrame, prefix: str, n: int) -> list[dict]:
    """Rows ``<prefix>_or_firth_<term>`` for a :func:`microcalc.analysis.stats.firth_table` (not-estimable rows kept as such)."""
    return [result(f"{prefix}_or_firth_{t}", f"OR, {t} (Firth)", r["or"], r["ci_low"], r["ci_high"], r["p"], n,
                   r["method"] if is_not_estimable(r["method"])
                   else f"Firth-penalised logistic regression ({r['method']})")
            for t, r in firth.iterrows()]


def not_estimable_text(rows: list[dict]) -> str:
    """Markdown listing every not-estimable row of a results list with its reason (or saying there is none)."""
    lines = [f"- {r['quantity']} (`{r['id']}`): {r['method']}" for r in rows if is_not_estimable(r["method"])]
    if not lines:
        return "Every estimate of this notebook could be computed from the data."
    return "**Not estimable from these data** (written as such to the results file):\n\n" + "\n".join(lines)
