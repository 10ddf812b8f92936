"""Sentences for the analysis pages, built from computed results: nothing here types a number.

Small builders, each tested (``tests/test_narrative.py``): the answer in
numbers (rates, odds ratios in both directions, absolute effects per 100
patients), why the adjusted OR differs from the crude one, the events per
variable, the E-value paragraph, rates against the published ones, the
grouped breast-density contrast, and the "Key messages" box that opens
notebooks 04-06 (:func:`key_messages_box`, shown as HTML in the notebook and
the HTML edition, as Markdown or plain text elsewhere).
"""

from microcalc.narrative.box import KeyMessages, key_messages_box
from microcalc.narrative.pages import bone_key_messages, necrosis_key_messages, pcr_key_messages
from microcalc.narrative.paragraphs import (
    pooled_sentence,
    secondary_paragraph,
    share_against_published,
    standardised_paragraph,
)
from microcalc.narrative.sentences import (
    adjusted_or_paragraph,
    epv_sentence,
    grouped_levels_sentence,
    inverted_or,
    is_rare,
    or_both_directions,
    per_100,
    rates_against_published,
    rates_sentence,
    why_adjusted_differs,
)
from microcalc.narrative.thresholds import MIN_EPV, RARE_OUTCOME

__all__ = [
    "MIN_EPV",
    "RARE_OUTCOME",
    "KeyMessages",
    "adjusted_or_paragraph",
    "bone_key_messages",
    "epv_sentence",
    "grouped_levels_sentence",
    "inverted_or",
    "is_rare",
    "key_messages_box",
    "necrosis_key_messages",
    "or_both_directions",
    "pcr_key_messages",
    "per_100",
    "pooled_sentence",
    "rates_against_published",
    "rates_sentence",
    "secondary_paragraph",
    "share_against_published",
    "standardised_paragraph",
    "why_adjusted_differs",
]
