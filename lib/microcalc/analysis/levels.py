"""Categories grouped for reading: e.g. dense (c/d) against non-dense (a/b) breasts beside the four levels.

A factor with a small reference level gives imprecise odds ratios for every
other level (each is a contrast with that level). Grouping levels into two
(a yes/no variable) is what clinicians read; :func:`grouped_levels` fits it
as the regression table fits the factor, univariable and in the
multivariable model with the grouped variable in place of the factor, and
counts the patients and events of every original level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from microcalc.analysis.stats import model_estimates

__all__ = ["GroupedLevels", "grouped_levels"]


@dataclass(frozen=True)
class GroupedLevels:
    """A factor grouped into two, fitted beside its levels.

    Attributes
    ----------
    name : the grouped yes/no variable (True: the second group of ``grouping``).
    groups : the two group names, reference first.
    counts : DataFrame indexed by group (reference first): ``n``, ``events``, ``rate_pct`` (% with the outcome).
    levels : DataFrame indexed by the factor's levels (contract order): ``n``, ``events``, ``non_events``.
    estimates : DataFrame indexed by ``univariable``/``multivariable``: ``or``, ``ci_low``, ``ci_high``,
        ``p``, ``n``, ``note`` (``not estimable: <reason>`` where there is no estimate) of the second group
        against the first.
    """

    name: str
    groups: tuple[str, str]
    counts: pd.DataFrame
    levels: pd.DataFrame
    estimates: pd.DataFrame


def grouped_levels(
    df: pd.DataFrame, outcome: str, column: str, grouping: Mapping[str, Sequence[str]], terms: Sequence[str], name: str
) -> GroupedLevels:
    """Group the levels of ``column`` into two and fit the grouped variable, univariable and adjusted.

    Parameters
    ----------
    df : the cohort; ``outcome`` yes/no, ``column`` categorical.
    grouping : two groups, reference first, each a list of levels of ``column``; together they
        must hold every level exactly once.
    terms : the multivariable model's terms; ``column`` is replaced by ``name`` in it.
    name : the name of the grouped variable (True for the second group).

    Raises
    ------
    ValueError
        If ``grouping`` is not two groups covering every level of ``column`` exactly once.
    """
    levels = [str(c) for c in df[column].cat.categories]
    listed = [str(level) for group in grouping.values() for level in group]
    if len(grouping) != 2 or sorted(listed) != sorted(levels):
        raise ValueError(
            f"grouping of {column} must be two groups holding each of its levels {levels} once; got {dict(grouping)}"
        )
    (ref_name, _), (grp_name, members) = list(grouping.items())
    values = df[column].astype("string")
    data = df.assign(**{name: values.isin([str(m) for m in members]).where(values.notna()).astype("boolean")})
    y = data[outcome].astype("boolean")
    counts = []
    for label, flag in ((ref_name, False), (grp_name, True)):
        mask = (data[name] == flag).fillna(False) & y.notna()
        n, events = int(mask.sum()), int(y[mask].sum())
        counts.append({"group": label, "n": n, "events": events, "rate_pct": 100 * events / n if n else float("nan")})
    per_level = []
    for level in levels:
        mask = (values == level).fillna(False) & y.notna()
        events = int(y[mask].sum())
        per_level.append(
            {"level": level, "n": int(mask.sum()), "events": events, "non_events": int(mask.sum()) - events}
        )
    adjusted_terms = [name if t == column else t for t in terms]
    rows = {}
    for model, model_terms in (("univariable", [name]), ("multivariable", adjusted_terms)):
        fit = model_estimates(data, outcome, model_terms)
        est = fit.table.loc[name]
        rows[model] = {
            "or": est["or"],
            "ci_low": est["ci_low"],
            "ci_high": est["ci_high"],
            "p": est["p"],
            "n": fit.n,
            "note": est["note"],
        }
    return GroupedLevels(
        name,
        (ref_name, grp_name),
        pd.DataFrame(counts).set_index("group"),
        pd.DataFrame(per_level).set_index("level"),
        pd.DataFrame(rows).T,
    )
