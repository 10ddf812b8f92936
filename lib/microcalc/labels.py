"""Clinical labels of this study's variables, levels, groups and outcomes, for what the pages display.

The code names (``breast_density``, ``mri_necrosis``, ``luminal_a``) stay the
names of columns and coefficients; these mappings are only for display, by
:func:`microcalc.analysis.display.show` and :mod:`microcalc.narrative`.
Nothing reads them back.
"""

from __future__ import annotations

__all__ = [
    "ALL",
    "CLEANING_REPLICATION_TERMS",
    "COHORT_NAMES",
    "COLUMNS",
    "DENSITY_GROUPS",
    "EVENTS",
    "GROUPS",
    "IN_TEXT",
    "LEVELS",
    "POOLING_PLANNING_TERMS",
    "QUANTITIES",
    "RECONSTRUCTION_TERMS",
    "VARIABLES",
    "group_names",
]

#: Variables (data-contract columns and derived outcomes) -> clinical label.
VARIABLES: dict[str, str] = {
    "age": "Age (years)",
    "menopausal_status": "Menopausal status",
    "breast_density": "Breast density (BI-RADS)",
    "mass": "Mass on imaging",
    "microcalcification": "Microcalcification",
    "molecular_subtype": "Molecular subtype",
    "pathology_type": "Histological type",
    "mri_necrosis": "Necrosis on MRI",
    "mri_assessed": "Necrosis assessed on MRI",
    "pcr": "pCR",
    "non_pcr": "Non-pCR",
    "t_stage": "T stage",
    "n_stage": "N stage",
    "bone_metastasis": "Recorded bone metastasis",
    "bone_metastasis_type": "Type of bone metastasis",
    "bone_metastasis_extent": "Extent of bone metastasis",
    "center": "Centre",
}

#: Category levels -> clinical label (levels already readable, such as "T2" or "a", are not listed).
LEVELS: dict[str, str] = {
    "premenopausal": "premenopausal",
    "postmenopausal": "postmenopausal",
    "luminal_a": "luminal A",
    "luminal_b": "luminal B",
    "her2_enriched": "HER2-enriched",
    "triple_negative": "triple-negative",
    "ductal": "invasive ductal (NST)",
    "lobular": "invasive lobular",
    "other": "other",
    "yes": "yes",
    "no": "no",
    "osteolytic": "osteolytic",
    "osteoblastic": "osteoblastic",
    "mixed": "mixed",
    "axial": "axial only",
    "appendicular": "appendicular",
    "whole_body": "whole body",
    "per unit": "per year",
    "non_dense": "non-dense (a/b)",
    "dense": "dense (c/d)",
}

#: Yes/no variables used to group patients -> (name of the True group, name of the False group).
GROUPS: dict[str, tuple[str, str]] = {
    "microcalcification": ("Microcalcification", "No microcalcification"),
    "mri_necrosis": ("Necrosis on MRI", "No necrosis on MRI"),
    "mri_assessed": ("Necrosis assessed", "Necrosis not assessed"),
    "dense": ("Dense (c/d)", "Non-dense (a/b)"),
}

#: Outcomes -> the event counted, for headers such as "n (non-pCR)".
EVENTS: dict[str, str] = {
    "pcr": "pCR",
    "non_pcr": "non-pCR",
    "mri_necrosis": "necrosis",
    "bone_metastasis": "bone metastasis",
}

#: Column names of the library's tables -> header for reading.
COLUMNS: dict[str, str] = {
    "named_by_paper": "Named by the paper",
    "reproduces_published_p": "Reproduces the paper's P",
    "variable": "Variable",
    "level": "Level",
    "term": "Variable",
    "events": "Events",
    "n": "Patients",
    "rate_pct": "%",
    "ci_low_pct": "95% CI low (%)",
    "ci_high_pct": "95% CI high (%)",
    "or": "OR",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "p": "P",
    "method": "Method",
    "analysis": "Analysis",
    "test": "Test",
    "estimate": "Estimate",
    "quantity": "Quantity",
    "gvif": "GVIF",
    "df": "df",
    "gvif_adjusted": "GVIF adjusted for df (GVIF^1/(2·df))",
    "apparent": "Apparent",
    "optimism": "Optimism",
    "corrected": "Optimism-corrected",
    "measure": "Measure",
    "left_out": "Centre left out",
    "centre": "Centre",
    "note": "Note",
    "comparison": "Comparison",
    "global P (LR)": "Global P (likelihood ratio)",
    "group": "Group",
    "model": "Model",
    "recorded_yes": "With: recorded",
    "n_yes": "With: patients",
    "recorded_no": "Without: recorded",
    "n_no": "Without: patients",
    "pct_yes": "With: % recorded",
    "pct_no": "Without: % recorded",
    "events_exposed": "Events, with",
    "n_exposed": "n, with",
    "events_reference": "Events, without",
    "n_reference": "n, without",
    "or_mh": "OR, Mantel–Haenszel",
    "ci_low_mh": "95% CI low, MH",
    "ci_high_mh": "95% CI high, MH",
    "tau2": "τ²",
    "i2": "I² (%)",
    "pi_low": "95% PI low",
    "pi_high": "95% PI high",
    "k": "Centres",
    "p_chi2": "P, χ²",
    "p_exact": "P, exact",
    "p_holm": "P, Holm",
    "p_bh": "P, Benjamini–Hochberg",
    "cells_below_5": "Cells with expected count < 5",
    "min_expected": "Smallest expected count",
    "or_fixed": "OR, fixed effect",
    "log_or": "log OR",
    "se": "SE",
    "q": "Cochran's Q",
    "q_p": "P, Cochran's Q",
    "bone_type": "Type (2 × 3 table)",
    "bone_type_osteolytic": "Osteolytic against the other types",
    "bone_extent": "Extent (2 × 3 table)",
    "bone_extent_whole_body": "Whole body against the other extents",
}

#: Rows of the library's result tables -> label.
QUANTITIES: dict[str, str] = {
    "risk_exposed": "With microcalcification (standardised, %)",
    "risk_unexposed": "Without microcalcification (standardised, %)",
    "risk_difference": "Difference (percentage points)",
    "risk_ratio": "Ratio",
    "odds_ratio": "Odds ratio",
    "c_statistic": "C-statistic",
    "calibration_intercept": "Calibration intercept",
    "calibration_slope": "Calibration slope",
    "pearson_chi2": "Pearson χ²",
    "yates_chi2": "χ² with Yates' correction",
    "fisher_exact": "Fisher's exact test",
    "mann_whitney": "Mann–Whitney U",
    "dersimonian_laird": "DerSimonian–Laird random effects",
    "reml_hksj": "REML random effects, Hartung–Knapp–Sidik–Jonkman CI",
    "reml_hksj_truncated": "REML random effects, HKSJ CI (truncated)",
    "mantel_haenszel": "Mantel–Haenszel (fixed effect)",
    "univariable": "Crude (univariable)",
    "multivariable": "Adjusted (multivariable)",
    "multivariable + centre": "Adjusted, centre as covariate",
}

#: Breast density grouped as clinicians read it: non-dense (BI-RADS a/b, the reference) and dense (c/d).
DENSITY_GROUPS: dict[str, list[str]] = {"non_dense": ["a", "b"], "dense": ["c", "d"]}

#: Every mapping above in one, for :func:`microcalc.analysis.display.show`.
ALL: dict[str, str] = {**QUANTITIES, **COLUMNS, **LEVELS, **VARIABLES}


def _in_text(label: str) -> str:
    return label[0].lower() + label[1:] if len(label) > 1 and label[0].isupper() and label[1].islower() else label


#: The variables as they read inside a sentence, and at its start ("MRI necrosis", "non-pCR", "T stage").
IN_TEXT: dict[str, str] = {**{k: _in_text(v) for k, v in VARIABLES.items()}, "mri_necrosis": "MRI necrosis"}


def group_names(variable: str) -> dict[bool | str, str]:
    """The names of the two groups of a yes/no ``variable``, keyed by True/False and by "yes"/"no".

    >>> group_names("microcalcification")[False]
    'No microcalcification'
    >>> group_names("mass")["yes"]
    'Mass on imaging'
    """
    label = VARIABLES.get(variable, variable)
    yes, no = GROUPS.get(variable, (label, f"No {_in_text(label)}"))
    return {True: yes, False: no, "yes": yes, "no": no}


#: The cohorts as every page names them, by their short (``nact``) and file (``nact_cohort``) code names.
#: In :data:`ALL` through :data:`CLEANING_REPLICATION_TERMS`, so a file name passed through
#: :func:`microcalc.analysis.display.relabel` reads "NACT cohort.csv": pages show file names unrelabelled.
COHORT_NAMES: dict[str, str] = {
    "nact": "NACT cohort",
    "bone": "Bone-metastasis cohort",
    "nact_cohort": "NACT cohort",
    "bone_cohort": "Bone-metastasis cohort",
}


#: Terms of the cleaning and replication pages (notebooks 03 and 07): the cohorts, the patient identifier
#: column, and the tests notebook 01's consistency checks name.
CLEANING_REPLICATION_TERMS: dict[str, str] = {
    **COHORT_NAMES,
    "patient_id": "Patient identifier",
    "logistic_wald": "Wald test of logistic regression",
    "wald_logistic": "Wald test of logistic regression",
}
ALL.update(CLEANING_REPLICATION_TERMS)

#: Code names of the reconstruction and the synthetic cohorts (pages 01 and 02) -> words: the tests,
#: the reconstructed tables' categories and cells, and the assumptions' and calibration's parameters.
#: Only names with an underscore or a "%" (never an ordinary word), so merging them into ``ALL`` changes
#: no other page's cell.
RECONSTRUCTION_TERMS: dict[str, str] = {
    "no_microcalcification": "No microcalcification",
    "no_pcr": "No pCR",
    "% pcr": "pCR (%)",
    "no_necrosis": "No necrosis",
    "% necrosis": "Necrosis (%)",
    "no_bone_metastasis": "No recorded bone metastasis",
    "% bone_metastasis": "Recorded bone metastasis (%)",
    "% osteolytic": "Osteolytic (%)",
    "% whole_body": "Whole body (%)",
    "age_at_50_percent": "age at which half are postmenopausal",
    "slope_per_year": "change in log-odds of being postmenopausal per year of age",
    "probability_without_calcification": "probability without microcalcification",
    "probability_with_calcification": "probability with microcalcification",
    "without_calcification": "without microcalcification",
    "with_calcification": "with microcalcification",
    "necrosis_log_odds_shift": "shift in the log-odds of necrosis on MRI",
    "log_odds_vs_luminal_b": "log-odds of pCR against luminal B",
    "min_pcr_rate": "lowest pCR rate of a cell",
    "max_pcr_rate": "highest pCR rate of a cell",
    "se_inflation": "inflation of the standard errors",
    "t_correlation": "latent correlation with T stage",
    "pcr_subtype_strength": "fraction of the literature's subtype effect on pCR",
    "calcification_stage_shift": "stage shift with microcalcification",
    "stage_effect": "effect of stage on bone metastasis",
    "chosen_values": "the chosen values",
    "pcr_by_subtype": "pCR by molecular subtype",
    "pcr_within_cells": "pCR within the calibration cells",
    "cell_search": "search over the splits of the pCRs",
    "fixed_and_chosen": "fixed by the abstract, or chosen",
    "stage_model": "stage and bone metastasis",
    "type_and_extent": "type and extent of bone metastasis",
    "necrosis_table": "feasible necrosis table used",
    "pcr_split": "pCRs in each microcalcification and necrosis cell",
    "pcr_calc_necrosis": "with microcalcification and necrosis",
    "pcr_calc_no_necrosis": "with microcalcification, without necrosis",
    "pcr_nocalc_necrosis": "without microcalcification, with necrosis",
    "pcr_nocalc_no_necrosis": "without microcalcification or necrosis",
    "type_table": "feasible type table used",
    "extent_table": "feasible extent table used",
    "why_subtype_strength": "why this subtype strength",
    "why_type_table": "why this type table",
    "why_extent_table": "why this extent table",
    "why_parameters": "why these parameters",
    "nact_cell_candidates": "the ranked candidate splits",
}


ALL.update(RECONSTRUCTION_TERMS)

#: The consortium (08) and planning (09) pages' names: the demonstration's sites and the power
#: simulation's columns (merged into :data:`ALL`).
POOLING_PLANNING_TERMS: dict[str, str] = {
    "bundled_synthetic": "Bundled synthetic site",
    "second_synthetic": "Second synthetic site",
    "site_left_out": "Site left out",
    "mc_se": "Monte Carlo standard error",
    "or_label": "Assumed OR",
    "nonconverged": "Fits with a separated term",
    "exposure_not_estimable": "Microcalcification not estimable",
}
ALL.update(POOLING_PLANNING_TERMS)


#: The bone cohort's published measures as the replication page says them: the cohort records bone metastases
#: without follow-up time or their timing, so its rate and OR are of *recorded* bone metastasis (published
#: measure, as in ``abstract_statistics.csv``, -> words; a description that starts with the measure keeps the
#: rest). Not merged into :data:`ALL`: the keys are phrases, not code names.
RECORDED_MEASURES: dict[str, str] = {
    "bone metastasis rate": "recorded bone metastasis rate",
    "OR of bone metastasis": "OR of recorded bone metastasis",
}
