"""The sites' estimates of each finding, pooled: random effects (REML, HKSJ) beside fixed effect and
DerSimonian-Laird, leave one site out, Mantel-Haenszel (part of :mod:`microcalc.pipeline.consortium`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.abstract.pvalues import Z_975
from microcalc.analysis.meta import (
    PooledOR,
    leave_one_centre_out,
    mantel_haenszel,
    pool_dersimonian_laird,
    pool_reml_hksj,
)
from microcalc.pipeline.bundle import Bundle

__all__ = [
    "EXPOSURE",
    "FINDINGS",
    "ConsortiumError",
    "site_estimates",
    "pool_fixed_effect",
    "pool_sites",
    "leave_one_site_out",
    "mantel_haenszel_table",
    "PooledFinding",
    "pool_finding",
]


#: The exposure whose log OR is pooled.
EXPOSURE = "microcalcification"


#: cohort -> (outcome, the published multivariable OR's id, label).
FINDINGS = {
    "nact_cohort": ("non_pcr", "nact_or_calc_multi", "non-pCR"),
    "bone_cohort": ("bone_metastasis", "bone_or_calc_multi", "recorded bone metastasis"),
}


class ConsortiumError(ValueError):
    """Bundles that cannot be pooled; one line per problem."""


def _two_by_two(counts: pd.DataFrame, cohort: str, row: str, outcome: str) -> dict:
    cells = counts[
        (counts["cohort"] == cohort) & (counts["row_variable"] == row) & (counts["column_variable"] == outcome)
    ]
    get = cells.set_index(["row_level", "column_level"])["count"]
    try:
        return {
            "events_exposed": get["yes", "yes"],
            "n_exposed": get["yes", "yes"] + get["yes", "no"],
            "events_reference": get["no", "yes"],
            "n_reference": get["no", "yes"] + get["no", "no"],
        }
    except KeyError:
        return {k: np.nan for k in ("events_exposed", "n_exposed", "events_reference", "n_reference")}


def site_estimates(
    bundles: list[Bundle], cohort: str, model: str = "multivariable", term: str = EXPOSURE
) -> pd.DataFrame:
    """One row per site: its log OR of ``term`` (``model``), variance, OR with Wald 95% CI, and its 2x2 counts.

    The columns are those :func:`microcalc.analysis.meta.leave_one_centre_out` reads
    (``centre`` is the site). A fit that did not converge, or a term a site
    could not estimate, is kept with ``estimable`` False and the reason in ``note``.
    """
    outcome = FINDINGS[cohort][0]
    rows = []
    for b in bundles:
        t = b.terms
        hit = t[(t["cohort"] == cohort) & (t["model"] == model) & (t["term"] == term)]
        row: dict[str, Any] = {"centre": b.site}
        if len(hit):
            h = hit.iloc[0]
            row.update(
                log_or=float(h["log_or"]),
                se=float(h["se"]),
                n=int(h["n"]),
                events=int(h["events"]),
                converged=bool(h["converged"]),
            )
        else:
            row.update(log_or=np.nan, se=np.nan, n=np.nan, events=np.nan, converged=False)
        row.update(_two_by_two(b.counts, cohort, term, outcome))
        ok = np.isfinite(row["log_or"]) and np.isfinite(row["se"]) and row["converged"]
        row["estimable"] = bool(ok)
        if ok:
            row["note"] = ""
        elif not len(hit):
            row["note"] = f"not estimable: the bundle has no {model} term {term!r}"
        elif str(hit.iloc[0]["suppressed"]).lower() == "true":
            row["note"] = "not estimable: suppressed in the bundle (a group of fewer than 10 patients)"
        else:
            row["note"] = "not estimable: the site's model did not converge"
        rows.append(row)
    out = pd.DataFrame(rows)
    out["var"] = out["se"] ** 2
    out["or"] = np.exp(out["log_or"])
    out["ci_low"] = np.exp(out["log_or"] - Z_975 * out["se"])
    out["ci_high"] = np.exp(out["log_or"] + Z_975 * out["se"])
    return out


def pool_fixed_effect(log_or, var, level: float = 0.95) -> PooledOR:
    """Fixed-effect inverse-variance pooling (R ``metafor::rma(yi, vi, method = "FE")``), as a :class:`PooledOR`."""
    y, v = np.asarray(log_or, float), np.asarray(var, float)
    keep = np.isfinite(y) & np.isfinite(v)
    y, v = y[keep], v[keep]
    if len(y) < 1:
        raise ValueError("not estimable: no site with a finite estimate")
    w = 1 / v
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(1 / np.sum(w)))
    z = float(stats.norm.ppf(0.5 + level / 2))
    q = float(np.sum(w * (y - mu) ** 2))
    k = len(y)
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else np.nan
    i2 = max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0
    return PooledOR(
        "fixed effect, inverse variance, Wald CI (normal)",
        k,
        mu,
        se,
        float(np.exp(mu)),
        float(np.exp(mu - z * se)),
        float(np.exp(mu + z * se)),
        float(2 * stats.norm.sf(abs(mu / se))),
        None,
        0.0,
        i2,
        q,
        q_p,
        estimator="fixed_effect_iv",
    )


def pool_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """REML + HKSJ (with prediction interval), fixed-effect IV and DerSimonian-Laird of the estimable sites,
    and, as a check, the Hartung-Knapp variance truncated at the fixed-effect one (metafor ``test = "adhoc"``):
    with sites that agree more closely than their standard errors predict (Q < k - 1) the untruncated
    interval can be narrower than the fixed-effect one.

    Returns one row per method (the fields of :class:`microcalc.analysis.meta.PooledOR`);
    a method that cannot be had is a row of NaN with ``note`` "not estimable: <reason>".
    """
    est = sites[sites["estimable"]]
    rows = []

    def truncated(y, v):
        return pool_reml_hksj(y, v, truncate=True)

    for label, fn in (
        ("REML + HKSJ", pool_reml_hksj),
        ("fixed effect (IV)", pool_fixed_effect),
        ("DerSimonian-Laird", pool_dersimonian_laird),
        ("REML + HKSJ truncated (check)", truncated),
    ):
        try:
            r = asdict(fn(est["log_or"], est["var"]))
            r["note"] = ""
        except ValueError as err:
            r = {"method": label, "k": len(est), "note": f"not estimable: {err}"}
        r["label"] = label
        rows.append(r)
    return pd.DataFrame(rows).rename(columns={"or_": "or"})


def leave_one_site_out(sites: pd.DataFrame) -> pd.DataFrame:
    """REML + HKSJ of the multivariable log ORs and Mantel-Haenszel of the counts, each site left out in turn."""
    return leave_one_centre_out(sites[sites["estimable"]].reset_index(drop=True)).rename(
        columns={"left_out": "site_left_out"}
    )


def mantel_haenszel_table(bundles: list[Bundle]) -> pd.DataFrame:
    """Mantel-Haenszel OR across sites of every yes/no comparison with the outcome that all sites' counts show.

    Each site is a stratum (R ``mantelhaen.test`` on the 2x2xK table; Robins-Breslow-Greenland CI).
    """
    rows = []
    for cohort, (outcome, _, _label) in FINDINGS.items():
        first = bundles[0].counts
        variables = first[
            (first["cohort"] == cohort) & (first["column_variable"] == outcome) & first["row_level"].isin(["yes", "no"])
        ]["row_variable"].unique()
        for var in variables:
            strata = pd.DataFrame([{"centre": b.site, **_two_by_two(b.counts, cohort, var, outcome)} for b in bundles])
            row = {"cohort": cohort, "outcome": outcome, "comparison": f"{var} yes vs no", "k": len(strata)}
            if strata.drop(columns="centre").isna().any().any():
                row["note"] = "not estimable: a site's counts are suppressed (small-group rule) or missing"
            else:
                try:
                    m = mantel_haenszel(strata)
                    row.update(
                        {"or": m.or_, "ci_low": m.ci_low, "ci_high": m.ci_high, "p": m.p, "cmh_chi2": m.q, "note": ""}
                    )
                except ValueError as err:
                    row["note"] = f"not estimable: {err}"
            rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PooledFinding:
    """Everything the consortium notebook shows for one finding (:func:`pool_finding`).

    Attributes
    ----------
    sites : each site's estimate (:func:`site_estimates`).
    pooled : the pooled ORs (:func:`pool_sites`).
    leave_one_out : the pooled OR with each site left out (:func:`leave_one_site_out`).
    heterogeneity : a sentence that never concludes homogeneity from few sites
        (:func:`microcalc.analysis.meta.heterogeneity_sentence`).
    published : the paper's OR.
    label : the outcome in words; outcome : its column.
    """

    sites: pd.DataFrame
    pooled: pd.DataFrame
    leave_one_out: pd.DataFrame
    heterogeneity: str
    published: float
    label: str
    outcome: str


def pool_finding(bundles: list[Bundle], cohort: str) -> PooledFinding:
    """Everything the notebook shows for one finding (``cohort``'s multivariable OR of microcalcification).

    Returns
    -------
    PooledFinding
    """
    from microcalc.abstract.published import load_published
    from microcalc.analysis.meta import heterogeneity_sentence

    outcome, ident, label = FINDINGS[cohort]
    sites = site_estimates(bundles, cohort)
    est = sites[sites["estimable"]]
    try:
        sentence = heterogeneity_sentence(pool_reml_hksj(est["log_or"], est["var"]))
        sentence = sentence.replace("centres", "sites").replace("centre", "site")
    except ValueError as err:
        sentence = f"Heterogeneity not estimable: {err}."
    pooled = pool_sites(sites)
    by = pooled.set_index("label")
    if (
        by.loc["REML + HKSJ", "ci_high"] / by.loc["REML + HKSJ", "ci_low"]
        < by.loc["fixed effect (IV)", "ci_high"] / by.loc["fixed effect (IV)", "ci_low"]
    ):
        sentence += (
            " The sites agree more closely than their standard errors predict (Q < k - 1), so the "
            "untruncated Hartung-Knapp interval is narrower than the fixed-effect one; this is a known "
            "property of the method with few sites, not extra precision: read the truncated interval "
            "(the Hartung-Knapp variance never below the fixed-effect one) beside it."
        )
    return PooledFinding(
        sites=sites,
        pooled=pooled,
        leave_one_out=leave_one_site_out(sites),
        heterogeneity=sentence,
        published=float(load_published().loc[ident, "value"]),
        label=label,
        outcome=outcome,
    )
