"""The page of notebook 07, one branch per kind of run: its framing, headline, tables, notes, figure, limitations."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from microcalc.analysis.display import show
from microcalc.replicate.findings import (
    context_table,
    findings_display,
    findings_headline,
    findings_sentences,
    plot_findings,
)
from microcalc.replicate.readable import context_display, describe, in_sentence, scorecard_parts
from microcalc.replicate.scorecard import as_bool, or_comparison, summary

#: How the page names the test of a results ``estimator``.
TEST_WORDS = {
    "pearson_chi2": "Pearson chi-squared",
    "yates_chi2": "chi-squared with Yates' continuity correction",
    "fisher_exact": "Fisher's exact test",
    "mann_whitney": "Mann-Whitney U",
    "wald_logistic": "logistic regression",
}

#: Under the bundled run's scorecard: what its less familiar words mean.
SCORECARD_CAPTION = (
    "Differences are at the published number's printed precision, in its own unit (patients, percentage "
    "points, odds ratio, P): \"none\" means this run's value prints exactly as the paper's. "
    "P in another printed class: the reproduced P falls in another of the classes below 0.001, below 0.01, "
    "below 0.05 and above than the published one."
)

#: Under the consistency table of the bundled run.
CONSISTENCY_CAPTION = (
    "GRIM: whether a printed percentage can arise from a whole number of patients out of the group's size "
    "(Brown & Heathers 2017); 'possible for 155' gives the group sizes for which it can."
)

#: Headers of the findings table of a site run.
FINDINGS_HEADERS = {"finding": "Finding", "published": "Published", "this site": "This site"}

__all__ = [
    "FINDINGS_HEADERS",
    "CONSISTENCY_CAPTION",
    "SCORECARD_CAPTION",
    "TEST_WORDS",
    "framing",
    "headline",
    "limitations",
    "main_tables",
    "report_figure",
    "table_notes",
]


def framing(bundled: bool, data_dir: str) -> str:
    """What this run can show, for the kind of run that ran only (the other branch's text never appears)."""
    if bundled:
        return (
            "> **This run used the bundled synthetic data.** This page is a reproduction check of the "
            "pipeline, not a replication. Agreement of the univariate numbers (rates, univariable odds ratios, "
            "comparison P values, cohort sizes) is *by construction*: the synthetic cohorts were built from the "
            "tables the abstract implies. Agreement of the multivariable odds ratios is *calibrated*: the "
            "generator's parameters were tuned until the models came close. What this still demonstrates: the "
            "pipeline computes what the paper computed (the same tests, the same models, the same printed "
            "precision), and the paper's numbers are internally consistent, or not, as the consistency table "
            "says. It is not evidence that the paper's findings hold."
        )
    return (
        f"> **This run used the data in `{Path(str(data_dir)).name}`.** Each number was computed afresh from "
        "these patients, so this page asks whether the paper's *findings* hold in them, by the standard "
        "criteria of the replication literature, not whether its printed digits recur. Cohort sizes, rates "
        "and shares are expected to differ between hospitals: they are shown as context and never counted "
        "as differences."
    )


def headline(scorecard: pd.DataFrame, findings: pd.DataFrame, bundled: bool) -> str:
    """The page's headline: the scorecard's counts on the bundled data, the findings' otherwise."""
    return f"**{summary(scorecard) if bundled else findings_headline(findings)}.**"


def main_tables(published: pd.DataFrame, scorecard: pd.DataFrame, findings: pd.DataFrame, bundled: bool) -> list:
    """What the page shows as its tables, for reading: the scorecard, or the findings followed by the context.

    Every published quantity is named by its description (:func:`~microcalc.replicate.readable.describe`),
    never by its id; checks read yes/no, and a check that does not apply reads "–".
    """
    from IPython.display import Markdown

    if bundled:
        main, checks, consistency = scorecard_parts(published, scorecard)
        return [
            show(main),
            Markdown("**The checks behind each agreement.**"),
            show(checks, caption=SCORECARD_CAPTION),
            Markdown("**Whether the published numbers agree with each other** (from notebook 01)."),
            show(consistency, caption=CONSISTENCY_CAPTION),
        ]
    table = findings_display(findings)
    table["finding"] = describe(published).reindex(findings["id"]).to_numpy()
    return [
        Markdown(
            "**The findings, judged on each criterion.** 1: same direction and significant at 0.05 "
            "(Open Science Collaboration 2015); 2: the published estimate inside this site's 95% CI; "
            "3: this site's estimate inside the 95% prediction interval for a replication (Patil, Peng & "
            "Leek 2016); 4: the difference of the log ORs, shown as a ratio of ORs, with its 95% CI and P; "
            "5: the fixed-effect inverse-variance combination of the two estimates."
        ),
        show(table, headers=FINDINGS_HEADERS),
        Markdown("**Context, not judged.** The abstract's other numbers beside this site's."),
        show(context_display(published, context_table(scorecard))),
    ]


def table_notes(published: pd.DataFrame, scorecard: pd.DataFrame, findings: pd.DataFrame, bundled: bool) -> str:
    """The sentences under the tables."""
    names = describe(published)
    if not bundled:
        return "\n".join(f"- {s}" for s in findings_sentences(findings, names))
    inside = scorecard["published inside reproduced CI"].dropna()
    lines = [
        f"- For {int(as_bool(inside).sum())} of the {len(inside)} published estimates that have a reproduced "
        "95% CI, the published value lies inside it."
    ]
    other = scorecard[scorecard["agreement"] == "exact, other method only"]  # the scorecard's own class
    if len(other):
        said = [
            f"{in_sentence(names[r['id']])}, by {TEST_WORDS.get(r['estimator'], r['estimator'])} (the paper names "
            f"{published.loc[r['id'], 'test_named'] if published.loc[r['id'], 'test_ids'] else 'no test'})"
            for _, r in other.iterrows()
        ]
        lines.append(f"- Reproduced exactly, but not with a test the paper names for it: {'; '.join(said)}.")
    flagged = [in_sentence(names[i]) for i in scorecard.loc[as_bool(scorecard["P in another printed class"]), "id"]]
    lines.append(
        "- Reproduced P values in another printed class (below 0.001, 0.01, 0.05, or above) than the "
        f"published one: {'; '.join(flagged) if flagged else 'none'}."
    )
    lines.append(
        "- The replication criteria of a site run are computed here too and written to "
        "`replication_findings.csv`, so that every run writes the same files; on calibrated synthetic "
        "data they are met by construction, and are not shown as evidence."
    )
    return "\n".join(lines)


def report_figure(
    published: pd.DataFrame,
    results: pd.DataFrame,
    findings: pd.DataFrame,
    bundled: bool,
    output_dir: str | os.PathLike = ".",
) -> list[Path]:
    """The page's figure, saved: published and reproduced ORs (bundled), or the findings with prediction
    intervals (a site run)."""
    from microcalc.analysis import plots

    if bundled:  # the published ORs beside this run's, one outcome per panel
        comparison = plots.published_vs_reproduced(or_comparison(published, results), published)
        axes = plots.plot_published_vs_reproduced(comparison, synthetic=True)
        return plots.save_figure(axes[0].figure, "07_or_published_vs_reproduced", output_dir)
    ax = plot_findings(findings, names=describe(published))
    return plots.save_figure(ax.figure, "07_findings_published_vs_site", output_dir)


def limitations(bundled: bool) -> str:
    """The page's limitations, for the kind of run that ran."""
    if bundled:
        return (
            "- Numbers are matched by the paper's printed precision; a reproduced value that rounds differently "
            "by a hair counts as a difference.\n"
            "- Comparison P values are matched under a test the paper names where one reproduces the published "
            'value, else under any test; the checks table says which ("Computed with the method the paper '
            'names").\n'
            '- Qualitative claims ("not significantly associated", "predominated", "mainly axial") are read '
            "as: multivariable likelihood-ratio P > 0.05, and the most frequent category."
        )
    return (
        "- The published SEs are recovered from the printed 95% CIs, which are rounded to three decimals.\n"
        "- The prediction interval assumes one true effect shared by the paper's hospitals and this one; "
        "real between-hospital heterogeneity widens it, so a finding outside it may still be a true effect "
        "that varies between hospitals.\n"
        "- The type comparison is reported by the paper as not significant; for it, criterion 1 asks that the "
        "site find no significant difference either, which in a small site is weak evidence of no difference.\n"
        "- One site's data judge one replication. A CI that holds both the published effect and no effect "
        "means this site's data cannot tell them apart, not that the finding failed."
    )
