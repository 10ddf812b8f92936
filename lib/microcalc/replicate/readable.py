"""The replication page's tables for reading: published quantities by their description, verdicts in words.

The scorecard (:func:`microcalc.replicate.scorecard.replication_table`) and the
findings table keep their ids and typed columns, as written to
``replication.csv`` and ``replication_findings.csv``; the functions here only
say the same values for a clinician: :func:`describe` names each published
quantity by its measure, group and analysis (never its id),
:func:`scorecard_display` turns the scorecard's booleans into "yes"/"no",
missing cells into "–" and the tests' code names into words, and
:func:`context_display` does the same for the context of a site run.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from microcalc import labels
from microcalc.abstract.published import parse_reported
from microcalc.analysis.display import MISSING

__all__ = [
    "recorded_measure",
    "AGREEMENT_WORDS",
    "SCORECARD_CHECKS",
    "SCORECARD_HEADERS",
    "SCORECARD_MAIN",
    "context_display",
    "describe",
    "in_sentence",
    "name_tests",
    "printed_difference",
    "scorecard_display",
    "scorecard_parts",
]

#: How a published ``group`` reads after its measure.
_GROUP_WORDS = {"microcalcification": "with microcalcification", "no microcalcification": "without microcalcification"}

#: How a published ``analysis`` of an odds ratio reads after its measure.
_ANALYSIS_WORDS = {"univariable": "crude (univariable)", "multivariable": "adjusted (multivariable)"}

#: Headers of the scorecard on the page: the scorecard's column -> its header.
SCORECARD_HEADERS = {
    "description": "Published quantity",
    "cohort": "Cohort",
    "published": "Published",
    "reproduced": "Reproduced",
    "difference": "Difference at the printed precision",
    "reproduced 95% CI": "Reproduced 95% CI",
    "published inside reproduced CI": "Published value inside the reproduced 95% CI",
    "matches at printed precision": "Matches at the printed precision",
    "named by paper": "Computed with the method the paper names",
    "P in another printed class": "P in another printed class",
    "agreement": "Agreement",
    "consistency (notebook 01)": "Consistency of the published numbers (notebook 01)",
}


#: The scorecard's agreement classes in words.
AGREEMENT_WORDS = {
    "exact, named method": "exact, with the paper's test",
    "exact, other method only": "exact, with a test the paper does not name",
    "claim consistent": "claim consistent",
    "within calibration tolerance": "within calibration tolerance",
    "differs": "differs",
}

#: The scorecard's main table on the page: what was published, what this run gives, and the verdict.
SCORECARD_MAIN = ["Published quantity", "Published", "Reproduced", "Agreement"]

#: The checks behind each verdict, in a second table.
SCORECARD_CHECKS = [
    "Published quantity",
    "Cohort",
    "Difference at the printed precision",
    "Reproduced 95% CI",
    "Published value inside the reproduced 95% CI",
    "Computed with the method the paper names",
    "P in another printed class",
]


def _sentence_start(text: str) -> str:
    """Capitalise a text that starts with an ordinary lower-case word ("pCR rate" and "MRI ..." stay)."""
    if len(text) > 1 and text[0].islower() and (text[1].islower() or not text[1].isalpha()):
        return text[0].upper() + text[1:]
    return text


def in_sentence(text: str) -> str:
    """A description as it reads inside a sentence: "Bone metastasis rate" -> "bone metastasis rate"; "pCR rate",
    "MRI ..." and "OR ..." stay."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def recorded_measure(measure: str) -> str:
    """A published measure with the bone cohort's metastases called recorded (``labels.RECORDED_MEASURES``).

    The cohort has no follow-up time: it counts metastases recorded, not their risk.

    >>> recorded_measure("OR of bone metastasis, adjusted"), recorded_measure("bone metastasis type")
    ('OR of recorded bone metastasis, adjusted', 'bone metastasis type')
    """
    for plain, words in labels.RECORDED_MEASURES.items():
        if measure == plain or measure.startswith(f"{plain},"):
            return words + measure[len(plain) :]
    return measure


def describe(published: pd.DataFrame) -> pd.Series:
    """Each published quantity in words: its measure, then its group or its analysis where they tell it apart.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published` (indexed by id; columns measure, group,
        analysis, kind).

    Returns
    -------
    Series id -> description, e.g. "pCR rate, with microcalcification" or
    "OR of non-pCR, microcalcification vs none, adjusted (multivariable)". The bone cohort's rate and OR are
    of recorded bone metastasis (:data:`microcalc.labels.RECORDED_MEASURES`): "Recorded bone metastasis rate,
    with microcalcification", "OR of recorded bone metastasis, microcalcification vs none, ...".
    """
    out = {}
    for ident, row in published.iterrows():
        text = recorded_measure(str(row["measure"]))
        group = row.get("group")
        if isinstance(group, str) and group != "all":
            words = _GROUP_WORDS.get(group, f"among {group}" if group.startswith("patients") else group)
            if words not in text:
                text += f", {words}"
        if row.get("kind") == "odds_ratio" and row.get("analysis") in _ANALYSIS_WORDS:
            text += f", {_ANALYSIS_WORDS[row['analysis']]}"
        out[ident] = _sentence_start(text)
    return pd.Series(out, name="description")


def name_tests(text: str) -> str:
    """A text with every test's code name (``fisher_exact``, ``logistic_wald``, ...) replaced by its name.

    The names are those of :data:`microcalc.labels.ALL`, as written there (not lower-cased).

    >>> name_tests("reproduced by fisher_exact, logistic_wald")
    "reproduced by Fisher's exact test, Wald test of logistic regression"
    """
    for key in sorted((k for k in labels.ALL if "_" in k), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(key)}(?!\w)", labels.ALL[key], text)
    return text


def _words(value) -> str:
    """A scorecard cell in words: yes/no for a boolean, "–" for missing or empty, else the text."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    text = str(value)
    if text in ("", "nan", "<NA>", "None"):
        return MISSING
    return {"True": "yes", "False": "no"}.get(text, text)


def printed_difference(value, kind: str, printed: str, matches: bool) -> str:
    """The difference reproduced − published as the paper would print it: "none" where the reproduced
    value prints as published, else the difference at the published number's printed precision, in its unit.

    Parameters
    ----------
    value : the unrounded difference (``difference`` of the scorecard), or missing.
    kind : the published quantity's kind (count, percent, p, odds_ratio, claim).
    printed : the published value as printed (its decimals set the precision), e.g. "20.6%" or "2.352".
    matches : whether the reproduced value prints as published (``matches at printed precision``).

    >>> printed_difference(0.0452, "percent", "20.6%", True), printed_difference(0.4, "percent", "20.6%", False)
    ('none', '+0.4 percentage points')
    >>> printed_difference(0.0468, "odds_ratio", "2.352", False), printed_difference(-2, "count", "313", False)
    ('OR +0.047', '-2 patients')
    """
    if kind == "claim" or value is None or value is pd.NA or pd.isna(value):
        return MISSING
    if matches:
        return "none"
    if kind == "count":
        return f"{int(value):+d} patients"
    decimals = parse_reported(printed).decimals
    text = f"{float(value):+.{decimals}f}"
    if float(text) == 0:
        return "none in the estimate; CI or P differ" if kind == "odds_ratio" else "0 at the printed precision"
    return {"percent": f"{text} percentage points", "odds_ratio": f"OR {text}", "p": f"P {text}"}.get(kind, text)


def scorecard_display(published: pd.DataFrame, scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard of the bundled run as a clinician reads it: one row per published number, in words.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published`
    scorecard : :func:`microcalc.replicate.scorecard.replication_table` (or ``replication.csv`` read back)

    Returns
    -------
    DataFrame of strings headed by :data:`SCORECARD_HEADERS`: the quantity by its description, the cohort
    by name, yes/no for every check, "–" where a check does not apply, the difference as
    :func:`printed_difference` says it, the agreement in words (:data:`AGREEMENT_WORDS`) and the tests by
    their names.
    """
    names = describe(published)
    kinds = published["kind"]
    rows = []
    for _, r in scorecard.iterrows():
        kind = kinds.get(r["id"], "")
        printed = published.loc[r["id"], "p" if kind == "p" else "value"] if r["id"] in published.index else ""
        row = {
            "description": names.get(r["id"], r["id"]),
            "cohort": labels.ALL.get(str(r["cohort"]), str(r["cohort"])),
            "difference": printed_difference(
                r["difference"], kind, printed, _words(r["matches at printed precision"]) == "yes"
            ),
        }
        for column in SCORECARD_HEADERS:
            if column not in row:
                row[column] = _words(r[column])
        row["agreement"] = AGREEMENT_WORDS.get(row["agreement"], row["agreement"])
        row["consistency (notebook 01)"] = name_tests(row["consistency (notebook 01)"])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SCORECARD_HEADERS)).rename(columns=SCORECARD_HEADERS)


def scorecard_parts(published: pd.DataFrame, scorecard: pd.DataFrame) -> list[pd.DataFrame]:
    """The scorecard of :func:`scorecard_display` in three narrow tables, each readable on a laptop screen.

    Returns
    -------
    list of three DataFrames: the main table (:data:`SCORECARD_MAIN`: quantity, cohort, published,
    reproduced, agreement); the checks behind each agreement (:data:`SCORECARD_CHECKS`); and the
    consistency of the published numbers (notebook 01), only for the quantities that have a check there.
    """
    shown = scorecard_display(published, scorecard)
    consistency = shown[["Published quantity", SCORECARD_HEADERS["consistency (notebook 01)"]]]
    consistency = consistency[consistency.iloc[:, 1] != MISSING].reset_index(drop=True)
    return [shown[SCORECARD_MAIN], shown[SCORECARD_CHECKS], consistency]


def context_display(published: pd.DataFrame, context: pd.DataFrame) -> pd.DataFrame:
    """The context of a site run (:func:`microcalc.replicate.findings.context_table`) by description, in words.

    Returns
    -------
    DataFrame of strings: Published quantity, Published, This site, This site's 95% CI ("–" where none).
    """
    names = describe(published)
    return pd.DataFrame(
        {
            "Published quantity": [names.get(i, i) for i in context["id"]],
            "Published": [_words(v) for v in context["published"]],
            "This site": [_words(v) for v in context["this site"]],
            "This site's 95% CI": [_words(v) for v in context["this site's 95% CI"]],
        }
    )
