"""The consortium page's tables (microcalc.pipeline.consortium_display): named, written out, nothing missing unsaid.

The sites' numbers are those of the page's two synthetic sites (log OR 0.875 and 1.0933, SE 0.3535 and
0.3817: ORs 2.40 (1.20-4.80) and 2.98 (1.41-6.31)); the paper's row is the abstract's
"OR = 2.352, 95%CI (1.186-4.667), P = 0.014".
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from microcalc import labels
from microcalc.analysis import display
from microcalc.pipeline import consortium
from microcalc.pipeline.consortium_display import _small, interval
from microcalc.pipeline.consortium_pool import PooledFinding, leave_one_site_out, pool_sites

#: What a clinician should never meet in a table cell: a code name, NaN-like text, True/False, e-notation.
CODE = re.compile(r"\b[a-z]+_[a-z_0-9]+\b|^(nan|NaN|<NA>|None|True|False)$|\d\.\d+e[+-]\d+")


def _sites(log_or, se, names=("bundled_synthetic", "second_synthetic"), estimable=None):
    estimable = [True] * len(names) if estimable is None else estimable
    out = pd.DataFrame(
        {
            "centre": list(names),
            "log_or": log_or,
            "se": se,
            "n": [256.0] * len(names),
            "events": [198.0] * len(names),
            "converged": estimable,
            "events_exposed": [123] * len(names),
            "n_exposed": [155] * len(names),
            "events_reference": [108] * len(names),
            "n_reference": [158] * len(names),
            "estimable": estimable,
            "note": ["" if ok else "not estimable: the site's model did not converge" for ok in estimable],
        }
    )
    out["var"] = out["se"] ** 2
    out["or"] = np.exp(out["log_or"])
    out["ci_low"] = np.exp(out["log_or"] - 1.959963984540054 * out["se"])
    out["ci_high"] = np.exp(out["log_or"] + 1.959963984540054 * out["se"])
    return out


def _finding(sites):
    return PooledFinding(
        sites=sites,
        pooled=pool_sites(sites),
        leave_one_out=leave_one_site_out(sites),
        heterogeneity="",
        published=2.352,
        label="non-pCR",
        outcome="non_pcr",
    )


def _clean(shown):
    cells = [str(c) for c in shown.frame.columns] + [str(v) for v in shown.frame.to_numpy().ravel()]
    return [c for c in cells if CODE.search(c)]


def test_small_numbers_are_read_without_e_notation():
    assert [_small(v) for v in (0.0, 2.9e-5, 0.01234, float("nan"))] == ["0", "< 0.001", "0.012", display.MISSING]
    assert interval(0.6655, 10.5783) == "0.67–10.58"


def test_the_sites_are_named_with_their_or_and_counts():
    shown = display.show(
        consortium.site_table(_finding(_sites([0.875, 1.0933], [0.3535, 0.3817]))), labels.ALL, decimals=3
    )
    assert shown.frame["Site"].tolist() == ["Bundled synthetic site", "Second synthetic site"]
    assert shown.frame["OR (95% CI)"].tolist() == ["2.40 (1.20–4.80)", "2.98 (1.41–6.31)"]
    assert shown.frame["Patients in the model (non-pCR)"].tolist() == ["256 (198)"] * 2
    assert shown.frame["Non-pCR / patients, with microcalcification"].tolist() == ["123 / 155"] * 2
    assert "Note" not in shown.frame  # nothing to say
    assert _clean(shown) == []


def test_a_site_that_is_not_estimable_says_so():
    sites = _sites(
        [0.875, np.nan, 1.0933], [0.3535, np.nan, 0.3817], names=("a", "b", "c"), estimable=[True, False, True]
    )
    table = consortium.site_table(_finding(sites)).set_index("Site")
    assert table.loc["b", "OR (95% CI)"] == "not estimable"
    assert table.loc["b", "Note"] == "not estimable: the site's model did not converge"


def test_a_site_whose_model_did_not_converge_shows_no_estimate():
    """A fit that did not converge still has numbers (log OR 0.864 here); they are not shown as an estimate."""
    sites = _sites([1.0933, 0.864, 0.95], [0.3817, 0.352, 0.361], names=("a", "b", "c"), estimable=[True, False, True])
    shown = display.show(consortium.site_table(_finding(sites)), labels.ALL, decimals=3)
    row = shown.frame.set_index("Site").loc["b"]
    assert (row["OR (95% CI)"], row["log OR"], row["SE"]) == ("not estimable", display.MISSING, display.MISSING)
    assert shown.frame.set_index("Site").loc["a", "OR (95% CI)"] == "2.98 (1.41–6.31)"


def test_the_pooled_table_names_the_methods_and_prints_the_papers_or():
    """Fixed effect by hand: w = 1/SE², log OR = Σ w y / Σ w, SE = 1/√Σw (metafor rma(method = "FE"))."""
    y, se = np.array([0.875, 1.0933]), np.array([0.3535, 0.3817])
    w = 1 / se**2
    mu, s = np.sum(w * y) / np.sum(w), 1 / np.sqrt(np.sum(w))
    shown = display.show(
        consortium.pooled_table(_finding(_sites(y, se))), labels.ALL, caption=consortium.POOLED_CAPTION
    )
    rows = shown.frame.set_index("Method")
    fixed = rows.loc["Fixed effect (inverse variance)"]
    assert fixed["OR (95% CI)"] == f"{np.exp(mu):.2f} ({np.exp(mu - 1.96 * s):.2f}–{np.exp(mu + 1.96 * s):.2f})"
    assert fixed["P"] == "<0.001" and fixed["τ²"] == "0" and fixed["95% prediction interval"] == display.MISSING
    assert fixed["Degrees of freedom (t)"] == display.MISSING
    reml = rows.loc["Random effects (REML), Hartung–Knapp–Sidik–Jonkman CI"]
    assert reml["Sites"] == "2" and reml["Degrees of freedom (t)"] == "1"
    paper = rows.loc["Published (the paper, one cohort)"]
    assert (paper["OR (95% CI)"], paper["P"], paper["Sites"]) == ("2.35 (1.19–4.67)", "0.014", display.MISSING)
    assert "Note" not in rows
    assert _clean(shown) == []


def test_leaving_one_of_two_sites_out_is_not_estimable_in_words():
    shown = display.show(
        consortium.leave_one_out_table(_finding(_sites([0.875, 1.0933], [0.3535, 0.3817]))), labels.ALL
    )
    assert shown.frame["Site left out"].tolist() == ["Bundled synthetic site", "Second synthetic site"]
    assert set(shown.frame["OR (95% CI), random effects (REML, Hartung–Knapp)"]) == {"not estimable"}
    assert set(shown.frame["τ²"]) == {display.MISSING}
    assert set(shown.frame["Note"]) == {
        "Not estimable: with this site left out, only one site has an estimable odds ratio, and pooling needs two."
    }
    assert _clean(shown) == []


def test_a_leave_one_out_note_reads_as_sentences_for_each_method():
    """Three estimable sites: leaving one out leaves two, so nothing to say; each method's reason in words."""
    sites = _sites([0.875, 1.0933, 0.95], [0.3535, 0.3817, 0.361], names=("a", "b", "c"))
    assert consortium.leave_one_out_table(_finding(sites))["Note"].tolist() == ["", "", ""]
    assert consortium.leave_one_out_note(
        "not estimable: REML: pooling needs at least 2 centres with an estimable odds ratio, got 1"
    ) == (
        "Random effects not estimable: with this site left out, only one site has an estimable odds ratio, "
        "and pooling needs two."
    )
    assert (
        consortium.leave_one_out_note(
            "not estimable: Mantel-Haenszel: the Mantel-Haenszel odds ratio is 0 or infinite "
            "(a sum of cross products is 0)"
        )
        == "Mantel–Haenszel not estimable: the remaining sites' counts give an odds ratio of 0 or infinity."
    )
    unknown = consortium.leave_one_out_note("not estimable: REML: a centre's variance is 0")
    assert unknown == "Random effects not estimable: a site's variance is 0."


def test_the_site_forest_plot_prints_each_or_and_labels_the_direction():
    """The sites' ORs as above, the pooled ORs by each method and the abstract's 2.352 (1.186-4.667)."""
    import matplotlib

    matplotlib.use("Agg")
    ax = consortium.plot_site_forest(_finding(_sites([0.875, 1.0933], [0.3535, 0.3817])), synthetic=True)
    texts = [t.get_text() for t in ax.texts]
    assert {"2.40 (1.20–4.80)", "2.98 (1.41–6.31)", "2.35 (1.19–4.67)", "OR (95% CI)"} <= set(texts)
    assert "← lower odds of non-pCR " in texts and "| higher odds of non-pCR →" in texts
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[:2] == ["Bundled synthetic site (256 patients)", "Second synthetic site (256 patients)"]
    assert rows[2:] == [*consortium.FOREST_METHODS.values(), "Published (the paper, one cohort; dotted line)"]
    assert ax.get_legend() is None  # nothing drawn over the diamonds
    assert not any(CODE.search(t) for t in texts + rows)


def test_the_mantel_haenszel_table_names_cohort_outcome_and_comparison():
    mh = pd.DataFrame(
        {
            "cohort": ["nact_cohort", "bone_cohort"],
            "outcome": ["non_pcr", "bone_metastasis"],
            "comparison": ["mri_necrosis yes vs no", "microcalcification yes vs no"],
            "k": [2, 2],
            "or": [2.7278, np.nan],
            "ci_low": [1.7068, np.nan],
            "ci_high": [4.3595, np.nan],
            "p": [2.9394e-05, np.nan],
            "cmh_chi2": [17.4566, np.nan],
            "note": ["", "not estimable: a site's counts are suppressed (small-group rule) or missing"],
        }
    )
    shown = display.show(consortium.mantel_haenszel_display(mh), labels.ALL)
    assert shown.frame.iloc[0, :6].tolist() == [
        "NACT cohort",
        "Non-pCR",
        "Necrosis on MRI: yes vs no",
        "2",
        "2.73 (1.71–4.36)",
        "<0.001",
    ]
    assert shown.frame.iloc[1, :5].tolist() == [
        "Bone-metastasis cohort",
        "Recorded bone metastasis",
        "Microcalcification: yes vs no",
        "2",
        "not estimable",
    ]
    assert shown.frame["Note"].iloc[1].startswith("not estimable: a site's counts are suppressed")
    assert _clean(shown) == []


def test_the_sources_say_synthetic_in_words():
    bundle = SimpleNamespace(
        site="second_synthetic",
        run={"synthetic": True},
        meta={"bundle_format": 1, "contract_version": "1.0"},
        results_sha256="ae307450f5c3" + "0" * 52,
        cohorts=pd.DataFrame({"cohort": ["nact_cohort", "bone_cohort"], "n": [313, 1182]}),
    )
    shown = display.show(consortium.sources_table([bundle]), labels.ALL)
    assert shown.frame.iloc[0].tolist() == ["Second synthetic site", "yes", "1", "1.0", "ae307450f5c3", "313", "1182"]
    assert _clean(shown) == []


@pytest.mark.parametrize("table", ["site_table", "pooled_table", "leave_one_out_table"])
def test_no_table_of_a_finding_shows_a_missing_value_marker(table):
    sites = _sites(
        [0.875, np.nan, 1.0933], [0.3535, np.nan, 0.3817], names=("a", "b", "c"), estimable=[True, False, True]
    )
    shown = display.show(getattr(consortium, table)(_finding(sites)), labels.ALL)
    assert _clean(shown) == []
