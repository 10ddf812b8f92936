"""Model estimates that never fail silently: odds ratios with the reason a term is not estimable, and
Firth's penalised logistic regression (part of :mod:`microcalc.analysis.stats`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.abstract.pvalues import Z_975
from microcalc.analysis.models import _lr_p_values, absent_levels, aliased_columns, design_matrix, fit_logistic
from microcalc.analysis.results import not_estimable

__all__ = ["separation_report", "ModelEstimates", "model_estimates", "unfittable_reason", "firth_table"]


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
                messages.append(
                    f"all {int(in_level.sum())} patients with {name} {state} the outcome "
                    f"({outcome}): its odds ratio is not estimable by maximum likelihood"
                )
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
        infinite = [names[i + 1] for i, finite in enumerate(np.asarray(res.is_finite)[: len(names) - 1]) if not finite]
        messages.append(
            "the data are separated: the maximum-likelihood estimates of "
            + ", ".join(infinite or ["some coefficients"])
            + " are infinite"
        )
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
        return (
            f"no patient in the model has {_coefficient_label(names[j])}"
            if binary
            else f"{names[j]} is 0 for every patient in the model"
        )
    if of == [0]:
        return (
            f"every patient in the model has {_coefficient_label(names[j])}"
            if binary
            else f"{names[j]} is the same for every patient in the model"
        )
    return f"{names[j]} is a linear combination of {', '.join(names[k] for k in of)} in the model's data"


def model_estimates(
    df: pd.DataFrame, outcome: str, terms: Sequence[str], cluster: str | None = None, with_global_p: bool = False
) -> ModelEstimates:
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

    Otherwise ORs with Wald CIs from :func:`microcalc.analysis.models.fit_logistic`
    (cluster-robust with ``cluster``), and with ``with_global_p`` the
    likelihood-ratio P of every term.
    """
    data = df[[outcome, *terms] + ([cluster] if cluster else [])].dropna()
    X, names, columns_of = design_matrix(data, terms)
    y = data[outcome].astype(bool)
    reference, problems = {}, []
    rows: dict[str, None] = {}  # the table's rows, in order (built at once: a row at a time cost 0.4 s a notebook)
    for term in terms:
        s = data[term]
        if isinstance(s.dtype, pd.CategoricalDtype):
            present = [str(c) for c in s.cat.categories if (s == c).any()]
            reference[term] = present[0] if present else str(s.cat.categories[0])
            rows.update({f"{term}[{level}]": None for level in map(str, s.cat.categories) if level != reference[term]})
        elif not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
            rows[term] = None
    rows.update({name: None for name in names[1:] if name not in rows})  # a text factor's levels
    index = pd.Index(list(rows)) if rows else pd.RangeIndex(0)
    table = pd.DataFrame(
        {c: pd.Series(np.nan, index=index, dtype=object) for c in ("or", "ci_low", "ci_high", "p")}
        | {c: pd.Series("", index=index) for c in ("note", "kind")}
    )
    for term, levels in absent_levels(data, terms).items():
        for level in levels:
            if level != reference[term]:
                table.loc[f"{term}[{level}]", ["note", "kind"]] = [
                    not_estimable(f"no patient in the model's data has {term} = {level} (level dropped)"),
                    "level absent",
                ]
        problems.append(
            f"{term}: no patient in the model's data has {' or '.join(levels)}, so "
            f"{'that level is' if len(levels) == 1 else 'those levels are'} dropped"
            + (f" and {reference[term]} is the reference" if levels[0] == str(data[term].cat.categories[0]) else "")
        )
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
        reason = (
            f"cluster-robust standard errors need at least 2 clusters ({cluster}); "
            f"the data have {data[cluster].nunique()}"
        )
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
        table.loc[kept, ["note", "kind"]] = [
            not_estimable(
                "separation, the maximum-likelihood estimates do not exist (" + "; ".join(short[:2]) + more + ")"
            ),
            "separation",
        ]
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


def firth_table(df: pd.DataFrame, outcome: str, terms: Sequence[str], profile_max_n: int = 50_000) -> pd.DataFrame:
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
        [np.exp(beta), np.exp(ci[:, 0]), np.exp(ci[:, 1]), p]
    )
    table.loc[names[1:], "method"] = method
    incomplete = [n for n in names[1:] if table.loc[n, ["ci_low", "ci_high", "p"]].isna().any()]
    table.loc[incomplete, "method"] = method + " (profile or LR test did not converge: NaN left as such)"
    return table.rename_axis("term")


def _firth_fit(FirthLogisticRegression, X, y, profile_max_n):
    """Fit Firth's model; return it with coefficients, CI (log scale), P and the method in words."""
    model = FirthLogisticRegression(max_iter=200, max_halfstep=50, gtol=1e-6, xtol=1e-7, backend="numpy").fit(
        X[:, 1:], y
    )
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
