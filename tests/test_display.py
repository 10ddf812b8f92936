"""Tables for reading (microcalc.analysis.display) with the study's labels (microcalc.labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microcalc import labels
from microcalc.analysis import display


def test_relabel_coefficients_code_names_and_leaves_ordinary_words():
    assert display.relabel("breast_density[b]", labels.ALL) == "Breast density (BI-RADS): b"
    assert display.relabel("molecular_subtype[her2_enriched]", labels.ALL) == "Molecular subtype: HER2-enriched"
    assert display.relabel("mri_necrosis", labels.ALL) == "Necrosis on MRI"
    assert display.relabel("without mri_necrosis", labels.ALL) == "without necrosis on MRI"
    assert display.relabel("a mass of data", labels.ALL) == "a mass of data"
    assert display.relabel(3, labels.ALL) == 3


def test_show_names_groups_formats_numbers_and_hides_the_index():
    rates = pd.DataFrame(
        {
            "microcalcification": pd.array([True, False], dtype="boolean"),
            "events": [32, 50],
            "n": [155, 158],
            "rate_pct": [20.6452, 31.6456],
            "p": [0.00004, np.nan],
        }
    )
    shown = display.show(rates, labels.ALL, groups=labels.group_names("microcalcification"), event="pCR")
    assert list(shown.frame.columns) == ["Group", "pCR", "Patients", "pCR (%)", "P"]
    assert shown.frame.iloc[:, 0].tolist() == ["Microcalcification", "No microcalcification"]
    assert shown.frame["pCR (%)"].tolist() == ["20.6", "31.6"]
    assert shown.frame["P"].tolist() == ["<0.001", display.MISSING]
    text, html = repr(shown), shown._repr_html_()
    for bad in ("NaN", "nan", "<NA>", "None", "True", "False"):
        assert bad not in text
    assert "<th></th>" not in html and html.count("<tr") == 3


def test_show_keeps_an_informative_index_and_can_drop_it():
    firth = pd.DataFrame(
        {"or": [2.2463, 0.5447], "p": [0.0145, 0.3959], "method": ["Firth", "Firth"]},
        index=pd.Index(["microcalcification", "breast_density[b]"], name="term"),
    )
    shown = display.show(firth, labels.ALL, index="Variable", drop=["method"])
    assert shown.frame.to_dict("list") == {
        "Variable": ["Microcalcification", "Breast density (BI-RADS): b"],
        "OR": ["2.25", "0.54"],
        "P": ["0.015", "0.396"],
    }
    assert list(display.show(firth, labels.ALL, index=False).frame.columns) == ["OR", "P", "Method"]


def test_show_percent_rows_and_never_minus_zero():
    table = pd.DataFrame(
        {"estimate": [0.8515, 0.1375, 1.1926, -1.9e-16]},
        index=["risk_exposed", "risk_difference", "risk_ratio", "calibration_intercept"],
    )
    shown = display.show(table, labels.ALL, index="Quantity", percent_rows=["risk_exposed", "risk_difference"])
    assert shown.frame["Estimate"].tolist() == ["85.2", "13.8", "1.19", "0.00"]


def test_show_table_one_labels_variables_levels_and_groups():
    index = pd.MultiIndex.from_tuples(
        [
            ("n", ""),
            ("breast_density, n (%)", "a"),
            ("breast_density, n (%)", "b"),
            ("molecular_subtype, n (%)", "luminal_a"),
        ]
    )
    columns = pd.MultiIndex.from_tuples(
        [("Grouped by microcalcification", c) for c in ("Missing", "yes", "no", "SMD (yes,no)", "P-Value")]
    )
    table = pd.DataFrame(
        [
            ["", "155", "158", "", ""],
            ["0", "10 (6.5)", "8 (5.1)", "0.229", "0.257"],
            ["", "36 (23.2)", "52 (32.9)", "", ""],
            ["0", "19 (12.3)", "19 (12.0)", "0.2", "0.33"],
        ],
        index=index,
        columns=columns,
    )
    shown = display.show_table_one(table, labels.ALL, labels.group_names("microcalcification"))
    f = shown.frame
    assert list(f.columns) == [
        "Variable",
        "Level",
        "Microcalcification",
        "No microcalcification",
        "P",
        "SMD",
        "Missing",
    ]
    assert f["Variable"].tolist() == ["Patients", "Breast density (BI-RADS)", "", "Molecular subtype"]
    assert f["Level"].tolist() == ["", "a", "b", "luminal A"]
    assert shown.caption.startswith("Categories as n (%);")
    assert "SMD, standardised mean difference" in shown.caption


def _two_group_table(tests: list[str], groups: tuple[str, ...] = ("yes", "no")) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("age, median [Q1,Q3]", ""), ("mass, n (%)", "yes"), ("pcr, n (%)", "yes")])
    heads = ["Missing", "Overall", *groups, "P-Value", "Test"]
    columns = pd.MultiIndex.from_tuples([("Grouped by microcalcification", c) for c in heads])
    cells = [["0", "47.0 [40.0,55.0]", *["1"] * len(groups), "0.345", tests[0]]]
    cells += [["0", "5 (10.0)", *["2"] * len(groups), "0.2", t] for t in tests[1:]]
    return pd.DataFrame(cells, index=index, columns=columns)


def test_show_table_one_puts_p_and_test_after_the_groups_and_names_tests_in_words():
    table = _two_group_table(["Kruskal-Wallis", "Chi-squared (warning: expected count < 5)", "Chi-squared"])
    shown = display.show_table_one(table, labels.ALL, labels.group_names("microcalcification"))
    f = shown.frame
    assert list(f.columns)[:5] == ["Variable", "Level", "Microcalcification", "No microcalcification", "P"]
    assert list(f.columns)[5:] == ["Test", "Overall", "Missing"]
    assert f["Test"].tolist() == ["Mann–Whitney U", "χ² *", "χ²"]
    assert f["Variable"].iloc[0] == "Age (years)"
    assert f["Level"].tolist() == ["median [Q1, Q3]", "yes", "yes"]
    assert f["Overall"].iloc[0] == "47.0 [40.0, 55.0]"
    assert "same P for two groups" in shown.caption
    assert "* an expected count below 5" in shown.caption
    assert shown.caption.count("χ², Pearson") == 1


def test_show_table_one_keeps_kruskal_wallis_for_three_groups():
    table = _two_group_table(["Kruskal-Wallis", "Chi-squared", "Fisher's exact"], groups=("a", "b", "c"))
    assert display.show_table_one(table).frame["Test"].tolist() == ["Kruskal–Wallis", "χ²", "Fisher's exact"]


def test_two_group_kruskal_wallis_p_is_the_mann_whitney_u_p():
    """R: x <- c(47,40,55,39,61,52,44,47,50,38); y <- c(48,41,56,60,52,49,51,47,45,58,62)
    kruskal.test(list(x, y))$p.value and wilcox.test(x, y, correct = FALSE, exact = FALSE)$p.value
    both give 0.148200849476957: the name Table 1 shows for two groups does not change its P."""
    from scipy import stats

    x = [47, 40, 55, 39, 61, 52, 44, 47, 50, 38]
    y = [48, 41, 56, 60, 52, 49, 51, 47, 45, 58, 62]
    assert stats.kruskal(x, y).pvalue == pytest.approx(0.148200849476957, rel=1e-12)
    u = stats.mannwhitneyu(x, y, use_continuity=False, method="asymptotic")
    assert u.pvalue == pytest.approx(0.148200849476957, rel=1e-12)


def test_show_marks_chosen_columns_and_says_why_once():
    table = pd.DataFrame({"osteolytic": [10, 5], "mixed": [3, 4], "axial": [2, 1]}, index=["with", "without"])
    note = {"mixed": "one of the type tables", "axial": "one of the extent tables"}
    shown = display.show(table, labels.ALL, index="Group", chosen=note)
    assert list(shown.frame.columns) == ["Group", "osteolytic", "mixed †", "axial only †"]
    assert shown.caption == "† Chosen, not fixed by the abstract: one of the type tables; one of the extent tables."
    assert display.show(table, labels.ALL, chosen={}).caption == ""


def test_show_writes_an_exact_zero_as_zero_only_where_asked():
    table = pd.DataFrame({"tau2": [0.0, 0.0004], "i2": [0.0, 12.34]})
    shown = display.show(table, labels.ALL, decimals=3, percent=["i2"], zeros=["tau2", "i2"])
    assert shown.frame.iloc[:, 0].tolist() == ["0", "0.000"]
    assert shown.frame.iloc[:, 1].tolist() == ["0", "12.3"]
    assert display.show(table, labels.ALL, decimals=3).frame.iloc[0, 0] == "0.000"
