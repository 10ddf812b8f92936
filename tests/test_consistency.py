"""GRIM, OR-CI-P coherence and test verdicts on constructed cases with known answers."""

import numpy as np
import pytest

from microcalc.abstract.consistency import grim, grim_denominators, or_ci_p_coherence, p_test_verdicts
from microcalc.abstract.published import format_fixed, format_p
from microcalc.abstract.pvalues import odds_ratio_wald
from microcalc.abstract.reconstruct import reconstruct_2x2


def test_grim_accepts_only_denominators_that_can_give_the_percentage():
    # 53.0% needs k/n in [0.5295, 0.5305]: 44/83 and 53/100 qualify, nothing below 66 does.
    assert grim("53.0%", 83) and grim("53.0%", 100)
    assert not grim("53.0%", 84)
    ns = grim_denominators("53.0%", 100)
    assert list(ns) == [n for n in range(1, 101) if any(abs(100 * k / n - 53.0) <= 0.05 + 1e-12 for k in range(n + 1))]
    assert ns.min() == 66


def _printed_or(table):
    w = odds_ratio_wald(np.array(table))
    return [format_fixed(float(w[k]), 3) for k in ("or", "low", "high")] + [format_p(float(w["p"]))]


@pytest.mark.parametrize(
    "table", [[[71, 540], [28, 543]], [[123, 32], [108, 50]], [[18, 7], [9, 16]], [[22, 78], [30, 70]]]
)
def test_a_wald_or_its_ci_and_p_are_coherent(table):
    """Reference: the Wald OR, CI and P of the table (R glm + confint.default)."""
    c = or_ci_p_coherence(*_printed_or(table))
    assert c.p_consistent and c.or_consistent
    w = odds_ratio_wald(np.array(table))
    assert c.p_min <= float(w["p"]) <= c.p_max


def test_a_p_that_does_not_follow_from_the_ci_is_flagged():
    or_, lo, hi, p = _printed_or([[123, 32], [108, 50]])  # P = 0.028
    assert not or_ci_p_coherence(or_, lo, hi, "P = 0.045").p_consistent
    assert not or_ci_p_coherence(or_, lo, hi, "P < 0.001").p_consistent
    assert "NOT" in or_ci_p_coherence(or_, lo, hi, "P = 0.045").verdict


def test_an_or_off_the_ci_midpoint_is_flagged():
    # A profile-likelihood or typo-ed CI: the OR is not at the log-midpoint.
    assert not or_ci_p_coherence("2.000", "1.100", "2.500", "P = 0.02").or_consistent


def test_p_range_covers_the_rounding_of_every_printed_number():
    c = or_ci_p_coherence("1.780", "1.065", "2.974", "P = 0.028")
    assert c.p_min < c.p_recomputed < c.p_max
    assert c.p_max - c.p_min < 0.001


def test_verdicts_say_which_test_reproduces_and_whether_it_is_named():
    r = reconstruct_2x2("20.6%", "31.6%", n_exposed=155, n_reference=158, orientation="event")
    assert r.unique
    v = p_test_verdicts(r, "P = 0.029", named=["pearson_chi2"]).set_index("test")
    # Fisher gives 0.0293 on 32/155 vs 50/158; Pearson 0.0269 (R fisher.test, chisq.test).
    assert v.loc["fisher_exact", "reproduces"] == "yes"
    assert v.loc["pearson_chi2", "reproduces"] == "no" and v.loc["pearson_chi2", "named"]
    assert not v.loc["fisher_exact", "named"]


def test_verdicts_over_a_feasible_set_count_the_tables_reproducing():
    r = reconstruct_2x2("40.0%", "25.0%", n_total=120, orientation="event")
    v = p_test_verdicts(r, "P = 0.05").set_index("test")
    assert (v["tables"] == r.n_solutions).all()
    hits = v.loc["pearson_chi2", "tables_reproducing"]
    assert v.loc["pearson_chi2", "reproduces"] == (
        "yes" if hits == r.n_solutions else "in some tables" if hits else "no"
    )


def test_tests_for_2x2_only_are_not_applicable_to_2xk():
    from microcalc.abstract.reconstruct import reconstruct_2xk

    r = reconstruct_2xk("78.9%", "60.7%", n_exposed=71, n_reference=28, categories=["a", "b", "c"], p_value="P = 0.099")
    v = p_test_verdicts(r, "P = 0.099").set_index("test")
    assert v.loc["yates_chi2", "reproduces"] == "not applicable"
    assert v.loc["mann_whitney", "reproduces"] == "not applicable"
