"""Sentences built from computed results: rates, odds ratios both ways, absolute effects, EPV, E-values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from microcalc import labels as lab
from microcalc.analysis.effects import Standardised, evalue_sentence, standardised_sentence
from microcalc.analysis.levels import GroupedLevels
from microcalc.analysis.multiplicity import SecondaryComparisons, category_contrast_sentence, share_line
from microcalc.analysis.pooling import RandomEffectsPooled
from microcalc.analysis.results import is_not_estimable
from microcalc.analysis.stats import EventsPerVariable
from microcalc.analysis.tables import or_text, p_phrase
from microcalc.narrative.box import KeyMessages, key_messages_box
from microcalc.narrative.thresholds import MIN_EPV, RARE_OUTCOME

__all__ = [
    "adjusted_or_paragraph",
    "bone_key_messages",
    "epv_sentence",
    "grouped_levels_sentence",
    "inverted_or",
    "is_rare",
    "necrosis_key_messages",
    "or_both_directions",
    "pcr_key_messages",
    "per_100",
    "pooled_sentence",
    "rates_against_published",
    "rates_sentence",
    "why_adjusted_differs",
]


def inverted_or(odds_ratio: float, ci_low: float, ci_high: float) -> tuple[float, float, float]:
    """The OR of the complementary outcome: ``1 / OR`` with the CI limits inverted and swapped.

    >>> inverted_or(2.0, 1.0, 4.0)
    (0.5, 0.25, 1.0)
    """
    return 1 / odds_ratio, 1 / ci_high, 1 / ci_low


def is_rare(prevalence: float) -> bool:
    """Whether an outcome with this share of patients is rare (below :data:`RARE_OUTCOME`)."""
    return bool(prevalence < RARE_OUTCOME)


def rates_sentence(
    rates: pd.DataFrame,
    tests: pd.DataFrame | None,
    event: str,
    exposure: str,
    shown: Sequence[str] = ("pearson_chi2", "fisher_exact"),
) -> str:
    """The two rates and their tests in one sentence.

    ``"pCR: 20.6% (32 of 155) with microcalcification against 31.6% (50 of 158) without (Pearson χ² P = 0.027, ...)."``

    Parameters
    ----------
    rates : :func:`microcalc.analysis.stats.group_rates` (the exposed group first).
    tests : :func:`microcalc.analysis.stats.compare_groups`, or None to quote no test.
    event, exposure : names for the sentence.
    shown : the tests to quote, in order; a test without a P says its ``method`` (``not estimable: ...``).
    """
    exposed, other = rates.iloc[0], rates.iloc[1]

    def part(r: pd.Series) -> str:
        return f"{r['rate_pct']:.1f}% ({int(r['events'])} of {int(r['n'])})" if r["n"] else "no patients"

    by_test = tests.set_index("test") if tests is not None else pd.DataFrame()
    quoted = []
    for test in shown:
        if test in by_test.index:
            row = by_test.loc[test]
            name = lab.QUANTITIES.get(test, test)
            quoted.append(f"{name} {p_phrase(row['p'])}" if pd.notna(row["p"]) else f"{name}: {row['method']}")
    return f"{event}: {part(exposed)} with {exposure} against {part(other)} without" + (
        f" ({', '.join(quoted)})." if quoted else "."
    )


def rates_against_published(
    rates: pd.DataFrame,
    tests: pd.DataFrame,
    event: str,
    exposure: str,
    published: pd.DataFrame,
    rate_ids: Sequence[str],
    compare_id: str,
    shown: Sequence[str] = ("pearson_chi2", "fisher_exact"),
) -> str:
    """The rates sentence (:func:`rates_sentence`) with the paper's printed rates and P after it.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published` (indexed by id).
    rate_ids : the published ids of the two rates (exposed first), e.g. ``study.RATE_IDS["nact_pcr"]``.
    compare_id : the published id of their comparison (its printed P and the test the paper names).
    shown : the tests to quote, as in :func:`rates_sentence`.
    """
    named = published.loc[compare_id, "test_named"] if "test_named" in published.columns else None
    stated = isinstance(named, str) and named.strip() not in ("", "not stated")
    named_text = f" ({named})" if stated else " (test not stated)"
    printed = [published.loc[i, "value"] for i in rate_ids]
    return (
        rates_sentence(rates, tests, event, exposure, shown)
        + f" The paper printed {printed[0]} vs {printed[1]}, {published.loc[compare_id, 'p']}{named_text}."
    )


def or_both_directions(row: pd.Series, event: str, complement: str | None = None, with_p: bool = False) -> str:
    """An OR of ``event``, and beside it the same estimate as the OR of ``complement`` (``1 / OR``).

    ``"OR of non-pCR 2.40 (1.20–4.80); as the OR of pCR, 0.42 (0.21–0.83)"``; a row without an
    estimate says why (:func:`microcalc.analysis.tables.or_text`).
    """
    text = f"OR of {event} {or_text(row, with_p=with_p)}"
    if complement is None or not np.isfinite([row["or"], row["ci_low"], row["ci_high"]]).all():
        return text
    o, lo, hi = inverted_or(row["or"], row["ci_low"], row["ci_high"])
    return text + f"; as the OR of {complement}, {or_text({'or': o, 'ci_low': lo, 'ci_high': hi})}"


def per_100(
    std: Standardised, exposure: str, events: str, ratio_name: str = "risk ratio", complement: str | None = None
) -> str:
    """The standardised difference as patients per 100, with the ratio beside it.

    ``"about 14 more non-pCRs per 100 patients with microcalcification than without (difference 13.7 per 100,
    95% CI 3.4 to 24.1; risk ratio 1.19, 1.04 to 1.37)"``; with ``complement`` (the other outcome, e.g.
    "pCRs") also ``"; that is, about 14 fewer pCRs per 100 (risk ratio for pCR 0.52)"``, the complement's
    standardised risks being one minus the event's.

    Parameters
    ----------
    std : :func:`microcalc.analysis.effects.standardised_effects`.
    exposure : the exposure's name; events : the events counted, plural ("non-pCRs").
    ratio_name : "risk ratio", or "ratio of proportions" for a recorded state.
    complement : the complementary events, plural, or None.
    """
    if is_not_estimable(std.method):
        return f"The difference per 100 patients with and without {exposure}: {std.method}"
    t = std.table
    rd, rr = t.loc["risk_difference"], t.loc["risk_ratio"]
    k = int(np.round(100 * rd["estimate"]))
    how = "more" if k > 0 else "fewer"
    head = (
        f"about {abs(k)} {how} {events} per 100 patients with {exposure} than without"
        if k
        else f"about the same number of {events} per 100 patients with and without {exposure}"
    )
    text = (
        f"{head} (difference {100 * rd['estimate']:.1f} per 100, 95% CI {100 * rd['ci_low']:.1f} to "
        f"{100 * rd['ci_high']:.1f}; {ratio_name} {rr['estimate']:.2f}, {rr['ci_low']:.2f} to {rr['ci_high']:.2f})"
    )
    if complement:
        r1, r0 = t.loc["risk_exposed", "estimate"], t.loc["risk_unexposed", "estimate"]
        other = "fewer" if k > 0 else "more"
        singular = complement.removesuffix("s")
        text += (
            f"; that is, about {abs(k)} {other} {complement} per 100 ({ratio_name} for {singular} "
            f"{(1 - r1) / (1 - r0):.2f})"
            if k
            else ""
        )
    return text


def why_adjusted_differs(split: pd.DataFrame, term: str, n_model: int, exposure: str) -> str:
    """Why the adjusted OR is higher (or lower) than the crude one: first the sample, then adjustment.

    From :func:`microcalc.analysis.effects.crude_to_adjusted`: the crude OR on all patients, on the
    model's own ``n_model`` patients, and adjusted. A move below 0.005 on the log-OR scale is called
    negligible.
    """
    r = split.loc[term]
    if is_not_estimable(r.get("note", "")):
        return f"Why the adjusted OR of {exposure} differs from the crude one: {r['note']}."
    o_all, o_same, o_adj = np.exp([r["log_or_all"], r["log_or_same"], r["log_or_adjusted"]])
    small = 0.005
    if abs(r["total"]) < small:
        return f"The adjusted OR of {exposure} ({o_adj:.2f}) is about the crude one ({o_all:.2f})."
    higher = "higher" if r["total"] > 0 else "lower"
    if abs(r["change_of_sample"]) < small:
        sample = (
            f"the sample does not explain it, since on the model's {n_model} patients the crude OR is "
            f"{o_same:.2f}, as on all patients"
        )
    else:
        sample = (
            f"first the sample, since on the model's {n_model} patients (every covariate known) the crude OR "
            f"is already {o_same:.2f}, against {o_all:.2f} on all patients"
        )
    if abs(r["adjustment"]) < small:
        adjust = "adjustment for the other covariates barely moves it"
    else:
        adjust = (
            f"adjustment for the other covariates then {'raises' if r['adjustment'] > 0 else 'lowers'} "
            f"it to {o_adj:.2f}"
        )
    return (
        f"Why the adjusted OR of {exposure} ({o_adj:.2f}) is {higher} than the crude one ({o_all:.2f}): "
        f"{sample}; {adjust}."
    )


def epv_sentence(
    epv: EventsPerVariable, separation: Sequence[str], notes: Sequence[str] = (), min_epv: float = MIN_EPV
) -> str:
    """Events per variable of the multivariable model, separation, and anything dropped, in words.

    Parameters
    ----------
    epv : :func:`microcalc.analysis.stats.events_per_variable`.
    separation : separation sentences (empty: none detected by the Konis linear-programming check).
    notes : further notes of the regression table.
    min_epv : the events per variable below which the Firth-penalised model is the sensitivity analysis.
    """
    value = epv.epv
    count = (
        f"**{value:.1f} events per variable**"
        if pd.notna(value)
        else "events per variable not estimable (no coefficient to estimate)"
    )
    text = (
        f"The multivariable model uses {epv.n} patients with {epv.limiting_events} limiting events "
        f"(the rarer outcome) for {epv.parameters} coefficients: {count}"
    )
    if pd.notna(value) and value < min_epv:
        text += f" (below {min_epv:g}: the Firth-penalised model is the sensitivity analysis)"
    found = list(separation) or ["no separation detected (Konis linear-programming check)"]
    return text + ". Separation: " + "; ".join(found) + "." + "".join(f" Also: {n}." for n in notes)


def adjusted_or_paragraph(
    calc: pd.Series, firth: pd.Series, exposure: str, event: str, prevalence: float, odds_of: str | None = None
) -> str:
    """The adjusted OR by maximum likelihood and with Firth's penalty, how common the outcome is, the E-value.

    Parameters
    ----------
    calc : the exposure's multivariable row (``or``, ``ci_low``, ``ci_high``, ``note``).
    firth : the exposure's Firth row.
    exposure, event : names; odds_of : what the OR is the odds of (default ``event``).
    prevalence : share of patients with the outcome; :func:`is_rare` decides how the E-value reads the OR.
    """
    rare = is_rare(prevalence)
    reading = (
        "an uncommon outcome, so the OR is read as a ratio of proportions"
        if rare
        else "a common outcome, so the E-value first turns the OR into a risk ratio by its square root"
    )
    ev = evalue_sentence(calc["or"], calc["ci_low"], calc["ci_high"], rare, exposure, event, reason=calc["note"])
    return (
        f"Adjusted OR of {odds_of or event} with {exposure}, by maximum likelihood: {or_text(calc)}; with "
        f"Firth's penalty: {or_text(firth)}. {100 * prevalence:.1f}% of the patients have {event}, {reading}. "
        f"{ev.sentence} (VanderWeele & Ding 2017.)"
    )


def grouped_levels_sentence(
    g: GroupedLevels, variable: str, event: str, non_event: str, min_events: float = MIN_EPV
) -> str:
    """The grouped contrast (e.g. dense against non-dense) in words, and whether the reference level is poor.

    The reference level of the factor (its first level) is called a poor reference when its rarer
    outcome (``event`` or ``non_event``) counts fewer than ``min_events`` patients, since every OR of the
    other levels is a contrast with those few patients.
    """
    (ref_name, grp_name), c, e = g.groups, g.counts, g.estimates

    def part(name: str) -> str:
        r = c.loc[name]
        return f"{r['rate_pct']:.1f}% ({int(r['events'])} of {int(r['n'])})" if r["n"] else "no patients"

    ref_label, grp_label = lab.LEVELS.get(ref_name, ref_name), lab.LEVELS.get(grp_name, grp_name)
    text = (
        f"{variable}, {grp_label} against {ref_label}: {event} in {part(grp_name)} against {part(ref_name)}; "
        f"OR of {event} {or_text(e.loc['univariable'])} crude, {or_text(e.loc['multivariable'])} adjusted "
        f"(on {int(e.loc['multivariable', 'n'])} patients)."
    )
    reference = g.levels.iloc[0]
    level, n = g.levels.index[0], int(reference["n"])
    rarer, word = (
        (int(reference["events"]), event)
        if reference["events"] <= reference["non_events"]
        else (int(reference["non_events"]), non_event)
    )
    if rarer < min_events:
        text += (
            f" Level {level}, the reference of the four categories, has {n} patients, of whom {rarer} had "
            f"{word}: every OR of the other levels rests on those {rarer}, so {level} makes a poor reference "
            f"level and the grouped contrast is the one to read."
        )
    else:
        text += f" Level {level}, the reference of the four categories, has {n} patients ({rarer} with {word})."
    return text


def _in_sentence(label: str) -> str:
    """ "Necrosis on MRI" -> "necrosis on MRI"; "T stage" and "pCR" stay."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[0].isupper() and label[1].islower() else label


def _terms_text(terms: Sequence[str], exposure: str) -> str:
    """The covariates of a model other than ``exposure``, labelled, as a list in words."""
    names = [_in_sentence(lab.VARIABLES.get(t, t)).replace(" (years)", "") for t in terms if t != exposure]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _synthetic(synthetic: bool) -> str:
    return (
        " On the bundled synthetic patients these numbers check that the pipeline computes what the paper "
        "computed; they cannot show whether the finding holds in real patients."
        if synthetic
        else ""
    )


def _crude_and_adjusted(tidy: pd.DataFrame, term: str) -> tuple[pd.Series, pd.Series]:
    """The univariable and multivariable rows of ``term`` in a regression ``tidy`` frame."""
    rows = tidy[tidy["term"] == term].set_index("model")
    return rows.loc["univariable"], rows.loc["multivariable"]


def _both_ways(crude: pd.Series, adjusted: pd.Series) -> str:
    return (
        f"Crude: {or_both_directions(crude, 'non-pCR', 'pCR')}. Adjusted: "
        f"{or_both_directions(adjusted, 'non-pCR', 'pCR', with_p=True)}."
    )


def _absolute(std: Standardised, exposure: str, events: str, **kwargs) -> str:
    return (
        "In absolute terms, standardised over the model's patients: " + per_100(std, exposure, events, **kwargs) + "."
    )


def pcr_key_messages(
    rates: pd.DataFrame,
    tests: pd.DataFrame,
    tidy: pd.DataFrame,
    std: Standardised,
    split: pd.DataFrame,
    n_model: int,
    sensitivity: pd.DataFrame,
    terms: Sequence[str],
    synthetic: bool,
) -> KeyMessages:
    """Key messages of notebook 04: pCR by microcalcification, ORs both ways, per 100, why adjusted is higher."""
    crude, adjusted = _crude_and_adjusted(tidy, "microcalcification")
    imputed = sensitivity.iloc[-1]
    ci_includes_1 = imputed["ci_low"] <= 1 <= imputed["ci_high"]
    return key_messages_box(
        "Do patients whose tumours show mammographic microcalcification reach pathological complete response "
        "(pCR) after neoadjuvant chemotherapy less often, before and after adjustment?",
        [
            rates_sentence(rates, tests, "pCR", "microcalcification"),
            _both_ways(crude, adjusted),
            _absolute(std, "microcalcification", "non-pCRs", complement="pCRs"),
            why_adjusted_differs(split, "microcalcification", n_model, "microcalcification"),
        ],
        f"An association in this cohort between microcalcification and not reaching pCR, before and after "
        f"adjustment for {_terms_text(terms, 'microcalcification')}.",
        f"Not that microcalcification causes a poorer response, nor how well it predicts response in new "
        f"patients. The adjusted model uses only the {int(adjusted['n'])} patients with every covariate known "
        f"(necrosis on MRI is often missing); with necrosis imputed the adjusted OR of non-pCR is "
        f"{or_text(imputed)}" + (", and its CI includes 1." if ci_includes_1 else ".") + _synthetic(synthetic),
    )


def necrosis_key_messages(
    necrosis_rates: pd.DataFrame,
    necrosis_tests: pd.DataFrame,
    pcr_rates: pd.DataFrame,
    necrosis_or: pd.DataFrame,
    std: Standardised,
    n_assessed: int,
    n_all: int,
    synthetic: bool,
) -> KeyMessages:
    """Key messages of notebook 05: necrosis by microcalcification, pCR and the OR of non-pCR by necrosis."""
    crude, adjusted = necrosis_or.loc["univariable"], necrosis_or.loc["multivariable"]
    return key_messages_box(
        "Is tumour necrosis on MRI more frequent when the tumour shows microcalcification, and is necrosis "
        "associated with not reaching pCR?",
        [
            rates_sentence(necrosis_rates, necrosis_tests, "Necrosis on MRI", "microcalcification"),
            rates_sentence(pcr_rates, None, "pCR", "necrosis on MRI") + " " + _both_ways(crude, adjusted),
            _absolute(std, "necrosis on MRI", "non-pCRs", complement="pCRs"),
        ],
        "Associations in the patients whose MRI necrosis was assessed: of necrosis with microcalcification, and "
        "of necrosis with not reaching pCR, before and after adjustment.",
        f"Anything about the {n_all - n_assessed} of {n_all} patients without an assessment, who may differ "
        "(see below); nor whether necrosis lies on the path from tumour biology to response, in which case "
        "adjusting for it removes part of the effect of microcalcification." + _synthetic(synthetic),
    )


def bone_key_messages(
    rates: pd.DataFrame,
    tests: pd.DataFrame,
    tidy: pd.DataFrame,
    std: Standardised,
    split: pd.DataFrame,
    n_model: int,
    terms: Sequence[str],
    synthetic: bool,
) -> KeyMessages:
    """Key messages of notebook 06: odds of recorded bone metastasis by microcalcification, per 100."""
    crude, adjusted = _crude_and_adjusted(tidy, "microcalcification")
    return key_messages_box(
        "In a multicentre cohort, do patients with mammographic microcalcification more often have a recorded "
        "bone metastasis, independently of stage and the other covariates?",
        [
            rates_sentence(rates, tests, "Recorded bone metastasis", "microcalcification"),
            (
                f"Odds of recorded bone metastasis with microcalcification: OR {or_text(crude)} crude, "
                f"{or_text(adjusted, with_p=True)} adjusted."
            ),
            _absolute(std, "microcalcification", "recorded bone metastases", ratio_name="ratio of proportions"),
            why_adjusted_differs(split, "microcalcification", n_model, "microcalcification"),
        ],
        "How the odds of recorded bone metastasis differ with microcalcification in this cohort, before and after "
        f"adjustment for {_terms_text(terms, 'microcalcification')}.",
        "The risk of developing bone metastasis: the cohort has no follow-up time and does not say whether the "
        "metastases were present at diagnosis, so these are odds of a recorded metastasis; a time-to-event "
        "analysis with competing risks would be needed to speak of risk. Nor causation: stage may lie on the "
        "path from microcalcification to metastasis." + _synthetic(synthetic),
    )


def pooled_sentence(pooled: RandomEffectsPooled, with_centre: pd.Series, few_clusters_note: str) -> str:
    """The random-effects OR pooled over centres, the OR with the centre as a covariate, and the few-centres note.

    Parameters
    ----------
    pooled : :func:`microcalc.analysis.meta.pool_random_effects` (with ``note`` when nothing could be pooled).
    with_centre : the exposure's row of the model with the centre as a covariate.
    few_clusters_note : :func:`microcalc.analysis.clustered.few_clusters_note`.
    """
    if pooled.note:
        head = f"Pooling across centres: {pooled.note}. "
    else:
        head = (
            f"Pooled over {int(pooled.k)} centres, OR {pooled.or_:.2f} ({pooled.ci_low:.2f}–"
            f"{pooled.ci_high:.2f}); between-centre variance τ² = {pooled.tau2:.3f}, I² = {pooled.i2:.0f}% "
            f"(Cochran's Q {p_phrase(pooled.q_p)}). "
        )
    return head + f"The adjusted OR with the centre as a covariate: {or_text(with_centre)}. " + few_clusters_note


__all__ += ["secondary_paragraph", "share_against_published", "standardised_paragraph"]


def standardised_paragraph(
    std: Standardised, exposure: str, outcome: str, events: str, complement: str | None = None, recorded: bool = False
) -> str:
    """The standardised effects in words, then the difference in patients per 100.

    :func:`microcalc.analysis.effects.standardised_sentence`, then ``" In patients per 100: "`` and
    :func:`per_100`.

    Parameters
    ----------
    std : :func:`microcalc.analysis.effects.standardised_effects`.
    exposure, outcome : names; events : the events counted, plural ("non-pCRs").
    complement : the complementary events, plural, or None (:func:`per_100`).
    recorded : the outcome is a recorded state, not a risk over known follow-up: the standardised
        quantities are the "proportion with <outcome>", their difference and the "ratio of proportions",
        without the "times as likely" reading.
    """
    if recorded:
        measure, ratio_name = f"proportion with {outcome}", "ratio of proportions"
        head = standardised_sentence(
            std, exposure, outcome, measure, f"difference in the {measure}", ratio_name, likely=False
        )
    else:
        ratio_name = "risk ratio"
        head = standardised_sentence(std, exposure, outcome)
    return head + " In patients per 100: " + per_100(std, exposure, events, ratio_name, complement) + "."


def share_against_published(
    counts: pd.DataFrame,
    category: str,
    tests: pd.DataFrame,
    published: pd.DataFrame,
    rate_ids: Sequence[str],
    compare_id: str,
) -> str:
    """One category's shares, the P that reproduced the paper's, and the printed shares and P.

    :func:`microcalc.analysis.multiplicity.share_line` with the printed values read from ``published``
    (:func:`microcalc.abstract.published.load_published`): the two shares ``rate_ids`` (exposed first,
    e.g. ``study.RATE_IDS["bone_osteolytic"]``) and the P of ``compare_id``.
    """
    printed = published.loc[list(rate_ids), "value"]
    return share_line(counts, category, tests, printed, published.loc[compare_id, "p"])


def secondary_paragraph(
    secondary: SecondaryComparisons, tables: dict[str, pd.DataFrame], categories: dict[str, str]
) -> str:
    """The sparse-cells line of each secondary comparison, then each category contrast against its whole table.

    Parameters
    ----------
    secondary : :func:`microcalc.analysis.multiplicity.secondary_comparisons` of ``tables`` and ``categories``.
    tables : label -> 2 x k counts; categories : label -> the category contrasted with the rest.

    Returns
    -------
    str
        Markdown: a bullet per comparison (its ``sparse`` sentence), a blank line, then for each label
        :func:`microcalc.analysis.multiplicity.category_contrast_sentence` with the exact P of the 2 x 2
        contrast (Fisher's exact test) and of the whole table (Fisher-Freeman-Halton for more than two
        categories).
    """
    exact_p = secondary.table["p_exact"]
    sparse = "\n".join(f"- {label}: {text}" for label, text in secondary.table["sparse"].items())
    contrasts = [
        category_contrast_sentence(
            category,
            tables[label],
            exact_p[f"{label}_{category}"],
            "Fisher's exact test",
            exact_p[label],
            "Fisher-Freeman-Halton" if tables[label].shape[1] > 2 else "Fisher's exact test",
        )
        for label, category in categories.items()
    ]
    return sparse + "\n\n" + " ".join(contrasts)
