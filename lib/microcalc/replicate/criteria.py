"""The replication criteria of a site run: does each finding of the paper hold in the site's patients?

Each finding (:data:`microcalc.study.FINDINGS`) is judged on the standard
criteria of the replication literature (:func:`criteria`): same direction and
significant (Open Science Collaboration 2015); the published estimate inside
the site's 95% CI; the site's estimate inside the 95% prediction interval for
a replication (Patil, Peng & Leek 2016); the difference of the two log ORs
with its CI and P; and their fixed-effect combination. Cohort sizes, rates
and shares are context (:func:`context_table`), never counted as differences.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from microcalc.abstract.published import format_p, parse_reported
from microcalc.analysis.results import with_estimators
from microcalc.replicate.scorecard import as_bool, load_results
from microcalc.study import CONFIDENCE_LEVEL, FINDING_IDS, FINDINGS, SIGNIFICANCE_LEVEL, Finding

__all__ = [
    "FINDINGS_COLUMNS",
    "Criteria",
    "context_table",
    "criteria",
    "criteria_side_by_side",
    "findings_display",
    "findings_headline",
    "findings_sentences",
    "findings_table",
    "plot_findings",
    "se_from_ci",
]


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


def _yes(x) -> str:
    return "not applicable" if x is pd.NA or (isinstance(x, float) and np.isnan(x)) else ("yes" if x else "no")


def _or_text(est, lo, hi) -> str:
    return f"{est:.2f} ({lo:.2f}-{hi:.2f})"


def findings_headline(findings: pd.DataFrame) -> str:
    """ "Of the paper's K findings, this site's data replicate N by direction and significance, and M ..."."""
    k = len(findings)
    n = int(as_bool(findings["direction_and_significance"]).sum())
    with_ci = findings[findings["kind"] == "odds_ratio"]
    m = int(as_bool(with_ci["site_inside_prediction_interval"]).sum())
    missing = int(findings["note"].astype(str).str.startswith("not estimable").sum())
    text = (
        f"Of the paper's {k} findings, this site's data replicate {n} by direction and significance, and "
        f"{m} of the {len(with_ci)} odds ratios lie within the 95% prediction interval for a replication"
    )
    return text + (f" ({missing} not estimable)" if missing else "")


def findings_display(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings with every criterion, in words and rounded numbers, for the page."""
    rows = []
    for _, f in findings.iterrows():
        ratio = with_pi = combined = inside = "not applicable"
        if f["kind"] == "odds_ratio" and not str(f["note"]).startswith("not estimable"):
            site = _or_text(f["site_estimate"], f["site_ci_low"], f["site_ci_high"]) + f", {format_p(f['site_p'])}"
            inside = _yes(f["published_inside_site_ci"])
            with_pi = (
                f"{_yes(f['site_inside_prediction_interval'])} "
                f"({f['prediction_interval_low']:.2f}-{f['prediction_interval_high']:.2f})"
            )
            ratio = (
                _or_text(*np.exp([f["difference_log_or"], f["difference_ci_low"], f["difference_ci_high"]]))
                + f", {format_p(f['difference_p'])}"
            )
            combined = _or_text(f["combined_or"], f["combined_ci_low"], f["combined_ci_high"])
        elif f["kind"] == "comparison" and pd.notna(f["site_p"]):
            site = f"difference {f['site_rate_difference']:+.1f} points, {format_p(f['site_p'])}"
        else:
            site = f["note"]
        rows.append(
            {
                "finding": f"{f['id']}: {f['measure']}",
                "published": f["published"],
                "this site": site,
                "1 same direction, significant": _yes(f["direction_and_significance"]),
                "2 published inside site's CI": inside,
                "3 inside 95% prediction interval": with_pi,
                "4 ratio of ORs, site / published (95% CI), P": ratio,
                "5 fixed-effect combined OR (95% CI)": combined,
            }
        )
    return pd.DataFrame(rows)


def findings_sentences(findings: pd.DataFrame) -> list[str]:
    """One neutral sentence per finding: what the site's data say on each criterion that applies."""
    out = []
    for _, f in findings.iterrows():
        if str(f["note"]).startswith("not estimable"):
            out.append(f"`{f['id']}`: {f['note']}.")
            continue
        direction = "the same direction as published" if f["same_direction"] else "the opposite direction"
        if f["published_significant"]:
            sig = "significant at 0.05" if f["site_significant"] else "not significant at 0.05"
        else:
            sig = (
                "not significant at 0.05, as in the paper"
                if not f["site_significant"]
                else "significant at 0.05, where the paper found no significant difference"
            )
        text = f"`{f['id']}`: {direction}, {sig} ({format_p(f['site_p'])})"
        if f["kind"] == "odds_ratio":
            if f["compatible_with_published_and_null"]:
                text += (
                    "; the site's 95% CI is wide: its data are compatible with both the published effect and no effect"
                )
            if not f["site_inside_prediction_interval"]:
                text += (
                    "; the estimate lies outside the 95% prediction interval, so on this criterion the finding "
                    "does not replicate"
                )
            else:
                text += "; the estimate lies inside the 95% prediction interval"
        elif f["id"] in ("bone_type_compare", "bone_extent_compare"):
            text += "; the direction is that of the single category the abstract compares, the P that of the 2x3 table"
        out.append(text + ".")
    return out


def context_table(scorecard: pd.DataFrame, finding_ids=FINDING_IDS) -> pd.DataFrame:
    """Everything the abstract reports that is not a finding (sizes, rates, shares, claims), published beside
    this run's value; context, so without any verdict."""
    rows = scorecard[~scorecard["id"].isin(finding_ids)]
    return (
        rows[["id", "measure", "published", "reproduced", "reproduced 95% CI"]]
        .rename(columns={"reproduced": "this site", "reproduced 95% CI": "this site's 95% CI"})
        .reset_index(drop=True)
    )


def _criteria_cell(f: pd.Series) -> str:
    if str(f["note"]).startswith("not estimable"):
        return f["note"]
    one = f"1 {_yes(f['direction_and_significance'])} ({format_p(f['site_p'])})"
    if f["kind"] != "odds_ratio":
        return f"{one}; 2-5 not applicable"
    ratio = _or_text(*np.exp([f["difference_log_or"], f["difference_ci_low"], f["difference_ci_high"]]))
    return (
        f"{one}; 2 {_yes(f['published_inside_site_ci'])}; 3 {_yes(f['site_inside_prediction_interval'])}; "
        f"4 ratio {ratio}, {format_p(f['difference_p'])}; "
        f"5 combined {_or_text(f['combined_or'], f['combined_ci_low'], f['combined_ci_high'])}"
    )


def criteria_side_by_side(runs: dict[str, Path], published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The replication criteria of every finding, one column per run, for the side-by-side table of sites.

    Rows are indexed "<finding id> (criteria)", with the columns of
    :func:`microcalc.pipeline.run.side_by_side` (``measure``, ``published``, one per
    site), so the two tables can be concatenated. Each cell reads
    "1 yes (P = ...); 2 yes; 3 yes; 4 ratio ..., P = ...; 5 combined ...".
    """
    from microcalc.abstract.published import load_published

    published = load_published() if published is None else published
    tables = {site: findings_table(published, load_results(run_dir)) for site, run_dir in runs.items()}
    base = findings_table(published, pd.DataFrame(columns=["id", "method", "estimator", "table_shape"]))
    table = pd.DataFrame({"measure": "replication criteria: " + base["measure"], "published": base["published"]})
    table.index = (base["id"] + " (criteria)").rename("id")
    for site, f in tables.items():
        table[site] = [_criteria_cell(row) for _, row in f.iterrows()]
    return table


def plot_findings(findings: pd.DataFrame, ax=None):
    """Published and site ORs with 95% CIs, and the 95% prediction interval for a replication as a band."""
    import matplotlib.pyplot as plt

    from microcalc.analysis.plots import OKABE_ITO

    ors = findings[
        (findings["kind"] == "odds_ratio")
        & findings["site_estimate"].notna()
        & ~findings["note"].astype(str).str.startswith("not estimable")
    ].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.9 * max(len(ors), 1) + 1.4))
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    y = np.arange(len(ors))[::-1].astype(float)
    ax.barh(
        y,
        ors["prediction_interval_high"].astype(float) - ors["prediction_interval_low"].astype(float),
        left=ors["prediction_interval_low"].astype(float),
        height=0.7,
        color="#dddddd",
        label="95% prediction interval for a replication",
    )
    for offset, (prefix, label, colour, marker) in zip(
        (0.15, -0.15),
        (("published", "published (95% CI)", OKABE_ITO[1], "D"), ("site", "this site (95% CI)", OKABE_ITO[0], "s")),
        strict=True,
    ):
        est = ors[f"{prefix}_estimate"].astype(float)
        ax.errorbar(
            est,
            y + offset,
            xerr=[est - ors[f"{prefix}_ci_low"].astype(float), ors[f"{prefix}_ci_high"].astype(float) - est],
            fmt=marker,
            color=colour,
            ecolor=colour,
            capsize=2,
            linewidth=1,
            markersize=5,
            label=label,
        )
    ax.set_yticks(y, ors["id"])
    ax.set_xscale("log")
    values = (
        ors[
            [
                "published_ci_low",
                "site_ci_low",
                "prediction_interval_low",
                "published_ci_high",
                "site_ci_high",
                "prediction_interval_high",
            ]
        ]
        .astype(float)
        .to_numpy()
    )
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 20) if lo / 1.3 <= t <= hi * 1.3]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("odds ratio (log scale)")
    ax.legend(frameon=False, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize="small")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax
