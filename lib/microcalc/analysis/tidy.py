"""The tidy results table: one row per estimate, the shape every analysis notebook writes.

Columns: ``id`` (the published id wherever the paper reports that number),
``quantity``, ``estimate``, ``ci_low``, ``ci_high``, ``p``, ``n``, ``method``
(the human description), ``estimator`` (a key of :data:`ESTIMATORS`, the
typed name of how the number was computed) and ``table_shape`` (for a test
of a contingency table, its shape: "2x2", "2x3"; else empty) and
``category`` (for a claim about a category, e.g. the most frequent type, the
category's code name; else empty). Code selects rows by ``estimator``,
``table_shape`` and ``category``, never by the words of ``method`` or ``quantity``.
The replication report reads these files. An estimate that the data cannot
give has no numbers and its ``method`` reads ``not estimable: <reason>``
(:func:`not_estimable`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.core.outputs import write_csv
from microcalc.core.paths import project_path

__all__ = [
    "COLUMNS",
    "ESTIMATORS",
    "NOT_ESTIMABLE",
    "check_estimators",
    "estimator_of",
    "is_not_estimable",
    "not_estimable",
    "read_results",
    "reason_or",
    "result",
    "said_reason",
    "with_estimators",
    "write_results",
]

COLUMNS = [
    "id",
    "quantity",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "n",
    "method",
    "estimator",
    "table_shape",
    "category",
]

#: The fixed vocabulary of the ``estimator`` column: key -> what it is.
ESTIMATORS = {
    "wilson_proportion": "proportion (%) with a Wilson score 95% CI",
    "proportion": "proportion or share (%) without a CI",
    "count": "a number of patients",
    "wald_logistic": "logistic regression, OR with a Wald 95% CI and P",
    "firth_logistic": "Firth-penalised logistic regression, profile-likelihood CI, penalised LR P",
    "cluster_robust_logistic": "logistic regression with a cluster-robust (CR1) SE",
    "lr_test": "likelihood-ratio test",
    "pearson_chi2": "Pearson chi-squared test, no continuity correction",
    "yates_chi2": "chi-squared test with Yates' continuity correction",
    "fisher_exact": "Fisher's exact test, two-sided",
    "mann_whitney": "Mann-Whitney U test, normal approximation",
    "g_computation": "marginal standardisation (g-computation): risks, risk difference and ratio",
    "multiple_imputation": "multiple imputation by chained equations, pooled by Rubin's rules",
    "log_or_difference": "difference of two log ORs (change of sample, adjustment)",
    "evalue": "E-value (VanderWeele & Ding 2017)",
    "events_per_variable": "events per variable of a logistic model",
    "gvif": "generalised variance inflation factor",
    "auc_delong": "area under the ROC curve with a DeLong 95% CI",
    "hosmer_lemeshow": "Hosmer-Lemeshow goodness-of-fit test",
    "bootstrap_validation": "Harrell's bootstrap optimism correction",
    "random_effects_dl": "DerSimonian-Laird random-effects pooling",
    "random_effects_reml": "REML random-effects pooling with a Hartung-Knapp-Sidik-Jonkman CI",
    "mantel_haenszel": "Mantel-Haenszel pooled OR",
    "fixed_effect_iv": "inverse-variance fixed-effect pooled OR",
    "prediction_interval": "95% prediction interval of a random-effects model",
    "p_adjust_holm": "Holm-adjusted P",
    "p_adjust_bh": "Benjamini-Hochberg-adjusted P",
    "expected_counts": "smallest expected count of a contingency table",
    "not_estimable": "not estimable, and written by code that did not say what it attempted",
}

# For old files only: how the ``method`` texts of results files written before the ``estimator`` column
# existed map to it, read by ``read_results`` alone (``write_results`` refuses a row without an estimator).
# The only place a method text is read. First match wins.
_LEGACY = (
    ("proportion (%), 95% Wilson", "wilson_proportion"),
    ("proportion", "proportion"),
    ("share (%)", "proportion"),
    ("logistic regression, cluster-robust", "cluster_robust_logistic"),
    ("logistic regression", "wald_logistic"),
    ("Firth-penalised", "firth_logistic"),
    ("likelihood-ratio test", "lr_test"),
    ("Pearson chi-squared", "pearson_chi2"),
    ("chi-squared with Yates", "yates_chi2"),
    ("Fisher's exact", "fisher_exact"),
    ("Mann-Whitney", "mann_whitney"),
    ("marginal standardisation", "g_computation"),
    ("multiple imputation", "multiple_imputation"),
    ("log OR ", "log_or_difference"),
    ("E-value", "evalue"),
    ("limiting events", "events_per_variable"),
    ("GVIF", "gvif"),
    ("area under the ROC", "auc_delong"),
    ("Hosmer-Lemeshow", "hosmer_lemeshow"),
    ("Harrell's bootstrap", "bootstrap_validation"),
    ("DerSimonian-Laird", "random_effects_dl"),
    ("REML random effects", "random_effects_reml"),
    ("random effects, REML", "random_effects_reml"),
    ("Mantel-Haenszel", "mantel_haenszel"),
    ("prediction interval", "prediction_interval"),
    ("Holm", "p_adjust_holm"),
    ("Benjamini-Hochberg", "p_adjust_bh"),
    ("expected counts", "expected_counts"),
    ("not estimable:", "not_estimable"),
)

_SHAPE = re.compile(r"on the (2x\d+) ")


def estimator_of(method: str) -> tuple[str, str]:
    """``(estimator, table_shape)`` of a row of a results file written before those columns existed, read
    from its ``method`` text. Only :func:`read_results` uses it (for old files); rows being written carry
    their estimator as data and :func:`write_results` refuses one without.

    >>> estimator_of("Pearson chi-squared, no continuity correction on the 2x3 table")
    ('pearson_chi2', '2x3')
    """
    text = str(method)
    shape = _SHAPE.search(text + " ")
    for start, estimator in _LEGACY:
        if text.startswith(start):
            return estimator, shape.group(1) if shape else ""
    raise ValueError(f"no estimator of {sorted(ESTIMATORS)} describes the method {text!r}: give the row an estimator")


def check_estimators(frame: pd.DataFrame, where: str = "results") -> None:
    """Raise ValueError listing every row whose ``estimator`` is not in :data:`ESTIMATORS`, or whose
    ``table_shape`` is neither empty nor "2x<k>"."""
    bad = ~frame["estimator"].isin(list(ESTIMATORS))
    shape = ~frame["table_shape"].fillna("").astype(str).str.fullmatch(r"(2x\d+)?")
    problems = [f"row {i} (id {frame.at[i, 'id']}): estimator {frame.at[i, 'estimator']!r}" for i in frame.index[bad]]
    problems += [
        f"row {i} (id {frame.at[i, 'id']}): table_shape {frame.at[i, 'table_shape']!r}" for i in frame.index[shape]
    ]
    if problems:
        raise ValueError(
            f"{where}: {len(problems)} rows outside the vocabulary (estimator one of "
            f"{', '.join(ESTIMATORS)}; table_shape empty or 2x<k>): " + "; ".join(problems)
        )


#: The words that open the ``method`` of every estimate the data cannot give.
NOT_ESTIMABLE = "not estimable"


def not_estimable(reason: str) -> str:
    """``"not estimable: <reason>"``, the method (and the text) of an estimate that cannot be had."""
    return f"{NOT_ESTIMABLE}: {reason}"


def is_not_estimable(method) -> bool:
    """Whether a method text (or a note) says the estimate is not estimable."""
    return isinstance(method, str) and method.startswith(f"{NOT_ESTIMABLE}:")


def result(
    ident: str,
    quantity: str,
    estimate=np.nan,
    ci_low=np.nan,
    ci_high=np.nan,
    p=np.nan,
    n=np.nan,
    method: str = "",
    estimator: str | None = None,
    table_shape: str = "",
    category: str = "",
) -> dict:
    """One row of results (numbers as floats; missing as NaN).

    ``estimator`` is a key of :data:`ESTIMATORS`, chosen by the code that computed the row (for a not
    estimable row, what was attempted); :func:`write_results` refuses a row without one.
    ``table_shape``: "2x<k>" for a test of a 2xk table. ``category``: the category a claim is about (its code name).
    """
    return {
        "id": ident,
        "quantity": quantity,
        "estimate": float(estimate),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "p": float(p),
        "n": float(n),
        "method": method,
        "estimator": estimator,
        "table_shape": table_shape,
        "category": category,
    }


def with_estimators(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``estimator`` and ``table_shape`` filled where missing (:func:`estimator_of`).

    Only for results files written before the columns existed (:func:`read_results`).
    """
    frame = frame.copy()
    if "table_shape" not in frame:
        frame["table_shape"] = None
    if "estimator" not in frame:
        frame["estimator"] = None
    missing = frame["estimator"].isna()
    for i in frame.index[missing]:
        estimator, shape = estimator_of(frame.at[i, "method"])
        frame.at[i, "estimator"] = estimator
        if pd.isna(frame.at[i, "table_shape"]) or frame.at[i, "table_shape"] == "":
            frame.at[i, "table_shape"] = shape
    frame["table_shape"] = frame["table_shape"].fillna("").astype(str)
    # files written before the column existed have no category (claims then say so: nothing is read from text)
    frame["category"] = (frame["category"] if "category" in frame else pd.Series("", index=frame.index)).fillna("")
    frame["category"] = frame["category"].astype(str)
    return frame


def write_results(rows: list[dict], name: str, output_dir: str | os.PathLike = ".") -> Path:
    """Write ``<output_dir>/data/results/<name>.csv``; ids must be unique per method, every row must carry
    an estimator (nothing is read from its ``method`` text) in :data:`ESTIMATORS` (checked before anything
    is written)."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    dup = frame.duplicated(["id", "method"])
    if dup.any():
        raise ValueError(f"duplicate result rows: {frame.loc[dup, ['id', 'method']].values.tolist()}")
    lacking = [
        f"row {i} (id {frame.at[i, 'id']})" for i in frame.index if not isinstance(frame.at[i, "estimator"], str)
    ]
    if lacking:
        raise ValueError(
            f"{name}.csv: {len(lacking)} rows without an estimator (give result(..., estimator=) one of "
            f"{', '.join(ESTIMATORS)}): " + "; ".join(lacking)
        )
    frame["table_shape"] = frame["table_shape"].fillna("").astype(str)
    frame["category"] = frame["category"].fillna("").astype(str)
    check_estimators(frame, f"{name}.csv")
    frame["n"] = frame["n"].astype("Int64")
    return write_csv(frame, project_path(output_dir) / "data" / "results" / f"{name}.csv")


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """A results file, ids as text, with its ``estimator`` and ``table_shape`` (read from ``method`` for a
    file written before those columns existed), checked against :data:`ESTIMATORS`."""
    frame = pd.read_csv(
        path,
        dtype={"id": str, "quantity": str, "method": str, "estimator": str, "table_shape": str, "category": str},
        keep_default_na=True,
    )
    frame = with_estimators(frame)
    check_estimators(frame, Path(path).name)
    return frame


def reason_or(note, method: str) -> str:
    """``note`` when it says ``not estimable: <reason>``, else ``method``."""
    return note if is_not_estimable(note) else method


def said_reason(sentence: str) -> str:
    """The ``not estimable: <reason>`` that a sentence ``"<what>: not estimable: <reason>."`` ends with."""
    return sentence[sentence.index("not estimable: ") :].rstrip(".")
