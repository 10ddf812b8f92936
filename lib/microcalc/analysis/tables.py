"""Publication tables: Table 1 (via tableone) and finalfit-style regression tables.

Tables are returned as DataFrames; :func:`save_table` writes CSV and HTML
with stable bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from microcalc.abstract.published import format_p
from microcalc.analysis.results import NOT_ESTIMABLE
from microcalc.analysis.stats import MIN_GROUP_SIZE, SUPPRESSED, model_estimates, suppress_small_groups
from microcalc.core.outputs import write_csv
from microcalc.core.paths import project_path

__all__ = [
    "table_one",
    "suppression_note",
    "RegressionTable",
    "regression_table",
    "save_table",
    "fmt_or",
    "fmt_p",
    "zero_or",
    "p_phrase",
    "fmt_percent",
    "or_text",
    "term_labels",
]


def zero_or(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` places, or "0" when it is exactly zero (a boundary estimate, not a rounding).

    >>> zero_or(0.0, 3), zero_or(0.0004, 3), zero_or(12.34, 1)
    ('0', '0.000', '12.3')
    """
    return "0" if float(value) == 0.0 else f"{float(value):.{decimals}f}"


def fmt_p(p: float) -> str:
    """P as in clinical tables: :func:`microcalc.abstract.published.format_p` without the label ("<0.001")."""
    return format_p(p, label=False)


#: P for running text: :func:`microcalc.abstract.published.format_p` ("P = 0.384", "P < 0.001").
p_phrase = format_p


def fmt_percent(x: float) -> str:
    """``"73.7%"``; "no patients" for the share of an empty group (NaN)."""
    return "no patients" if pd.isna(x) else f"{x:.1f}%"


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


def table_one(
    df: pd.DataFrame,
    group: str,
    columns: Sequence[str],
    nonnormal: Sequence[str] = (),
    group_order: Sequence[str] = ("yes", "no"),
) -> pd.DataFrame:
    """Table 1 by ``group`` with tableone: n (%) for categories, median [Q1, Q3] for ``nonnormal``.

    Each variable's test is named in the table (tableone: chi-squared, with
    Yates' correction on 2 x 2 tables and Fisher's exact test when expected
    counts are small; Kruskal-Wallis for continuous variables), standardised
    mean differences and missing counts are shown, and missing values are
    kept out of the tests (``include_null=False``). Categories keep the
    contract's order.

    The summary of a continuous variable (and its standardised mean
    difference) in a group, or overall, where fewer than
    :data:`microcalc.analysis.stats.MIN_GROUP_SIZE` patients have a value is
    suppressed (:func:`microcalc.analysis.stats.suppress_small_groups`); see
    :func:`suppression_note`. A group with no patient is left out (and
    with it the tests and SMDs), and so is a category no patient has.
    """
    import warnings

    from tableone import TableOne

    data = _as_display(df[[*columns, group]])
    categorical = [c for c in columns if isinstance(data[c].dtype, pd.CategoricalDtype)]
    order = {c: [str(x) for x in data[c].cat.categories if (data[c] == x).any()] for c in categorical}
    order[group] = [g for g in group_order if (data[group] == g).any()]
    compare = len(order[group]) > 1
    with warnings.catch_warnings():  # tableone's warnings name its install path; sparse data are said so here
        warnings.simplefilter("ignore")
        table = TableOne(
            data,
            columns=list(columns),
            categorical=categorical,
            groupby=group,
            nonnormal=list(nonnormal),
            pval=compare,
            htest_name=compare,
            smd=compare,
            missing=True,
            include_null=False,
            order=order,
            decimals=1,
        ).tableone
    return _suppress_continuous(table, data, group, [c for c in columns if c not in categorical])


def _suppress_continuous(table: pd.DataFrame, data: pd.DataFrame, group: str, continuous: list[str]) -> pd.DataFrame:
    """Table 1 with the continuous summaries (and SMDs) of groups under the threshold suppressed."""
    summaries = [c for c in table.columns if c[1] == "Overall" or (data[group] == c[1]).any()]
    smd = [c for c in table.columns if str(c[1]).startswith("SMD")]
    rows = [r for r in table.index if any(str(r[0]).startswith(f"{c}, ") for c in continuous)]
    if not rows:
        return table
    block = table.loc[rows, summaries + smd]
    sizes = []
    for r in rows:
        values = data[next(c for c in continuous if str(r[0]).startswith(f"{c}, "))]
        counts = [
            int(values.notna().sum()) if c[1] == "Overall" else int(values[data[group] == c[1]].notna().sum())
            for c in summaries
        ]
        groups = [n for n, c in zip(counts, summaries, strict=True) if c[1] != "Overall"]
        sizes.append(counts + [min(groups, default=0)] * len(smd))
    sizes = pd.DataFrame(sizes, index=block.index, columns=block.columns)
    out = table.copy()
    out.loc[rows, summaries + smd] = suppress_small_groups(block, sizes)
    return out


def suppression_note(table: pd.DataFrame) -> str:
    """One sentence for under a table: which continuous summaries were suppressed, or that none was."""
    suppressed = int((table.astype(str) == SUPPRESSED).to_numpy().sum())
    if not suppressed:
        return (
            f"Continuous summaries of fewer than {MIN_GROUP_SIZE} patients would be suppressed; "
            "every group here is large enough."
        )
    return (
        f"**{suppressed} cell{'' if suppressed == 1 else 's'} suppressed**: a median, quartile, mean, SD, "
        f"minimum or maximum of fewer than {MIN_GROUP_SIZE} patients could reveal an individual's value, so it "
        f'is shown as "{SUPPRESSED}", and so is the standardised mean difference computed from it.'
    )


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
        The same estimates as numbers, one row per coefficient and model;
        ``note`` says ``not estimable: <reason>`` where there is no estimate.
    separation : list of str
        Separation problems of the multivariable model, in words.
    n, events : patients and events in the multivariable model.
    notes : list of str
        Everything else dropped or not estimable (absent levels,
        rank-deficient designs, an outcome that does not vary), in words,
        for every model of the table.
    global_p : the multivariable model's likelihood-ratio P of each variable
    """

    display: pd.DataFrame
    tidy: pd.DataFrame
    separation: list[str] = field(default_factory=list)
    n: int = 0
    events: int = 0
    notes: list[str] = field(default_factory=list)
    global_p: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))


def _levels(s: pd.Series) -> list[tuple[str, str]]:
    """(label, coefficient name) per level; the contract's reference comes first."""
    name = s.name
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [(str(c), f"{name}[{c}]") for c in s.cat.categories]
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        return [("no", ""), ("yes", name)]
    return [("per unit", name)]


def _level_mask(s: pd.Series, level: str) -> pd.Series:
    """The patients in ``level`` of a variable (every patient for a numeric one)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype(str) == level
    if level in ("yes", "no"):
        return s.astype(bool) == (level == "yes")
    return pd.Series(True, index=s.index)


_SHORT = {
    "separation": "not estimable (separation)",
    "rank-deficient": "not estimable (rank-deficient)",
    "level absent": "dropped (no patients)",
    "no variation": "not estimable (no variation)",
}


def regression_table(
    df: pd.DataFrame, outcome: str, terms: Sequence[str], labels: dict | None = None
) -> RegressionTable:
    """Univariable and multivariable logistic regression of ``outcome`` on ``terms``, finalfit style.

    Univariable models use every patient with the outcome and that variable;
    the multivariable model uses the complete cases of all of them. ORs are
    Wald (R ``confint.default``). What a model cannot estimate
    (:func:`microcalc.analysis.stats.model_estimates`: an absent level, a
    rank-deficient design, separation) is shown as such, with the reason in
    ``tidy["note"]`` and ``notes``, instead of an infinite or arbitrary OR.
    """
    labels = labels or {}
    multi = model_estimates(df, outcome, terms, with_global_p=True)
    notes = list(multi.problems)
    rows, tidy = [], []
    for term in terms:
        uni_data = df[[outcome, term]].dropna()
        uni = model_estimates(df, outcome, [term])
        notes += [f"{p} (univariable model of {term})" for p in uni.problems if p not in multi.problems]
        levels = _levels(df[term])
        y = uni_data[outcome].astype(bool)
        for i, (level, name) in enumerate(levels):
            mask = _level_mask(uni_data[term], level)
            row = {
                "variable": labels.get(term, term) if i == 0 else "",
                "level": level,
                "n (events)": f"{int(mask.sum())} ({int(y[mask].sum())})",
            }
            for model, fit, n in (("univariable", uni, len(uni_data)), ("multivariable", multi, multi.n)):
                if fit.reference.get(term, "no") == level:  # a yes/no variable's reference is "no"
                    row[f"OR {model} (95% CI)"], row[f"P {model}"] = "Ref", ""
                    continue
                est = fit.table.loc[name]
                if est["kind"]:
                    row[f"OR {model} (95% CI)"], row[f"P {model}"] = _SHORT[est["kind"]], "-"
                else:
                    row[f"OR {model} (95% CI)"] = fmt_or(est["or"], est["ci_low"], est["ci_high"])
                    row[f"P {model}"] = format_p(est["p"], label=False)
                tidy.append(
                    {
                        "term": name,
                        "variable": term,
                        "level": level,
                        "model": model,
                        "or": est["or"],
                        "ci_low": est["ci_low"],
                        "ci_high": est["ci_high"],
                        "p": est["p"],
                        "n": n,
                        "note": est["note"],
                    }
                )
            row = {
                k: row[k]
                for k in (
                    "variable",
                    "level",
                    "n (events)",
                    "OR univariable (95% CI)",
                    "P univariable",
                    "OR multivariable (95% CI)",
                    "P multivariable",
                )
            }
            row["global P (LR)"] = (
                format_p(multi.global_p.get(term), label=False) if (i == 0 and len(levels) > 2) else ""
            )
            rows.append(row)
    tidy = pd.DataFrame(
        tidy, columns=["term", "variable", "level", "model", "or", "ci_low", "ci_high", "p", "n", "note"]
    )
    return RegressionTable(
        pd.DataFrame(rows), tidy, multi.separation, multi.n, multi.events, list(dict.fromkeys(notes)), multi.global_p
    )


def or_text(row, dash: str = "–", with_p: bool = False) -> str:
    """``"2.35 (1.19–4.67)"`` (``with_p``: ``"2.35 (1.19–4.67, P = 0.012)"``) for an estimated OR.

    A row without an estimate gives its ``note`` (or ``method``) when that
    reads ``not estimable: <reason>``, else just "not estimable"; an estimate
    without one of its CI limits says "CI not estimable".
    """
    if pd.isna(row["or"]):
        for key in ("note", "method"):
            text = row.get(key) if hasattr(row, "get") else None
            if isinstance(text, str) and text.startswith(NOT_ESTIMABLE):
                return text
        return NOT_ESTIMABLE
    p = f", P = {row['p']:.3f}" if with_p else ""
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):  # e.g. a profile-likelihood limit that did not converge
        return f"{row['or']:.2f} (CI not estimable{p})"
    return f"{row['or']:.2f} ({row['ci_low']:.2f}{dash}{row['ci_high']:.2f}{p})"


def term_labels(tidy: pd.DataFrame) -> pd.Series:
    """Readable labels for the rows of a regression ``tidy`` frame.

    For example "mass", "age (per year)", "subtype: her2_enriched"."""

    def label(r):
        if r["level"] == "yes":
            return r["variable"]
        if r["level"] == "per unit":
            return f"{r['variable']} (per unit)"
        return f"{r['variable']}: {r['level']}"

    return tidy.apply(label, axis=1)


def save_table(table: pd.DataFrame, name: str, output_dir: str | os.PathLike = ".", index: bool = False) -> list[Path]:
    """Write ``<output_dir>/data/results/<name>.csv`` and ``.html``; return the paths."""
    folder = project_path(output_dir) / "data" / "results"
    csv_path = write_csv(table, folder / f"{name}.csv", index=index)
    html_path = folder / f"{name}.html"
    html_path.write_text(table.to_html(index=index, na_rep="", border=0), encoding="utf-8")
    return [csv_path, html_path]
