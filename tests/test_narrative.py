"""Sentence builders of the analysis pages (microcalc.narrative): every number in them comes from the inputs.

References: the OR of the complementary outcome is exactly 1/OR with the CI limits inverted and swapped
(checked with exact fractions); the counts are the abstract's (32/155 vs 50/158 for pCR); the
standardised risks are made up here so that the per-100 numbers can be worked out by hand.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from microcalc import labels, narrative
from microcalc.analysis.effects import Standardised
from microcalc.analysis.levels import grouped_levels
from microcalc.analysis.stats import EventsPerVariable


def _std(r1: float, r0: float, rd=(None, None), rr=(None, None), method: str = "g-computation") -> Standardised:
    table = pd.DataFrame(
        {
            "estimate": [r1, r0, r1 - r0, r1 / r0, (r1 / (1 - r1)) / (r0 / (1 - r0))],
            "ci_low": [np.nan, np.nan, rd[0], rr[0], np.nan],
            "ci_high": [np.nan, np.nan, rd[1], rr[1], np.nan],
        },
        index=["risk_exposed", "risk_unexposed", "risk_difference", "risk_ratio", "odds_ratio"],
    )
    return Standardised(table, 256, 198, method)


def _rates(events=(32, 50), n=(155, 158)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "microcalcification": [True, False],
            "events": list(events),
            "n": list(n),
            "rate_pct": [100 * e / k for e, k in zip(events, n, strict=True)],
        }
    )


def _tests(p=(0.0269, 0.0293)) -> pd.DataFrame:
    return pd.DataFrame({"test": ["pearson_chi2", "fisher_exact"], "method": ["Pearson", "Fisher"], "p": list(p)})


def test_inverted_or_is_exactly_one_over_the_or_with_the_ci_swapped():
    o, lo, hi = Fraction(12, 5), Fraction(6, 5), Fraction(24, 5)  # 2.40 (1.20-4.80)
    assert narrative.inverted_or(o, lo, hi) == (Fraction(5, 12), Fraction(5, 24), Fraction(5, 6))
    assert narrative.inverted_or(2.0, 1.0, 4.0) == (0.5, 0.25, 1.0)


def test_or_both_directions_prints_the_or_of_the_complement_beside_it():
    row = pd.Series({"or": 2.4, "ci_low": 1.2, "ci_high": 4.8, "p": 0.013, "note": ""})
    text = narrative.or_both_directions(row, "non-pCR", "pCR", with_p=True)
    assert text == "OR of non-pCR 2.40 (1.20–4.80, P = 0.013); as the OR of pCR, 0.42 (0.21–0.83)"


def test_or_both_directions_without_an_estimate_says_why_and_inverts_nothing():
    row = pd.Series(
        {"or": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "note": "not estimable: separation"}
    )
    assert narrative.or_both_directions(row, "non-pCR", "pCR") == "OR of non-pCR not estimable: separation"


def test_per_100_rounds_the_standardised_difference_and_gives_the_complement():
    std = _std(0.85, 0.71, rd=(0.034, 0.241), rr=(1.04, 1.37))
    text = narrative.per_100(std, "microcalcification", "non-pCRs", complement="pCRs")
    assert text.startswith(
        "about 14 more non-pCRs per 100 patients with microcalcification than without "
        "(difference 14.0 per 100, 95% CI 3.4 to 24.1; risk ratio 1.20, 1.04 to 1.37)"
    )
    # pCR risks are 0.15 and 0.29: ratio 0.15 / 0.29 = 0.517...
    assert text.endswith("; that is, about 14 fewer pCRs per 100 (risk ratio for pCR 0.52)")


def test_per_100_says_fewer_for_a_negative_difference_and_same_for_none():
    assert narrative.per_100(_std(0.05, 0.10, (-0.08, -0.02), (0.3, 0.8)), "x", "events").startswith(
        "about 5 fewer events per 100 patients with x than without"
    )
    assert narrative.per_100(_std(0.101, 0.100, (-0.01, 0.01), (0.9, 1.1)), "x", "events").startswith(
        "about the same number of events per 100 patients with and without x"
    )


def test_per_100_not_estimable_says_so():
    std = _std(np.nan, np.nan, method="not estimable: separation")
    assert narrative.per_100(std, "x", "events").endswith("not estimable: separation")


def test_rates_sentence_uses_the_counts_and_journal_p():
    text = narrative.rates_sentence(_rates(), _tests((0.0269, 0.0004)), "pCR", "microcalcification")
    assert text == (
        "pCR: 20.6% (32 of 155) with microcalcification against 31.6% (50 of 158) without "
        "(Pearson χ² P = 0.027, Fisher's exact test P < 0.001)."
    )


def test_rates_against_published_appends_the_printed_rates():
    """The printed rates, P and named test are the abstract's (data/published/abstract_statistics.csv)."""
    from microcalc.abstract.published import load_published
    from microcalc.study import COMPARISON_IDS, RATE_IDS

    published = load_published()
    text = narrative.rates_against_published(
        _rates(), _tests(), "pCR", "microcalcification", published, RATE_IDS["nact_pcr"], COMPARISON_IDS["nact_pcr"]
    )
    assert text.endswith("The paper printed 20.6% vs 31.6%, P = 0.029 (Mann-Whitney and χ2 tests).")
    necrosis = narrative.rates_against_published(
        _rates(), _tests(), "Necrosis", "x", published, RATE_IDS["nact_necrosis"], COMPARISON_IDS["nact_necrosis"]
    )
    assert necrosis.endswith("P < 0.001 (test not stated).")


def _split(all_, same, adjusted):
    la, ls, lj = np.log([all_, same, adjusted])
    return pd.DataFrame(
        {
            "log_or_all": [la],
            "log_or_same": [ls],
            "log_or_adjusted": [lj],
            "change_of_sample": [ls - la],
            "adjustment": [lj - ls],
            "total": [lj - la],
            "note": [""],
        },
        index=["microcalcification"],
    )


def test_why_adjusted_is_higher_names_the_sample_then_adjustment():
    text = narrative.why_adjusted_differs(_split(1.78, 2.73, 2.40), "microcalcification", 256, "microcalcification")
    assert text == (
        "Why the adjusted OR of microcalcification (2.40) is higher than the crude one (1.78): first the "
        "sample, since on the model's 256 patients (every covariate known) the crude OR is already 2.73, "
        "against 1.78 on all patients; adjustment for the other covariates then lowers it to 2.40."
    )


def test_why_adjusted_is_lower_when_the_sample_does_not_change():
    text = narrative.why_adjusted_differs(_split(2.55, 2.55, 2.29), "microcalcification", 1182, "x")
    assert "is lower than the crude one (2.55): the sample does not explain it" in text
    assert text.endswith("then lowers it to 2.29.")


def test_epv_sentence_points_to_firth_below_the_threshold_only():
    low = EventsPerVariable(n=256, events=198, non_events=58, limiting_events=58, parameters=13, epv=58 / 13)
    assert "**4.5 events per variable** (below 10: the Firth" in narrative.epv_sentence(low, [])
    high = EventsPerVariable(n=1000, events=200, non_events=800, limiting_events=200, parameters=10, epv=20.0)
    text = narrative.epv_sentence(high, ["quasi-separation in x"], ["level absent"])
    assert "(below" not in text and "Separation: quasi-separation in x. Also: level absent." in text
    assert "no separation detected" in narrative.epv_sentence(high, [])


def test_is_rare_uses_the_threshold():
    assert narrative.is_rare(0.084) and not narrative.is_rare(0.74) and not narrative.is_rare(narrative.RARE_OUTCOME)


def test_adjusted_or_paragraph_reads_a_rare_outcome_as_a_ratio_of_proportions():
    calc = pd.Series({"or": 2.29, "ci_low": 1.39, "ci_high": 3.78, "note": ""})
    firth = pd.Series({"or": 2.23, "ci_low": 1.38, "ci_high": 3.69})
    text = narrative.adjusted_or_paragraph(calc, firth, "microcalcification", "recorded bone metastasis", 99 / 1182)
    assert "8.4% of all the cohort's patients have recorded bone metastasis, an uncommon outcome" in text
    assert "E-value 4.01" in text  # 2.29 + sqrt(2.29 * 1.29) = 4.009, VanderWeele & Ding 2017
    common = narrative.adjusted_or_paragraph(calc, firth, "x", "non-pCR", 0.74)
    assert "a common outcome" in common


def test_grouped_levels_sentence_calls_a_sparse_reference_poor():
    df = pd.DataFrame(
        {
            "density": pd.Categorical(["a"] * 18 + ["b"] * 40 + ["c"] * 40 + ["d"] * 20, categories=list("abcd")),
            "y": [True] * 16 + [False] * 2 + ([True, False] * 50),
            "age": np.arange(118) % 30 + 40,
        }
    )
    df["y"] = df["y"].astype("boolean")
    g = grouped_levels(df, "y", "density", labels.DENSITY_GROUPS, ["density", "age"], "dense")
    assert g.counts.loc["non_dense", "n"] == 58 and g.counts.loc["dense", "n"] == 60
    assert g.levels.loc["a"].tolist() == [18, 16, 2]
    text = narrative.grouped_levels_sentence(g, "Breast density (BI-RADS)", "non-pCR", "pCR")
    assert text.startswith(
        "Breast density (BI-RADS), dense (c/d) against non-dense (a/b): non-pCR in 50.0% (30 of 60)"
        " against 62.1% (36 of 58)"
    )
    assert "Level a, the reference of the four categories, has 18 patients, of whom 2 had pCR" in text
    assert "poor reference level" in text


def test_grouped_levels_refuses_a_grouping_that_misses_a_level():
    df = pd.DataFrame({"d": pd.Categorical(list("abcd"), categories=list("abcd")), "y": [True, False, True, False]})
    with pytest.raises(ValueError, match="each of its levels"):
        grouped_levels(df, "y", "d", {"x": ["a"], "z": ["c", "d"]}, ["d"], "dense")


def test_key_messages_box_renders_every_part_and_refuses_an_empty_one():
    box = narrative.key_messages_box("Q?", ["A 1.", "A <2>."], "Shows.", "Does not.")
    html = box._repr_html_()
    assert 'class="mc-key"' in html and "Key messages" in html and "A &lt;2&gt;." in html
    assert "**What it does not show.** Does not." in box._repr_markdown_()
    assert "The answer." in repr(box) and "**" not in repr(box)
    with pytest.raises(ValueError):
        narrative.key_messages_box("Q?", [], "Shows.", "Does not.")


def test_bone_key_messages_speak_of_odds_of_recorded_metastasis_never_of_risk():
    tidy = pd.DataFrame(
        {
            "term": ["microcalcification"] * 2,
            "model": ["univariable", "multivariable"],
            "or": [2.55, 2.29],
            "ci_low": [1.62, 1.39],
            "ci_high": [4.01, 3.78],
            "p": [1e-4, 0.001],
            "n": [1182, 1182],
            "note": ["", ""],
        }
    )
    box = narrative.bone_key_messages(
        _rates((71, 28), (611, 571)),
        _tests((3e-5, 3e-5)),
        tidy,
        _std(0.1055, 0.0554, (0.0216, 0.0788), (1.28, 2.84)),
        _split(2.55, 2.55, 2.29),
        1182,
        ["microcalcification", "t_stage"],
        True,
    )
    text = repr(box)
    assert "about 5 more recorded bone metastases per 100 patients with microcalcification" in text
    assert "Odds of recorded bone metastasis" in text and "competing risks" in text
    assert "develop" not in text.replace("The risk of developing bone metastasis", "")
    assert "synthetic" in text


def test_rates_sentence_without_tests_quotes_none():
    text = narrative.rates_sentence(_rates((14, 44), (106, 150)), None, "pCR", "necrosis on MRI")
    assert text == "pCR: 13.2% (14 of 106) with necrosis on MRI against 29.3% (44 of 150) without."


def test_standardised_paragraph_adds_the_difference_per_100_patients():
    from microcalc.analysis.effects import standardised_sentence

    std = _std(0.85, 0.71, rd=(0.034, 0.241), rr=(1.04, 1.37))
    text = narrative.standardised_paragraph(std, "microcalcification", "non-pCR", "non-pCRs", complement="pCRs")
    head = standardised_sentence(std, "microcalcification", "non-pCR")
    assert text.startswith(head + " In patients per 100: about 14 more non-pCRs per 100 patients")
    assert "times as likely" in text and text.endswith("(risk ratio for pCR 0.52).")


def test_standardised_paragraph_of_a_recorded_state_speaks_of_proportions_not_risk():
    """Hand-worked: 10.62% and 5.54%, difference 5.08 points (about 5 per 100), ratio 0.1062 / 0.0554 = 1.917."""
    std = _std(0.1062, 0.0554, (0.0216, 0.0788), (1.28, 2.84))
    text = narrative.standardised_paragraph(std, "x", "recorded y", "recorded ys", recorded=True)
    assert "the proportion with recorded y would be 10.6% if every patient had x and 5.5% if none had" in text
    assert "an adjusted difference in the proportion with recorded y of 5.1 percentage points" in text
    assert "adjusted ratio of proportions of 1.92 (1.28 to 2.84)" in text
    assert text.endswith(
        "about 5 more recorded ys per 100 patients with x than without (difference 5.1 per 100, "
        "95% CI 2.2 to 7.9; ratio of proportions 1.92, 1.28 to 2.84)."
    )
    assert "risk ratio" not in text and "risk difference" not in text and "likely" not in text


def _bone_tables():
    """The bone cohort's type and extent counts of tests/test_multiplicity_against_R.py (R references there)."""
    types = pd.DataFrame([[56, 7, 8], [17, 3, 8]], index=[True, False], columns=["osteolytic", "osteoblastic", "mixed"])
    extents = pd.DataFrame(
        [[37, 10, 24], [23, 2, 3]], index=[True, False], columns=["axial", "appendicular", "whole_body"]
    )
    return {"type": types, "extent": extents}, {"type": "osteolytic", "extent": "whole_body"}


def test_share_against_published_quotes_the_abstracts_shares_and_p():
    """56 / 71 = 78.9% and 17 / 28 = 60.7%; the abstract printed 78.9% vs 60.7%, P = 0.099."""
    from microcalc.abstract.published import load_published
    from microcalc.study import COMPARISON_IDS, RATE_IDS

    tables, _ = _bone_tables()
    tests = pd.DataFrame(
        {
            "test": ["pearson_chi2", "fisher_exact"],
            "comparison": ["2 x 3", "2 x 3"],
            "p": [0.09862521058, 0.1137630852],
            "method": ["", ""],
            "reproduces_published_p": [True, False],
        }
    )
    text = narrative.share_against_published(
        tables["type"], "osteolytic", tests, load_published(), RATE_IDS["bone_osteolytic"], COMPARISON_IDS["bone_type"]
    )
    assert text == (
        "osteolytic: 78.9% vs 60.7% (Pearson χ² on the 2 x 3 table, P = 0.099); "
        "the paper printed 78.9% vs 60.7%, P = 0.099."
    )


def test_secondary_paragraph_lists_the_sparse_tables_then_each_contrast_with_its_exact_p():
    """Exact P from R 4.2.2 (tests/test_multiplicity_against_R.py): fisher.test of the 2 x 3 type table 0.1138,
    of osteolytic vs the rest 0.0787; of the extent table 0.0188, of whole body vs the rest 0.0240."""
    from microcalc.analysis.multiplicity import secondary_comparisons

    tables, categories = _bone_tables()
    text = narrative.secondary_paragraph(secondary_comparisons(tables, categories), tables, categories)
    sparse, contrasts = text.split("\n\n")
    assert [line.split(":")[0] for line in sparse.splitlines()] == [
        "- type",
        "- type_osteolytic",
        "- extent",
        "- extent_whole_body",
    ]
    assert "smallest 2.83" in sparse.splitlines()[0]  # R: min(chisq.test(ty)$expected) = 2.828
    assert contrasts.startswith("The osteolytic share (78.9% vs 60.7%) was compared on the 2 x 2 table")
    assert "(Fisher's exact test, P = 0.079); the overall 2 x 3 comparison of all categories " in contrasts
    assert "(Fisher-Freeman-Halton, P = 0.114)" in contrasts and "(Fisher-Freeman-Halton, P = 0.019)" in contrasts
    assert "whole body share (33.8% vs 10.7%)" in contrasts and "(Fisher's exact test, P = 0.024)" in contrasts


def test_necrosis_key_messages_mark_the_chosen_counts_and_say_why():
    """The counts 62 of 117 / 44 of 139 (necrosis) and 14 of 106 / 44 of 150 (pCR by necrosis) are
    chosen among the tables the abstract allows (data/synthetic/assumptions.yaml); on a site's data
    nothing is marked."""
    necrosis_or = pd.DataFrame(
        {"or": [2.73, 2.33], "ci_low": [1.41, 1.15], "ci_high": [5.29, 4.73], "p": [0.003, 0.019], "n": [256, 256]},
        index=pd.Index(["univariable", "multivariable"], name="model"),
    ).assign(note="")
    pcr = _rates((14, 44), (106, 150)).rename(columns={"microcalcification": "mri_necrosis"})
    args = (_rates((62, 44), (117, 139)), _tests((1e-4, 1e-4)), pcr, necrosis_or, _std(0.85, 0.71), 256, 313, True)
    chosen = {"mri_necrosis_split": "the counts are one of the feasible tables", "pcr_by_necrosis": "a choice"}
    text = repr(narrative.necrosis_key_messages(*args, chosen=chosen))
    assert "(62 of 117 †)" in text and "(44 of 139 †)" in text and "(14 of 106 †)" in text
    assert "† Chosen, not fixed by the abstract: the counts are one of the feasible tables; a choice." in text
    plain = repr(narrative.necrosis_key_messages(*args))
    assert "†" not in plain and "(62 of 117)" in plain


def test_sparse_cells_share_has_one_decimal():
    """Expected counts of [[42, 41, 7], [8, 6, 1]]: 8 x 15 / 105 = 1.14 is the only one below 5, so 1 of 6 cells."""
    from microcalc.analysis.multiplicity import secondary_comparisons

    table = pd.DataFrame([[42, 41, 7], [8, 6, 1]], index=[True, False], columns=["u", "v", "w"])
    sparse = secondary_comparisons({"t": table}).table.loc["t", "sparse"]
    assert sparse.startswith("1 of 6 cells (16.7%) have an expected count below 5 (smallest 1.14)")
