"""Rates, group comparisons, and what a reader of a logistic model needs to trust it.

* :func:`wilson_ci` and :func:`group_rates`: proportions with Wilson score
  intervals (R ``prop.test(k, n, correct = FALSE)$conf.int``).
* :func:`compare_groups`: a 2 x 2 comparison under every test the paper
  might have used, each named with its options.
* :func:`events_per_variable`, :func:`separation_report`, :func:`firth_table`:
  events per variable, separation in words, and a Firth-penalised
  sensitivity model (firthmodels; profile-likelihood CIs, penalised LR P).
* :func:`evalue`: the E-value of an odds ratio (VanderWeele & Ding, Ann
  Intern Med 2017;167:268-74).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .models import design_matrix
from .pvalues import TESTS, Z_975, fisher_enumerates

__all__ = ["wilson_ci", "group_rates", "compare_groups", "crosstab", "category_comparison", "TEST_METHODS", "events_per_variable",
           "separation_report", "firth_table", "evalue"]

#: How each test of :data:`microcalc.pvalues.TESTS` was run, in words for tables.
TEST_METHODS = {
    "pearson_chi2": "Pearson chi-squared, no continuity correction",
    "yates_chi2": "chi-squared with Yates' continuity correction",
    "fisher_exact": "Fisher's exact test, two-sided",
    "mann_whitney": "Mann-Whitney U, normal approximation with tie and continuity correction",
    "logistic_wald": "logistic regression, Wald test",
}


def wilson_ci(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes of ``n`` (vectorised).

    Matches R ``prop.test(k, n, correct = FALSE)$conf.int``.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def group_rates(df: pd.DataFrame, group: str, outcome: str) -> pd.DataFrame:
    """Events, patients and rate of ``outcome`` by ``group`` (True first), with 95% Wilson CIs (%)."""
    data = df[[group, outcome]].dropna()
    rows = []
    for value in (True, False):
        y = data.loc[data[group].astype(bool) == value, outcome].astype(bool)
        k, n = int(y.sum()), len(y)
        lo, hi = wilson_ci(k, n)
        rows.append({group: value, "events": k, "n": n, "rate %": 100 * k / n if n else np.nan,
                     "ci low %": 100 * float(lo), "ci high %": 100 * float(hi)})
    return pd.DataFrame(rows)


def compare_groups(table: np.ndarray, tests: Sequence[str] = ("pearson_chi2", "yates_chi2",
                                                               "fisher_exact", "mann_whitney")) -> pd.DataFrame:
    """P of a 2 x k comparison under each test, with the test's options in words.

    Tests for 2 x 2 tables only (Yates, the Wald test) are skipped for k > 2,
    and so is the Mann-Whitney test, since k > 2 categories are unordered here.
    """
    table = np.asarray(table)
    rows = []
    for test in tests:
        label, fn, only_2x2 = TESTS[test]
        if (only_2x2 or test == "mann_whitney") and table.shape[-1] != 2:
            continue
        method = TEST_METHODS[test]
        if test == "fisher_exact" and not fisher_enumerates(table):
            method = "Fisher's exact test, Monte Carlo P (100,000 seeded tables)"
        rows.append({"test": test, "method": method, "p": float(fn(table))})
    return pd.DataFrame(rows)


def crosstab(df: pd.DataFrame, group: str, column: str) -> pd.DataFrame:
    """Counts of ``column``'s categories (contract order) by ``group`` (True first), missing left out."""
    data = df[[group, column]].dropna()
    cats = (list(data[column].cat.categories) if isinstance(data[column].dtype, pd.CategoricalDtype)
            else sorted(data[column].unique()))
    g = data[group].astype(bool)
    out = pd.DataFrame([[int(((g == v) & (data[column] == c)).sum()) for c in cats] for v in (True, False)],
                       index=[True, False], columns=cats)
    out.index.name = group
    return out


def category_comparison(counts: pd.DataFrame, reported: str, reproduced: dict[str, list[str]],
                        named: Sequence[str]) -> pd.DataFrame:
    """A 2 x k comparison on the full table and on ``reported`` against the other categories.

    Parameters
    ----------
    counts : 2 x k counts (rows: groups), e.g. from :func:`crosstab`
    reported : the category whose shares the paper printed
    reproduced : table basis -> tests that reproduced the paper's P there
        (:func:`microcalc.paper.reproducing_tests`); bases are matched on
        their first three characters ("2x3", "2x2")
    named : the ids of the tests the paper names

    Returns
    -------
    One row per (table, test): ``comparison``, ``test``, ``p``, ``named by
    the paper``, ``reproduced the paper's P (notebook 01)``.
    """
    collapsed = pd.DataFrame({reported: counts[reported], "other": counts.drop(columns=reported).sum(axis=1)})
    rows = []
    for basis, tab in ((f"2x{counts.shape[1]}", counts), (f"2x2 {reported} vs other", collapsed)):
        key = next((k for k in reproduced if k.startswith(basis[:3])), None)
        for _, t in compare_groups(tab.to_numpy()).iterrows():
            rows.append({"comparison": basis, "test": t["test"], "p": t["p"],
                         "named by the paper": t["test"] in named,
                         "reproduced the paper's P (notebook 01)": t["test"] in reproduced.get(key, [])})
    return pd.DataFrame(rows)


def events_per_variable(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> dict:
    """Events per variable of ``outcome ~ terms`` on its complete cases.

    The limiting number of events is the smaller of events and non-events;
    variables are the model's coefficients other than the intercept (a
    k-level factor counts k - 1).
    """
    data = df[[outcome, *terms]].dropna()
    _, names, _ = design_matrix(data, terms)
    y = data[outcome].astype(bool)
    limiting = int(min(y.sum(), (~y).sum()))
    parameters = len(names) - 1
    return {"n": len(data), "events": int(y.sum()), "non_events": int((~y).sum()),
            "limiting_events": limiting, "parameters": parameters,
            "epv": limiting / parameters if parameters else np.nan}


def separation_report(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> list[str]:
    """Sentences describing any (quasi-)complete separation in ``outcome ~ terms``; empty if none.

    Uses the linear-programming check of Konis (2007) as implemented by
    firthmodels' ``detect_separation`` (R: ``detectseparation``), and names
    the category levels in which every patient, or none, had the outcome.
    """
    from firthmodels import detect_separation

    data = df[[outcome, *terms]].dropna()
    X, names, _ = design_matrix(data, terms)
    y = data[outcome].astype(bool).to_numpy()
    messages = []
    for i, name in enumerate(names[1:], start=1):
        column = X[:, i]
        if set(np.unique(column)) <= {0.0, 1.0}:
            in_level = column == 1
            if in_level.any() and (y[in_level].all() or not y[in_level].any()):
                state = "had" if y[in_level].all() else "did not have"
                messages.append(f"all {int(in_level.sum())} patients with {name} {state} the outcome "
                                f"({outcome}): its odds ratio is not estimable by maximum likelihood")
    # Separation depends only on the distinct (covariates, outcome) rows: drop repeats first,
    # so that the linear programme stays small for large cohorts.
    distinct = pd.DataFrame(np.column_stack([X[:, 1:], y])).drop_duplicates().to_numpy()
    try:
        res = detect_separation(distinct[:, :-1], distinct[:, -1], fit_intercept=True)
    except Exception as err:  # rank-deficient design: say so instead of crashing
        messages.append(f"separation could not be checked: {err}")
        return messages
    if res.separation and not messages:
        infinite = [names[i + 1] for i, finite in enumerate(np.asarray(res.is_finite)[:len(names) - 1])
                    if not finite]
        messages.append("the data are separated: the maximum-likelihood estimates of "
                        + ", ".join(infinite or ["some coefficients"]) + " are infinite")
    return messages


def firth_table(df: pd.DataFrame, outcome: str, terms: Sequence[str],
                profile_max_n: int = 50_000) -> pd.DataFrame:
    """Firth-penalised logistic regression (Firth 1993): ORs with 95% CIs and P.

    A sensitivity analysis for small samples or few events; finite under
    separation. Uses firthmodels' ``FirthLogisticRegression``. Up to
    ``profile_max_n`` patients the CIs are profile-likelihood and the P values
    penalised likelihood-ratio tests (as R ``logistf``); beyond that, where
    the penalty is negligible and profiling costs one refit per bound, Wald
    CIs and P. The ``method`` column says which.
    """
    from firthmodels import FirthLogisticRegression

    data = df[[outcome, *terms]].dropna()
    X, names, _ = design_matrix(data, terms)
    y = data[outcome].astype(int).to_numpy()
    model = FirthLogisticRegression(max_iter=200, max_halfstep=50, gtol=1e-6, xtol=1e-7,
                                    backend="numpy").fit(X[:, 1:], y)
    beta = np.asarray(model.coef_)
    k = len(beta)
    if len(y) <= profile_max_n:
        ci = model.conf_int(method="pl")[:k]
        model.lrt()
        p = np.asarray(model.lrt_pvalues_)[:k]
        method = "Firth, profile-likelihood CI, penalised LR P"
    else:
        se = np.asarray(model.bse_)[:k]
        ci = np.column_stack([beta - Z_975 * se, beta + Z_975 * se])
        p = 2 * stats.norm.sf(np.abs(beta / se))
        method = "Firth, Wald CI and P (large sample)"
    return pd.DataFrame({"term": names[1:], "or": np.exp(beta), "ci_low": np.exp(ci[:, 0]),
                         "ci_high": np.exp(ci[:, 1]), "p": p, "method": method}).set_index("term")


def evalue(odds_ratio: float, ci_low: float | None = None, ci_high: float | None = None,
           rare: bool = False) -> dict:
    """E-value of an odds ratio and of the CI limit closest to the null (VanderWeele & Ding 2017).

    For a common outcome (``rare=False``, more than about 15%) the OR is first
    turned into an approximate risk ratio, RR = sqrt(OR). Ratios below 1 are
    inverted. E = RR + sqrt(RR (RR - 1)); the CI's E-value is 1 when the CI
    contains 1.

    Worked example of the paper: RR = 3.9 (95% CI 1.8 to 8.7) gives E = 7.26
    for the estimate and 3.0 for the lower limit.
    """
    def to_rr(x):
        return x if rare else np.sqrt(x)

    def e(rr):
        rr = 1 / rr if rr < 1 else rr
        return rr + np.sqrt(rr * (rr - 1))

    out = {"evalue_estimate": float(e(to_rr(odds_ratio)))}
    if ci_low is not None and ci_high is not None:
        if ci_low <= 1 <= ci_high:
            out["evalue_ci"] = 1.0
        else:
            limit = ci_low if odds_ratio > 1 else ci_high
            out["evalue_ci"] = float(e(to_rr(limit)))
    return out
