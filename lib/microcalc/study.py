"""What this study is: the findings a replication judges, and which data are the bundled ones.

The abstract draws its conclusions from a handful of effect estimates; those
are its *findings*. A site that reruns the pipeline on its own patients asks
whether these findings hold, not whether its cohort sizes and rates print as
the paper's do. Everything else the abstract reports (cohort sizes, rates,
shares, qualitative claims) is *context*: shown beside the findings, never
judged.

Every finding is named by its published id in
``data/published/abstract_statistics.csv``; the numbers themselves are read
from there, never typed here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from microcalc.core.paths import project_path

__all__ = ["Finding", "FINDINGS", "FINDING_IDS", "BUNDLED_DATA_DIR", "is_bundled", "SIGNIFICANCE_LEVEL",
           "CONFIDENCE_LEVEL"]

#: The folder of the bundled synthetic cohorts (relative to the project root).
BUNDLED_DATA_DIR = "data/raw"

#: The two-sided significance level of the replication criteria (Open Science Collaboration 2015).
SIGNIFICANCE_LEVEL = 0.05

#: The level of every interval of the replication criteria.
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class Finding:
    """One finding of the abstract, and where a run's results hold the site's estimate.

    Attributes
    ----------
    id : str
        The published id (``abstract_statistics.csv``).
    kind : str
        ``"odds_ratio"``: an estimate with a 95% CI, judged on all five
        criteria; ``"comparison"``: reported only as a P with two rates,
        judged on direction and significance only.
    method : str
        The start of the results row's ``method`` that holds the site's
        estimate: the Wald logistic regression for an OR, the test of the
        comparison otherwise.
    rates : tuple of str
        For a comparison, the published ids of the two rates it compares
        (exposed first); the direction of a comparison is the sign of their
        difference.
    """

    id: str
    kind: str
    method: str
    rates: tuple[str, str] | tuple[()] = ()


_WALD = "logistic regression, Wald"
_CHI2 = "Pearson chi-squared, no continuity correction"

#: The findings, in the abstract's order. Comparisons use Pearson's chi-squared test (the
#: "χ2 test" the paper names; the 2x3 table for type and extent, as notebook 01 found it
#: reproduces the published P); the abstract names no test for necrosis, and the same test is used.
FINDINGS: tuple[Finding, ...] = (
    Finding("nact_pcr_compare", "comparison", _CHI2, ("nact_pcr_calc", "nact_pcr_nocalc")),
    Finding("nact_or_calc_uni", "odds_ratio", _WALD),
    Finding("nact_or_calc_multi", "odds_ratio", _WALD),
    Finding("nact_necrosis_compare", "comparison", _CHI2, ("nact_necrosis_calc", "nact_necrosis_nocalc")),
    Finding("nact_or_necrosis_multi", "odds_ratio", _WALD),
    Finding("bone_met_compare", "comparison", _CHI2, ("bone_met_calc", "bone_met_nocalc")),
    Finding("bone_or_calc_uni", "odds_ratio", _WALD),
    Finding("bone_or_calc_multi", "odds_ratio", _WALD),
    Finding("bone_type_compare", "comparison", f"{_CHI2} on the 2x3 table",
            ("bone_osteolytic_calc", "bone_osteolytic_nocalc")),
    Finding("bone_extent_compare", "comparison", f"{_CHI2} on the 2x3 table",
            ("bone_wholebody_calc", "bone_wholebody_nocalc")),
)

#: The published ids of :data:`FINDINGS`, in order.
FINDING_IDS: tuple[str, ...] = tuple(f.id for f in FINDINGS)


def is_bundled(data_dir: str | os.PathLike) -> bool:
    """Whether ``data_dir`` (relative to the project root) is the folder of the bundled synthetic cohorts."""
    return project_path(data_dir).resolve() == project_path(BUNDLED_DATA_DIR).resolve()
