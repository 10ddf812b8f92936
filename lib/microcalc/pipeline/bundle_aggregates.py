"""The aggregate tables of a results bundle (terms, counts, cohorts; part of :mod:`microcalc.pipeline.bundle`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from microcalc.analysis.models import fit_logistic
from microcalc.analysis.stats import MIN_GROUP_SIZE
from microcalc.study import MODELS as _STUDY_MODELS

__all__ = ["MODELS", "COMPARISONS", "SCHEMAS", "bundle_tables"]

#: Each cohort's outcome and the paper's multivariable terms.
MODELS = _STUDY_MODELS

#: Cross-tables besides outcome-by-covariate: (cohort, row variable, column variable).
COMPARISONS = (
    ("nact_cohort", "microcalcification", "mri_necrosis"),
    ("bone_cohort", "microcalcification", "bone_metastasis_type"),
    ("bone_cohort", "microcalcification", "bone_metastasis_extent"),
)

#: Columns of each table, in order.
SCHEMAS = {
    "terms.csv": [
        "cohort",
        "outcome",
        "model",
        "variable",
        "term",
        "log_or",
        "se",
        "n",
        "events",
        "converged",
        "suppressed",
    ],
    "counts.csv": ["cohort", "row_variable", "row_level", "column_variable", "column_level", "count", "suppressed"],
    "cohorts.csv": ["cohort", "outcome", "n", "events", "n_model", "events_model", "suppressed"],
}


def _with_outcome(cohort: str, frame: pd.DataFrame) -> pd.DataFrame:
    if cohort == "nact_cohort" and "non_pcr" not in frame:
        return frame.assign(non_pcr=~frame["pcr"].astype("boolean"))
    return frame


def _level(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value)


def _cross(frame: pd.DataFrame, cohort: str, rows: str, cols: str) -> list[dict]:
    """Cells of the ``rows`` x ``cols`` table (complete cases), a row's cells suppressed if its total < the rule."""
    data = frame[[rows, cols]].dropna()
    out = []
    row_levels = (
        data[rows].cat.categories if isinstance(data[rows].dtype, pd.CategoricalDtype) else sorted(data[rows].unique())
    )
    col_levels = (
        data[cols].cat.categories if isinstance(data[cols].dtype, pd.CategoricalDtype) else sorted(data[cols].unique())
    )
    for r in row_levels:
        sub = data.loc[data[rows] == r, cols]
        small = 0 < len(sub) < MIN_GROUP_SIZE
        for c in col_levels:
            count = int((sub == c).sum())
            out.append(
                {
                    "cohort": cohort,
                    "row_variable": rows,
                    "row_level": _level(r),
                    "column_variable": cols,
                    "column_level": _level(c),
                    "count": pd.NA if small else count,
                    "suppressed": small,
                }
            )
    return out


def _term_rows(fit, cohort: str, outcome: str, model: str, suppress: bool = False) -> list[dict]:
    rows = []
    variable_of = {i: term for term, idx in fit.columns_of.items() for i in idx}
    for i, name in enumerate(fit.names[1:], start=1):
        rows.append(
            {
                "cohort": cohort,
                "outcome": outcome,
                "model": model,
                "variable": variable_of[i],
                "term": name,
                "log_or": np.nan if suppress else float(fit.params[i]),
                "se": np.nan if suppress else float(fit.bse[i]),
                "n": fit.nobs,
                "events": fit.events,
                "converged": bool(fit.converged),
                "suppressed": suppress,
            }
        )
    return rows


def _has_small_group(frame: pd.DataFrame, term: str, outcome: str) -> bool:
    """Whether a level of ``term`` has 1 to MIN_GROUP_SIZE - 1 patients (complete cases with the outcome)."""
    if term == "age":
        return False
    sizes = frame[[term, outcome]].dropna()[term].value_counts()
    return bool(((sizes > 0) & (sizes < MIN_GROUP_SIZE)).any())


def bundle_tables(cohorts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The three tables of a bundle from the harmonised cohorts (as the cleaning step writes them).

    Parameters
    ----------
    cohorts : cohort name (``nact_cohort``, ``bone_cohort``) -> harmonised frame.

    Returns
    -------
    dict
        ``terms.csv``, ``counts.csv``, ``cohorts.csv`` -> DataFrame with the columns of :data:`SCHEMAS`.
    """
    terms, counts, sizes = [], [], []
    for cohort, (outcome, model_terms) in MODELS.items():
        frame = _with_outcome(cohort, cohorts[cohort])
        multi = fit_logistic(frame, outcome, model_terms)
        terms += _term_rows(multi, cohort, outcome, "multivariable")
        for term in model_terms:
            # a univariable log OR and its SE give back the 2x2 cells: suppressed with a small group
            terms += _term_rows(
                fit_logistic(frame, outcome, [term]),
                cohort,
                outcome,
                "univariable",
                suppress=_has_small_group(frame, term, outcome),
            )
            if term != "age":
                counts += _cross(frame, cohort, term, outcome)
        n, events = len(frame), int(frame[outcome].astype("boolean").sum())
        small = n < MIN_GROUP_SIZE
        sizes.append(
            {
                "cohort": cohort,
                "outcome": outcome,
                "n": pd.NA if small else n,
                "events": pd.NA if small else events,
                "n_model": pd.NA if small else multi.nobs,
                "events_model": pd.NA if small else multi.events,
                "suppressed": small,
            }
        )
    for cohort, rows, cols in COMPARISONS:
        counts += _cross(cohorts[cohort], cohort, rows, cols)
    tables = {"terms.csv": pd.DataFrame(terms), "counts.csv": pd.DataFrame(counts), "cohorts.csv": pd.DataFrame(sizes)}
    for name, frame in tables.items():
        for col in ("n", "events", "count", "n_model", "events_model"):
            if col in frame:
                frame[col] = frame[col].astype("Int64")
        tables[name] = frame[SCHEMAS[name]]
    return tables
