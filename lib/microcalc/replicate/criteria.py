"""The replication criteria of a site run: does each finding of the paper hold in the site's patients?

Each finding (:data:`microcalc.study.FINDINGS`) is judged on the standard
criteria of the replication literature (:func:`criteria`): same direction and
significant (Open Science Collaboration 2015); the published estimate inside
the site's 95% CI; the site's estimate inside the 95% prediction interval for
a replication (Patil, Peng & Leek 2016); the difference of the two log ORs
with its CI and P; and their fixed-effect combination. Cohort sizes, rates
and shares are context (:func:`microcalc.replicate.findings.context_table`), never
counted as differences. :mod:`microcalc.replicate.findings` puts the table of
:func:`findings_table` into words, tables and a figure for the page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from microcalc.abstract.published import parse_reported
from microcalc.analysis.results import with_estimators
from microcalc.study import CONFIDENCE_LEVEL, FINDINGS, SIGNIFICANCE_LEVEL, Finding

__all__ = ["FINDINGS_COLUMNS", "Criteria", "criteria", "findings_table", "se_from_ci"]


_Z = float(norm.ppf(1 - (1 - CONFIDENCE_LEVEL) / 2))


def se_from_ci(ci_low: float, ci_high: float, level: float = CONFIDENCE_LEVEL) -> float:
    """The SE of a log OR recovered from its CI: (log hi − log lo) / (2 z), z = qnorm(1 − (1 − level)/2)."""
    z = float(norm.ppf(1 - (1 - level) / 2))
    return float((np.log(ci_high) - np.log(ci_low)) / (2 * z))


@dataclass(frozen=True)
class Criteria:
    """The replication criteria of one odds ratio, site against published (ORs on the OR scale).

    Attributes
    ----------
    same_direction : log ORs of the same sign (a null estimate has no direction)
    site_significant : the site's P below :data:`microcalc.study.SIGNIFICANCE_LEVEL`
    direction_and_significance : criterion 1 (Open Science Collaboration 2015): same direction and
        significant; for a finding the paper reports as not significant, not significant either
    published_inside_site_ci : criterion 2
    prediction_interval_low, prediction_interval_high, site_inside_prediction_interval : criterion 3
        (Patil, Peng & Leek 2016): published log OR ± z·sqrt(se_pub² + se_site²)
    difference_log_or, difference_ci_low, difference_ci_high, difference_p : criterion 4, site − published
        log OR with its CI and the two-sided P of the z-test of two independent estimates
    combined_or, combined_ci_low, combined_ci_high, combined_p : criterion 5, fixed-effect
        inverse-variance combination of the two log ORs
    compatible_with_published_and_null : the site's CI holds both the published OR and 1
    """

    same_direction: bool
    site_significant: bool
    direction_and_significance: bool
    published_inside_site_ci: bool
    prediction_interval_low: float
    prediction_interval_high: float
    site_inside_prediction_interval: bool
    difference_log_or: float
    difference_ci_low: float
    difference_ci_high: float
    difference_p: float
    combined_or: float
    combined_ci_low: float
    combined_ci_high: float
    combined_p: float
    compatible_with_published_and_null: bool


def criteria(
    published_or: float,
    published_ci_low: float,
    published_ci_high: float,
    site_or: float,
    site_ci_low: float,
    site_ci_high: float,
    site_p: float,
    published_significant: bool = True,
) -> Criteria:
    """The five replication criteria for an odds ratio with a 95% CI, published against site.

    Both SEs are recovered from the 95% CIs on the log scale (:func:`se_from_ci`;
    exact for a Wald CI). With b = log OR and z = qnorm(0.975):

    1. same sign of b, and site P < 0.05 (or, when the paper reported the
       finding as not significant, site P ≥ 0.05);
    2. ``site_ci_low <= published_or <= site_ci_high``;
    3. b_site inside b_pub ± z·sqrt(se_pub² + se_site²);
    4. d = b_site − b_pub, CI d ± z·sqrt(se_pub² + se_site²), P = 2·(1 − Φ(|d|/se_d));
    5. b = Σ w·b / Σ w with w = 1/se², CI b ± z / sqrt(Σ w), P = 2·(1 − Φ(|b|·sqrt(Σ w))).

    Criteria 3 and 4 share their variance: the site's estimate lies outside
    the prediction interval exactly when the difference has P < 0.05.
    """
    b_pub, b_site = np.log(published_or), np.log(site_or)
    se_pub, se_site = se_from_ci(published_ci_low, published_ci_high), se_from_ci(site_ci_low, site_ci_high)
    se_d = float(np.hypot(se_pub, se_site))
    d = float(b_site - b_pub)
    w = np.array([1 / se_pub**2, 1 / se_site**2])
    b_fe = float((w * np.array([b_pub, b_site])).sum() / w.sum())
    se_fe = float(1 / np.sqrt(w.sum()))
    same = bool(np.sign(b_pub) == np.sign(b_site) != 0)
    significant = bool(site_p < SIGNIFICANCE_LEVEL)
    return Criteria(
        same_direction=same,
        site_significant=significant,
        direction_and_significance=(same and significant) if published_significant else not significant,
        published_inside_site_ci=bool(site_ci_low <= published_or <= site_ci_high),
        prediction_interval_low=float(np.exp(b_pub - _Z * se_d)),
        prediction_interval_high=float(np.exp(b_pub + _Z * se_d)),
        site_inside_prediction_interval=bool(abs(d) <= _Z * se_d),
        difference_log_or=d,
        difference_ci_low=d - _Z * se_d,
        difference_ci_high=d + _Z * se_d,
        difference_p=float(2 * norm.sf(abs(d) / se_d)),
        combined_or=float(np.exp(b_fe)),
        combined_ci_low=float(np.exp(b_fe - _Z * se_fe)),
        combined_ci_high=float(np.exp(b_fe + _Z * se_fe)),
        combined_p=float(2 * norm.sf(abs(b_fe) / se_fe)),
        compatible_with_published_and_null=bool(
            site_ci_low <= published_or <= site_ci_high and site_ci_low <= 1 <= site_ci_high
        ),
    )


_CRITERIA_FIELDS = list(Criteria.__dataclass_fields__)

#: The columns of ``replication_findings.csv``: numbers and booleans, one row per finding.
FINDINGS_COLUMNS = (
    [
        "id",
        "measure",
        "kind",
        "published",
        "published_estimate",
        "published_ci_low",
        "published_ci_high",
        "published_significant",
        "published_rate_difference",
        "site_estimate",
        "site_ci_low",
        "site_ci_high",
        "site_p",
        "site_n",
        "site_method",
        "site_rate_difference",
    ]
    + _CRITERIA_FIELDS
    + ["note"]
)

_FLAGS = ["published_significant"] + [c for c in _CRITERIA_FIELDS if Criteria.__dataclass_fields__[c].type == "bool"]
_TEXT = ["id", "measure", "kind", "published", "site_method", "note"]

_NOT_APPLICABLE = "criteria 2-5 not applicable: the abstract reports this comparison only as a P"


def _published_significant(text: str) -> bool:
    rep = parse_reported(text)
    return bool(rep.value <= SIGNIFICANCE_LEVEL if rep.relation == "<" else rep.value < SIGNIFICANCE_LEVEL)


def _site_row(results: pd.DataFrame, ident: str, estimator: str, table_shape: str = "") -> pd.Series | None:
    res = results[(results["id"] == ident) & (results["estimator"] == estimator)]
    if table_shape:
        res = res[res["table_shape"] == table_shape]
    return res.iloc[0] if len(res) else None


def _finding_row(finding: Finding, pub: pd.DataFrame, results: pd.DataFrame) -> dict:
    p = pub.loc[finding.id]
    row: dict = dict.fromkeys(FINDINGS_COLUMNS, np.nan) | dict.fromkeys(_FLAGS, pd.NA)
    row.update(
        id=finding.id,
        measure=p["measure"],
        kind=finding.kind,
        note="",
        site_method="",
        published_significant=_published_significant(p["p"]),
    )
    site = _site_row(results, finding.id, finding.estimator, finding.table_shape)
    if finding.kind == "odds_ratio":
        row.update(
            published=f"{p['value']} ({p['ci_low']}-{p['ci_high']}), {p['p']}",
            **{
                k: parse_reported(p[f]).value
                for k, f in (
                    ("published_estimate", "value"),
                    ("published_ci_low", "ci_low"),
                    ("published_ci_high", "ci_high"),
                )
            },
        )
        if site is None:
            row["note"] = f"not estimable: this run has no {finding.estimator} result for {finding.id}"
            return row
        row.update(
            site_estimate=site["estimate"],
            site_ci_low=site["ci_low"],
            site_ci_high=site["ci_high"],
            site_p=site["p"],
            site_n=site["n"],
            site_method=site["method"],
        )
        values = np.array([site["estimate"], site["ci_low"], site["ci_high"]], dtype=float)
        if not (np.isfinite(values).all() and (values > 0).all() and values[2] > values[1]):
            row["note"] = "not estimable: the site's OR or its CI is not finite (separation or no events?)"
            return row
        row.update(
            asdict(
                criteria(
                    row["published_estimate"],
                    row["published_ci_low"],
                    row["published_ci_high"],
                    values[0],
                    values[1],
                    values[2],
                    site["p"],
                    row["published_significant"],
                )
            )
        )
        return row
    if len(finding.rates) != 2:
        raise ValueError(
            f"finding {finding.id}: a comparison names the published ids of its two rates, got {finding.rates}"
        )
    rates = [parse_reported(pub.loc[r, "value"]).value for r in finding.rates]
    row.update(
        published=f"{pub.loc[finding.rates[0], 'value']} vs {pub.loc[finding.rates[1], 'value']}, {p['p']}",
        published_rate_difference=rates[0] - rates[1],
        note=_NOT_APPLICABLE,
    )
    site_rates = [_site_row(results, r, "wilson_proportion") for r in finding.rates]
    found_rates = [r for r in site_rates if r is not None]
    if site is None or len(found_rates) < len(site_rates):
        row["note"] = f"not estimable: this run has no {finding.estimator} result or no rates for {finding.id}"
        return row
    diff = float(found_rates[0]["estimate"] - found_rates[1]["estimate"])
    same = bool(np.sign(diff) == np.sign(row["published_rate_difference"]) != 0)
    significant = bool(site["p"] < SIGNIFICANCE_LEVEL)
    row.update(
        site_p=site["p"],
        site_n=site["n"],
        site_method=site["method"],
        site_rate_difference=diff,
        same_direction=same,
        site_significant=significant,
        direction_and_significance=(same and significant) if row["published_significant"] else not significant,
    )
    return row


def findings_table(
    published: pd.DataFrame, results: pd.DataFrame, findings: tuple[Finding, ...] = FINDINGS
) -> pd.DataFrame:
    """One row per finding of :data:`microcalc.study.FINDINGS` with every replication criterion, as numbers.

    Odds ratios get all five criteria (:func:`criteria`). Comparisons that
    the abstract reports only as a P get criterion 1 (the same direction of
    the rate difference, in percentage points, and the site's P below 0.05;
    for the type comparison, which the paper reports as not significant, the
    site's P at or above 0.05) and missing values, with a note, for the
    others. A finding this run could not estimate keeps missing criteria and
    a note "not estimable: <reason>".
    """
    results = with_estimators(results)
    table = pd.DataFrame([_finding_row(f, published, results) for f in findings], columns=FINDINGS_COLUMNS)
    table[_FLAGS] = table[_FLAGS].astype("boolean")
    numbers = [c for c in FINDINGS_COLUMNS if c not in _FLAGS + _TEXT]
    table[numbers] = table[numbers].astype(float)
    return table
