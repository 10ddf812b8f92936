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
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .models import _lr_p_values, absent_levels, aliased_columns, design_matrix, fit_logistic
from .pvalues import TESTS, Z_975, fisher_enumerates
from .results import not_estimable

__all__ = ["wilson_ci", "group_rates", "compare_groups", "crosstab", "category_comparison", "TEST_METHODS", "events_per_variable",
           "separation_report", "ModelEstimates", "model_estimates", "unfittable_reason", "firth_table", "evalue",
           "MIN_GROUP_SIZE", "SUPPRESSED", "suppress_small_groups"]

#: Continuous summaries (median, quartiles, mean, SD, min, max) of fewer patients than this are suppressed.
MIN_GROUP_SIZE = 10

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
    return np.where(k == 0, np.where(n > 0, 0.0, np.nan), centre - half), \
        np.where((k == n) & (n > 0), 1.0, centre + half)


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
        rows.append({"test": test, "method": method + dropped if np.isfinite(p) else
                     not_estimable(f"the test is undefined on this table ({method})"), "p": p})
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
    the paper``, ``reproduced the paper's P (notebook 01)``, ``method`` (as
    :func:`compare_groups`: ``not estimable: <reason>`` where P is NaN).
    """
    collapsed = pd.DataFrame({reported: counts[reported], "other": counts.drop(columns=reported).sum(axis=1)})
    rows = []
    for basis, tab in ((f"2x{counts.shape[1]}", counts), (f"2x2 {reported} vs other", collapsed)):
        key = next((k for k in reproduced if k.startswith(basis[:3])), None)
        for _, t in compare_groups(tab.to_numpy()).iterrows():
            rows.append({"comparison": basis, "test": t["test"], "p": t["p"],
                         "named by the paper": t["test"] in named,
                         "reproduced the paper's P (notebook 01)": t["test"] in reproduced.get(key, []),
                         "method": t["method"]})
    return pd.DataFrame(rows)


def events_per_variable(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> dict:
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
    if not len(y) or y.all() or not y.any():
        return []  # nothing to separate: the outcome does not vary
    aliased = aliased_columns(X)
    if aliased:  # a rank-deficient design is reported as such (model_estimates); check the rest
        keep = [j for j in range(X.shape[1]) if j not in aliased]
        X, names = X[:, keep], [names[j] for j in keep]
    messages = []
    for i, name in enumerate(names[1:], start=1):
        column = X[:, i]
        if set(np.unique(column)) <= {0.0, 1.0}:
            in_level = column == 1
            if in_level.any() and (y[in_level].all() or not y[in_level].any()):
                state = "had" if y[in_level].all() else "did not have"
                messages.append(f"all {int(in_level.sum())} patients with {name} {state} the outcome "
                                f"({outcome}): its odds ratio is not estimable by maximum likelihood")
    if X.shape[1] == 1:
        return messages
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


@dataclass
class ModelEstimates:
    """A maximum-likelihood logistic model, every coefficient estimated or said not estimable.

    Attributes
    ----------
    table : DataFrame
        One row per coefficient of the full design (``term[level]`` for
        every non-reference category level of the contract, absent levels
        included): ``or``, ``ci_low``, ``ci_high`` (Wald), ``p``, ``note``
        (empty, or ``not estimable: <reason>``) and ``kind`` (empty,
        ``level absent``, ``rank-deficient``, ``separation`` or
        ``no variation``).
    reference : categorical term -> its reference level (the first one present)
    problems : sentences on what was dropped or could not be estimated
    separation : the separation sentences alone (:func:`separation_report`)
    global_p : likelihood-ratio P of each term (when asked for; NaN where not estimable)
    n, events : complete cases and events
    """

    table: pd.DataFrame
    reference: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    separation: list[str] = field(default_factory=list)
    global_p: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    n: int = 0
    events: int = 0


def _coefficient_label(name: str) -> str:
    """``"t_stage[T4]"`` -> ``"t_stage = T4"``, ``"mass"`` -> ``"mass = yes"``."""
    return name[:-1].replace("[", " = ", 1) if name.endswith("]") else f"{name} = yes"


def _alias_reason(X: np.ndarray, j: int, of: list[int], names: list[str]) -> str:
    """Why column ``j`` is aliased, in words."""
    column = X[:, j]
    binary = set(np.unique(column)) <= {0.0, 1.0}
    if not of:
        return (f"no patient in the model has {_coefficient_label(names[j])}" if binary
                else f"{names[j]} is 0 for every patient in the model")
    if of == [0]:
        return (f"every patient in the model has {_coefficient_label(names[j])}" if binary
                else f"{names[j]} is the same for every patient in the model")
    return f"{names[j]} is a linear combination of {', '.join(names[k] for k in of)} in the model's data"


def model_estimates(df: pd.DataFrame, outcome: str, terms: Sequence[str], cluster: str | None = None,
                    with_global_p: bool = False) -> ModelEstimates:
    """Fit ``outcome ~ terms`` by maximum likelihood where the data allow it, and say why not elsewhere.

    On the complete cases of the model's columns, in this order:

    1. a category level no patient has is dropped (the next level present
       becomes the reference if it was the reference);
    2. no complete case, or an outcome (or, with ``cluster``, a cluster) that
       does not vary: nothing is estimable;
    3. a column that is a linear combination of earlier ones (rank-deficient
       design, e.g. a covariate that does not vary or two identical
       covariates) is not estimable, the rest is fitted (as R's ``glm``);
    4. separation (:func:`separation_report`): the maximum-likelihood model
       does not exist and none of its ORs is estimable (Firth's model,
       :func:`firth_table`, is).

    Otherwise ORs with Wald CIs from :func:`microcalc.models.fit_logistic`
    (cluster-robust with ``cluster``), and with ``with_global_p`` the
    likelihood-ratio P of every term.
    """
    data = df[[outcome, *terms] + ([cluster] if cluster else [])].dropna()
    X, names, columns_of = design_matrix(data, terms)
    y = data[outcome].astype(bool)
    table = pd.DataFrame(columns=["or", "ci_low", "ci_high", "p", "note", "kind"], dtype=object)
    reference, problems = {}, []
    for term in terms:
        s = data[term]
        if isinstance(s.dtype, pd.CategoricalDtype):
            present = [str(c) for c in s.cat.categories if (s == c).any()]
            reference[term] = present[0] if present else str(s.cat.categories[0])
            for level in (str(c) for c in s.cat.categories):
                if level != reference[term]:
                    table.loc[f"{term}[{level}]"] = [np.nan] * 4 + ["", ""]
        elif not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
            table.loc[term] = [np.nan] * 4 + ["", ""]
    for name in names[1:]:
        if name not in table.index:  # a text factor's levels
            table.loc[name] = [np.nan] * 4 + ["", ""]
    for term, levels in absent_levels(data, terms).items():
        for level in levels:
            if level != reference[term]:
                table.loc[f"{term}[{level}]", ["note", "kind"]] = [not_estimable(
                    f"no patient in the model's data has {term} = {level} (level dropped)"), "level absent"]
        problems.append(f"{term}: no patient in the model's data has {' or '.join(levels)}, so "
                        f"{'that level is' if len(levels) == 1 else 'those levels are'} dropped"
                        + (f" and {reference[term]} is the reference" if levels[0] == str(data[term].cat.categories[0])
                           else ""))
    out = ModelEstimates(table, reference, problems, n=len(data), events=int(y.sum()))
    if with_global_p:  # NaN unless the model can be fitted
        out.global_p = pd.Series(np.nan, index=list(terms), name="global_p")
    estimable = names[1:]
    reason = ""
    if not len(data):
        reason = "no patient has every variable of the model"
    elif y.all() or not y.any():
        reason = f"{'every' if y.all() else 'no'} patient in the model's data had the outcome ({outcome})"
    elif cluster and data[cluster].nunique() < 2:
        reason = (f"cluster-robust standard errors need at least 2 clusters ({cluster}); "
                  f"the data have {data[cluster].nunique()}")
    if reason:
        table.loc[estimable, ["note", "kind"]] = [not_estimable(reason), "no variation"]
        problems.append(reason)
        return _as_numbers(out)
    aliased = aliased_columns(X)
    for j, of in aliased.items():
        why = _alias_reason(X, j, of, names)
        table.loc[names[j], ["note", "kind"]] = [not_estimable(f"rank-deficient design: {why}"), "rank-deficient"]
        problems.append(f"rank-deficient design: {why}, so its OR is not estimable")
    kept = [names[j] for j in range(1, X.shape[1]) if j not in aliased]
    out.separation = separation_report(data, outcome, terms)
    if out.separation:
        short = [m.split(": its odds ratio")[0] for m in out.separation]
        more = f"; and {len(short) - 2} more" if len(short) > 2 else ""
        table.loc[kept, ["note", "kind"]] = [not_estimable(
            "separation, the maximum-likelihood estimates do not exist (" + "; ".join(short[:2]) + more
            + ")"), "separation"]
        return _as_numbers(out)
    logit = fit_logistic(data, outcome, list(terms), cluster=cluster)
    fit = logit.table()
    table.loc[kept, ["or", "ci_low", "ci_high", "p"]] = fit.loc[kept, ["or", "ci_low", "ci_high", "p"]].to_numpy()
    if with_global_p:  # the likelihood-ratio tests reuse the full model's fit (same design and patients)
        full_llf = None if cluster or not np.isfinite(logit.llf) else logit.llf
        out.global_p = _lr_p_values(X, y.astype(float).to_numpy(), columns_of, aliased, full_llf)
    return _as_numbers(out)


def unfittable_reason(estimates: ModelEstimates) -> str:
    """Why the maximum-likelihood model of :func:`model_estimates` cannot be fitted at all, or ``""``.

    ``""`` when it can (possibly with absent levels or aliased columns left
    out, as R's ``glm``); else the reason without its ``not estimable:``
    prefix: no complete case, an outcome (or cluster) that does not vary, or
    separation. An analysis built on the whole fitted model (risks, model
    checks, cluster-robust SEs) is then itself not estimable for that reason.
    """
    kinds = estimates.table["kind"]
    for kind in ("no variation", "separation"):
        if (kinds == kind).any():
            note = estimates.table.loc[kinds == kind, "note"].iloc[0]
            return note.split(": ", 1)[1]
    return ""


def _as_numbers(out: ModelEstimates) -> ModelEstimates:
    for col in ("or", "ci_low", "ci_high", "p"):
        out.table[col] = out.table[col].astype(float)
    return out


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

    estimates = model_estimates(df, outcome, terms)  # the same coefficients, and what is not estimable
    table = estimates.table[["or", "ci_low", "ci_high", "p"]].assign(method="")
    blocked = estimates.table["kind"].isin(["level absent", "rank-deficient", "no variation"])
    table.loc[blocked, "method"] = estimates.table.loc[blocked, "note"]
    data = df[[outcome, *terms]].dropna()
    X, names, _ = design_matrix(data, terms)
    keep = [j for j in range(X.shape[1]) if names[j] not in table.index[blocked]]
    X, names = X[:, keep], [names[j] for j in keep]
    y = data[outcome].astype(int).to_numpy()
    if len(names) < 2 or (estimates.table["kind"] == "no variation").any():
        return table.rename_axis("term")
    try:
        with warnings.catch_warnings():  # convergence is checked below, not printed with the library's path
            warnings.simplefilter("ignore")
            model, beta, ci, p, method = _firth_fit(FirthLogisticRegression, X, y, profile_max_n)
    except Exception as err:  # the penalised fit failed: say so rather than crash
        table.loc[names[1:], "method"] = not_estimable(f"the Firth-penalised fit failed ({type(err).__name__})")
        return table.rename_axis("term")
    table.loc[names[1:], ["or", "ci_low", "ci_high", "p"]] = np.column_stack(
        [np.exp(beta), np.exp(ci[:, 0]), np.exp(ci[:, 1]), p])
    table.loc[names[1:], "method"] = method
    incomplete = [n for n in names[1:] if table.loc[n, ["ci_low", "ci_high", "p"]].isna().any()]
    table.loc[incomplete, "method"] = method + " (profile or LR test did not converge: NaN left as such)"
    return table.rename_axis("term")


def _firth_fit(FirthLogisticRegression, X, y, profile_max_n):
    """Fit Firth's model; return it with coefficients, CI (log scale), P and the method in words."""
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
    return model, beta, ci, p, method


def evalue(odds_ratio: float, ci_low: float | None = None, ci_high: float | None = None,
           rare: bool = False) -> dict:
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
        return {"evalue_estimate": np.nan, "evalue_ci": np.nan}
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
