"""Crude against adjusted on one sample, models without a term, and standardised (marginal) effects
(part of :mod:`microcalc.analysis.effects`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from microcalc.analysis.models import _fit, design_matrix, drop_aliased
from microcalc.analysis.results import is_not_estimable, not_estimable
from microcalc.analysis.stats import model_estimates, unfittable_reason

__all__ = [
    "fit_estimable",
    "SameSample",
    "same_sample_table",
    "crude_to_adjusted",
    "SensitivityFit",
    "model_without",
    "Standardised",
    "standardised_effects",
]


def fit_estimable(X: np.ndarray, y: np.ndarray, what: str = "the model"):
    """Fit a logistic model (statsmodels ``Logit``, Newton) or say why it is not estimable.

    Raises
    ------
    ValueError
        "not estimable: ..." when the fit fails or does not converge
        (separation, a singular design) or gives non-finite coefficients.
    """
    try:
        res = _fit(X, y)
    except (np.linalg.LinAlgError, ValueError) as err:
        raise ValueError(f"not estimable: {what} could not be fitted ({err})") from err
    if not res.mle_retvals.get("converged", True) or not np.isfinite(np.asarray(res.params)).all():
        raise ValueError(f"not estimable: {what} did not converge (separation or a singular design)")
    return res


@dataclass(frozen=True)
class SameSample:
    """Univariable ORs on all patients and on the model's sample, beside the adjusted ones.

    Attributes
    ----------
    table : DataFrame, one row per coefficient (index ``term``): ``or_all``,
        ``ci_low_all``, ``ci_high_all``, ``p_all``, ``n_all`` (univariable, every
        patient with the outcome and that variable); ``or_same``, ``ci_low_same``,
        ``ci_high_same``, ``p_same`` (univariable, the model's complete cases);
        ``or_adjusted``, ``ci_low_adjusted``, ``ci_high_adjusted``, ``p_adjusted``.
    n_model, events_model : patients and events of the multivariable model.
    """

    table: pd.DataFrame
    n_model: int
    events_model: int


def _estimates(est, suffix: str) -> pd.DataFrame:
    t = est.table[["or", "ci_low", "ci_high", "p", "note"]]
    return t.rename(columns={c: f"{c}_{suffix}" for c in t.columns})


def same_sample_table(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> SameSample:
    """Univariable ORs of every term on all patients and on the multivariable model's own sample.

    A univariable OR on all patients against a multivariable OR on the
    complete cases mixes a change of patients with adjustment; refitting the
    univariable models on the complete cases separates them. ORs and Wald CIs
    as R ``glm(y ~ x, binomial, data = d[complete.cases(d[, c(y, terms)]), ])``.
    Every model is fitted by :func:`microcalc.analysis.stats.model_estimates`: an OR the
    data cannot give (separation, an absent level, a rank-deficient design)
    is NaN and its ``note_all``, ``note_same`` or ``note_adjusted`` says
    ``not estimable: <reason>``.

    Parameters
    ----------
    df : the cohort (not modified).
    outcome : yes/no outcome column.
    terms : covariates of the multivariable model.

    Returns
    -------
    SameSample
    """
    model_sample = df[[outcome, *terms]].dropna()
    adjusted = model_estimates(model_sample, outcome, terms)
    parts = []
    for term in terms:
        fit_all = model_estimates(df, outcome, [term])
        fit_same = model_estimates(model_sample, outcome, [term])
        part = _estimates(fit_all, "all").join(_estimates(fit_same, "same"))
        part["n_all"] = fit_all.n
        parts.append(part)
    table = pd.concat(parts).join(_estimates(adjusted, "adjusted"))
    for suffix in ("all", "same", "adjusted"):
        table[f"note_{suffix}"] = table[f"note_{suffix}"].fillna(
            not_estimable("the level is the reference or absent in this model's data")
        )
    table.index.name = "term"
    return SameSample(table, adjusted.n, adjusted.events)


def crude_to_adjusted(same: SameSample) -> pd.DataFrame:
    """Split the move from the crude OR (all patients) to the adjusted OR, on the log-OR scale.

    total = log OR_adjusted - log OR_all = change of sample + adjustment, with
    change of sample = log OR_same - log OR_all (the same crude model, fewer
    patients) and adjustment = log OR_adjusted - log OR_same (same patients,
    more covariates). The split is exact (an identity), not a model.

    Returns
    -------
    DataFrame indexed by term: ``log_or_all``, ``log_or_same``, ``log_or_adjusted``,
    ``change_of_sample``, ``adjustment``, ``total``, ``share_sample`` (%),
    the change of sample as a share of the total (NaN when the total is below
    0.01 on the log scale, where a share means nothing), and ``note``: empty,
    or ``not estimable: <reason>`` when one of the three ORs is not estimable
    (the split is then NaN).
    """
    t = same.table
    out = pd.DataFrame(
        {
            "log_or_all": np.log(t["or_all"]),
            "log_or_same": np.log(t["or_same"]),
            "log_or_adjusted": np.log(t["or_adjusted"]),
        },
        index=t.index,
    )
    out["change_of_sample"] = out["log_or_same"] - out["log_or_all"]
    out["adjustment"] = out["log_or_adjusted"] - out["log_or_same"]
    out["total"] = out["log_or_adjusted"] - out["log_or_all"]
    out["share_sample"] = (
        np.where(out["total"].abs() >= 0.01, 100 * out["change_of_sample"] / out["total"], np.nan) + 0.0
    )
    out["note"] = [_first_reason(t.loc[term], ("all", "same", "adjusted"), out.loc[term, "total"]) for term in t.index]
    return out


def _first_reason(row: pd.Series, suffixes, value: float) -> str:
    """The first ``note_<suffix>`` of ``row`` saying not estimable, when ``value`` is NaN; else ``""``."""
    if np.isfinite(value):
        return ""
    for suffix in suffixes:
        note = row.get(f"note_{suffix}", "")
        if is_not_estimable(note):
            return note
    return not_estimable("an odds ratio of the split is not estimable")


@dataclass(frozen=True)
class SensitivityFit:
    """A sensitivity model: what was changed, on whom, and its ORs.

    Attributes
    ----------
    label : the analysis in words.
    table : ORs with Wald 95% CIs and P, and ``note`` (``not estimable: <reason>`` where there is no
        estimate), as :func:`microcalc.analysis.stats.model_estimates`.
    n, events : patients and events used.
    """

    label: str
    table: pd.DataFrame
    n: int
    events: int


def model_without(df: pd.DataFrame, outcome: str, terms: Sequence[str], drop: str | Sequence[str]) -> SensitivityFit:
    """The multivariable model without ``drop``, on every patient whose other covariates are known.

    Patients missing only a dropped term come back into the model: a
    sensitivity analysis for a covariate with many missing values. Dropping
    possible mediators (e.g. T and N stage between the exposure and the
    outcome) gives a model closer to the total effect; keeping them
    estimates something closer to a direct effect.

    Parameters
    ----------
    df : the cohort (not modified).
    outcome, terms : the full multivariable model.
    drop : the term, or terms, to leave out (each must be one of ``terms``).
    """
    dropped = [drop] if isinstance(drop, str) else list(drop)
    unknown = [d for d in dropped if d not in terms]
    if unknown:
        raise ValueError(f"{unknown} not a term of the model; terms are {list(terms)}")
    rest = [t for t in terms if t not in dropped]
    fit = model_estimates(df, outcome, rest)
    return SensitivityFit("without " + " and ".join(dropped), fit.table.drop(columns="kind"), fit.n, fit.events)


@dataclass(frozen=True)
class Standardised:
    """Marginal (standardised) risks under exposure and non-exposure, their difference and ratio.

    Attributes
    ----------
    table : DataFrame indexed by quantity (``risk_exposed``, ``risk_unexposed``,
        ``risk_difference``, ``risk_ratio``, ``odds_ratio``): ``estimate``,
        ``ci_low``, ``ci_high``; risks and the difference as proportions.
    n, events : patients and events of the model's sample.
    method : how it was computed, in words; ``not estimable: <reason>`` (and every number NaN)
        when the model cannot be fitted or the exposure's OR is not estimable.
    """

    table: pd.DataFrame
    n: int
    events: int
    method: str


def standardised_effects(
    df: pd.DataFrame, outcome: str, terms: Sequence[str], exposure: str, level: float = 0.95
) -> Standardised:
    """Adjusted risk difference and risk ratio of ``exposure`` by marginal standardisation.

    g-computation over the model's sample (Robins 1986; Muller & MacLehose,
    Int J Epidemiol 2014;43:962-70): fit the logistic model, predict every
    patient's risk with the exposure set to yes (r1) and to no (r0), average.
    RD = r1 - r0, RR = r1 / r0. CIs by the delta method with the model-based
    covariance V of the coefficients: the gradient of r_x is
    mean(p (1 - p) X_x), so var(RD) = g' V g with g = grad r1 - grad r0 and
    var(log RR) uses g = grad r1 / r1 - grad r0 / r0 (CI for RR on the log
    scale). The covariate distribution is taken as fixed (as Stata ``margins``
    and R ``marginaleffects::avg_comparisons`` by default). Matches R
    ``glm`` + ``predict(type = "response")`` + that gradient (see the tests).

    Parameters
    ----------
    df : the cohort (not modified).
    outcome : yes/no outcome.
    terms : covariates, including ``exposure``.
    exposure : a yes/no term (one 0/1 column of the design).
    level : CI coverage.

    Returns
    -------
    Standardised
    """
    if exposure not in terms:
        raise ValueError(f"exposure '{exposure}' is not a term of the model; terms are {list(terms)}")
    data = df[[outcome, *terms]].dropna()
    X, names, columns_of = design_matrix(data, terms)
    idx = columns_of[exposure]
    if len(idx) != 1 or not set(np.unique(X[:, idx[0]])) <= {0.0, 1.0}:
        raise ValueError(f"exposure '{exposure}' must be a yes/no variable (one 0/1 column)")
    y = data[outcome].astype(float).to_numpy()
    estimates = model_estimates(data, outcome, terms)
    reason = unfittable_reason(estimates)
    note = not_estimable(reason) if reason else estimates.table.loc[names[idx[0]], "note"]
    if is_not_estimable(note):
        table = pd.DataFrame(
            np.nan,
            index=pd.Index(
                ["risk_exposed", "risk_unexposed", "risk_difference", "risk_ratio", "odds_ratio"], name="quantity"
            ),
            columns=["estimate", "ci_low", "ci_high"],
        )
        return Standardised(table, len(y), int(y.sum()), note)
    X, keep = drop_aliased(X)  # other aliased columns are left out, as R's glm does
    j = keep.index(idx[0])
    res = fit_estimable(X, y)
    b = np.asarray(res.params)
    V = np.asarray(res.cov_params())
    X1, X0 = X.copy(), X.copy()
    X1[:, j], X0[:, j] = 1.0, 0.0
    p1, p0 = special.expit(X1 @ b), special.expit(X0 @ b)
    r1, r0 = float(p1.mean()), float(p0.mean())
    g1 = (p1 * (1 - p1)) @ X1 / len(y)
    g0 = (p0 * (1 - p0)) @ X0 / len(y)
    z = float(stats.norm.ppf(0.5 + level / 2))

    def interval(est, grad):
        se = float(np.sqrt(grad @ V @ grad))
        return est, est - z * se, est + z * se

    rows = {
        "risk_exposed": interval(r1, g1),
        "risk_unexposed": interval(r0, g0),
        "risk_difference": interval(r1 - r0, g1 - g0),
    }
    log_rr, lo, hi = interval(np.log(r1 / r0), g1 / r1 - g0 / r0)
    rows["risk_ratio"] = (float(np.exp(log_rr)), float(np.exp(lo)), float(np.exp(hi)))
    se_b = float(np.sqrt(V[j, j]))
    rows["odds_ratio"] = (float(np.exp(b[j])), float(np.exp(b[j] - z * se_b)), float(np.exp(b[j] + z * se_b)))
    table = pd.DataFrame(rows, index=["estimate", "ci_low", "ci_high"]).T
    table.index.name = "quantity"
    method = (
        "marginal standardisation (g-computation) over the model sample; delta-method "
        f"{100 * level:g}% CI (model-based covariance, covariates fixed); RR CI on the log scale"
    )
    return Standardised(table, len(y), int(y.sum()), method)
