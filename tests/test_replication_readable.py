"""The replication page for a clinician: published quantities by description, checks in words, and the
site-run figure in colours that never mean microcalcification.

References: the published abstract (``data/published/abstract_statistics.csv``: each description is its
measure, group and analysis), the bundled run's scorecard (``data/results/replication.csv``, written by
notebook 07), constructed scorecards, and the palette of :mod:`microcalc.analysis.figure_style`.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from microcalc.analysis.display import MISSING, Shown
from microcalc.analysis.figure_style import MICROCALCIFICATION, NEUTRAL, OTHER_COLOURS
from microcalc.replicate import (
    REPLICATION_COLUMNS,
    context_display,
    context_table,
    describe,
    findings_sentences,
    findings_table,
    load_results,
    main_tables,
    plot_findings,
    replication_table,
    scorecard_display,
    table_notes,
)
from microcalc.replicate.readable import (
    SCORECARD_CHECKS,
    SCORECARD_HEADERS,
    SCORECARD_MAIN,
    in_sentence,
    name_tests,
    printed_difference,
)

#: What a clinician should never meet in a cell (the patterns of the page scan).
CODE = re.compile(r"\b[a-z]+_[a-z_0-9]+\b")
MACHINE = {"True", "False", "nan", "NaN", "<NA>", "None", ""}


@pytest.fixture(scope="module")
def results(root):
    return load_results(root)


@pytest.fixture(scope="module")
def scorecard(published, results):
    return replication_table(published, results)


def _cells(frame: pd.DataFrame) -> list[str]:
    return [str(v) for v in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]


def test_every_published_quantity_has_its_own_description_without_code_names(published):
    names = describe(published)
    assert list(names.index) == list(published.index)
    assert names.is_unique  # the crude and adjusted ORs, and the two groups, are told apart
    assert not any(CODE.search(n) for n in names)
    assert names["nact_pcr_calc"] == "pCR rate, with microcalcification"
    assert names["nact_pcr_nocalc"] == "pCR rate, without microcalcification"
    assert names["nact_or_calc_uni"] == "OR of non-pCR, microcalcification vs none, crude (univariable)"
    # the bone cohort has no follow-up time: its rate and OR are of recorded bone metastasis
    assert names["bone_or_calc_multi"] == (
        "OR of recorded bone metastasis, microcalcification vs none, adjusted (multivariable)"
    )
    assert names["bone_met_calc"] == "Recorded bone metastasis rate, with microcalcification"
    assert names["bone_met_compare"] == "Recorded bone metastasis rate, microcalcification vs none"
    assert names["nact_ns_age"] == "Association of age with non-pCR"
    # the group already in the measure is not said twice
    assert names["bone_extent_calc_axial"] == "Most frequent bone metastasis extent with microcalcification"


def test_a_description_inside_a_sentence_keeps_its_abbreviations():
    assert (
        in_sentence("Bone metastasis rate, with microcalcification") == "bone metastasis rate, with microcalcification"
    )
    assert in_sentence("pCR rate") == "pCR rate"
    assert in_sentence("OR of non-pCR") == "OR of non-pCR"
    assert in_sentence("MRI tumour necrosis rate") == "MRI tumour necrosis rate"


def test_tests_are_named_in_words_as_written_in_the_labels():
    text = "reproduced by fisher_exact, logistic_wald, mann_whitney, pearson_chi2, yates_chi2"
    assert name_tests(text) == (
        "reproduced by Fisher's exact test, Wald test of logistic regression, Mann–Whitney U, Pearson χ², "
        "χ² with Yates' correction"
    )
    assert name_tests("GRIM: possible for 155") == "GRIM: possible for 155"


@pytest.mark.parametrize("read_back", [False, True], ids=["computed", "replication.csv"])
def test_the_bundled_scorecard_reads_in_words(published, scorecard, root, read_back):
    table = pd.read_csv(root / "data/results/replication.csv") if read_back else scorecard
    shown = scorecard_display(published, table)
    assert list(shown.columns) == list(SCORECARD_HEADERS.values())
    assert len(shown) == len(published)
    cells = _cells(shown)
    assert not [c for c in cells if c in MACHINE or CODE.search(c) or re.search(r"\d\.\d+e[+-]\d+", c)]
    row = shown.set_index("Published quantity")
    pcr = row.loc["pCR rate, microcalcification vs none"]
    # the published P = 0.029 is reproduced only by Fisher's exact test, which the paper does not name
    assert pcr["Computed with the method the paper names"] == "no"
    assert pcr["Agreement"] == "exact, with a test the paper does not name"
    # the difference is said at the printed precision: a reproduced value that prints as published shows none
    assert pcr["Difference at the printed precision"] == "none"
    assert row.loc["pCR rate, with microcalcification", "Difference at the printed precision"] == "none"
    assert "Fisher's exact test" in pcr["Consistency of the published numbers (notebook 01)"]
    assert pcr["Reproduced 95% CI"] == MISSING and pcr["Published value inside the reproduced 95% CI"] == MISSING
    claim = row.loc["Association of age with non-pCR"]
    assert claim["Difference at the printed precision"] == MISSING
    assert claim["Matches at the printed precision"] == "yes"
    assert row.loc["Patients given NACT", "Difference at the printed precision"] == "none"
    multi = row.loc["OR of non-pCR, microcalcification vs none, adjusted (multivariable)"]
    assert multi["Difference at the printed precision"] == "OR +0.047"  # 2.399 reproduced against 2.352
    assert row.loc["Patients given NACT", "Cohort"] == "NACT cohort"
    assert row.loc["Patients in the multicentre cohort", "Cohort"] == "Bone-metastasis cohort"


def test_a_constructed_scorecard_says_yes_no_and_not_applicable(published):
    ids = ["nact_pcr_calc", "nact_or_calc_multi", "nact_ns_age"]
    table = pd.DataFrame(
        {
            "id": ids,
            "cohort": "nact",
            "measure": "",
            "published": ["20.6%", "2.352 (1.186-4.667), P = 0.014", "not significant"],
            "reproduced": ["21.0%", "not computed", "P = 0.020 (significant)"],
            "difference": [0.4, np.nan, np.nan],
            "reproduced 95% CI": ["15.0% to 27.7%", "", ""],
            "published inside reproduced CI": pd.array([True, pd.NA, pd.NA], dtype="boolean"),
            "matches at printed precision": [False, False, False],
            "named by paper": pd.array([True, pd.NA, pd.NA], dtype="boolean"),
            "P in another printed class": pd.array([pd.NA, pd.NA, pd.NA], dtype="boolean"),
            "agreement": ["differs", "differs", "differs"],
            "method": "",
            "consistency (notebook 01)": "",
            "estimator": "",
        },
        columns=REPLICATION_COLUMNS,
    )
    shown = scorecard_display(published, table)
    assert shown["Difference at the printed precision"].tolist() == ["+0.4 percentage points", MISSING, MISSING]
    assert shown["Published value inside the reproduced 95% CI"].tolist() == ["yes", MISSING, MISSING]
    assert shown["Matches at the printed precision"].tolist() == ["no", "no", "no"]
    assert shown["Consistency of the published numbers (notebook 01)"].tolist() == [MISSING] * 3
    assert shown["Reproduced"].tolist() == ["21.0%", "not computed", "P = 0.020 (significant)"]


def test_the_page_shows_the_scorecard_by_description_and_its_notes_name_no_id(published, scorecard, results):
    findings = findings_table(published, results)
    main, _, checks, _, consistency = main_tables(published, scorecard, findings, bundled=True)
    assert isinstance(main, Shown) and "Brown & Heathers" in consistency.caption
    full = scorecard_display(published, scorecard)
    pd.testing.assert_frame_equal(main.frame, full[SCORECARD_MAIN])
    pd.testing.assert_frame_equal(checks.frame, full[SCORECARD_CHECKS])
    # every column of the full scorecard is on the page, in one of the three tables
    shown = set(main.frame.columns) | set(checks.frame.columns) | set(consistency.frame.columns)
    assert shown == set(full.columns) - {"Matches at the printed precision"}
    # the main table stays narrow: the quantity, the two values and the verdict
    assert list(main.frame.columns) == ["Published quantity", "Published", "Reproduced", "Agreement"]
    assert len(checks.frame.columns) == 7
    notes = table_notes(published, scorecard, findings, bundled=True)
    assert "pCR rate, microcalcification vs none, by Fisher's exact test" in notes
    assert not [w for w in CODE.findall(notes) if w != "replication_findings"]  # a file named as a file


def test_a_site_run_names_its_findings_and_context_by_description(published, scorecard, results):
    findings = findings_table(published, results)
    shown = [t for t in main_tables(published, scorecard, findings, bundled=False) if isinstance(t, Shown)]
    assert len(shown) == 2
    assert shown[0].frame["Finding"].tolist() == describe(published)[findings["id"]].tolist()
    for table in shown:
        cells = _cells(table.frame)
        assert not [c for c in cells if c in MACHINE or CODE.search(c)]
    context = context_display(published, context_table(scorecard))
    assert list(context.columns) == ["Published quantity", "Published", "This site", "This site's 95% CI"]
    assert context.loc[0, "This site's 95% CI"] == MISSING  # a count has no CI
    sentences = findings_sentences(findings, describe(published))
    assert sentences[0].startswith("pCR rate, microcalcification vs none: the same direction as published")
    assert not any("`" in s for s in sentences)
    assert findings_sentences(findings)[0].startswith("`nact_pcr_compare`:")  # without names: the ids, as before


def _colours(artist) -> set[str]:
    out = set()
    for get in ("get_color", "get_facecolor", "get_edgecolor", "get_markerfacecolor", "get_markeredgecolor"):
        if hasattr(artist, get):
            value = getattr(artist, get)()
            values = value if isinstance(value, (list, np.ndarray)) and np.ndim(value) == 2 else [value]
            for v in values:
                if isinstance(v, str) and v == "none":
                    continue
                if len(np.atleast_1d(v)) == 4 and np.atleast_1d(v)[3] == 0:
                    continue  # transparent
                out.add(to_hex(v))
    return out


def test_the_site_run_figure_draws_this_site_in_neutral_never_in_the_colour_of_microcalcification(published, results):
    findings = findings_table(published, results)
    ax = plot_findings(findings, names=describe(published))
    try:
        series = {c.get_label(): c for c in ax.containers if hasattr(c, "has_xerr")}
        site, pub = series["this site (95% CI)"], series["published (95% CI)"]
        assert _colours(site.lines[0]) == {to_hex(NEUTRAL)}
        assert {to_hex(c) for c in site.lines[2][0].get_colors()} == {to_hex(NEUTRAL)}
        assert _colours(pub.lines[0]) == {to_hex(OTHER_COLOURS[0])}
        drawn = set().union(*(_colours(a) for a in ax.get_children()))
        assert to_hex(MICROCALCIFICATION) not in drawn
        labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
        ors = findings[(findings["kind"] == "odds_ratio") & findings["site_estimate"].notna()]
        assert labels == describe(published)[ors["id"]].tolist()
    finally:
        plt.close(ax.figure)


def test_differences_are_said_at_the_printed_precision():
    # 20.6% reproduced as 20.645...% prints as published: no difference to show
    assert printed_difference(0.0452, "percent", "20.6%", True) == "none"
    assert printed_difference(-0.35, "percent", "31.6%", False) == "-0.3 percentage points"
    assert printed_difference(0.0003, "p", "P = 0.029", True) == "none"
    assert printed_difference(0.0021, "p", "P = 0.014", False) == "P +0.002"
    assert printed_difference(0.0468, "odds_ratio", "2.352", False) == "OR +0.047"
    assert printed_difference(0.0002, "odds_ratio", "2.352", False) == "none in the estimate; CI or P differ"
    assert printed_difference(3, "count", "313", False) == "+3 patients"
    assert printed_difference(np.nan, "percent", "20.6%", False) == MISSING
    assert printed_difference(np.nan, "claim", "not significant", True) == MISSING
