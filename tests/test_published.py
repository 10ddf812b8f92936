"""The paper's numbers as data: parsed exactly as printed, and complete.

Reference: the published abstract (``data/published/abstract.txt``, a copy
of ``shared/study/abstract.txt``).
"""

import re

import numpy as np
import pytest

from microcalc.abstract.published import format_p, format_percent, parse_reported


@pytest.mark.parametrize(
    "text, value, decimals, relation, low, high",
    [
        ("20.6%", 20.6, 1, "=", 20.55, 20.65),
        ("1.780", 1.78, 3, "=", 1.7795, 1.7805),
        ("P = 0.029", 0.029, 3, "=", 0.0285, 0.0295),
        ("P < 0.001", 0.001, 3, "<", 0.0, 0.001),
        ("P > 0.05", 0.05, 2, ">", 0.05, 1.0),
        ("313", 313, 0, "=", 313, 313),
        ("4.9%", 4.9, 1, "=", 4.85, 4.95),
    ],
)
def test_parse_reported_reads_precision_from_the_printed_digits(text, value, decimals, relation, low, high):
    r = parse_reported(text)
    assert (r.value, r.decimals, r.relation) == (value, decimals, relation)
    assert r.low == pytest.approx(low) and r.high == pytest.approx(high)


def test_reported_interval_is_closed_so_either_rounding_rule_is_admitted():
    r = parse_reported("6.2%")
    # 1/16 = 6.25% prints as 6.2 (half-even) or 6.3 (half-up): both readings admit it.
    assert r.matches(100 / 16) and parse_reported("6.3%").matches(100 / 16)
    assert not r.matches(6.26)


def test_p_below_reads_as_strict_upper_bound():
    r = parse_reported("P < 0.001")
    assert list(r.matches([0.0, 0.00099, 0.001, 0.002])) == [True, True, False, False]


def test_unreadable_number_names_the_text_and_the_forms_allowed():
    with pytest.raises(ValueError, match=r"cannot read 'about 20' .*'20.6%'"):
        parse_reported("about 20")


def test_formatting_round_trips_through_parsing():
    assert format_percent(32 / 155) == "20.6%" and parse_reported("20.6%").fraction.matches(32 / 155)
    assert format_p(0.02933) == "P = 0.029"
    assert format_p(0.00005) == "P < 0.001"


def test_published_values_keep_trailing_zeros(published):
    assert published.loc["nact_or_calc_uni", "value"] == "1.780"
    assert published.loc["nact_necrosis_calc", "value"] == "53.0%"


def test_every_published_field_is_printed_verbatim_in_the_abstract(published, root):
    abstract = (root / "data/published/abstract.txt").read_text(encoding="utf-8")
    flat = " ".join(abstract.split())
    for ident, row in published.iterrows():
        if row["kind"] != "claim":
            for field in ("value", "ci_low", "ci_high", "p"):
                if row[field]:
                    assert row[field] in flat, f"{ident}.{field} = {row[field]!r} not in the abstract"
        assert row["source"].lstrip("[") in flat, f"{ident}: source text not in the abstract"


def test_every_number_of_the_abstract_results_is_in_the_published_file(published, root):
    """Completeness: each percentage, OR, CI bound, P and cohort size of the abstract has a row."""
    abstract = (root / "data/published/abstract.txt").read_text(encoding="utf-8")
    body = abstract[abstract.index("Materials and methods") : abstract.index("Conclusion")]
    printed = set(re.findall(r"\d+\.\d+%|P [=<] 0\.\d+", body))
    printed |= set(re.findall(r"(?<![\d.])(?<!P = )(?<!P < )\d+\.\d{3}(?![\d%])", body))
    printed |= set(re.findall(r"(?<![\d.])\d{3,4}(?![\d.%])", body))
    in_file = set(published[["value", "ci_low", "ci_high", "p"]].to_numpy().ravel()) - {""}
    missing = sorted(x for x in printed if x not in in_file and x not in {"2023", "7285", "7297"})
    assert missing == []


def test_every_p_and_odds_ratio_names_a_known_test(published):
    from microcalc.abstract.pvalues import TESTS

    for ident, row in published.iterrows():
        for test in row["test_ids"].split():
            assert test in TESTS, f"{ident}: unknown test id {test!r}"
        if row["kind"] == "odds_ratio":
            assert row["ci_low"] and row["ci_high"] and row["p"], ident
            assert np.isfinite(parse_reported(row["value"]).value)
