"""The Key messages of pages 04-06, assembled from the sentences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from microcalc import labels as lab
from microcalc.analysis.effects import Standardised
from microcalc.analysis.figure_style import CHOSEN_MARK
from microcalc.analysis.tables import or_text
from microcalc.narrative.box import KeyMessages, key_messages_box
from microcalc.narrative.sentences import or_both_directions, per_100, rates_sentence, why_adjusted_differs

__all__ = ["pcr_key_messages", "necrosis_key_messages", "bone_key_messages"]


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


def _chosen_footnote(chosen: Mapping[str, str], keys: Sequence[str]) -> list[str]:
    """The footnote line of the chosen values among ``keys``, or nothing."""
    notes = list(dict.fromkeys(chosen[k] for k in keys if k in chosen))
    return [f"{CHOSEN_MARK} Chosen, not fixed by the abstract: {'; '.join(notes)}."] if notes else []


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
    chosen: Mapping[str, str] | None = None,
) -> KeyMessages:
    """Key messages of notebook 05: necrosis by microcalcification, pCR and the OR of non-pCR by necrosis.

    ``chosen`` (:func:`microcalc.analysis.plots.chosen_values`; empty on a site's data) marks the
    counts chosen among those the abstract allows ("mri_necrosis_split", "pcr_by_necrosis") with "†",
    explained in a last line.
    """
    chosen = dict(chosen or {})
    crude, adjusted = necrosis_or.loc["univariable"], necrosis_or.loc["multivariable"]

    def mark(key: str) -> str:
        return CHOSEN_MARK if key in chosen else ""

    necrosis = rates_sentence(
        necrosis_rates, necrosis_tests, "Necrosis on MRI", "microcalcification", mark=mark("mri_necrosis_split")
    )
    pcr = rates_sentence(pcr_rates, None, "pCR", "necrosis on MRI", mark=mark("pcr_by_necrosis"))
    return key_messages_box(
        "Is tumour necrosis on MRI more frequent when the tumour shows microcalcification, and is necrosis "
        "associated with not reaching pCR?",
        [
            necrosis,
            pcr + " " + _both_ways(crude, adjusted),
            _absolute(std, "necrosis on MRI", "non-pCRs", complement="pCRs"),
            *_chosen_footnote(chosen, ("mri_necrosis_split", "pcr_by_necrosis")),
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
