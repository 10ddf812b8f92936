"""The planning page's tables (microcalc.planning, microcalc.planning_checks): words, percentages, no code names."""

from __future__ import annotations

import re

import pandas as pd

from microcalc import planning_checks
from microcalc.analysis import display

CODE = re.compile(r"\b[a-z]+_[a-z_0-9]+\b|^(nan|NaN|<NA>|None|True|False)$|\d\.\d+e[+-]\d+")


def _grid():
    """Two assumed ORs over three sizes: the published one reaches 80% at 150 patients (0.7 at 100, 0.9 at
    200, linear in between) and 90% at 200; the lower CI limit never reaches either."""
    return pd.DataFrame(
        {
            "cohort": ["nact_cohort"] * 6,
            "or_label": ["published"] * 3 + ["CI lower limit"] * 3,
            "or": [2.352] * 3 + [1.186] * 3,
            "n": [100, 200, 400] * 2,
            "reps": [500] * 6,
            "power": [0.7, 0.9, 0.99, 0.05, 0.07, 0.1],
            "nonconverged": [3, 0, 0, 1, 0, 0],
            "exposure_not_estimable": [1, 0, 0, 0, 0, 0],
        }
    )


def _clean(shown):
    cells = [str(c) for c in shown.frame.columns] + [str(v) for v in shown.frame.to_numpy().ravel()]
    return [c for c in cells if CODE.search(c)]


def test_power_is_in_percent_one_column_per_assumed_or_in_the_grids_order():
    shown = display.show(planning_checks.power_table(_grid()))
    assert list(shown.frame.columns) == [
        "Patients",
        "Power (%), OR 2.352 (published)",
        "Power (%), OR 1.186 (lower 95% CI limit)",
    ]
    assert shown.frame.iloc[0].tolist() == ["100", "70.0", "5.0"]
    assert _clean(shown) == []


def test_the_sizes_for_power_are_interpolated_and_named():
    shown = display.show(planning_checks.sample_size_table(_grid()), decimals=3)
    assert shown.frame.to_dict("list") == {
        "Assumed OR": ["Published", "Lower 95% CI limit"],
        "OR": ["2.352", "1.186"],
        "Patients for 80% power": ["150", "more than 400"],
        "Patients for 90% power": ["200", "more than 400"],
    }


def test_the_fit_problems_are_counted_per_named_cohort_out_of_the_replicates():
    shown = display.show(planning_checks.fit_problems(_grid()))
    assert shown.frame.iloc[0].tolist() == ["NACT cohort", "3000", "4", "1"]
    assert _clean(shown) == []


def test_the_closed_form_check_reads_in_percent_and_words():
    closed = pd.DataFrame(
        {
            "n": [150],
            "reps": [500],
            "power": [0.304],
            "mc_se": [0.0206],
            "demidenko": [0.3315],
            "hsieh": [0.3331],
            "z": [-1.3074],
            "nonconverged": [0],
            "cohort": ["bone_cohort"],
            "OR": [2.55],
        }
    )
    shown = display.show(planning_checks.closed_form_display(closed))
    assert list(shown.frame.columns) == [
        "Cohort",
        "OR",
        "Patients",
        "Simulated studies",
        "Simulated power (%)",
        "Monte Carlo standard error (percentage points)",
        "Demidenko, Wald test (%)",
        "Hsieh, Bloch & Larsen (%)",
        "Simulated − Demidenko (Monte Carlo standard errors)",
        "Studies whose fit did not converge",
    ]
    assert shown.frame.iloc[0].tolist() == [
        "Bone-metastasis cohort",
        "2.55",
        "150",
        "500",
        "30.4",
        "2.06",
        "33.1",
        "33.3",
        "-1.31",
        "0",
    ]
    assert "Monte Carlo standard error (percentage points)" in shown.frame.columns
    assert _clean(shown) == []


def test_the_power_curves_read_in_percent_with_the_monte_carlo_interval_named():
    """Power 0.7 at 100 patients is drawn at 70%, its bar ±1.96 Monte Carlo standard errors (0.02: ±3.92 points)."""
    import matplotlib

    matplotlib.use("Agg")
    grid = _grid().assign(mc_se=0.02)
    ax = planning_checks.plot_power_curves(grid, "non-pCR with microcalcification (NACT cohort)")
    line = ax.get_lines()[0]
    assert line.get_ydata()[:3].tolist() == [70.0, 90.0, 99.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    segments = ax.containers[0].lines[2][0].get_segments()
    assert abs(segments[0][1][1] - segments[0][0][1] - 2 * 1.96 * 2.0) < 1e-9
    legend = ax.get_legend()
    assert "95% Monte Carlo interval" in legend.get_title().get_text()
    assert [t.get_text() for t in legend.get_texts()] == ["OR 2.352 (published)", "OR 1.186 (lower 95% CI limit)"]
    assert "MC" not in ax.get_ylabel() and "%" not in ax.get_ylabel()
