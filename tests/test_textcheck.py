"""``microcalc-check text``: statements extracted from free text, and their checks.

References: this paper's abstract and notebook 01's verdicts on it
(data/reconstructed/01_*.csv); constructed abstracts whose planted errors are
listed in tests/inputs/abstracts/planted_errors.csv (written and verified,
independently of the checker, by tests/inputs/abstracts/make_abstracts.py).
"""

import csv
import json

import pandas as pd
import pytest

from microcalc.abstract.published import load_published
from microcalc.abstract.textcheck import check_text, extract
from microcalc.pipeline.cli import main

ABSTRACTS = "tests/inputs/abstracts"


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("OR = 1.79, 95% CI: 1.20\u20132.67, P = 0.004", ("1.79", "1.20", "2.67", "P = 0.004")),
        ("(OR 1.50; 95% CI 1.10-2.05; P = 0.011)", ("1.50", "1.10", "2.05", "P = 0.011")),
        ("HR 0.62 (95% CI 0.45 to 0.85, P = 0.003)", ("0.62", "0.45", "0.85", "P = 0.003")),
        ("odds ratio 2.1 (95% confidence interval 1.2, 3.6; p<0.001)", ("2.1", "1.2", "3.6", "P < 0.001")),
        ("[OR = 2.268(1.263-4.071), P = 0.006)]", ("2.268", "1.263", "4.071", "P = 0.006")),
        ("RR = 1.30 [95%CI (1.05\u20131.61)]", ("1.30", "1.05", "1.61", None)),
        (
            "an adjusted HR of 0\u00b781 (95% CI 0\u00b770\u20130\u00b794; p=0\u00b7005)",
            ("0.81", "0.70", "0.94", "P = 0.005"),
        ),
    ],
)
def test_ratio_estimates_in_the_usual_clinical_spellings(text, numbers):
    (s,) = extract(text)
    n = s.numbers
    assert s.kind == "ratio"
    assert (n["estimate"], n["ci_low"], n["ci_high"], n["p"]) == numbers


@pytest.mark.parametrize(
    "text, percent, count, n",
    [
        ("96 of 200 (48.0%)", "48.0%", 96, 200),
        ("48.0% (96/200)", "48.0%", 96, 200),
        ("45.3% of the 32 patients", "45.3%", None, 32),
        ("1,021 of 2,130 (47.9%)", "47.9%", 1021, 2130),
    ],
)
def test_percentages_with_their_denominators(text, percent, count, n):
    (s,) = extract(text)
    share = s.numbers["share"]
    assert (share.percent, share.count, share.n) == (percent, count, n)


def test_grim_and_count_checks():
    t = check_text("96 of 200 (48.0%) responded; 45.3% of the 32 patients relapsed.")
    got = dict(zip(t["check"] + " " + t["statement"], t["consistent"], strict=True))
    assert got["count gives percentage 96 of 200 (48.0%)"] is True
    assert got["GRIM 45.3% of the 32"] is False  # 14/32 = 43.75%, 15/32 = 46.9%


def test_a_comparison_with_both_group_sizes_is_tested_on_its_2x2_table():
    """32/155 vs 50/158: Fisher's P = 0.0293 prints as 0.029 (notebook 01, nact_pcr_compare)."""
    t = check_text("pCR 32 of 155 (20.6%) vs 50 of 158 (31.6%), P = 0.029.")
    row = t[t["check"] == "P from a 2x2 test"].iloc[0]
    assert row["consistent"] is True and "fisher_exact" in row["detail"]
    t = check_text("pCR 32 of 155 (20.6%) vs 50 of 158 (31.6%), P = 0.010.")
    assert t.loc[t["check"] == "P from a 2x2 test", "consistent"].iloc[0] is False


def test_paper_abstract_statistics_are_extracted_and_agree_with_notebook_01(root):
    text = (root / "data/published/abstract.txt").read_text(encoding="utf-8")
    statements = extract(text)
    table = check_text(text)
    published = load_published()
    ratios = {
        (s.numbers["estimate"], s.numbers["ci_low"], s.numbers["ci_high"], s.numbers["p"]): s
        for s in statements
        if s.kind == "ratio"
    }
    comparisons = [s for s in statements if s.kind == "comparison"]
    coherence = pd.read_csv(root / "data/reconstructed/01_or_ci_p_coherence.csv", dtype=str).set_index("id")
    grim = pd.read_csv(root / "data/reconstructed/01_grim.csv", dtype=str).set_index("id")
    for ident, row in published.iterrows():
        if row["kind"] == "odds_ratio":  # every OR with its CI and P
            s = ratios[(row["value"], row["ci_low"], row["ci_high"], row["p"])]
            checks = table[table["statement"] == s.text].set_index("check")["consistent"]
            assert checks["P from estimate and CI"] == (coherence.loc[ident, "P consistent"] == "True")
            assert checks["estimate at CI's log-midpoint"] == (coherence.loc[ident, "OR consistent"] == "True")
            assert checks["estimate inside CI"] is True
        elif row["kind"] == "percent":  # every group percentage, inside its comparison
            hits = [
                s for s in comparisons if row["value"] in (s.numbers["exposed"].percent, s.numbers["reference"].percent)
            ]
            assert len(hits) == 1, ident
            assert grim.loc[ident, "all possible (GRIM)"] == "True"
            checks = table[table["statement"] == hits[0].text]
            assert not (checks["consistent"] == False).any()  # noqa: E712
        elif row["kind"] == "p" and row["compares"]:
            pcts = [published.loc[i, "value"] for i in row["compares"].split()]
            (s,) = [s for s in comparisons if [s.numbers["exposed"].percent, s.numbers["reference"].percent] == pcts]
            assert s.numbers["p"].replace(" ", "") == row["p"].replace(" ", "")
    # Notebook 01 finds no impossible number in the abstract; neither does the checker.
    assert not (table["consistent"] == False).any()  # noqa: E712
    assert len(ratios) == 5 and len(comparisons) == 5


def _planted(root):
    with open(root / ABSTRACTS / "planted_errors.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _flagged(root):
    """(file, statement) of every statement with at least one failed check, over all abstracts."""
    out = {}
    for path in sorted((root / ABSTRACTS).glob("abstract_*.txt")):
        t = check_text(path.read_text(encoding="utf-8"))
        out[path.name] = (
            set(t.loc[t["consistent"] == False, "statement"]),  # noqa: E712
            set(t["statement"]),
        )
    return out


def test_constructed_abstracts_every_planted_error_caught_no_correct_statement_flagged(root):
    planted = _planted(root)
    flagged = _flagged(root)
    assert len(flagged) >= 12
    kinds = {p["planted_error"] for p in planted}
    assert {
        "P does not follow from the CI",
        "CI excludes the estimate",
        "impossible percentage",
        "no test reproduces the P",
    } <= kinds
    caught, missed = set(), []
    for p in planted:
        bad, _ = flagged[p["file"]]
        hit = [s for s in bad if s in p["statement"] or p["statement"] in s]
        if not hit:
            missed.append(p)
        caught |= {(p["file"], s) for s in hit}
    false_alarms = {(f, s) for f, (bad, _) in flagged.items() for s in bad} - caught
    assert not missed and not false_alarms, (missed, false_alarms)
    # recall: planted errors caught / planted; precision: flagged statements that carry a planted error
    recall = (len(planted) - len(missed)) / len(planted)
    precision = len(caught) / (len(caught) + len(false_alarms))
    assert (recall, precision) == (1.0, 1.0)


def test_text_command_table_json_and_csv(root, capsys):
    path = str(root / ABSTRACTS / "abstract_01.txt")
    assert main(["text", path]) == 1  # a planted error: exit status 1
    out = capsys.readouterr().out
    assert "INCONSISTENT" in out and "P from estimate and CI" in out
    assert main(["text", path, "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert {"statement", "check", "consistent"} <= set(rows[0])
    assert {r["consistent"] for r in rows} <= {True, False, None}
    assert main(["text", path, "--csv"]) == 1
    assert capsys.readouterr().out.startswith("statement,check,consistent")
    assert main(["text", str(root / "data/published/abstract.txt")]) == 0


def test_text_from_standard_input_and_nothing_found(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("No statistics here."))
    assert main(["text", "-"]) == 0
    assert "No supported statement found" in capsys.readouterr().out


def test_unreadable_file_is_one_clear_line(capsys):
    assert main(["text", "no_such_abstract.txt"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and "Traceback" not in err


def test_readme_tutorial_flags_what_the_readme_says(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    pasted = readme.split("cat > pasted.txt <<'TEXT'\n", 1)[1].split("\nTEXT\n", 1)[0]
    t = check_text(pasted)
    bad = t[t["consistent"] == False]  # noqa: E712
    assert set(bad["statement"]) == {
        "OR 1.78; 95% CI 1.07-2.97; P = 0.28",
        "HR 0.62, 95% CI 0.70 to 0.94, P = 0.003",
        "45.3% of the 32",
    }
    p = t[t["check"] == "P from a 2x2 test"].iloc[0]
    assert p["consistent"] is True and "fisher_exact" in p["detail"]


def test_a_bare_percentage_is_not_read_as_a_share():
    """ "a 150% increase" is a change, not a share: nothing to check, nothing flagged."""
    assert check_text("Costs showed a 150% increase and 95% CI coverage.").empty


def test_readme_states_the_figures_the_constructed_abstracts_give(root):
    """The README's recall and precision sentence, recomputed (no hand-typed figure)."""
    import re

    readme = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    m = re.search(
        r"On (\d+) constructed abstracts \(`tests/inputs/abstracts/`, (\d+) statements, (\d+) "
        r"checks\) with (\d+) planted errors.*?it flags (\d+) statements: \*\*recall (\d+)/(\d+) "
        r"= 1\.00, precision (\d+)/(\d+) = 1\.00\*\*",
        readme,
    )
    assert m, "the README's recall and precision sentence"
    files = sorted((root / ABSTRACTS).glob("abstract_*.txt"))
    tables = [check_text(p.read_text(encoding="utf-8")) for p in files]
    flagged = sum(t.loc[t["consistent"] == False, "statement"].nunique() for t in tables)  # noqa: E712
    planted = len(_planted(root))
    assert [int(x) for x in m.groups()] == [
        len(files),
        sum(t["statement"].nunique() for t in tables),
        sum(len(t) for t in tables),
        planted,
        flagged,
        planted,
        planted,
        flagged,
        flagged,
    ]
