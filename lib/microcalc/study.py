"""What this study is: every study-specific fact, in one place.

The cohorts and their models, the map from model terms to the abstract's
published ids, the claims of non-significance, the findings a replication
judges, the notebooks of a site run, the figures of the HTML edition, and
the thresholds the pages state in words. The general modules (statistics,
tables, plots, cleaning) never import this module: the notebooks and the
pipeline pass these facts to them. A second study would write its own.

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

__all__ = [
    "BONE_TERMS",
    "BUNDLED_DATA_DIR",
    "CLAIM_IDS",
    "COMPARISON_IDS",
    "CONFIDENCE_LEVEL",
    "COUNT_SOURCES",
    "EPV_MIN",
    "EXPOSURE",
    "FINDINGS",
    "FINDING_IDS",
    "FLOW",
    "DERIVED",
    "derive",
    "KEY_FIGURES",
    "MAIN_ESTIMATES",
    "MODELS",
    "NACT_TERMS",
    "NOT_SIGNIFICANT",
    "OR_IDS",
    "RATE_IDS",
    "SIGNIFICANCE_LEVEL",
    "SITE_NOTEBOOKS",
    "SMD_IMBALANCE",
    "RARE_OUTCOME",
    "SUMMARY_FIGURES",
    "Finding",
    "is_bundled",
]

# ------------------------------------------------------------------ cohorts, outcomes, exposure, models
#: The exposure of every analysis.
EXPOSURE = "microcalcification"

#: Covariates of the paper's multivariable models (the abstract's), exposure first.
NACT_TERMS = (
    "microcalcification",
    "mri_necrosis",
    "age",
    "menopausal_status",
    "breast_density",
    "mass",
    "molecular_subtype",
    "pathology_type",
)
BONE_TERMS = (
    "microcalcification",
    "age",
    "menopausal_status",
    "molecular_subtype",
    "pathology_type",
    "t_stage",
    "n_stage",
)

#: Each cohort's model: cohort -> (outcome of the logistic model, its terms).
MODELS = {"nact_cohort": ("non_pcr", NACT_TERMS), "bone_cohort": ("bone_metastasis", BONE_TERMS)}

#: The participant flow of each cohort (:func:`microcalc.cohorts.clean.participant_flow`):
#: cohort -> (outcome column as recorded, model terms, the outcome in words).
FLOW = {"nact_cohort": ("pcr", NACT_TERMS, "pCR"), "bone_cohort": ("bone_metastasis", BONE_TERMS, "bone metastasis")}

#: Columns derived from the contract's: name -> (the column it comes from, what it is).
DERIVED = {
    "non_pcr": ("pcr", "no pathological complete response: the outcome the paper models (missing pCR stays missing)"),
    "mri_assessed": ("mri_necrosis", "whether necrosis was assessed on MRI (recorded yes or no)"),
}


def derive(frame, *names: str):
    """``frame`` with the derived columns ``names`` (:data:`DERIVED`) added; the frame itself is not changed.

    >>> import pandas as pd
    >>> derive(pd.DataFrame({"pcr": [True, False, None]}), "non_pcr")["non_pcr"].tolist()
    [False, True, <NA>]
    """
    unknown = [n for n in names if n not in DERIVED]
    if unknown:
        raise ValueError(f"no derived column {unknown}; derived columns are {sorted(DERIVED)}")
    made = {"non_pcr": lambda f: ~f["pcr"].astype("boolean"), "mri_assessed": lambda f: f["mri_necrosis"].notna()}
    return frame.assign(**{n: made[n](frame) for n in names})


# ------------------------------------------------------------------ published ids of computed numbers
#: Odds ratios the abstract reports: analysis -> {(term, model): published id}.
OR_IDS = {
    "nact": {
        ("microcalcification", "univariable"): "nact_or_calc_uni",
        ("microcalcification", "multivariable"): "nact_or_calc_multi",
        ("mri_necrosis", "multivariable"): "nact_or_necrosis_multi",
    },
    "necrosis": {("mri_necrosis", "multivariable"): "nact_or_necrosis_multi"},
    "bone": {
        ("microcalcification", "univariable"): "bone_or_calc_uni",
        ("microcalcification", "multivariable"): "bone_or_calc_multi",
    },
}

#: Rates the abstract reports, exposed group first: analysis -> (published id, published id).
RATE_IDS = {
    "nact_pcr": ("nact_pcr_calc", "nact_pcr_nocalc"),
    "nact_necrosis": ("nact_necrosis_calc", "nact_necrosis_nocalc"),
    "nact_pcr_by_necrosis": ("nact_pcr_necrosis", "nact_pcr_no_necrosis"),
    "bone_met": ("bone_met_calc", "bone_met_nocalc"),
    "bone_osteolytic": ("bone_osteolytic_calc", "bone_osteolytic_nocalc"),
    "bone_wholebody": ("bone_wholebody_calc", "bone_wholebody_nocalc"),
}

#: Comparisons the abstract reports as a P: analysis -> published id.
COMPARISON_IDS = {
    "nact_pcr": "nact_pcr_compare",
    "nact_necrosis": "nact_necrosis_compare",
    "bone_met": "bone_met_compare",
    "bone_type": "bone_type_compare",
    "bone_extent": "bone_extent_compare",
}

#: Qualitative claims of the abstract that a results row checks: claim -> published id.
CLAIM_IDS = {"type_predominant": "bone_type_predominant", "extent_calc_axial": "bone_extent_calc_axial"}

#: The abstract's "not significantly associated with non-pCR" claims: published id -> covariate.
NOT_SIGNIFICANT = {
    "nact_ns_age": "age",
    "nact_ns_menopause": "menopausal_status",
    "nact_ns_density": "breast_density",
    "nact_ns_mass": "mass",
    "nact_ns_molecular": "molecular_subtype",
    "nact_ns_pathology": "pathology_type",
}

#: Cohort sizes are reproduced as the n of their cohort's main comparison.
COUNT_SOURCES = {"nact_n": "nact_pcr_compare", "bone_n": "bone_met_compare"}

# ------------------------------------------------------------------ site runs and the edition
#: The notebooks a site run executes: cleaning onward (01 and 02 concern the paper and its synthetic data).
SITE_NOTEBOOKS = ("03_cleaning", "04_nact_pcr", "05_necrosis_mri", "06_bone_metastasis", "07_replication_report")

#: The estimates set side by side across sites: published id -> the results row's ``estimator``.
MAIN_ESTIMATES = {
    "nact_pcr_calc": "wilson_proportion",
    "nact_pcr_nocalc": "wilson_proportion",
    "nact_or_calc_uni": "wald_logistic",
    "nact_or_calc_multi": "wald_logistic",
    "nact_necrosis_calc": "wilson_proportion",
    "nact_necrosis_nocalc": "wilson_proportion",
    "nact_or_necrosis_multi": "wald_logistic",
    "bone_met_calc": "wilson_proportion",
    "bone_met_nocalc": "wilson_proportion",
    "bone_or_calc_uni": "wald_logistic",
    "bone_or_calc_multi": "wald_logistic",
    "bone_osteolytic_calc": "wilson_proportion",
    "bone_osteolytic_nocalc": "wilson_proportion",
    "bone_wholebody_calc": "wilson_proportion",
    "bone_wholebody_nocalc": "wilson_proportion",
}

#: Figures shown on the index page of the HTML edition, in order, with their captions (also their alt text)
#: and whether they span the page's width (a two-panel figure) rather than one column of the grid.
KEY_FIGURES = (
    (
        "04_pcr_by_calcification",
        "pCR rate with and without microcalcification (NACT cohort), with 95% Wilson CIs",
        False,
    ),
    (
        "06_bone_metastasis_by_calcification",
        "Recorded bone metastasis with and without microcalcification (multicentre cohort), with 95% Wilson CIs",
        False,
    ),
    ("05_necrosis_by_calcification", "Tumour necrosis on MRI with and without microcalcification, with 95% CIs", False),
    ("06_type_and_extent", "Type and extent of the bone metastases, with and without microcalcification", True),
    ("07_or_published_vs_reproduced", "Published odds ratios beside those computed by this run, with 95% CIs", True),
    ("07_findings_published_vs_site", "Published and site odds ratios with the 95% prediction interval", True),
    ("03_participant_flow", "Participant flow of both cohorts", True),
)

#: The two figures of the one-page summary.
SUMMARY_FIGURES = ("04_pcr_by_calcification", "06_bone_metastasis_by_calcification")

# ------------------------------------------------------------------ thresholds stated in words
#: Events per variable below which the pages call a model overfitted and show the Firth model.
EPV_MIN = 10

#: The absolute standardised mean difference above which Table 1 calls a covariate imbalanced.
SMD_IMBALANCE = 0.1

#: Share of patients with the outcome below which an OR is read as a ratio of proportions (rare outcome,
#: VanderWeele & Ding 2017); above it the E-value first takes the OR's square root.
RARE_OUTCOME = 0.15

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
    estimator : str
        The ``estimator`` (:data:`microcalc.analysis.results.ESTIMATORS`) of
        the results row that holds the site's estimate: the Wald logistic
        regression for an OR, the test of the comparison otherwise.
    table_shape : str
        For a comparison, the ``table_shape`` of that row ("2x3"); empty: any.
    rates : tuple of str
        For a comparison, the published ids of the two rates it compares
        (exposed first); the direction of a comparison is the sign of their
        difference.
    """

    id: str
    kind: str
    estimator: str
    rates: tuple[str, str] | tuple[()] = ()
    table_shape: str = ""


_WALD = "wald_logistic"
_CHI2 = "pearson_chi2"

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
    Finding("bone_type_compare", "comparison", _CHI2, ("bone_osteolytic_calc", "bone_osteolytic_nocalc"), "2x3"),
    Finding("bone_extent_compare", "comparison", _CHI2, ("bone_wholebody_calc", "bone_wholebody_nocalc"), "2x3"),
)

#: The published ids of :data:`FINDINGS`, in order.
FINDING_IDS: tuple[str, ...] = tuple(f.id for f in FINDINGS)


def is_bundled(data_dir: str | os.PathLike) -> bool:
    """Whether ``data_dir`` (relative to the project root, or absolute) is the folder of the bundled synthetic
    cohorts: the one rule every notebook, the runner and the edition use."""
    return project_path(data_dir).resolve() == project_path(BUNDLED_DATA_DIR).resolve()
