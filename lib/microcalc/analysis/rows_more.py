"""More tidy results rows: adjusted P values, missingness, models without a covariate, secondary comparisons,
proportions, random-effects and covariate models (:mod:`microcalc.analysis.inference_rows` re-exports them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from microcalc.analysis.results import is_not_estimable, not_estimable, result
from microcalc.analysis.tidy import reason_or as _method

__all__ = [
    "adjusted_p_rows",
    "missingness_rows",
    "without_rows",
    "secondary_rows",
    "proportion_rows",
    "random_effects_rows",
    "covariate_model_rows",
]


def adjusted_p_rows(adjusted, n: dict | None = None, reasons: dict | None = None) -> list[dict]:
    """Holm and Benjamini-Hochberg P of each comparison; ids ``<label>_p_holm`` and ``<label>_p_bh``.

    A comparison without a P is written ``not estimable: <reason>`` (``reasons[label]``, when given).
    """
    n, reasons = n or {}, reasons or {}
    rows = []
    for label, r in adjusted.table.iterrows():
        for col, name, estimator in (
            ("p_holm", "Holm", "p_adjust_holm"),
            ("p_bh", "Benjamini-Hochberg", "p_adjust_bh"),
        ):
            method = (
                f"{name} adjustment over {adjusted.family_size} secondary comparisons (R p.adjust)"
                if np.isfinite(r[col])
                else _method(reasons.get(label), not_estimable("the comparison has no P"))
            )
            rows.append(
                result(
                    f"{label}_{col}",
                    f"{label}, {name}-adjusted P",
                    p=r[col],
                    n=n.get(label, np.nan),
                    method=method,
                    estimator=estimator,
                )
            )
    return rows


def missingness_rows(missing, prefix: str) -> list[dict]:
    """OR of being recorded by each variable of :func:`microcalc.analysis.imputation.missingness_association`, Fisher P.

    Ids: ``<prefix>_or_recorded_<variable>``.
    """
    rows = []
    for v, r in missing.table.iterrows():
        quantity, n = f"OR of {missing.column} being recorded, {v} yes vs no", r["n_yes"] + r["n_no"]
        if not is_not_estimable(r.get("note")):
            rows.append(
                result(
                    f"{prefix}_or_recorded_{v}",
                    quantity,
                    r["or"],
                    r["ci_low"],
                    r["ci_high"],
                    r["p"],
                    n,
                    "logistic regression of recorded on the variable, Wald 95% CI; Fisher's exact P",
                    estimator="wald_logistic",
                )
            )
            continue
        rows.append(result(f"{prefix}_or_recorded_{v}", quantity, n=n, method=r["note"], estimator="wald_logistic"))
        if np.isfinite(r["p"]):  # the OR is not estimable, the exact test is
            rows.append(
                result(
                    f"{prefix}_or_recorded_{v}",
                    f"{missing.column} recorded by {v}, Fisher's exact P",
                    p=r["p"],
                    n=n,
                    method="Fisher's exact test, two-sided",
                    estimator="fisher_exact",
                    table_shape="2x2",
                )
            )
    return rows


def without_rows(fit, ident: str, term: str) -> list[dict]:
    """The OR of ``term`` in a :class:`microcalc.analysis.effects.SensitivityFit` (a model without some terms)."""
    r = fit.table.loc[term]
    return [
        result(
            ident,
            f"OR, {term}, multivariable {fit.label}",
            r["or"],
            r["ci_low"],
            r["ci_high"],
            r["p"],
            fit.n,
            _method(
                r.get("note"), f"logistic regression {fit.label}, every patient with the other covariates, Wald 95% CI"
            ),
            estimator="wald_logistic",
        )
    ]


def secondary_rows(secondary, n: dict | None = None) -> list[dict]:
    """Smallest expected count of each comparison of :func:`microcalc.analysis.multiplicity.secondary_comparisons`,
    and its Holm and Benjamini-Hochberg P (:func:`adjusted_p_rows`).

    Ids: ``<label>_min_expected``, ``<label>_p_holm``, ``<label>_p_bh``.
    """
    n = n or {}
    rows = [
        result(
            f"{label}_min_expected",
            f"{label}, smallest expected count",
            r["min_expected"],
            n=n.get(label, np.nan),
            method=f"expected counts under independence ({r['comparison']}); {int(r['cells_below_5'])} cells below 5",
            estimator="expected_counts",
        )
        for label, r in secondary.table.iterrows()
    ]
    reasons = {label: r["sparse"] for label, r in secondary.table.iterrows() if is_not_estimable(r["sparse"])}
    return rows + adjusted_p_rows(secondary.adjusted, n, reasons)


def proportion_rows(ident: str, quantity: str, count: int, total: int, method: str) -> list[dict]:
    """``count`` of ``total`` as a percentage (estimate ``100 * count / total``, n = ``total``, a proportion).

    >>> proportion_rows("toy_assessed", "patients assessed (%)", 3, 8, "proportion of the cohort")[0]["estimate"]
    37.5
    """
    return [result(ident, quantity, 100 * count / total, n=total, method=method, estimator="proportion")]


def random_effects_rows(pooled, ident: str, term: str, n: int) -> list[dict]:
    """The DerSimonian-Laird OR of ``term`` pooled over centres (:func:`microcalc.analysis.meta.pool_random_effects`).

    The method names tau2 and I2; when nothing could be pooled it is the pooled OR's ``not estimable: <reason>``.
    """
    method = f"DerSimonian-Laird random effects over {pooled.k} centres; tau2 {pooled.tau2:.4g}, I2 {pooled.i2:.1f}%"
    return [
        result(
            ident,
            f"OR, {term}, pooled over centres",
            pooled.or_,
            pooled.ci_low,
            pooled.ci_high,
            pooled.p,
            n,
            pooled.note or method,
            estimator="random_effects_dl",
        )
    ]


def covariate_model_rows(row: pd.Series, ident: str, term: str, n: int, covariate: str) -> list[dict]:
    """The OR of ``term`` in the multivariable model with ``covariate`` added (``row``: its ``or``, ``ci_low``,
    ``ci_high``, ``p`` and ``note``, e.g. of :func:`microcalc.analysis.stats.model_estimates`).
    """
    method = f"logistic regression, Wald 95% CI, {covariate} as covariate"
    return [
        result(
            ident,
            f"OR, {term}, multivariable + {covariate}",
            row["or"],
            row["ci_low"],
            row["ci_high"],
            row["p"],
            n,
            row["note"] or method,
            estimator="wald_logistic",
        )
    ]
