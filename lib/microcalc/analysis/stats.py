"""Rates, group comparisons, and what a reader of a logistic model needs to trust it.

* :func:`wilson_ci` and :func:`group_rates`: proportions with Wilson score
  intervals (R ``prop.test(k, n, correct = FALSE)$conf.int``).
* :func:`compare_groups`: a 2 x 2 comparison under every test the paper
  might have used, each named with its options.
* :func:`events_per_variable`, :func:`separation_report`, :func:`firth_table`:
  events per variable, separation in words, and a Firth-penalised
  sensitivity model (firthmodels; profile-likelihood CIs, penalised LR P).
* :func:`model_estimates`: a maximum-likelihood logistic model whose
  coefficients are either estimated or "not estimable: <reason>" (an absent
  category level, a rank-deficient design, separation, no variation).
* :func:`evalue`: the E-value of an odds ratio (VanderWeele & Ding, Ann
  Intern Med 2017;167:268-74).
* :func:`suppress_small_groups`: continuous summaries of fewer than
  :data:`MIN_GROUP_SIZE` patients are not shown.

The model estimates (:func:`separation_report`, :class:`ModelEstimates`,
:func:`model_estimates`, :func:`unfittable_reason`, :func:`firth_table`) sit in
:mod:`microcalc.analysis.estimates`; this module re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.abstract.pvalues import TESTS, fisher_enumerates
from microcalc.analysis.estimates import (
    ModelEstimates,
    firth_table,
    model_estimates,
    separation_report,
    unfittable_reason,
)
from microcalc.analysis.models import aliased_columns, design_matrix
from microcalc.analysis.results import not_estimable

__all__ = [
    "wilson_ci",
    "group_rates",
    "compare_groups",
    "crosstab",
    "category_comparison",
    "TEST_METHODS",
    "events_per_variable",
    "separation_report",
    "ModelEstimates",
    "model_estimates",
    "unfittable_reason",
    "firth_table",
    "evalue",
    "EventsPerVariable",
    "EValue",
    "MIN_GROUP_SIZE",
    "SUPPRESSED",
    "suppress_small_groups",
]

#: Continuous summaries (median, quartiles, mean, SD, min, max) of fewer patients than this are suppressed.
MIN_GROUP_SIZE = 10

#: How each test of :data:`microcalc.abstract.pvalues.TESTS` was run, in words for tables.
TEST_METHODS = {
    "pearson_chi2": "Pearson chi-squared, no continuity correction",
    "yates_chi2": "chi-squared with Yates' continuity correction",
    "fisher_exact": "Fisher's exact test, two-sided",
    "mann_whitney": "Mann-Whitney U, normal approximation with tie and continuity correction",
    "logistic_wald": "logistic regression, Wald test",
}


def wilson_ci(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes of ``n`` (vectorised).

    Matches R ``prop.test(k, n, correct = FALSE)$conf.int``, which also sets
    the lower limit of 0/n to exactly 0 and the upper limit of n/n to exactly
    1. With ``n = 0`` both limits are NaN.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.where(k == 0, np.where(n > 0, 0.0, np.nan), centre - half), np.where(
        (k == n) & (n > 0), 1.0, centre + half
    )


def group_rates(df: pd.DataFrame, group: str, outcome: str) -> pd.DataFrame:
    """Events, patients and rate of ``outcome`` by ``group`` (True first), with 95% Wilson CIs (%)."""
    data = df[[group, outcome]].dropna()
    rows = []
    for value in (True, False):
        y = data.loc[data[group].astype(bool) == value, outcome].astype(bool)
        k, n = int(y.sum()), len(y)
        lo, hi = wilson_ci(k, n)
        rows.append(
            {
                group: value,
                "events": k,
                "n": n,
                "rate_pct": 100 * k / n if n else np.nan,
                "ci_low_pct": 100 * float(lo),
                "ci_high_pct": 100 * float(hi),
            }
        )
    return pd.DataFrame(rows)


def compare_groups(
    table: np.ndarray, tests: Sequence[str] = ("pearson_chi2", "yates_chi2", "fisher_exact", "mann_whitney")
) -> pd.DataFrame:
    """P of a 2 x k comparison under each test, with the test's options in words.

    Tests for 2 x 2 tables only (Yates, the Wald test) are skipped for k > 2,
    and so is the Mann-Whitney test, since k > 2 categories are unordered here.
    A category of a 2 x k table (k > 2) that no patient has is dropped (the
    method says so). A test the table cannot give (a group without patients,
    one category only) has P NaN and the method ``not estimable: <reason>``.
    """
    table = np.asarray(table)
    k = table.shape[-1]
    dropped = ""
    if k > 2 and (table.sum(axis=0) == 0).any() and (table.sum(axis=0) > 0).sum() >= 2:
        dropped = f"; {int((table.sum(axis=0) == 0).sum())} category with no patient dropped"
        table = table[:, table.sum(axis=0) > 0]
    reason = _untestable(table)
    rows = []
    for test in tests:
        label, fn, only_2x2 = TESTS[test]
        if (only_2x2 or test == "mann_whitney") and k != 2:
            continue
        method = TEST_METHODS[test]
        if reason:
            rows.append({"test": test, "method": not_estimable(f"{reason} ({method})"), "p": np.nan})
            continue
        if test == "fisher_exact" and not fisher_enumerates(table):
            method = "Fisher's exact test, Monte Carlo P (100,000 seeded tables)"
        p = float(fn(table))
        rows.append(
            {
                "test": test,
                "method": method + dropped
                if np.isfinite(p)
                else not_estimable(f"the test is undefined on this table ({method})"),
                "p": p,
            }
        )
    return pd.DataFrame(rows, columns=["test", "method", "p"])


def _untestable(table: np.ndarray) -> str:
    """Why a 2 x k table of counts cannot be compared (empty when it can)."""
    if (table.sum(axis=1) == 0).any():
        return "no patient in one of the two groups"
    if (table.sum(axis=0) > 0).sum() < 2:
        return "every patient in the same category"
    return ""


def crosstab(df: pd.DataFrame, group: str, column: str) -> pd.DataFrame:
    """Counts of ``column``'s categories (contract order) by ``group`` (True first), missing left out."""
    data = df[[group, column]].dropna()
    cats = (
        list(data[column].cat.categories)
        if isinstance(data[column].dtype, pd.CategoricalDtype)
        else sorted(data[column].unique())
    )
    g = data[group].astype(bool)
    out = pd.DataFrame(
        [[int(((g == v) & (data[column] == c)).sum()) for c in cats] for v in (True, False)],
        index=[True, False],
        columns=cats,
    )
    out.index.name = group
    return out


def category_comparison(
    counts: pd.DataFrame, reported: str, reproduced: dict[str, list[str]], named: Sequence[str]
) -> pd.DataFrame:
    """A 2 x k comparison on the full table and on ``reported`` against the other categories.

    Parameters
    ----------
    counts : 2 x k counts (rows: groups), e.g. from :func:`crosstab`
    reported : the category whose shares the paper printed
    reproduced : table shape ("2x3", "2x2") -> tests that reproduced the
        paper's P on it (:func:`microcalc.paper.reproducing_tests`); keys are
        matched on their first three characters
    named : the ids of the tests the paper names

    Returns
    -------
    One row per (table, test): ``comparison``, ``test``, ``p``, ``named_by_paper`` (bool),
    ``reproduces_published_p`` (bool: the test reproduced the paper's P on the tables
    reconstructed in notebook 01), ``method`` (as
    :func:`compare_groups`: ``not estimable: <reason>`` where P is NaN).
    """
    collapsed = pd.DataFrame({reported: counts[reported], "other": counts.drop(columns=reported).sum(axis=1)})
    rows = []
    for basis, tab in ((f"2x{counts.shape[1]}", counts), (f"2x2 {reported} vs other", collapsed)):
        key = next((k for k in reproduced if k.startswith(basis[:3])), None)
        for _, t in compare_groups(tab.to_numpy()).iterrows():
            rows.append(
                {
                    "comparison": basis,
                    "test": t["test"],
                    "p": t["p"],
                    "named_by_paper": t["test"] in named,
                    "reproduces_published_p": key is not None and t["test"] in reproduced[key],
                    "method": t["method"],
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class EventsPerVariable:
    """Events per variable of a logistic model (:func:`events_per_variable`).

    ``n`` complete cases, ``events`` and ``non_events``, ``limiting_events``
    (the smaller of the two), ``parameters`` (coefficients estimated, the
    intercept left out) and ``epv`` (``limiting_events / parameters``; NaN
    with no parameter).
    """

    n: int
    events: int
    non_events: int
    limiting_events: int
    parameters: int
    epv: float


def events_per_variable(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> EventsPerVariable:
    """Events per variable of ``outcome ~ terms`` on its complete cases.

    The limiting number of events is the smaller of events and non-events;
    variables are the model's coefficients other than the intercept (a
    k-level factor counts k - 1; absent levels and aliased columns, which
    are not estimated, do not count).
    """
    data = df[[outcome, *terms]].dropna()
    X, names, _ = design_matrix(data, terms)
    y = data[outcome].astype(bool)
    limiting = int(min(y.sum(), (~y).sum()))
    parameters = len(names) - 1 - (len(aliased_columns(X)) if len(data) else 0)
    return EventsPerVariable(
        n=len(data),
        events=int(y.sum()),
        non_events=int((~y).sum()),
        limiting_events=limiting,
        parameters=parameters,
        epv=limiting / parameters if parameters else np.nan,
    )


@dataclass(frozen=True)
class EValue:
    """E-values of an odds ratio (:func:`evalue`): of the estimate, and of the CI limit closest to the null.

    ``evalue_ci`` is None when no CI was given, and NaN (as is
    ``evalue_estimate``) when the odds ratio is not estimable.
    """

    evalue_estimate: float
    evalue_ci: float | None = None


def evalue(odds_ratio: float, ci_low: float | None = None, ci_high: float | None = None, rare: bool = False) -> EValue:
    """E-value of an odds ratio and of the CI limit closest to the null (VanderWeele & Ding 2017).

    For a common outcome (``rare=False``, more than about 15%) the OR is first
    turned into an approximate risk ratio, RR = sqrt(OR). Ratios below 1 are
    inverted. E = RR + sqrt(RR (RR - 1)); the CI's E-value is 1 when the CI
    contains 1.

    Worked example of the paper: RR = 3.9 (95% CI 1.8 to 8.7) gives E = 7.26
    for the estimate and 3.0 for the lower limit. A NaN (not estimable) odds
    ratio gives NaN E-values.
    """
    if not np.isfinite(odds_ratio):
        return EValue(np.nan, np.nan)

    def to_rr(x):
        return x if rare else np.sqrt(x)

    def e(rr):
        rr = 1 / rr if rr < 1 else rr
        return rr + np.sqrt(rr * (rr - 1))

    estimate = float(e(to_rr(odds_ratio)))
    if ci_low is None or ci_high is None:
        return EValue(estimate)
    if ci_low <= 1 <= ci_high:
        return EValue(estimate, 1.0)
    limit = ci_low if odds_ratio > 1 else ci_high
    return EValue(estimate, float(e(to_rr(limit))))


def suppress_small_groups(summary: pd.DataFrame, sizes: pd.DataFrame, marker: str | None = None) -> pd.DataFrame:
    """``summary`` with every cell summarising fewer than :data:`MIN_GROUP_SIZE` patients replaced by ``marker``.

    Parameters
    ----------
    summary : cells that summarise continuous values (median, quartiles,
        mean, SD, min, max), any index and columns
    sizes : the same shape: how many patients' values each cell summarises
    marker : the text shown instead (default: "suppressed (n < 10)")

    A summary of a handful of patients can reveal an individual's value (the
    minimum of five ages is someone's age), so it never leaves the site.
    """
    marker = marker or SUPPRESSED
    small = sizes.reindex_like(summary).fillna(0) < MIN_GROUP_SIZE
    return summary.astype(object).mask(small, marker)


#: What a suppressed cell shows.
SUPPRESSED = f"suppressed (n < {MIN_GROUP_SIZE})"
