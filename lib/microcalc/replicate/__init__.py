"""The replication report: the paper's printed numbers, and its findings, against this run.

Two questions, one per kind of run.

*On the bundled synthetic cohorts* the question is whether the pipeline
computes what the paper computed. :func:`replication_table` matches each
statistic of ``data/published/abstract_statistics.csv`` with its reproduced
value and classifies the agreement in a fixed vocabulary (:data:`AGREEMENT`);
:func:`summary` counts each class separately.

*On a site's own data* the question is whether the paper's findings (the
effect estimates its conclusions rest on, :data:`microcalc.study.FINDINGS`)
hold in the site's patients. :func:`findings_table` judges each one on the
standard criteria of the replication literature (:func:`criteria`): same
direction and significant (Open Science Collaboration 2015); the published
estimate inside the site's 95% CI; the site's estimate inside the 95%
prediction interval for a replication (Patil, Peng & Leek 2016); the
difference of the two log ORs with its CI and P; and their fixed-effect
combination. Cohort sizes, rates and shares are context
(:func:`context_table`), never counted as differences.

:func:`load_results` gathers the tidy results files of a run
(``<output_dir>/data/results/NN_results.csv``).

Modules: :mod:`~microcalc.replicate.scorecard` (the bundled-data check),
:mod:`~microcalc.replicate.criteria` (the findings of a site run, as numbers),
:mod:`~microcalc.replicate.findings` (the same in words, tables and a figure),
:mod:`~microcalc.replicate.readable` (the published quantities by description, the scorecard in words) and
:mod:`~microcalc.replicate.page` (notebook 07's page, one branch per run).
"""

from microcalc.replicate.criteria import FINDINGS_COLUMNS, Criteria, criteria, findings_table, se_from_ci
from microcalc.replicate.findings import (
    context_table,
    criteria_side_by_side,
    findings_display,
    findings_headline,
    findings_sentences,
    plot_findings,
)
from microcalc.replicate.page import framing, headline, limitations, main_tables, report_figure, table_notes
from microcalc.replicate.readable import context_display, describe, scorecard_display, scorecard_parts
from microcalc.replicate.scorecard import (
    AGREEMENT,
    P_CLASS_LIMITS,
    REPLICATION_COLUMNS,
    TEST_OF_ESTIMATOR,
    load_results,
    or_comparison,
    p_class,
    replication_table,
    summary,
)

# The public names of the modules.
__all__ = [
    "AGREEMENT",
    "FINDINGS_COLUMNS",
    "P_CLASS_LIMITS",
    "REPLICATION_COLUMNS",
    "TEST_OF_ESTIMATOR",
    "Criteria",
    "context_display",
    "context_table",
    "criteria",
    "criteria_side_by_side",
    "describe",
    "findings_display",
    "findings_headline",
    "findings_sentences",
    "findings_table",
    "framing",
    "headline",
    "limitations",
    "load_results",
    "main_tables",
    "or_comparison",
    "p_class",
    "plot_findings",
    "replication_table",
    "scorecard_display",
    "scorecard_parts",
    "report_figure",
    "se_from_ci",
    "summary",
    "table_notes",
]
