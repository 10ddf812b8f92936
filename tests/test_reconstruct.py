"""Reconstruction recovers tables that the tests construct, round as a paper would, and rebuild.

References: tables made here; their numbers printed with the usual rounding
(``format_percent``, three-decimal ORs, ``format_p``); and, for whole
feasible sets, a plain brute-force enumeration written independently below.
"""

import itertools
import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from microcalc.abstract.published import format_fixed, format_p, format_percent
from microcalc.abstract.pvalues import TESTS, Z_975, odds_ratio_wald
from microcalc.abstract.reconstruct import compositions, count_candidates, reconstruct_2x2, reconstruct_2xk


def printed_like_a_paper(a, n1, b, n0):
    """Percentages, OR of the event, CI and Wald P of a 2x2 table, printed as in an abstract."""
    w = odds_ratio_wald(np.array([[a, n1 - a], [b, n0 - b]]))
    return dict(
        pct_exposed=format_percent(a / n1),
        pct_reference=format_percent(b / n0),
        odds_ratio=format_fixed(float(w["or"]), 3),
        ci_low=format_fixed(float(w["low"]), 3),
        ci_high=format_fixed(float(w["high"]), 3),
        or_p=format_p(float(w["p"])),
    )


def cells(r):
    return set(
        map(tuple, r.tables[["events_exposed", "n_exposed", "events_reference", "n_reference"]].to_numpy().tolist())
    )


@pytest.mark.parametrize("seed", range(12))
def test_a_constructed_table_is_recovered_from_its_printed_numbers(seed):
    rng = np.random.default_rng(seed)
    n_total = int(rng.integers(150, 1500))
    n1 = int(rng.integers(n_total // 4, 3 * n_total // 4))
    n0 = n_total - n1
    a = int(rng.integers(5, n1 - 5))
    b = int(rng.integers(5, n0 - 5))
    r = reconstruct_2x2(**printed_like_a_paper(a, n1, b, n0), n_total=n_total, orientation="event")
    assert (a, n1, b, n0) in cells(r)
    # Every member of the feasible set prints exactly as the constructed table did.
    for t in cells(r):
        assert printed_like_a_paper(*t) == printed_like_a_paper(a, n1, b, n0)


def test_the_bone_table_is_unique_from_the_abstract_numbers():
    """Abstract: 11.6% vs 4.9% of 1182 patients, OR = 2.550 (1.620-4.012), P < 0.001."""
    r = reconstruct_2x2(
        "11.6%", "4.9%", n_total=1182, odds_ratio="2.550", ci_low="1.620", ci_high="4.012", or_p="P < 0.001"
    )
    assert r.unique
    ((a, n1, b, n0),) = cells(r)
    assert printed_like_a_paper(a, n1, b, n0) == dict(
        pct_exposed="11.6%", pct_reference="4.9%", odds_ratio="2.550", ci_low="1.620", ci_high="4.012", or_p="P < 0.001"
    )


def _rounds_to(x: float, printed: str) -> bool:
    """Whether ``x`` prints as ``printed`` under round-half-up or round-half-even."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    q = Decimal(1).scaleb(-decimals)
    d = Decimal(repr(x))
    return printed in {str(d.quantize(q, ROUND_HALF_UP)), str(d.quantize(q, ROUND_HALF_EVEN))}


def brute_force_2x2(pct1, pct0, n_total, odds_ratio=None):
    """Every table by plain loops: the independent oracle for the vectorised search."""
    out = set()
    for n1 in range(1, n_total):
        n0 = n_total - n1
        for a in range(n1 + 1):
            if not _rounds_to(100 * a / n1, pct1.rstrip("%")):
                continue
            for b in range(n0 + 1):
                if not _rounds_to(100 * b / n0, pct0.rstrip("%")):
                    continue
                if odds_ratio is not None:
                    if 0 in (a, n1 - a, b, n0 - b):
                        continue
                    if not _rounds_to(a * (n0 - b) / ((n1 - a) * b), odds_ratio):
                        continue
                out.add((a, n1, b, n0))
    return out


@pytest.mark.parametrize(
    "pcts, n_total, odds_ratio",
    [
        (("40.0%", "25.0%"), 120, None),
        (("40.0%", "25.0%"), 120, "2.000"),
        (("33.3%", "12.5%"), 96, None),
        (("6.2%", "50.0%"), 64, None),  # 1/16 = 6.25%: a rounding tie
        (("20.6%", "31.6%"), 313, None),
    ],
)
def test_feasible_set_equals_brute_force_enumeration(pcts, n_total, odds_ratio):
    r = reconstruct_2x2(*pcts, n_total=n_total, odds_ratio=odds_ratio, orientation="event")
    assert cells(r) == brute_force_2x2(*pcts, n_total, odds_ratio)


def test_non_unique_set_reports_every_table_and_the_range_of_each_cell():
    r = reconstruct_2x2("40.0%", "25.0%", n_total=120, orientation="event")
    assert not r.unique and r.n_solutions == len(brute_force_2x2("40.0%", "25.0%", 120))
    s = r.summary()
    assert s.loc["n_exposed", "min"] == r.tables["n_exposed"].min()
    assert s.loc["n_exposed", "max"] == r.tables["n_exposed"].max()
    assert r.status == f"not unique ({r.n_solutions} tables)"


def test_complement_orientation_finds_the_or_of_the_absent_event():
    # pCR 32/155 vs 50/158: OR of *non*-pCR is ((155-32)/32) / ((158-50)/50).
    printed = printed_like_a_paper(155 - 32, 155, 158 - 50, 158)
    r = reconstruct_2x2(
        format_percent(32 / 155),
        format_percent(50 / 158),
        n_total=313,
        odds_ratio=printed["odds_ratio"],
        ci_low=printed["ci_low"],
        ci_high=printed["ci_high"],
        or_p=printed["or_p"],
    )
    assert cells(r) == {(32, 155, 50, 158)}
    assert list(r.tables["orientation"]) == ["complement"]


def test_impossible_numbers_give_no_table_and_say_which_constraint_failed():
    r = reconstruct_2x2("40.0%", "25.0%", n_total=120, odds_ratio="9.999", orientation="event")
    assert r.n_solutions == 0 and r.status == "no table"
    assert r.steps.iloc[-1]["candidates left"] == 0
    assert "odds ratio" in r.steps.iloc[-1]["constraint"]


def test_group_size_ranges_restrict_the_search():
    r = reconstruct_2x2("53.0%", "31.7%", n_exposed=(1, 151), n_reference=(1, 158), orientation="event")
    assert r.tables["n_exposed"].max() <= 151 and r.tables["n_reference"].max() <= 158
    assert set(r.tables["n_exposed"]) == {
        n for n in range(1, 152) if any(_rounds_to(100 * k / n, "53.0") for k in range(n + 1))
    }


def test_count_candidates_lists_every_count_that_prints_as_the_percentage():
    got = count_candidates("33.3%", np.arange(1, 40))
    want = [(n, k) for n in range(1, 40) for k in range(n + 1) if _rounds_to(100 * k / n, "33.3")]
    assert list(map(tuple, got[["n", "k"]].to_numpy().tolist())) == want


def test_compositions_are_all_ordered_splits():
    c = compositions(4, 3)
    want = sorted(t for t in itertools.product(range(5), repeat=3) if sum(t) == 4)
    assert sorted(map(tuple, c.tolist())) == want
    assert len(c) == math.comb(4 + 2, 2)


def test_a_constructed_2x3_table_is_recovered_from_one_category_and_its_p():
    table = np.array([[30, 9, 11], [10, 8, 12]])
    from microcalc.abstract.pvalues import pearson_chi2

    p = format_p(float(pearson_chi2(table)))
    r = reconstruct_2xk(
        format_percent(30 / 50),
        format_percent(10 / 30),
        n_exposed=50,
        n_reference=30,
        categories=["x", "y", "z"],
        p_value=p,
        p_tests=["pearson_chi2"],
    )
    found = {tuple(t.ravel()) for t in r.arrays()}
    assert tuple(table.ravel()) in found
    # and the set is exactly the brute-force one
    brute = set()
    for y1 in range(21):
        for y0 in range(21):
            t = np.array([[30, y1, 20 - y1], [10, y0, 20 - y0]])
            if _rounds_to(float(pearson_chi2(t)), p.split("= ")[1]):
                brute.add(tuple(t.ravel()))
    assert found == brute


def test_2xk_needs_at_least_three_categories():
    with pytest.raises(ValueError, match="reconstruct_2x2"):
        reconstruct_2xk("50.0%", "50.0%", n_exposed=10, n_reference=10, categories=2, p_value="P = 0.5")


def test_every_test_p_is_computed_for_each_feasible_table():
    r = reconstruct_2x2("40.0%", "25.0%", n_total=120, orientation="event")
    for test in TESTS:
        assert f"p_{test}" in r.tables
        assert np.allclose(r.tables[f"p_{test}"], TESTS[test][1](r.arrays()), equal_nan=True)


def test_z_quantile_defaults_to_qnorm_0975():
    assert Z_975 == pytest.approx(1.959963984540054, rel=1e-15)


# --- At registry sizes ---------------------------------------------------------

from microcalc.abstract import reconstruct as rc  # noqa: E402
from microcalc.abstract.consistency import grim, grim_denominators  # noqa: E402


@pytest.mark.parametrize("table", [(71, 611, 28, 571), (32, 155, 50, 158), (300, 1200, 200, 1300)])
@pytest.mark.parametrize("with_ci", [True, False])
def test_chunked_search_finds_exactly_the_direct_searchs_tables(monkeypatch, table, with_ci):
    """The analytic bounds drop no feasible table: forcing the chunked search changes nothing."""
    kw = printed_like_a_paper(*table)
    if not with_ci:
        kw = {k: kw[k] for k in ("pct_exposed", "pct_reference", "odds_ratio")}
    direct = reconstruct_2x2(**kw, n_total=table[1] + table[3])
    monkeypatch.setattr(rc, "_DIRECT", 0)
    monkeypatch.setattr(rc, "_CHUNK", 500)  # many small chunks
    chunked = reconstruct_2x2(**kw, n_total=table[1] + table[3])
    assert chunked.n_solutions == direct.n_solutions > 0
    cols = direct.tables.columns.drop([c for c in direct.tables if c == "p_reproduced_by"])
    assert direct.tables[cols].equals(chunked.tables[cols])


def test_chunked_search_equals_brute_force_with_group_size_ranges(monkeypatch):
    monkeypatch.setattr(rc, "_DIRECT", 0)
    r = reconstruct_2x2("40.0%", "25.0%", n_total=120, odds_ratio="2.000", orientation="event")
    assert cells(r) == brute_force_2x2("40.0%", "25.0%", 120, "2.000")


@pytest.mark.slow
def test_a_registry_sized_table_is_recovered_from_its_printed_numbers():
    """3 x 10^5 patients, percentages to two decimals: the search is bounded, not enumerated."""
    a, n1, b, n0 = 18039, 155100, 7113, 144900
    kw = printed_like_a_paper(a, n1, b, n0)
    kw.update(pct_exposed=format_percent(a / n1, 2), pct_reference=format_percent(b / n0, 2))
    r = reconstruct_2x2(**kw, n_total=n1 + n0, orientation="event")
    assert (a, n1, b, n0) in cells(r)
    assert r.steps.iloc[1]["candidates left"] > rc.MAX_TABLES  # more than the direct search holds
    assert r.steps["constraint"].str.contains("in chunks").any()
    for t in list(cells(r))[:50]:
        assert printed_like_a_paper(*t) == printed_like_a_paper(a, n1, b, n0)


def test_searches_too_large_to_hold_are_refused_with_their_size():
    with pytest.raises(rc.SearchTooLarge, match=r"allow 166,667,421,499 tables.*give the odds ratio"):
        reconstruct_2x2("11.6%", "4.9%", n_total=10**6)
    with pytest.raises(rc.SearchTooLarge, match="sizes to search"):
        reconstruct_2x2("11.6%", "4.9%", n_total=10**12)
    with pytest.raises(rc.SearchTooLarge, match="candidate 2 x 3 tables"):
        reconstruct_2xk("50.0%", "20.0%", n_exposed=500_000, n_reference=500_000, categories=3, p_value="P = 0.1")
    with pytest.raises(rc.SearchTooLarge, match="ways to split"):
        compositions(10**6, 3)
    with pytest.raises(rc.SearchTooLarge, match="denominators to test"):
        grim_denominators("20.6%", 10**9)


def test_grim_at_any_denominator_without_enumerating():
    """20.6% of 10^9: 206,000,000 / 10^9 prints as 20.6%; 1/3 = 33.3...% is not 33.4%."""
    assert grim("20.6%", 10**9) and not grim("33.4%", 3) and grim("33.3%", 3)
    n = np.arange(1, 300)
    brute = [any(_rounds_to(100 * k / m, "20.6") for k in range(m + 1)) for m in range(1, 300)]
    assert grim("20.6%", n).tolist() == brute


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(pct_exposed="150%"), "not a possible percentage"),
        (dict(pct_exposed="20.6"), "with its % sign"),
        (dict(odds_ratio="0"), "a ratio and its CI are positive"),
        (dict(ci_low="2.974", ci_high="1.065"), "lower bound must be below"),
        (dict(n_total=1), "at least 2"),
    ],
)
def test_impossible_inputs_are_refused_with_a_reason(kwargs, message):
    base = dict(pct_exposed="20.6%", pct_reference="31.6%", n_total=313)
    with pytest.raises(ValueError, match=message):
        reconstruct_2x2(**{**base, **kwargs})


def test_2xk_refuses_fisher_work_it_cannot_do_in_seconds_and_runs_without_it():
    """50.0% of 120 vs 40.0% of 120, P = 0.100: 4,453 candidate 2 x 3 tables.

    Reference for the Pearson-only search: scipy's chi2_contingency on every split.
    """
    from scipy.stats import chi2_contingency

    kw = dict(n_exposed=120, n_reference=120, categories=3, p_value="P = 0.100")
    with pytest.raises(rc.SearchTooLarge, match="grid cells"):
        reconstruct_2xk("50.0%", "40.0%", **kw)
    r = reconstruct_2xk("50.0%", "40.0%", **kw, p_tests=["pearson_chi2"])
    want = set()
    for y1 in range(61):
        for y0 in range(73):
            t = np.array([[60, y1, 60 - y1], [48, y0, 72 - y0]])
            if (t.sum(axis=0) > 0).all() and _rounds_to(float(chi2_contingency(t, correction=False).pvalue), "0.100"):
                want.add(tuple(t.ravel()))
    assert {tuple(t.ravel()) for t in r.arrays()} == want and want
