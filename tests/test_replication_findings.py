"""Does a finding replicate? The five criteria, against base R and constructed verdicts.

References: hand computations in base R (the code is in each docstring; the
values were printed by running it with R 4.x, ``Rscript``); constructed cases
whose verdict follows from the definitions (Open Science Collaboration 2015;
Patil, Peng & Leek 2016).
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.replicate import (
    FINDINGS_COLUMNS,
    criteria,
    criteria_side_by_side,
    findings_display,
    findings_headline,
    findings_sentences,
    findings_table,
    load_results,
    se_from_ci,
)
from microcalc.study import FINDING_IDS, FINDINGS

R_CRIT = """
crit <- function(or_p, lo_p, hi_p, or_s, lo_s, hi_s) {
  z <- qnorm(0.975)
  b_pub <- log(or_p); se_pub <- (log(hi_p) - log(lo_p)) / (2 * z)
  b_site <- log(or_s); se_site <- (log(hi_s) - log(lo_s)) / (2 * z)
  se_d <- sqrt(se_pub^2 + se_site^2)
  pi <- exp(b_pub + c(-1, 1) * z * se_d)
  d <- b_site - b_pub; d_ci <- d + c(-1, 1) * z * se_d; d_p <- 2 * pnorm(-abs(d) / se_d)
  w <- 1 / c(se_pub, se_site)^2
  b_fe <- sum(w * c(b_pub, b_site)) / sum(w); se_fe <- 1 / sqrt(sum(w))
  fe <- exp(b_fe + c(0, -1, 1) * z * se_fe); fe_p <- 2 * pnorm(-abs(b_fe) / se_fe)
  cat(sprintf("%.12g", c(pi, d, d_ci, d_p, fe, fe_p)), sep = ", ")
}
"""


def _check_against_r(c, r):
    got = [
        c.prediction_interval_low,
        c.prediction_interval_high,
        c.difference_log_or,
        c.difference_ci_low,
        c.difference_ci_high,
        c.difference_p,
        c.combined_or,
        c.combined_ci_low,
        c.combined_ci_high,
        c.combined_p,
    ]
    assert got == pytest.approx(r, rel=1e-9)


def test_criteria_against_base_r_small_site_compatible_with_both():
    """R (see R_CRIT): crit(2.352, 1.186, 4.667, 1.5, 0.7, 3.2) prints
    0.845530920987, 6.54252122861, -0.449800921928, -1.47285749203, 0.573255648176,
    0.388838765825, 1.92251600685, 1.15586820278, 3.19765505074, 0.0118033212496
    """
    c = criteria(2.352, 1.186, 4.667, 1.5, 0.7, 3.2, site_p=0.30)
    _check_against_r(
        c,
        [
            0.845530920987,
            6.54252122861,
            -0.449800921928,
            -1.47285749203,
            0.573255648176,
            0.388838765825,
            1.92251600685,
            1.15586820278,
            3.19765505074,
            0.0118033212496,
        ],
    )
    assert c.same_direction and not c.site_significant and not c.direction_and_significance
    assert c.published_inside_site_ci and c.site_inside_prediction_interval
    assert c.compatible_with_published_and_null


def test_criteria_against_base_r_outside_the_prediction_interval_but_significant():
    """R (see R_CRIT): crit(2.268, 1.263, 4.071, 8, 5, 12.8) prints
    1.07071226584, 4.80411419958, 1.26054315581, 0.509968865974, 2.01111744565,
    0.000996055775447, 4.88008111959, 3.3828367788, 7.04000615195, 2.2845019968e-17
    """
    c = criteria(2.268, 1.263, 4.071, 8, 5, 12.8, site_p=1e-12)
    _check_against_r(
        c,
        [
            1.07071226584,
            4.80411419958,
            1.26054315581,
            0.509968865974,
            2.01111744565,
            0.000996055775447,
            4.88008111959,
            3.3828367788,
            7.04000615195,
            2.2845019968e-17,
        ],
    )
    # the verdict: significant in the same direction, yet outside the prediction interval
    assert c.direction_and_significance and not c.site_inside_prediction_interval
    assert not c.published_inside_site_ci and not c.compatible_with_published_and_null
    assert c.difference_p < 0.05  # criteria 3 and 4 agree


def test_se_from_ci_is_the_altman_bland_recovery():
    """R: (log(4.667) - log(1.186)) / (2 * qnorm(0.975)) = 0.349532..."""
    assert se_from_ci(1.186, 4.667) == pytest.approx((np.log(4.667) - np.log(1.186)) / (2 * 1.959963984540054))


def test_a_site_that_replicates_on_all_criteria():
    c = criteria(2.352, 1.186, 4.667, 2.2, 1.5, 3.2, site_p=5e-5)
    assert c.same_direction and c.site_significant and c.direction_and_significance
    assert c.published_inside_site_ci and c.site_inside_prediction_interval and c.difference_p > 0.05
    assert not c.compatible_with_published_and_null
    assert c.combined_ci_low > 1


def test_a_site_in_the_wrong_direction():
    c = criteria(2.352, 1.186, 4.667, 0.6, 0.4, 0.9, site_p=0.01)
    assert not c.same_direction and c.site_significant and not c.direction_and_significance
    assert not c.published_inside_site_ci and not c.site_inside_prediction_interval


def test_a_null_published_finding_replicates_when_the_site_is_null_too():
    assert criteria(1.2, 0.8, 1.8, 1.1, 0.7, 1.7, site_p=0.6, published_significant=False).direction_and_significance
    assert not criteria(
        1.2, 0.8, 1.8, 2.5, 1.7, 3.7, site_p=1e-5, published_significant=False
    ).direction_and_significance


# ------------------------------------------------------------------ findings_table on constructed results
def _results(or_rows: dict, comparisons: dict) -> pd.DataFrame:
    """Results rows: {id: (or, lo, hi, p)} and {compare id: (rate1 %, rate0 %, p)}."""
    rows = []
    for ident, (est, lo, hi, p) in or_rows.items():
        rows.append(
            {
                "id": ident,
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "p": p,
                "n": 200,
                "method": "logistic regression, Wald 95% CI (multivariable)",
            }
        )
    for f in FINDINGS:
        if f.id in comparisons:
            r1, r0, p = comparisons[f.id]
            rows.append(
                {
                    "id": f.id,
                    "estimate": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p": p,
                    "n": 200,
                    "method": "Pearson chi-squared, no continuity correction",
                    "estimator": f.estimator,
                    "table_shape": f.table_shape,
                }
            )
            for rate_id, r in zip(f.rates, (r1, r0), strict=True):
                rows.append(
                    {
                        "id": rate_id,
                        "estimate": r,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "p": np.nan,
                        "n": 100,
                        "method": "proportion (%), 95% Wilson score CI",
                    }
                )
    return pd.DataFrame(rows)


def test_the_three_verdicts_in_the_findings_table_and_their_words(published):
    results = _results(
        {
            "nact_or_calc_uni": (1.75, 1.2, 2.55, 0.004),  # replicates on all criteria
            "nact_or_calc_multi": (0.5, 0.3, 0.83, 0.007),  # wrong direction
            "bone_or_calc_multi": (9.0, 5.5, 14.7, 1e-15),  # significant, outside the PI
            "bone_or_calc_uni": (2.2, 0.9, 5.4, 0.085),
        },  # small site, compatible with both
        {"nact_pcr_compare": (20.0, 30.0, 0.0455002638964)},
    )
    f = findings_table(published, results).set_index("id")
    assert list(f.columns) == FINDINGS_COLUMNS[1:] and list(f.index) == list(FINDING_IDS)
    ok = f.loc["nact_or_calc_uni"]
    assert ok["direction_and_significance"] and ok["published_inside_site_ci"] and ok["site_inside_prediction_interval"]
    wrong = f.loc["nact_or_calc_multi"]
    assert not wrong["same_direction"] and not wrong["direction_and_significance"]
    out = f.loc["bone_or_calc_multi"]
    assert out["direction_and_significance"] and not out["site_inside_prediction_interval"]
    assert f.loc["bone_or_calc_uni", "compatible_with_published_and_null"]
    # comparison: R chisq.test(matrix(c(30,120,45,105),2,byrow=TRUE), correct=FALSE)$p.value = 0.0455002638964,
    # rates 20% vs 30% as published 20.6% vs 31.6%: same direction, significant; criteria 2-5 not applicable
    pcr = f.loc["nact_pcr_compare"]
    assert pcr["direction_and_significance"] and pcr["site_rate_difference"] == pytest.approx(-10)
    assert pd.isna(pcr["site_inside_prediction_interval"]) and pcr["note"].startswith("criteria 2-5 not applicable")
    # findings this run did not compute are "not estimable", never silently judged
    assert f.loc["nact_or_necrosis_multi", "note"].startswith("not estimable:")
    sentences = dict(zip(FINDING_IDS, findings_sentences(f.reset_index()), strict=True))
    assert "does not replicate" in sentences["bone_or_calc_multi"]
    assert "opposite direction" in sentences["nact_or_calc_multi"]
    assert "compatible with both the published effect and no effect" in sentences["bone_or_calc_uni"]
    assert "does not replicate" not in sentences["nact_or_calc_uni"]
    headline = findings_headline(f.reset_index())
    assert headline.startswith(
        "Of the paper's 10 findings, this site's data replicate 3 by direction and "
        "significance, and 2 of the 5 odds ratios lie within the 95% prediction interval"
    )
    assert "not estimable" in headline
    display = findings_display(f.reset_index())
    assert (
        display.loc[display["finding"].str.startswith("nact_pcr_compare"), "3 inside 95% prediction interval"]
        == "not applicable"
    ).all()


def test_a_site_with_the_null_type_comparison_significant_does_not_replicate_it(published):
    results = _results({}, {"bone_type_compare": (80.0, 60.0, 0.30), "bone_extent_compare": (10.0, 30.0, 0.01)})
    f = findings_table(published, results).set_index("id")
    assert not f.loc["bone_type_compare", "published_significant"]
    assert f.loc["bone_type_compare", "direction_and_significance"]  # not significant, as in the paper
    assert not f.loc["bone_extent_compare", "same_direction"]
    assert not f.loc["bone_extent_compare", "direction_and_significance"]


def test_an_infinite_or_is_not_estimable_not_judged(published):
    results = _results({"bone_or_calc_multi": (np.inf, 0.0, np.inf, 0.99)}, {})
    row = findings_table(published, results).set_index("id").loc["bone_or_calc_multi"]
    assert row["note"].startswith("not estimable:") and pd.isna(row["direction_and_significance"])


# ------------------------------------------------------------------ the bundled run's file and the sites table
def test_the_bundled_findings_file_has_every_criterion_for_every_finding(root, published):
    written = pd.read_csv(root / "data/results/replication_findings.csv", keep_default_na=False, dtype=str)
    assert list(written.columns) == FINDINGS_COLUMNS and list(written["id"]) == list(FINDING_IDS)
    fresh = findings_table(published, load_results(root))
    assert written["direction_and_significance"].tolist() == [str(x) for x in fresh["direction_and_significance"]]
    ors = written[written["kind"] == "odds_ratio"]
    for column in (
        "published_inside_site_ci",
        "prediction_interval_low",
        "prediction_interval_high",
        "site_inside_prediction_interval",
        "difference_log_or",
        "difference_ci_low",
        "difference_ci_high",
        "difference_p",
        "combined_or",
        "combined_ci_low",
        "combined_ci_high",
    ):
        assert (ors[column] != "").all(), column


def test_criteria_side_by_side_has_a_column_per_site(root, published):
    table = criteria_side_by_side({"bundled": root, "again": root}, published)
    assert list(table.columns) == ["measure", "published", "bundled", "again"]
    assert list(table.index) == [f"{i} (criteria)" for i in FINDING_IDS]
    cell = table.loc["bone_or_calc_multi (criteria)", "bundled"]
    assert cell.startswith("1 yes (P = 0.001); 2 yes; 3 yes; 4 ratio 1.01") and "5 combined 2.28" in cell
    assert table.loc["bone_met_compare (criteria)", "bundled"].endswith("2-5 not applicable")


def test_the_headline_reads_the_written_file_as_well_as_the_table(root, published):
    fresh = findings_headline(findings_table(published, load_results(root)))
    for kwargs in ({}, {"dtype": str, "keep_default_na": False}):
        assert findings_headline(pd.read_csv(root / "data/results/replication_findings.csv", **kwargs)) == fresh
