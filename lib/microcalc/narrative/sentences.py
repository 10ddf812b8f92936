"""Sentences built from computed results: rates, odds ratios both ways, absolute effects, EPV, E-values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from microcalc import labels as lab
from microcalc.analysis.effects import Standardised, evalue_sentence
from microcalc.analysis.levels import GroupedLevels
from microcalc.analysis.results import is_not_estimable
from microcalc.analysis.stats import EventsPerVariable
from microcalc.analysis.tables import or_text, p_phrase
from microcalc.narrative.thresholds import MIN_EPV, RARE_OUTCOME

__all__ = [
    "adjusted_or_paragraph",
    "epv_sentence",
    "grouped_levels_sentence",
    "inverted_or",
    "is_rare",
    "or_both_directions",
    "per_100",
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
    mark: str = "",
) -> str:
    """The two rates and their tests in one sentence.

    ``"pCR: 20.6% (32 of 155) with microcalcification against 31.6% (50 of 158) without (Pearson χ² P = 0.027, ...)."``

    Parameters
    ----------
    rates : :func:`microcalc.analysis.stats.group_rates` (the exposed group first).
    tests : :func:`microcalc.analysis.stats.compare_groups`, or None to quote no test.
    event, exposure : names for the sentence.
    shown : the tests to quote, in order; a test without a P says its ``method`` (``not estimable: ...``).
    mark : put after each count, e.g. "†" for counts chosen among those the abstract allows: "(32 of 155 †)".
    """
    exposed, other = rates.iloc[0], rates.iloc[1]
    after = f" {mark}" if mark else ""

    def part(r: pd.Series) -> str:
        return f"{r['rate_pct']:.1f}% ({int(r['events'])} of {int(r['n'])}{after})" if r["n"] else "no patients"

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
    found = list(separation) or [
        "no separation detected (no combination of covariates predicts the outcome perfectly; "
        "checked by linear programming, after Konis)"
    ]
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
        f"Firth's penalty: {or_text(firth)}. {100 * prevalence:.1f}% of all the cohort's patients have {event}, "
        f"{reading}. "
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
            f"{word}: every OR of the other levels rests on those {rarer}, so level {level} makes a poor reference "
            f"level and the grouped contrast is the one to read."
        )
    else:
        text += f" Level {level}, the reference of the four categories, has {n} patients ({rarer} with {word})."
    return text
