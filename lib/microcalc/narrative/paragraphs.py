"""Longer paragraphs of the analysis pages: pooling over centres, standardised effects, shares against the paper."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from microcalc import labels as lab
from microcalc.analysis.effects import Standardised, standardised_sentence
from microcalc.analysis.multiplicity import SecondaryComparisons, category_contrast_sentence, share_line
from microcalc.analysis.pooling import RandomEffectsPooled
from microcalc.analysis.tables import or_text, p_phrase, zero_or
from microcalc.narrative.sentences import per_100

__all__ = ["pooled_sentence", "standardised_paragraph", "share_against_published", "secondary_paragraph"]


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
            f"{pooled.ci_high:.2f}); between-centre variance τ² = {zero_or(pooled.tau2, 3)}, "
            f"I² = {zero_or(pooled.i2, 1)}% "
            f"(Cochran's Q {p_phrase(pooled.q_p)}). "
        )
    return head + f"The adjusted OR with the centre as a covariate: {or_text(with_centre)}. " + few_clusters_note


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


#: Test and category names in a share line: the clinical labels, categories as they read inside a sentence.
_SHARE_NAMES = {**lab.ALL, **lab.LEVELS}


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
    return share_line(counts, category, tests, printed, published.loc[compare_id, "p"], names=_SHARE_NAMES)


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
