"""Tidy results rows (``microcalc.analysis.results``) for the inference of issue 13.

Notebooks write them in one line each.

Each function turns one of the dataclasses of :mod:`microcalc.analysis.effects`,
:mod:`microcalc.analysis.imputation`, :mod:`microcalc.analysis.performance`,
:mod:`microcalc.analysis.clustered`, :mod:`microcalc.analysis.meta` or
:mod:`microcalc.analysis.multiplicity` into rows with stable ids
``<prefix>_<quantity>[_<term>]``. New quantities never reuse a published id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from microcalc.analysis.results import is_not_estimable, not_estimable, result
from microcalc.analysis.rows_more import (
    adjusted_p_rows,
    covariate_model_rows,
    missingness_rows,
    proportion_rows,
    random_effects_rows,
    secondary_rows,
    without_rows,
)
from microcalc.analysis.tidy import reason_or as _method
from microcalc.analysis.tidy import said_reason as _said

__all__ = [
    "adjusted_p_rows",
    "missingness_rows",
    "without_rows",
    "secondary_rows",
    "proportion_rows",
    "random_effects_rows",
    "covariate_model_rows",
    "same_sample_rows",
    "standardised_rows",
    "sensitivity_rows",
    "model_check_rows",
    "pooled_rows",
    "cluster_rows",
    "leave_one_out_rows",
]


def same_sample_rows(same, split: pd.DataFrame, prefix: str, term: str, short: str) -> list[dict]:
    """Univariable OR of ``term`` on the model sample, and the change-of-sample / adjustment split (log OR).

    Ids: ``<prefix>_or_<short>_uni_same``, ``<prefix>_logor_<short>_change_of_sample``,
    ``<prefix>_logor_<short>_adjustment``.
    """
    r = same.table.loc[term]
    s = split.loc[term]
    change_note = _first_note(r, ("all", "same"))
    adjust_note = _first_note(r, ("same", "adjusted"))
    return [
        result(
            f"{prefix}_or_{short}_uni_same",
            f"OR, {term} (univariable, model sample)",
            r["or_same"],
            r["ci_low_same"],
            r["ci_high_same"],
            r["p_same"],
            same.n_model,
            _method(
                r.get("note_same"),
                "logistic regression, Wald 95% CI (univariable, on the multivariable model's complete cases)",
            ),
            estimator="wald_logistic",
        ),
        result(
            f"{prefix}_logor_{short}_change_of_sample",
            f"log OR change, {term}: change of sample",
            s["change_of_sample"],
            n=same.n_model,
            method=_method(
                change_note, "log OR univariable on the model sample minus log OR univariable on all patients"
            ),
            estimator="log_or_difference",
        ),
        result(
            f"{prefix}_logor_{short}_adjustment",
            f"log OR change, {term}: adjustment",
            s["adjustment"],
            n=same.n_model,
            method=_method(adjust_note, "log OR multivariable minus log OR univariable, both on the model sample"),
            estimator="log_or_difference",
        ),
    ]


def _first_note(row: pd.Series, suffixes) -> str:
    """The first of ``note_<suffix>`` that says not estimable, or ``""``."""
    return str(next((row.get(f"note_{s}") for s in suffixes if is_not_estimable(row.get(f"note_{s}"))), ""))


def standardised_rows(std, prefix: str, short: str, measure: str = "risk") -> list[dict]:
    """Standardised risks, risk difference (percentage points) and risk ratio.

    Ids: ``<prefix>_risk_<short>_exposed``, ``..._unexposed`` (%), ``<prefix>_rd_<short>``
    (percentage points), ``<prefix>_rr_<short>``. With another ``measure`` (e.g.
    "proportion with recorded bone metastasis") the quantities are named as
    standardised proportions, their difference and their ratio.
    """
    t = std.table
    if measure == "risk":
        names = (
            "standardised risk (%), exposed",
            "standardised risk (%), unexposed",
            "adjusted risk difference (percentage points)",
            "adjusted risk ratio",
        )
    else:
        names = (
            f"standardised {measure} (%), exposed",
            f"standardised {measure} (%), unexposed",
            f"adjusted difference in the {measure} (percentage points)",
            f"adjusted ratio of the {measure}",
        )
    rows = []
    for q, ident, scale, label in (
        ("risk_exposed", f"{prefix}_risk_{short}_exposed", 100, names[0]),
        ("risk_unexposed", f"{prefix}_risk_{short}_unexposed", 100, names[1]),
        ("risk_difference", f"{prefix}_rd_{short}", 100, names[2]),
        ("risk_ratio", f"{prefix}_rr_{short}", 1, names[3]),
    ):
        r = t.loc[q]
        rows.append(
            result(
                ident,
                label,
                scale * r["estimate"],
                scale * r["ci_low"],
                scale * r["ci_high"],
                n=std.n,
                method=std.method,
                estimator="g_computation",
            )
        )
    return rows


def sensitivity_rows(table: pd.DataFrame, prefix: str, short: str) -> list[dict]:
    """Rows of :func:`microcalc.analysis.imputation.exposure_or_sensitivity` but the complete case (reported).

    Ids: ``<prefix>_or_<short>_without_<term>`` and ``<prefix>_or_<short>_imputed``.
    """
    rows = []
    # the table's rows after the complete case: the model without the term (Wald), then the imputed one
    for (_, r), estimator in zip(table.iloc[1:].iterrows(), ("wald_logistic", "multiple_imputation"), strict=True):
        tail = "imputed" if "imputed" in r["analysis"] else r["analysis"].replace(" ", "_")
        rows.append(
            result(
                f"{prefix}_or_{short}_{tail}",
                f"OR, {short}, {r['analysis']}",
                r["or"],
                r["ci_low"],
                r["ci_high"],
                r["p"],
                r["n"],
                r["method"],
                estimator=estimator,
            )
        )
    return rows


def model_check_rows(checks, prefix: str) -> list[dict]:
    """C-statistic (DeLong), optimism-corrected C and calibration, Hosmer-Lemeshow, GVIFs, interaction tests.

    Ids: ``<prefix>_c_statistic``, ``<prefix>_c_corrected``, ``<prefix>_calibration_intercept_corrected``,
    ``<prefix>_calibration_slope_corrected``, ``<prefix>_hosmer_lemeshow`` (estimate = statistic),
    ``<prefix>_gvif_<term>``, ``<prefix>_interaction_<exposure>_<modifier>`` (estimate = LR statistic).
    """
    n = len(checks.y)
    c, v, hl = checks.c, checks.validation, checks.hosmer_lemeshow
    rows = [
        result(
            f"{prefix}_c_statistic",
            "C-statistic (apparent)",
            c.c,
            c.ci_low,
            c.ci_high,
            n=n,
            method=checks.note or "area under the ROC curve, DeLong 95% CI",
            estimator="auc_delong",
        )
    ]
    for measure, ident in (
        ("c_statistic", "c_corrected"),
        ("calibration_intercept", "calibration_intercept_corrected"),
        ("calibration_slope", "calibration_slope_corrected"),
    ):
        rows.append(
            result(
                f"{prefix}_{ident}",
                f"{measure.replace('_', ' ')} (optimism-corrected)",
                v.table.loc[measure, "corrected"],
                n=n,
                method=v.method,
                estimator="bootstrap_validation",
            )
        )
    rows.append(
        result(
            f"{prefix}_hosmer_lemeshow",
            "Hosmer-Lemeshow chi-squared",
            hl.statistic,
            p=hl.p,
            n=n,
            method=f"Hosmer-Lemeshow, {hl.groups} groups of predicted risk, {hl.df} df"
            if np.isfinite(hl.statistic)
            else _said(hl.sentence),
            estimator="hosmer_lemeshow",
        )
    )
    for term, r in checks.vif.iterrows():
        rows.append(
            result(
                f"{prefix}_gvif_{term}",
                f"generalised VIF, {term}",
                r["gvif"],
                n=n,
                method=f"GVIF (Fox & Monette 1992, as car::vif), {int(r['df'])} df"
                if np.isfinite(r["gvif"])
                else checks.note or not_estimable(f"every column of {term} is aliased (rank-deficient design)"),
                estimator="gvif",
            )
        )
    for it in checks.interactions:
        rows.append(
            result(
                f"{prefix}_interaction_{it.exposure}_{it.modifier}",
                f"interaction {it.exposure} x {it.modifier}, LR chi-squared",
                it.statistic,
                p=it.p,
                n=it.n,
                method=f"likelihood-ratio test, {it.df} df" if np.isfinite(it.statistic) else _said(it.sentence),
                estimator="lr_test",
            )
        )
    return rows


def pooled_rows(pooled, ident: str, n: int) -> list[dict]:
    """A :class:`microcalc.analysis.meta.PooledOR`; with a prediction interval, a second row ``<ident>_pi``."""
    extra = "" if not np.isfinite(pooled.tau2) else f"; tau2 {pooled.tau2:.4g}, I2 {pooled.i2:.1f}%"
    if is_not_estimable(pooled.method):
        return [
            result(ident, f"OR pooled over {pooled.k} centres", n=n, method=pooled.method, estimator=pooled.estimator)
        ]
    rows = [
        result(
            ident,
            f"OR pooled over {pooled.k} centres",
            pooled.or_,
            pooled.ci_low,
            pooled.ci_high,
            pooled.p,
            n,
            pooled.method + extra,
            estimator=pooled.estimator,
        )
    ]
    if np.isfinite(pooled.pi_low):
        rows.append(
            result(
                f"{ident}_pi",
                "OR of a new centre, 95% prediction interval",
                pooled.or_,
                pooled.pi_low,
                pooled.pi_high,
                n=n,
                method=f"prediction interval, t with {pooled.df} df and sqrt(se^2 + tau2) (metafor predict)",
                estimator="prediction_interval",
            )
        )
    return rows


def cluster_rows(cr, ident: str, term: str) -> list[dict]:
    """The cluster-robust (CR1, t(G - 1)) OR of ``term``; its caveat in the method text when G < 10."""
    r = cr.table.loc[term]
    method = cr.method + ("; unreliable with fewer than 10 clusters" if cr.n_clusters < 10 else "")
    return [
        result(
            ident,
            f"OR, {term}, multivariable, cluster-robust",
            r["or"],
            r["ci_low"],
            r["ci_high"],
            r["p"],
            cr.nobs,
            cr.method if is_not_estimable(cr.method) else _method(r.get("note"), method),
            estimator="cluster_robust_logistic",
        )
    ]


def leave_one_out_rows(loo: pd.DataFrame, prefix: str, short: str, model: str) -> list[dict]:
    """One row per left-out centre, from :func:`microcalc.analysis.clustered.leave_one_centre_out_models`
    (``model="multivariable"``) or :func:`microcalc.analysis.meta.leave_one_centre_out` (``model="pooled"``).

    Ids: ``<prefix>_or_<short>_<model>_without_<centre>``.
    """
    rows = []
    for _, r in loo.iterrows():
        n = r["n"] if "n" in r else np.nan
        p = r["p"] if "p" in r else np.nan
        method, estimator = (
            ("logistic regression, Wald 95% CI", "wald_logistic")
            if model == "multivariable"
            else ("REML random effects, Hartung-Knapp-Sidik-Jonkman CI", "random_effects_reml")
        )
        note = r.get("note") or ""
        rows.append(
            result(
                f"{prefix}_or_{short}_{model}_without_{r['left_out']}",
                f"OR, {short}, {model}, without centre {r['left_out']}",
                r["or"],
                r["ci_low"],
                r["ci_high"],
                p,
                n,
                (note if is_not_estimable(note) else not_estimable(note or "no estimate"))
                if np.isnan(r["or"])
                else method + (f"; {note}" if note else ""),
                estimator=estimator,
            )
        )
    return rows
