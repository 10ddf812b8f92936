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

The same-sample, without-a-term and standardised fits sit in
:mod:`microcalc.analysis.adjustment`; this module re-exports them and says
what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microcalc.analysis.adjustment import (
    SameSample,
    SensitivityFit,
    Standardised,
    crude_to_adjusted,
    fit_estimable,
    model_without,
    same_sample_table,
    standardised_effects,
)
from microcalc.analysis.results import is_not_estimable, not_estimable
from microcalc.analysis.stats import evalue

__all__ = [
    "fit_estimable",
    "SameSample",
    "same_sample_table",
    "crude_to_adjusted",
    "SensitivityFit",
    "model_without",
    "Standardised",
    "standardised_effects",
    "EValueSentence",
    "evalue_sentence",
    "same_sample_display",
    "decomposition_sentence",
    "standardised_sentence",
    "mediator_sentence",
]


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


def evalue_sentence(
    odds_ratio: float,
    ci_low: float,
    ci_high: float,
    rare: bool,
    exposure: str,
    outcome: str,
    weak: float = 1.5,
    reason: str | None = None,
) -> EValueSentence:
    """The E-value sentence: both the estimate's and the CI limit's, and what they allow one to say.

    E-values as :func:`microcalc.analysis.stats.evalue` (VanderWeele & Ding, Ann Intern
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
    e_est, e_ci = ev.evalue_estimate, ev.evalue_ci
    assert e_ci is not None, "evalue gives the CI's E-value when a CI is given"
    conversion = "" if rare else " (the outcome is common, so the OR was turned into a risk ratio by its square root)"
    head = (
        f"E-value {e_est:.2f} for the estimate: an unmeasured confounder associated with both {exposure} and "
        f"{outcome} by a risk ratio of {e_est:.2f} each, beyond the measured covariates, could explain the "
        f"estimate away; E-value {e_ci:.2f} for the CI limit closest to 1{conversion}. "
    )
    includes_null = ci_low <= 1 <= ci_high
    robust = (not includes_null) and e_ci >= weak
    if includes_null:
        tail = (
            "The CI already includes 1, so no unmeasured confounding is needed to make the association "
            "compatible with none."
        )
    elif not robust:
        tail = (
            f"A confounder associated with both by a risk ratio of only {e_ci:.2f}, a modest strength, could "
            "move the CI to include 1: the association is not robust to weak unmeasured confounding."
        )
    else:
        tail = (
            f"Confounding weaker than a risk ratio of {e_ci:.2f} with both could not, on its own, move the CI "
            "to include 1; confounding of that strength could."
        )
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
    clinical tables (:func:`microcalc.analysis.tables.fmt_p`).
    """
    from microcalc.analysis.tables import fmt_or, fmt_p

    labels = labels or {}
    t = same.table
    return pd.DataFrame(
        {
            "term": [labels.get(k, k) for k in t.index],
            "OR univariable, all patients (95% CI)": [
                fmt_or(r.or_all, r.ci_low_all, r.ci_high_all) for r in t.itertuples()
            ],
            "P, all patients": [fmt_p(p) for p in t["p_all"]],
            "n": t["n_all"].astype(int).to_numpy(),
            f"OR univariable, model sample of {same.n_model} (95% CI)": [
                fmt_or(r.or_same, r.ci_low_same, r.ci_high_same) for r in t.itertuples()
            ],
            "P, model sample": [fmt_p(p) for p in t["p_same"]],
            "OR multivariable (95% CI)": [
                fmt_or(r.or_adjusted, r.ci_low_adjusted, r.ci_high_adjusted) for r in t.itertuples()
            ],
            "P multivariable": [fmt_p(p) for p in t["p_adjusted"]],
        }
    )


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
    text = (
        f"{name}: crude OR {o_all:.2f} on all patients, {o_same:.2f} on the model's own patients, "
        f"{o_adj:.2f} adjusted. On the log-OR scale the change of sample moves it by "
        f"{r['change_of_sample']:+.2f} and adjustment by {r['adjustment']:+.2f} (total {r['total']:+.2f})"
    )
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
        text += (
            "; the two pull in opposite directions, so the crude-to-adjusted difference understates "
            "both the effect of the change of sample and that of adjustment."
        )
    return text


def standardised_sentence(
    std: Standardised,
    exposure: str,
    outcome: str,
    measure: str | None = None,
    difference_name: str = "risk difference",
    ratio_name: str = "risk ratio",
    likely: bool = True,
) -> str:
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
        return (
            f"The standardised {measure or f'risk of {outcome}'} with and without {exposure}, their "
            f"{difference_name} and {ratio_name}: {std.method}."
        )
    r1, r0 = 100 * t.loc["risk_exposed", "estimate"], 100 * t.loc["risk_unexposed", "estimate"]
    rd, rr, oddsr = t.loc["risk_difference"] * 100, t.loc["risk_ratio"], t.loc["odds_ratio", "estimate"]
    measure = measure or f"risk of {outcome}"
    share = 100 * std.events / std.n
    text = (
        f"Standardised over the model's {std.n} patients (g-computation), the {measure} would be {r1:.1f}% if "
        f"every patient had {exposure} and {r0:.1f}% if none had: an adjusted {difference_name} of "
        f"{rd['estimate']:.1f} percentage points (95% CI {rd['ci_low']:.1f} to {rd['ci_high']:.1f}) and an "
        f"adjusted {ratio_name} of {rr['estimate']:.2f} ({rr['ci_low']:.2f} to {rr['ci_high']:.2f}); CIs by the "
        "delta method. "
    )
    if likely:
        text += (
            f"In risk terms, {outcome} is {rr['estimate']:.2f} times as likely with {exposure} as without, "
            f"{rd['estimate']:.1f} percentage points more likely. "
        )
    further = abs(np.log(oddsr)) > abs(np.log(rr["estimate"]))
    text += (
        f"{share:.1f}% of the model's {std.n} patients have {outcome}, so the adjusted OR ({oddsr:.2f}) lies "
        f"{'further from' if further else 'no further from'} 1 than the {ratio_name}"
        + (": the OR is not a ratio of risks and exaggerates the association." if further and share >= 15 else ".")
    )
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
    from microcalc.analysis.tables import or_text

    w = without.table.loc[exposure]
    if np.isfinite(w["or"]) and np.isfinite(adjusted["or"]):
        head = (
            f"Without {mediators} ({without.n} patients, {without.events} events), the OR of {exposure} is "
            f"{or_text(w, dash='-')}, against {or_text(adjusted, dash='-')} with them. "
        )
    else:
        head = (
            f"The OR of {exposure} without {mediators} ({without.n} patients, {without.events} events): "
            f"{or_text(w, dash='-')}; with them: {or_text(adjusted, dash='-')}. "
        )
    return (
        head + f"{mediators[0].upper() + mediators[1:]} "
        f"may lie on the causal path from {exposure} to the outcome: adjusting for them estimates something "
        "closer to a direct effect (the association not passing through them), and the model without them is "
        "closer to the total effect. Neither is a causal estimate without further assumptions."
    )
