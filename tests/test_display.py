"""Tables for reading (microcalc.analysis.display) with the study's labels (microcalc.labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
        "Missing",
        "Microcalcification",
        "No microcalcification",
        "SMD",
        "P",
    ]
    assert f["Variable"].tolist() == ["Patients", "Breast density (BI-RADS), n (%)", "", "Molecular subtype, n (%)"]
    assert f["Level"].tolist() == ["", "a", "b", "luminal A"]
