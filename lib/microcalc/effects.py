"""What an adjusted odds ratio means: same-sample comparisons, the risk scale, and the E-value in words.

* :func:`same_sample_table` and :func:`crude_to_adjusted`: the univariable OR
  of each term on the multivariable model's own complete cases, beside the
  one on all available patients, and the move from crude to adjusted split
  into *change of sample* and *adjustment* on the log-OR scale.
* :func:`model_without`: the multivariable model without one term, on every
  patient whose other covariates are known (a sensitivity model).
* :func:`standardised_effects`: the adjusted risk difference and risk ratio by
  marginal standardisation (g-computation), delta-method CIs.
* :func:`evalue_sentence`: the E-value of the estimate and of its CI limit,
  said without overclaiming.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .models import _fit, design_matrix, drop_aliased
from .pvalues import Z_975
from .results import is_not_estimable, not_estimable
from .stats import evalue, model_estimates, unfittable_reason

__all__ = ["fit_estimable", "SameSample", "same_sample_table", "crude_to_adjusted", "SensitivityFit", "model_without",
           "Standardised", "standardised_effects", "EValueSentence", "evalue_sentence", "same_sample_display",
           "decomposition_sentence", "standardised_sentence", "mediator_sentence"]


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
    Every model is fitted by :func:`microcalc.stats.model_estimates`: an OR the
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
            not_estimable("the level is the reference or absent in this model's data"))
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
    out = pd.DataFrame({"log_or_all": np.log(t["or_all"]), "log_or_same": np.log(t["or_same"]),
                        "log_or_adjusted": np.log(t["or_adjusted"])}, index=t.index)
    out["change_of_sample"] = out["log_or_same"] - out["log_or_all"]
    out["adjustment"] = out["log_or_adjusted"] - out["log_or_same"]
    out["total"] = out["log_or_adjusted"] - out["log_or_all"]
    out["share_sample"] = np.where(out["total"].abs() >= 0.01, 100 * out["change_of_sample"] / out["total"], np.nan) + 0.0
    out["note"] = [_first_reason(t.loc[term], ("all", "same", "adjusted"), out.loc[term, "total"])
                   for term in t.index]
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
        estimate), as :func:`microcalc.stats.model_estimates`.
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


def standardised_effects(df: pd.DataFrame, outcome: str, terms: Sequence[str], exposure: str,
                         level: float = 0.95) -> Standardised:
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
        table = pd.DataFrame(np.nan, index=pd.Index(["risk_exposed", "risk_unexposed", "risk_difference",
                                                     "risk_ratio", "odds_ratio"], name="quantity"),
                             columns=["estimate", "ci_low", "ci_high"])
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
    method = ("marginal standardisation (g-computation) over the model sample; delta-method "
              f"{100 * level:g}% CI (model-based covariance, covariates fixed); RR CI on the log scale")
    return Standardised(table, len(y), int(y.sum()), method)


@dataclass(frozen=True)
class EValueSentence:
    """E-values of an estimate and of its CI limit, with a sentence that does not overclaim.

    Attributes
    ----------
    estimate : E-value of the point estimate.
    ci_limit : E-value of the CI limit closest to 1 (1 when the CI includes 1).
    robust : whether the CI limit's E-value is at least the ``weak`` threshold.
    sentence : the finding in words.
    """

    estimate: float
    ci_limit: float
    robust: bool
    sentence: str


def evalue_sentence(odds_ratio: float, ci_low: float, ci_high: float, rare: bool, exposure: str,
                    outcome: str, weak: float = 1.5, reason: str | None = None) -> EValueSentence:
    """The E-value sentence: both the estimate's and the CI limit's, and what they allow one to say.

    E-values as :func:`microcalc.stats.evalue` (VanderWeele & Ding, Ann Intern
    Med 2017;167:268-74; for a common outcome the OR is first turned into a
    risk ratio by its square root). When the CI includes 1 or the CI limit's
    E-value is below ``weak`` (1.5: a confounder that modest is commonplace),
    the sentence says that weak unmeasured confounding could move the CI to
    include 1, and never that "a weaker confounder could not" explain the
    association.

    Parameters
    ----------
    odds_ratio, ci_low, ci_high : the adjusted OR and its CI.
    rare : whether the outcome is rare (below about 15%), so that OR ~ RR.
    exposure, outcome : names for the sentence.
    weak : CI-limit E-value below which the result is called not robust.
    reason : why the OR is not estimable (``not estimable: <reason>``), said when the OR or a limit is
        NaN or infinite; the E-values are then NaN.

    Raises
    ------
    ValueError
        For a finite OR or limit that is not positive, or an OR outside its CI.
    """
    values = [odds_ratio, ci_low, ci_high]
    if not all(np.isfinite(v) for v in values):
        why = reason or not_estimable(f"the OR of {exposure} is not estimable")
        return EValueSentence(np.nan, np.nan, False, f"E-value of {exposure} for {outcome}: {why}.")
    if not all(v > 0 for v in values) or not ci_low <= odds_ratio <= ci_high:
        raise ValueError(f"need a positive finite OR inside its CI, got {values}")
    ev = evalue(odds_ratio, ci_low, ci_high, rare=rare)
    e_est, e_ci = ev["evalue_estimate"], ev["evalue_ci"]
    conversion = "" if rare else " (the outcome is common, so the OR was turned into a risk ratio by its square root)"
    head = (f"E-value {e_est:.2f} for the estimate: an unmeasured confounder associated with both {exposure} and "
            f"{outcome} by a risk ratio of {e_est:.2f} each, beyond the measured covariates, could explain the "
            f"estimate away; E-value {e_ci:.2f} for the CI limit closest to 1{conversion}. ")
    includes_null = ci_low <= 1 <= ci_high
    robust = (not includes_null) and e_ci >= weak
    if includes_null:
        tail = "The CI already includes 1, so no unmeasured confounding is needed to make the association compatible with none."
    elif not robust:
        tail = (f"A confounder associated with both by a risk ratio of only {e_ci:.2f}, a modest strength, could "
                "move the CI to include 1: the association is not robust to weak unmeasured confounding.")
    else:
        tail = (f"Confounding weaker than a risk ratio of {e_ci:.2f} with both could not, on its own, move the CI "
                "to include 1; confounding of that strength could.")
    return EValueSentence(e_est, e_ci, robust, head + tail)


def same_sample_display(same: SameSample, labels: dict | None = None) -> pd.DataFrame:
    """The same-sample table for reading: univariable OR on all patients, on the model sample, and adjusted.

    Parameters
    ----------
    same : output of :func:`same_sample_table`.
    labels : optional readable names of the coefficients (``term`` -> label).

    Returns
    -------
    DataFrame with ``term``, ``OR univariable, all patients (95% CI)``, ``n``,
    ``OR univariable, model sample (95% CI)``, ``OR multivariable (95% CI)``
    (model sample of ``same.n_model`` patients), P values formatted as in
    clinical tables (:func:`microcalc.tables.fmt_p`).
    """
    from .tables import fmt_or, fmt_p

    labels = labels or {}
    t = same.table
    return pd.DataFrame({
        "term": [labels.get(k, k) for k in t.index],
        "OR univariable, all patients (95% CI)": [fmt_or(r.or_all, r.ci_low_all, r.ci_high_all) for r in t.itertuples()],
        "P, all patients": [fmt_p(p) for p in t["p_all"]],
        "n": t["n_all"].astype(int).to_numpy(),
        f"OR univariable, model sample of {same.n_model} (95% CI)": [
            fmt_or(r.or_same, r.ci_low_same, r.ci_high_same) for r in t.itertuples()],
        "P, model sample": [fmt_p(p) for p in t["p_same"]],
        "OR multivariable (95% CI)": [fmt_or(r.or_adjusted, r.ci_low_adjusted, r.ci_high_adjusted)
                                      for r in t.itertuples()],
        "P multivariable": [fmt_p(p) for p in t["p_adjusted"]],
    })


def decomposition_sentence(split: pd.DataFrame, term: str, label: str | None = None) -> str:
    """The crude-to-adjusted move of one term in words, from :func:`crude_to_adjusted`.

    Says the three ORs and how much of the total log-OR move is change of
    sample and how much adjustment: a share only when both parts move the
    same way; a part below 0.005 on the log scale is called negligible, and
    so is a total below 0.01.
    """
    r = split.loc[term]
    name = label or term
    if is_not_estimable(r.get("note", "")):
        return f"{name}: the split of the crude-to-adjusted move into change of sample and adjustment: {r['note']}."
    o_all, o_same, o_adj = np.exp([r["log_or_all"], r["log_or_same"], r["log_or_adjusted"]])
    text = (f"{name}: crude OR {o_all:.2f} on all patients, {o_same:.2f} on the model's own patients, "
            f"{o_adj:.2f} adjusted. On the log-OR scale the change of sample moves it by "
            f"{r['change_of_sample']:+.2f} and adjustment by {r['adjustment']:+.2f} (total {r['total']:+.2f})")
    small = 0.005
    if abs(r["total"]) < 0.01:
        text += "; the total move is negligible."
    elif abs(r["change_of_sample"]) < small:
        text += ": the move is adjustment; the change of sample alone barely moves it."
    elif abs(r["adjustment"]) < small:
        text += ": the move is the change of sample; adjustment barely moves it."
    elif np.sign(r["change_of_sample"]) == np.sign(r["adjustment"]):
        text += f": {r['share_sample']:.0f}% of the move comes from the change of sample."
    else:
        text += ("; the two pull in opposite directions, so the crude-to-adjusted difference understates "
                 "both the effect of the change of sample and that of adjustment.")
    return text


def standardised_sentence(std: Standardised, exposure: str, outcome: str, measure: str | None = None,
                          difference_name: str = "risk difference", ratio_name: str = "risk ratio",
                          likely: bool = True) -> str:
    """The standardised effects of :func:`standardised_effects` in words, beside the OR they correct.

    Parameters
    ----------
    std : output of :func:`standardised_effects`.
    exposure, outcome : names for the sentence.
    measure : what is standardised, e.g. "risk of non-pCR" (default) or "proportion with recorded bone
        metastasis" when the outcome is a recorded state rather than a risk over known follow-up.
    difference_name, ratio_name : names of the difference and the ratio.
    likely : add the "times as likely" reading (risk terms only; set False when the outcome is not a risk).

    Returns
    -------
    str
        ``not estimable: <reason>`` when ``std`` is; else
        standardised percentages under exposure and non-exposure, the adjusted
        difference (percentage points) and ratio with their delta-method CIs,
        the share of the model's sample with the outcome, and whether the OR
        lies further from 1 than the ratio (it does for a common outcome).
    """
    t = std.table
    if is_not_estimable(std.method):
        return (f"The standardised {measure or f'risk of {outcome}'} with and without {exposure}, their "
                f"{difference_name} and {ratio_name}: {std.method}.")
    r1, r0 = 100 * t.loc["risk_exposed", "estimate"], 100 * t.loc["risk_unexposed", "estimate"]
    rd, rr, oddsr = t.loc["risk_difference"] * 100, t.loc["risk_ratio"], t.loc["odds_ratio", "estimate"]
    measure = measure or f"risk of {outcome}"
    share = 100 * std.events / std.n
    text = (f"Standardised over the model's {std.n} patients (g-computation), the {measure} would be {r1:.1f}% if "
            f"every patient had {exposure} and {r0:.1f}% if none had: an adjusted {difference_name} of "
            f"{rd['estimate']:.1f} percentage points (95% CI {rd['ci_low']:.1f} to {rd['ci_high']:.1f}) and an "
            f"adjusted {ratio_name} of {rr['estimate']:.2f} ({rr['ci_low']:.2f} to {rr['ci_high']:.2f}); CIs by the "
            "delta method. ")
    if likely:
        text += (f"In risk terms, {outcome} is {rr['estimate']:.2f} times as likely with {exposure} as without, "
                 f"{rd['estimate']:.1f} percentage points more likely. ")
    further = abs(np.log(oddsr)) > abs(np.log(rr["estimate"]))
    text += (f"{share:.0f}% of these patients have {outcome}, so the adjusted OR ({oddsr:.2f}) lies {'further from' if further else 'no further from'} 1 than the {ratio_name}"
             + (": the OR is not a ratio of risks and exaggerates the association." if further and share >= 15 else "."))
    return text


def mediator_sentence(adjusted: pd.Series, without: SensitivityFit, exposure: str, mediators: str) -> str:
    """The exposure's OR with and without possible mediators, and what each estimates.

    Parameters
    ----------
    adjusted : the exposure's row of the full model's table (``or``, ``ci_low``, ``ci_high``, and
        ``note`` said when the OR is not estimable; so is ``without``'s).
    without : :func:`model_without` dropping the possible mediators.
    exposure : the exposure's name (a term of ``without.table``).
    mediators : the dropped terms in words, e.g. "T and N stage".
    """
    from .tables import or_text

    w = without.table.loc[exposure]
    if np.isfinite(w["or"]) and np.isfinite(adjusted["or"]):
        head = (f"Without {mediators} ({without.n} patients, {without.events} events), the OR of {exposure} is "
                f"{or_text(w, dash='-')}, against {or_text(adjusted, dash='-')} with them. ")
    else:
        head = (f"The OR of {exposure} without {mediators} ({without.n} patients, {without.events} events): "
                f"{or_text(w, dash='-')}; with them: {or_text(adjusted, dash='-')}. ")
    return (head + f"{mediators[0].upper() + mediators[1:]} "
            f"may lie on the causal path from {exposure} to the outcome: adjusting for them estimates something "
            "closer to a direct effect (the association not passing through them), and the model without them is "
            "closer to the total effect. Neither is a causal estimate without further assumptions.")
