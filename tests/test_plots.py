"""Figures: the synthetic-data label, the one colour of microcalcification, forest plots a clinician reads,
the participant flow's wording, the published-against-reproduced panels and the marking of chosen values."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from microcalc import labels
from microcalc.analysis import plots


@pytest.fixture(autouse=True)
def _style():
    plots.use_style(labels.VARIABLES, labels.LEVELS)
    yield
    plt.close("all")


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def _tidy():
    return pd.DataFrame(
        {
            "variable": ["microcalcification", "breast_density", "molecular_subtype"],
            "level": ["yes", "b", "her2_enriched"],
            "or": [2.352, 0.5, np.nan],
            "ci_low": [1.186, 0.2, np.nan],
            "ci_high": [4.667, 1.25, np.nan],
        }
    )


def test_the_synthetic_label_appears_only_on_synthetic_figures_and_once():
    rows = plots.forest_rows(_tidy())
    on = plots.forest_plot(rows, synthetic=True).figure
    plots.mark_synthetic(on, True)
    assert _texts(on).count(plots.SYNTHETIC_LABEL) == 1
    off = plots.forest_plot(rows, synthetic=False).figure
    assert plots.SYNTHETIC_LABEL not in _texts(off)


def test_microcalcification_has_one_colour_that_nothing_else_uses():
    assert plots.MICROCALCIFICATION not in plots.OTHER_COLOURS
    cycle = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert plots.MICROCALCIFICATION not in cycle
    rates = pd.DataFrame(
        {
            "events": [32, 50],
            "n": [155, 158],
            "rate_pct": [20.6, 31.6],
            "ci_low_pct": [15.0, 25.0],
            "ci_high_pct": [27.0, 39.0],
        }
    )
    ax = plots.plot_rates(rates, "pCR")
    assert [to_hex(p.get_facecolor()).upper() for p in ax.patches[:2]] == [
        plots.MICROCALCIFICATION,
        plots.NO_MICROCALCIFICATION.upper(),
    ]
    forest = plots.forest_plot(plots.forest_rows(_tidy()))
    colours = {to_hex(line.get_color()).upper() for line in forest.lines if line.get_marker() == "s"}
    assert colours == {plots.MICROCALCIFICATION, plots.NEUTRAL.upper()}


def test_a_forest_plot_prints_or_and_ci_beside_each_row_names_rows_clinically_and_labels_the_direction():
    data = pd.DataFrame({"breast_density": pd.Categorical(["a", "b"], categories=list("abcd"))})
    rows = plots.forest_rows(_tidy(), data)
    assert list(rows["label"]) == [
        "Microcalcification (present vs absent)",
        "Breast density (BI-RADS): b vs a",
        "Molecular subtype: HER2-enriched",
    ]
    texts = _texts(plots.forest_plot(rows, outcome="non-pCR").figure)
    assert {"2.35 (1.19–4.67)", "0.50 (0.20–1.25)", "not estimable", "OR (95% CI)"} <= set(texts)
    assert "← lower odds of non-pCR " in texts and "| higher odds of non-pCR →" in texts
    assert not any("[" in t or "_" in t for t in texts)


def test_labels_with_code_names_are_shown_clinically():
    assert plots.clinical_text("without mri_necrosis (n = 313)") == "without necrosis on MRI (n = 313)"
    assert plots.clinical_text("whole_body") == "whole body"


def _frames():
    nact = pd.DataFrame(
        {
            "microcalcification": pd.array([True] * 4 + [False] * 4, dtype="boolean"),
            "pcr": pd.array([True, False] * 4, dtype="boolean"),
            "mri_necrosis": pd.array([True, None, False, True, None, None, False, True], dtype="boolean"),
        }
    )
    flow = []
    for group, sub in [
        ("all", nact),
        *((plots.GROUP_LABELS[v], nact[nact["microcalcification"] == v]) for v in (True, False)),
    ]:
        n0, n1 = len(sub), int(sub["mri_necrosis"].notna().sum())
        flow += [
            {
                "group": group,
                "cohort": "nact_cohort",
                "step": "records in the file",
                "n": n0,
                "excluded": 0,
                "reason for exclusion": "",
            },
            {
                "group": group,
                "cohort": "nact_cohort",
                "step": "microcalcification and pCR known (univariable analyses)",
                "n": n0,
                "excluded": 0,
                "reason for exclusion": "",
            },
            {
                "group": group,
                "cohort": "nact_cohort",
                "step": "every covariate known (multivariable model)",
                "n": n1,
                "excluded": n0 - n1,
                "reason for exclusion": f"mri_necrosis missing: {n0 - n1}",
            },
        ]
    return pd.DataFrame(flow)


def test_the_flow_splits_by_group_and_never_calls_patients_of_the_univariable_analyses_excluded():
    flow = _frames()
    ax = plots.plot_flow(flow[flow["group"] == "all"], "nact_cohort", by_group=flow[flow["group"] != "all"])
    texts = " ".join(_texts(ax.figure))
    assert "with microcalcification\nn = 4" in texts and "without microcalcification\nn = 4" in texts
    assert "not in the multivariable model: 1" in texts and "not in the multivariable model: 2" in texts
    assert "necrosis on MRI not assessed" in texts
    assert "excluded" not in texts and "mri_necrosis" not in texts


def test_published_against_reproduced_draws_one_outcome_per_panel_with_clinical_labels():
    published = pd.DataFrame(
        {
            "measure": [
                "OR of non-pCR, microcalcification vs none",
                "OR of non-pCR, MRI tumour necrosis vs none",
                "OR of bone metastasis, microcalcification vs none",
            ],
            "analysis": ["univariable", "multivariable", "multivariable"],
        },
        index=["a", "b", "c"],
    )
    comparison = pd.DataFrame(
        {
            "id": ["a", "a", "b", "c", "c"],
            "source": ["published", "reproduced", "published", "published", "reproduced"],
            "or": [1.78, 1.7795, 2.325, 2.268, 2.2934],
            "ci_low": [1.065, 1.0649, 1.1, 1.263, 1.3917],
            "ci_high": [2.974, 2.9738, 4.911, 4.071, 3.7793],
        }
    )
    tidy = plots.published_vs_reproduced(comparison, published)
    assert list(tidy["outcome"]) == ["non-pCR", "non-pCR", "bone metastasis"]
    assert list(tidy["measure"]) == [
        "Microcalcification vs none, univariable",
        "Necrosis on MRI vs none, multivariable",
        "Microcalcification vs none, multivariable",
    ]
    assert np.isnan(tidy.loc[1, "reproduced"])
    axes = plots.plot_published_vs_reproduced(tidy, synthetic=True)
    assert [ax.get_title(loc="left") for ax in axes] == ["Outcome: non-pCR", "Outcome: bone metastasis"]
    texts = _texts(axes[0].figure)
    assert "published 1.780 (1.065–2.974)" in texts and "this run 1.780 (1.065–2.974)" in texts
    assert "this run not reproduced" in texts and plots.SYNTHETIC_LABEL in texts


def test_chosen_values_come_from_the_assumptions_and_are_hatched():
    from microcalc.cohorts.contract import categories
    from microcalc.cohorts.synthesize import load_assumptions

    assumptions = load_assumptions()
    bone = plots.chosen_values(assumptions, "bone")
    assert set(bone) == {"osteoblastic", "mixed", "axial", "appendicular"}
    levels = set(categories("bone_cohort", "bone_metastasis_type")) | set(
        categories("bone_cohort", "bone_metastasis_extent")
    )
    assert set(bone) <= levels and not {"osteolytic", "whole_body"} & set(bone)  # the abstract fixes these two
    assert {"mri_necrosis_split", "pcr_by_necrosis", "pcr_by_mri_assessed"} <= set(
        plots.chosen_values(assumptions, "nact")
    )
    table = plots.fixed_and_chosen_table(assumptions)
    assert set(table["fixed or chosen"]) == {"fixed by the abstract", f"chosen {plots.CHOSEN_MARK}"}
    counts = pd.DataFrame(
        {"osteolytic": [56, 17], "osteoblastic": [7, 3], "mixed": [8, 8]}, index=list(plots.GROUP_LABELS.values())
    )
    ax = plots.plot_stacked_shares(counts, chosen=bone)
    hatches = {c.get_label(): c.patches[0].get_hatch() for c in ax.containers}
    assert hatches == {
        "osteolytic": None,
        f"osteoblastic {plots.CHOSEN_MARK}": plots.CHOSEN_HATCH,
        f"mixed {plots.CHOSEN_MARK}": plots.CHOSEN_HATCH,
    }
    assert plots.chosen_values({}, "bone") == {}


def test_figures_use_the_labels_they_are_given_and_hold_no_study_names_of_their_own():
    plots.use_style()
    assert plots.term_label("breast_density", "b", "a") == "Breast density: b vs a"
    plots.use_style({"breast_density": "Breast density (BI-RADS)", "age": "Age (years)"}, {"her2_enriched": "HER2+"})
    assert plots.term_label("breast_density", "b", "a") == "Breast density (BI-RADS): b vs a"
    assert plots.term_label("age", "per unit") == "Age (per year)"
    assert plots.level_label("her2_enriched") == "HER2+"
