"""Publication tables: Table 1 (via tableone) and finalfit-style regression tables.

Tables are returned as DataFrames; :func:`save_table` writes CSV and HTML
with stable bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .models import fit_logistic, global_p_values
from .outputs import write_csv
from .paths import project_path
from .stats import separation_report

__all__ = ["table_one", "RegressionTable", "regression_table", "save_table", "fmt_or", "fmt_p",
           "p_phrase", "term_labels"]


def fmt_p(p: float) -> str:
    """P as in clinical tables: 3 decimals, "<0.001" below."""
    if p is None or pd.isna(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p: float) -> str:
    """P for running text: ``"P = 0.384"``, ``"P < 0.001"`` (never ``"P = 0.000"``), ``"P not estimable"``."""
    if p is None or pd.isna(p):
        return "P not estimable"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}"


def fmt_or(o: float, lo: float, hi: float) -> str:
    """``"2.35 (1.19-4.67)"``."""
    if any(pd.isna(x) for x in (o, lo, hi)):
        return "-"
    return f"{o:.2f} ({lo:.2f}-{hi:.2f})"


def _as_display(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.BooleanDtype) or out[c].dtype == bool:
            out[c] = pd.Categorical(out[c].map({True: "yes", False: "no"}), categories=["no", "yes"])
    return out


def table_one(df: pd.DataFrame, group: str, columns: Sequence[str], nonnormal: Sequence[str] = (),
              group_order: Sequence[str] = ("yes", "no")) -> pd.DataFrame:
    """Table 1 by ``group`` with tableone: n (%) for categories, median [Q1, Q3] for ``nonnormal``.

    Each variable's test is named in the table (tableone: chi-squared, with
    Yates' correction on 2 x 2 tables and Fisher's exact test when expected
    counts are small; Kruskal-Wallis for continuous variables), standardised
    mean differences and missing counts are shown, and missing values are
    kept out of the tests (``include_null=False``). Categories keep the
    contract's order.
    """
    from tableone import TableOne

    data = _as_display(df[[*columns, group]])
    categorical = [c for c in columns if isinstance(data[c].dtype, pd.CategoricalDtype)]
    order = {c: [str(x) for x in data[c].cat.categories] for c in categorical}
    order[group] = list(group_order)
    table = TableOne(data, columns=list(columns), categorical=categorical, groupby=group,
                     nonnormal=list(nonnormal), pval=True, htest_name=True, smd=True, missing=True,
                     include_null=False, order=order, decimals=1)
    return table.tableone


@dataclass
class RegressionTable:
    """A finalfit-style table of univariable and multivariable logistic regression.

    Attributes
    ----------
    display : DataFrame
        Variable, level, n (events), OR (95% CI) and P, univariable and
        multivariable, and the global likelihood-ratio P of each variable in
        the multivariable model.
    tidy : DataFrame
        The same estimates as numbers, one row per coefficient and model.
    separation : list of str
        Separation problems of the multivariable model, in words.
    n, events : patients and events in the multivariable model.
    """

    display: pd.DataFrame
    tidy: pd.DataFrame
    separation: list[str] = field(default_factory=list)
    n: int = 0
    events: int = 0


def _levels(s: pd.Series) -> list[tuple[str, str | None]]:
    """(label, design column suffix) per level; the first is the reference (suffix None)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in s.cat.categories]
        return [(cats[0], None)] + [(c, f"[{c}]") for c in cats[1:]]
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        return [("no", None), ("yes", "")]
    return [("per unit", "")]


def _level_mask(s: pd.Series, level: str) -> pd.Series:
    """The patients in ``level`` of a variable (every patient for a numeric one)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype(str) == level
    if level in ("yes", "no"):
        return s.astype(bool) == (level == "yes")
    return pd.Series(True, index=s.index)


def regression_table(df: pd.DataFrame, outcome: str, terms: Sequence[str],
                     labels: dict | None = None) -> RegressionTable:
    """Univariable and multivariable logistic regression of ``outcome`` on ``terms``, finalfit style.

    Univariable models use every patient with the outcome and that variable;
    the multivariable model uses the complete cases of all of them. ORs are
    Wald (R ``confint.default``). When the multivariable data are separated,
    the affected estimates are reported as not estimable, with the reason,
    instead of an infinite OR.
    """
    labels = labels or {}
    multi_data = df[[outcome, *terms]].dropna()
    separation = separation_report(df, outcome, terms)
    multi = fit_logistic(df, outcome, list(terms)).table() if not separation else None
    global_p = global_p_values(df, outcome, list(terms)) if not separation else pd.Series(dtype=float)
    rows, tidy = [], []
    for term in terms:
        uni_data = df[[outcome, term]].dropna()
        uni_sep = separation_report(df, outcome, [term])
        uni = fit_logistic(df, outcome, [term]).table() if not uni_sep else None
        levels = _levels(df[term])
        y = uni_data[outcome].astype(bool)
        for i, (level, suffix) in enumerate(levels):
            mask = _level_mask(uni_data[term], level)
            n_events = f"{int(mask.sum())} ({int(y[mask].sum())})"
            row = {"variable": labels.get(term, term) if i == 0 else "", "level": level,
                   "n (events)": n_events}
            if suffix is None:
                row.update({"OR univariable (95% CI)": "Ref", "P univariable": "",
                            "OR multivariable (95% CI)": "Ref", "P multivariable": ""})
            else:
                name = term + suffix
                for model, table, sep in (("univariable", uni, uni_sep), ("multivariable", multi, separation)):
                    if table is None:
                        row[f"OR {model} (95% CI)"] = "not estimable (separation)"
                        row[f"P {model}"] = "-"
                        continue
                    est = table.loc[name]
                    row[f"OR {model} (95% CI)"] = fmt_or(est["or"], est["ci_low"], est["ci_high"])
                    row[f"P {model}"] = fmt_p(est["p"])
                    tidy.append({"term": name, "variable": term, "level": level, "model": model,
                                 "or": est["or"], "ci_low": est["ci_low"], "ci_high": est["ci_high"],
                                 "p": est["p"], "n": len(uni_data) if model == "univariable" else len(multi_data)})
            row["global P (LR)"] = fmt_p(global_p.get(term)) if (i == 0 and len(levels) > 2) else ""
            rows.append(row)
    y = multi_data[outcome].astype(bool)
    return RegressionTable(pd.DataFrame(rows), pd.DataFrame(tidy), separation, len(multi_data), int(y.sum()))


def term_labels(tidy: pd.DataFrame) -> pd.Series:
    """Readable labels for the rows of a regression ``tidy`` frame: "mass", "age (per year)", "subtype: her2_enriched"."""
    def label(r):
        if r["level"] == "yes":
            return r["variable"]
        if r["level"] == "per unit":
            return f"{r['variable']} (per unit)"
        return f"{r['variable']}: {r['level']}"
    return tidy.apply(label, axis=1)


def save_table(table: pd.DataFrame, name: str, output_dir: str | os.PathLike = ".",
               index: bool = False) -> list[Path]:
    """Write ``<output_dir>/data/results/<name>.csv`` and ``.html``; return the paths."""
    folder = project_path(output_dir) / "data" / "results"
    csv_path = write_csv(table, folder / f"{name}.csv", index=index)
    html_path = folder / f"{name}.html"
    html_path.write_text(table.to_html(index=index, na_rep="", border=0), encoding="utf-8")
    return [csv_path, html_path]
