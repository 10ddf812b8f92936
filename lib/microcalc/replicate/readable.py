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
from microcalc.analysis.display import MISSING

__all__ = ["SCORECARD_HEADERS", "context_display", "describe", "in_sentence", "name_tests", "scorecard_display"]

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
    "difference": "Difference, reproduced − published",
    "reproduced 95% CI": "Reproduced 95% CI",
    "published inside reproduced CI": "Published value inside the reproduced 95% CI",
    "matches at printed precision": "Matches at the printed precision",
    "named by paper": "Computed with the method the paper names",
    "P in another printed class": "P in another printed class (< 0.001, < 0.01, < 0.05, above)",
    "agreement": "Agreement",
    "consistency (notebook 01)": "Consistency of the published numbers (notebook 01)",
}


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


def describe(published: pd.DataFrame) -> pd.Series:
    """Each published quantity in words: its measure, then its group or its analysis where they tell it apart.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published` (indexed by id; columns measure, group,
        analysis, kind).

    Returns
    -------
    Series id -> description, e.g. "pCR rate, with microcalcification" or
    "OR of non-pCR, microcalcification vs none, adjusted (multivariable)".
    """
    out = {}
    for ident, row in published.iterrows():
        text = str(row["measure"])
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


def _difference(value, kind: str) -> str:
    if value is None or value is pd.NA or pd.isna(value):
        return MISSING
    return str(int(value)) if kind == "count" else f"{float(value):+.4f}"


def scorecard_display(published: pd.DataFrame, scorecard: pd.DataFrame) -> pd.DataFrame:
    """The scorecard of the bundled run as a clinician reads it: one row per published number, in words.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published`
    scorecard : :func:`microcalc.replicate.scorecard.replication_table` (or ``replication.csv`` read back)

    Returns
    -------
    DataFrame of strings headed by :data:`SCORECARD_HEADERS`: the quantity by its description, the cohort
    by name, yes/no for every check, "–" where a check does not apply, the differences with four decimals
    (counts as whole numbers) and the tests by their names.
    """
    names = describe(published)
    kinds = published["kind"]
    rows = []
    for _, r in scorecard.iterrows():
        row = {
            "description": names.get(r["id"], r["id"]),
            "cohort": labels.ALL.get(str(r["cohort"]), str(r["cohort"])),
            "difference": _difference(r["difference"], kinds.get(r["id"], "")),
        }
        for column in SCORECARD_HEADERS:
            if column not in row:
                row[column] = _words(r[column])
        row["consistency (notebook 01)"] = name_tests(row["consistency (notebook 01)"])
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SCORECARD_HEADERS)).rename(columns=SCORECARD_HEADERS)


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
