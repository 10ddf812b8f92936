"""The abstract's targets, checked against a pair of synthetic cohorts (part of :mod:`microcalc.cohorts.synthesize`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from microcalc.abstract.consistency import p_test_verdicts
from microcalc.abstract.published import format_fixed, format_p, format_percent, load_published, parse_reported
from microcalc.abstract.pvalues import TESTS
from microcalc.analysis.models import fit_logistic, global_p_values
from microcalc.cohorts.generate import load_calibration
from microcalc.study import BONE_TERMS, NACT_TERMS, NOT_SIGNIFICANT, SIGNIFICANCE_LEVEL

__all__ = [
    "OR_TOLERANCE",
    "CI_TOLERANCE",
    "P_CUTS",
    "target_rules",
    "targets",
    "subtype_pcr_rates",
    "subtype_direction_ok",
]

#: How far a multivariable OR of the synthetic cohorts may lie from the published one (relative).
OR_TOLERANCE = 0.05
#: How far each CI bound of a multivariable OR may lie from the published one (relative).
CI_TOLERANCE = 0.15
#: The P of a multivariable OR must lie on the same side of each of these as the published P.
P_CUTS = (0.05, 0.01)


def _tab(df: pd.DataFrame, exposure: str, outcome) -> np.ndarray:
    """2x2 counts (exposed first; event first) from boolean columns."""
    x = df[exposure].astype(bool).to_numpy()
    y = outcome.astype(bool).to_numpy() if isinstance(outcome, pd.Series) else df[outcome].astype(bool).to_numpy()
    return np.array([[np.sum(x & y), np.sum(x & ~y)], [np.sum(~x & y), np.sum(~x & ~y)]])


def _tab_cat(df: pd.DataFrame, column: str, cats: Sequence[str]) -> np.ndarray:
    """Counts of ``cats`` by microcalcification (exposed first), missing left out."""
    from microcalc.analysis.stats import crosstab

    return crosstab(df, "microcalcification", column)[list(cats)].to_numpy()


def _uni_rows(published, rows, table: np.ndarray, pct_ids, p_id, tests, label):
    rep1, rep0 = (published.loc[i, "value"] for i in pct_ids)
    got1 = format_percent(table[0, 0] / table[0].sum(), parse_reported(rep1).decimals)
    got0 = format_percent(table[1, 0] / table[1].sum(), parse_reported(rep0).decimals)
    rows.append((pct_ids[0], label, "rate, microcalcification", rep1, got1, "exact at printed precision", got1 == rep1))
    rows.append(
        (pct_ids[1], label, "rate, no microcalcification", rep0, got0, "exact at printed precision", got0 == rep0)
    )
    rep_p = published.loc[p_id, "p"]
    for test in tests:
        p = float(TESTS[test][1](table))
        got = format_p(p, parse_reported(rep_p).decimals)
        rows.append(
            (
                p_id,
                label,
                f"P ({test})",
                rep_p,
                got,
                "exact at printed precision",
                bool(parse_reported(rep_p).matches(p)),
            )
        )


def _or_rows(published, rows, fit_table: pd.DataFrame, term: str, ident: str, label: str, multi: bool):
    r = published.loc[ident]
    est = fit_table.loc[term]
    rep = {f: parse_reported(r[f]) for f in ("value", "ci_low", "ci_high", "p")}
    if not multi:
        checks = [
            ("OR", r["value"], format_fixed(est["or"], rep["value"].decimals), bool(rep["value"].matches(est["or"]))),
            (
                "CI low",
                r["ci_low"],
                format_fixed(est["ci_low"], rep["ci_low"].decimals),
                bool(rep["ci_low"].matches(est["ci_low"])),
            ),
            (
                "CI high",
                r["ci_high"],
                format_fixed(est["ci_high"], rep["ci_high"].decimals),
                bool(rep["ci_high"].matches(est["ci_high"])),
            ),
            ("P", r["p"], format_p(est["p"]), bool(rep["p"].matches(est["p"]))),
        ]
        for what, pub, got, ok in checks:
            rows.append((ident, label, what, pub, got, "exact at printed precision", ok))
        return
    for what, field, col, tol in (
        ("OR", "value", "or", OR_TOLERANCE),
        ("CI low", "ci_low", "ci_low", CI_TOLERANCE),
        ("CI high", "ci_high", "ci_high", CI_TOLERANCE),
    ):
        target = rep[field].value
        rel = est[col] / target - 1
        rows.append(
            (ident, label, what, r[field], f"{est[col]:.3f} ({rel:+.1%})", f"within ±{tol:.0%}", abs(rel) <= tol)
        )
    pub_p = rep["p"].high if rep["p"].relation == "<" else rep["p"].value
    same = all((est["p"] < cut) == (pub_p < cut) for cut in P_CUTS)
    sides = " and ".join(f"{c:g}" for c in P_CUTS)
    rows.append((ident, label, "P", r["p"], format_p(est["p"]), f"same side of {sides}", same))


def target_rules(level: float = SIGNIFICANCE_LEVEL) -> str:
    """The calibration's rules in one paragraph, from the constants the checks use.

    >>> target_rules().split(";")[0]
    'Univariate numbers must print exactly as published'
    """
    sides = " and ".join(f"{c:g}" for c in P_CUTS)
    return (
        f"Univariate numbers must print exactly as published; multivariable odds ratios must lie within "
        f"±{OR_TOLERANCE:.0%} of the published estimate, their CI bounds within ±{CI_TOLERANCE:.0%}, their P on "
        f"the same side of {sides}; the NACT model's other covariates must not be significant (global "
        f"likelihood-ratio P > {level:g}), as the abstract reports."
    )


def targets(
    nact: pd.DataFrame,
    bone: pd.DataFrame,
    published: pd.DataFrame | None = None,
    paper=None,
    calibration: dict | None = None,
) -> pd.DataFrame:
    """Published target against achieved, for every number the synthetic cohorts must reproduce.

    Univariate numbers (rates, univariable ORs with CI and P, and each
    comparison P under the tests that reproduce it on the reconstructed
    table) must print exactly as published. Multivariable ORs must lie
    within ±5% of the published point estimate, their CI bounds within ±15%,
    and their P on the same side of 0.05 and 0.01. The NACT model's other
    covariates must each have a global (likelihood-ratio) P above 0.05, in
    the multivariable model and on their own (the abstract does not say
    which model its "not significantly associated" refers to).

    Returns one row per check: ``id``, ``result``, ``quantity``,
    ``published``, ``achieved``, ``criterion``, ``met``.
    """
    from microcalc.paper import reconstruct_paper

    published = load_published() if published is None else published
    paper = paper or reconstruct_paper(published)
    cal = calibration or load_calibration()
    rows: list[tuple] = []

    def tests_for(name: str, p_id: str, table: np.ndarray) -> list[str]:
        """The tests that reproduce the published P on the chosen reconstructed table."""
        v = p_test_verdicts(table, published.loc[p_id, "p"])
        return v.loc[v["reproduces"] == "yes", "test"].tolist()

    non_pcr = ~nact["pcr"].astype(bool)
    pcr_t = _tab(nact, "microcalcification", "pcr")
    _uni_rows(
        published,
        rows,
        pcr_t,
        ("nact_pcr_calc", "nact_pcr_nocalc"),
        "nact_pcr_compare",
        tests_for("nact_pcr", "nact_pcr_compare", paper["nact_pcr"].arrays()[0]),
        "NACT pCR",
    )
    mri = nact[nact["mri_necrosis"].notna()]
    nec_t = _tab(mri, "microcalcification", "mri_necrosis")
    chosen_nec = paper["nact_necrosis"].arrays()[cal["nact"]["necrosis_table"] - 1]
    _uni_rows(
        published,
        rows,
        nec_t,
        ("nact_necrosis_calc", "nact_necrosis_nocalc"),
        "nact_necrosis_compare",
        tests_for("nact_necrosis", "nact_necrosis_compare", chosen_nec),
        "NACT MRI necrosis",
    )
    uni = fit_logistic(nact.assign(non_pcr=non_pcr), "non_pcr", ["microcalcification"]).table()
    _or_rows(published, rows, uni, "microcalcification", "nact_or_calc_uni", "NACT univariable", False)
    multi_fit = fit_logistic(nact.assign(non_pcr=non_pcr), "non_pcr", list(NACT_TERMS))
    multi = multi_fit.table()
    _or_rows(published, rows, multi, "microcalcification", "nact_or_calc_multi", "NACT multivariable", True)
    _or_rows(published, rows, multi, "mri_necrosis", "nact_or_necrosis_multi", "NACT multivariable", True)
    gp = global_p_values(nact.assign(non_pcr=non_pcr), "non_pcr", list(NACT_TERMS))
    for ident, term in NOT_SIGNIFICANT.items():
        rows.append(
            (
                ident,
                "NACT multivariable",
                f"global P, {term}",
                "not significant",
                f"{gp[term]:.3f}",
                f"global P > {SIGNIFICANCE_LEVEL:g}",
                gp[term] > SIGNIFICANCE_LEVEL,
            )
        )
        uni_p = global_p_values(nact.assign(non_pcr=non_pcr), "non_pcr", [term])[term]
        rows.append(
            (
                ident,
                "NACT univariable",
                f"global P, {term}",
                "not significant",
                f"{uni_p:.3f}",
                f"global P > {SIGNIFICANCE_LEVEL:g}",
                uni_p > SIGNIFICANCE_LEVEL,
            )
        )

    rates = subtype_pcr_rates(nact)
    rows.append(
        (
            "nact_ns_molecular",
            "NACT plausibility",
            "pCR by subtype (" + ", ".join(rates.index) + ")",
            "luminal A lowest; HER2-enriched and triple-negative above luminal B (Cortazar et al. 2014)",
            " / ".join(format_percent(v) for v in rates),
            "literature's direction",
            subtype_direction_ok(nact),
        )
    )

    bone_t = _tab(bone, "microcalcification", "bone_metastasis")
    _uni_rows(
        published,
        rows,
        bone_t,
        ("bone_met_calc", "bone_met_nocalc"),
        "bone_met_compare",
        tests_for("bone_met", "bone_met_compare", paper["bone_met"].arrays()[0]),
        "bone metastasis",
    )
    type_t = _tab_cat(bone, "bone_metastasis_type", ["osteolytic", "osteoblastic", "mixed"])
    chosen_type = paper["bone_type_2x3"].arrays()[cal["bone"]["type_table"] - 1]
    _uni_rows(
        published,
        rows,
        np.column_stack([type_t[:, 0], type_t[:, 1:].sum(axis=1)]),
        ("bone_osteolytic_calc", "bone_osteolytic_nocalc"),
        "bone_type_compare",
        [],
        "bone type",
    )
    for test in tests_for("bone_type_2x3", "bone_type_compare", chosen_type):
        p = float(TESTS[test][1](type_t))
        rows.append(
            (
                "bone_type_compare",
                "bone type",
                f"P ({test}, 2x3)",
                published.loc["bone_type_compare", "p"],
                format_p(p),
                "exact at printed precision",
                bool(parse_reported(published.loc["bone_type_compare", "p"]).matches(p)),
            )
        )
    ext_t = _tab_cat(bone, "bone_metastasis_extent", ["whole_body", "axial", "appendicular"])
    ext_2x2 = np.column_stack([ext_t[:, 0], ext_t[:, 1:].sum(axis=1)])
    _uni_rows(
        published,
        rows,
        ext_2x2,
        ("bone_wholebody_calc", "bone_wholebody_nocalc"),
        "bone_extent_compare",
        tests_for("bone_extent_2x2", "bone_extent_compare", paper["bone_extent_2x2"].arrays()[0]),
        "bone extent",
    )
    chosen_ext = paper["bone_extent_2x3"].arrays()[cal["bone"]["extent_table"] - 1]
    for test in tests_for("bone_extent_2x3", "bone_extent_compare", chosen_ext):
        p = float(TESTS[test][1](ext_t))
        rows.append(
            (
                "bone_extent_compare",
                "bone extent",
                f"P ({test}, 2x3)",
                published.loc["bone_extent_compare", "p"],
                format_p(p),
                "exact at printed precision",
                bool(parse_reported(published.loc["bone_extent_compare", "p"]).matches(p)),
            )
        )
    uni_b = fit_logistic(bone, "bone_metastasis", ["microcalcification"]).table()
    _or_rows(published, rows, uni_b, "microcalcification", "bone_or_calc_uni", "bone univariable", False)
    multi_b = fit_logistic(bone, "bone_metastasis", list(BONE_TERMS)).table()
    _or_rows(published, rows, multi_b, "microcalcification", "bone_or_calc_multi", "bone multivariable", True)
    return pd.DataFrame(rows, columns=["id", "result", "quantity", "published", "achieved", "criterion", "met"])


def subtype_pcr_rates(nact: pd.DataFrame) -> pd.Series:
    """Crude pCR rate (fraction) of each molecular subtype, in the contract's category order."""
    return nact.groupby("molecular_subtype", observed=False)["pcr"].apply(lambda s: float(s.astype(float).mean()))


def subtype_direction_ok(nact: pd.DataFrame) -> bool:
    """Is pCR by subtype in the literature's direction (Cortazar et al., Lancet 2014)?

    Luminal A has the lowest crude pCR rate, and HER2-enriched and
    triple-negative tumours each have a higher one than luminal B.
    """
    r = subtype_pcr_rates(nact)
    return bool(
        r["luminal_a"] == r.min() and r["her2_enriched"] > r["luminal_b"] and r["triple_negative"] > r["luminal_b"]
    )
