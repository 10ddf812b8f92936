"""Is missingness associated with the other variables? (part of :mod:`microcalc.analysis.imputation`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from microcalc.analysis.results import not_estimable
from microcalc.analysis.tables import fmt_percent, p_phrase

__all__ = ["Missingness", "missingness_association"]


@dataclass(frozen=True)
class Missingness:
    """Whether a variable was recorded, by other yes/no variables (is it missing at random?).

    Attributes
    ----------
    table : DataFrame, one row per ``against`` variable: ``recorded_yes`` and
        ``n_yes`` (recorded among patients with that variable yes),
        ``recorded_no``, ``n_no``, ``pct_yes``, ``pct_no``, ``or`` (odds of being
        recorded, yes vs no) with Wald ``ci_low``, ``ci_high``, and Fisher's exact ``p``.
    column : the variable whose missingness is studied.
    sentence : the finding in words, with what it means for a complete-case analysis.
    """

    table: pd.DataFrame
    column: str
    sentence: str


def missingness_association(
    df: pd.DataFrame, column: str, against: Sequence[str], labels: dict | None = None
) -> Missingness:
    """Is being recorded in ``column`` related to each of ``against``? (a check of missing completely at random)

    For each yes/no variable in ``against``: the share recorded among its yes
    and no patients, the OR of being recorded (R ``glm(recorded ~ v, binomial)``,
    Wald CI) and Fisher's exact P (R ``fisher.test(table(v, recorded))``).
    When missingness depends on both the exposure and the outcome, a
    complete-case estimate of their association can be biased (selection on
    the outcome); multiple imputation assumes missing at random given the
    imputation model's variables (van Buuren 2018, section 2.2).

    Parameters
    ----------
    df : the cohort (not modified).
    column : the incompletely recorded variable.
    against : yes/no variables, e.g. the exposure and the outcome.
    labels : optional readable names for the sentence (column -> label).
    """
    from microcalc.abstract.pvalues import fisher_exact, odds_ratio_wald

    name = (labels or {}).get

    recorded = df[column].notna()
    rows, related = [], []
    for v in against:
        x = df[v]
        ok = x.notna()
        xv, rv = x[ok].astype(bool), recorded[ok]
        a, n1 = int((xv & rv).sum()), int(xv.sum())
        c, n0 = int((~xv & rv).sum()), int((~xv).sum())
        table = np.array([[a, n1 - a], [c, n0 - c]])
        wald = odds_ratio_wald(table)
        reason = _untestable_missingness(table, name(v, v), name(column, column))
        p = np.nan if reason.startswith("no patient") or "every patient" in reason else float(fisher_exact(table))
        rows.append(
            {
                "variable": v,
                "recorded_yes": a,
                "n_yes": n1,
                "recorded_no": c,
                "n_no": n0,
                "pct_yes": 100 * a / n1 if n1 else np.nan,
                "pct_no": 100 * c / n0 if n0 else np.nan,
                "or": float(wald["or"]),
                "ci_low": float(wald["low"]),
                "ci_high": float(wald["high"]),
                "p": p,
                "note": not_estimable(reason) if reason else "",
            }
        )
        if p < 0.05:
            related.append(v)
    out = pd.DataFrame(rows).set_index("variable")
    col = name(column, column)
    parts = [
        f"{col} was recorded in {fmt_percent(r.pct_yes)} of patients with {name(v, v)} and "
        f"{fmt_percent(r.pct_no)} without (Fisher {p_phrase(r.p)}"
        + (f"; the odds ratio of being recorded is {r.note}" if r.note else "")
        + ")"
        for v, r in out.iterrows()
    ]
    names = [name(v, v) for v in related]
    related_names = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)
    if len(related) == len(against) and len(against) > 1:
        both = "both to " + " and to ".join(names) if len(names) == 2 else f"to each of {related_names}"
        meaning = (
            f"Whether {col} was recorded is related {both}: patients with it "
            "recorded are a selected group, so a complete-case model that includes it can be biased; "
            "the model without it and the imputed model are the sensitivity analyses."
        )
    elif related:
        meaning = (
            f"Whether {col} was recorded is related to {related_names}: the data are not missing "
            "completely at random, so a complete-case model that includes it may be biased."
        )
    else:
        all_names = ", ".join(name(v, v) for v in against)
        meaning = (
            f"No clear relation between recording of {col} and {all_names} at the 5% level; "
            "this cannot show the data are missing completely at random."
        )
    return Missingness(out, column, "; ".join(parts) + ". " + meaning)


def _untestable_missingness(table: np.ndarray, variable: str, column: str) -> str:
    """Why the odds ratio of being recorded (2 x 2 ``table``: variable yes/no by recorded/not) is not estimable."""
    if table[0].sum() == 0 or table[1].sum() == 0:
        return f"no patient with {variable} = {'yes' if table[0].sum() == 0 else 'no'}"
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return f"every patient has {column} {'recorded' if table[:, 1].sum() == 0 else 'missing'}"
    if (table == 0).any():
        return "a zero cell, so the maximum-likelihood odds ratio does not exist (Fisher's P is given)"
    return ""
