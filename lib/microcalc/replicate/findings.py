"""The findings of a site run in words, tables and a figure, for notebook 07's page and the sites' table.

:func:`microcalc.replicate.criteria.findings_table` judges each finding of the
paper on the replication criteria, as numbers; this module says the result:
a headline (:func:`findings_headline`), a table in words
(:func:`findings_display`), one sentence per finding
(:func:`findings_sentences`), the criteria of several runs side by side
(:func:`criteria_side_by_side`) and a figure (:func:`plot_findings`). Cohort
sizes, rates and shares are context (:func:`context_table`), never counted as
differences.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.abstract.published import format_p
from microcalc.replicate.criteria import findings_table
from microcalc.replicate.scorecard import as_bool, load_results
from microcalc.study import FINDING_IDS

__all__ = [
    "context_table",
    "criteria_side_by_side",
    "findings_display",
    "findings_headline",
    "findings_sentences",
    "plot_findings",
]


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


def findings_sentences(findings: pd.DataFrame, names: Mapping[str, str] | None = None) -> list[str]:
    """One neutral sentence per finding: what the site's data say on each criterion that applies.

    Each sentence starts with the finding's name in ``names`` (id -> words, e.g.
    :func:`microcalc.replicate.readable.describe`), or with its id in backticks.
    """
    out = []
    for _, f in findings.iterrows():
        name = names[f["id"]] if names is not None and f["id"] in names else f"`{f['id']}`"
        if str(f["note"]).startswith("not estimable"):
            out.append(f"{name}: {f['note']}.")
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
        text = f"{name}: {direction}, {sig} ({format_p(f['site_p'])})"
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


def plot_findings(findings: pd.DataFrame, ax=None, names: Mapping[str, str] | None = None):
    """Published and site ORs with 95% CIs, and the 95% prediction interval for a replication as a band.

    The published estimates are drawn in the first of :data:`~microcalc.analysis.plots.OTHER_COLOURS`,
    this site's in :data:`~microcalc.analysis.plots.NEUTRAL`: neither is the colour of microcalcification,
    which means "with microcalcification" on every figure. Rows are labelled by ``names`` (id -> words,
    e.g. :func:`microcalc.replicate.readable.describe`), or by id.
    """
    import matplotlib.pyplot as plt

    from microcalc.analysis.plots import NEUTRAL, OTHER_COLOURS

    ors = findings[
        (findings["kind"] == "odds_ratio")
        & findings["site_estimate"].notna()
        & ~findings["note"].astype(str).str.startswith("not estimable")
    ].reset_index(drop=True)
    own_figure = ax is None
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.9 * max(len(ors), 1) + 1.4))
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
        (("published", "published (95% CI)", OTHER_COLOURS[0], "D"), ("site", "this site (95% CI)", NEUTRAL, "s")),
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
    ax.set_yticks(y, [textwrap.fill(names.get(i, i), 40) if names is not None else i for i in ors["id"]])
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
    if own_figure:  # room for the row labels and the legend above
        ax.figure.tight_layout()
    return ax
