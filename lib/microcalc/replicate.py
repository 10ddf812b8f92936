"""The replication report: the paper's printed numbers, and its findings, against this run.

Two questions, one per kind of run.

*On the bundled synthetic cohorts* the question is whether the pipeline
computes what the paper computed. :func:`replication_table` matches each
statistic of ``data/published/abstract_statistics.csv`` with its reproduced
value and classifies the agreement in a fixed vocabulary (:data:`AGREEMENT`);
:func:`summary` counts each class separately.

*On a site's own data* the question is whether the paper's findings (the
effect estimates its conclusions rest on, :data:`microcalc.study.FINDINGS`)
hold in the site's patients. :func:`findings_table` judges each one on the
standard criteria of the replication literature (:func:`criteria`): same
direction and significant (Open Science Collaboration 2015); the published
estimate inside the site's 95% CI; the site's estimate inside the 95%
prediction interval for a replication (Patil, Peng & Leek 2016); the
difference of the two log ORs with its CI and P; and their fixed-effect
combination. Cohort sizes, rates and shares are context
(:func:`context_table`), never counted as differences.

:func:`load_results` gathers the tidy results files of a run
(``<output_dir>/data/results/NN_results.csv``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from scipy.stats import norm

from microcalc.core.paths import project_path
from microcalc.abstract.published import format_fixed, format_p, format_percent, parse_reported
from microcalc.analysis.results import read_results
from microcalc.analysis.stats import TEST_METHODS
from microcalc.study import CONFIDENCE_LEVEL, FINDING_IDS, FINDINGS, SIGNIFICANCE_LEVEL, Finding

__all__ = ["load_results", "replication_table", "summary", "or_comparison", "COUNT_SOURCES",
           "REPLICATION_COLUMNS", "AGREEMENT", "P_CLASS_LIMITS", "p_class",
           "Criteria", "criteria", "se_from_ci", "findings_table", "FINDINGS_COLUMNS", "findings_headline",
           "findings_display", "findings_sentences", "context_table", "criteria_side_by_side",
           "plot_findings"]

#: Cohort sizes are reproduced as the n of their cohort's main comparison.
COUNT_SOURCES = {"nact_n": "nact_pcr_compare", "bone_n": "bone_met_compare"}

#: The scorecard's agreement classes, in the order :func:`summary` counts them.
AGREEMENT = ("exact, named method", "exact, other method only", "claim consistent",
             "within calibration tolerance", "differs")

#: The printed classes of a P value: below 0.001, below 0.01, below 0.05, and the rest.
P_CLASS_LIMITS = (0.001, 0.01, 0.05)

REPLICATION_COLUMNS = ["id", "cohort", "measure", "published", "reproduced", "difference",
                       "reproduced 95% CI", "published inside reproduced CI", "matches at printed precision",
                       "named by paper", "P in another printed class", "agreement", "method",
                       "consistency (notebook 01)"]


def load_results(output_dir: str | os.PathLike = ".") -> pd.DataFrame:
    """Every ``NN_results.csv`` of a run, concatenated, with the file name in ``source``."""
    folder = project_path(output_dir) / "data" / "results"
    frames = [read_results(p).assign(source=p.name) for p in sorted(folder.glob("[0-9][0-9]_results.csv"))]
    if not frames:
        raise FileNotFoundError(f"no NN_results.csv files in {folder}: run the analysis notebooks first")
    return pd.concat(frames, ignore_index=True)


def _test_of(method: str) -> str | None:
    for test, words in TEST_METHODS.items():
        if str(method).startswith(words):
            return test
    return None


def _consistency(reconstructed: Path) -> dict[str, str]:
    """Notebook 01's verdict on each published id, in words."""
    out: dict[str, str] = {}
    verdicts = reconstructed / "01_p_verdicts.csv"
    if verdicts.exists():
        for _, r in pd.read_csv(verdicts, dtype=str, keep_default_na=False).iterrows():
            out[r["id"]] = f"{r['verdict']} (reproduced by {r['reproduced by']})"
    coherence = reconstructed / "01_or_ci_p_coherence.csv"
    if coherence.exists():
        for _, r in pd.read_csv(coherence, dtype=str, keep_default_na=False).iterrows():
            words = "P consistent with OR and CI" if r["P consistent"] == "True" else "P NOT consistent with OR and CI"
            out[r["id"]] = out.get(r["id"], "") + ("; " if r["id"] in out else "") + words
    grim = reconstructed / "01_grim.csv"
    if grim.exists():
        for _, r in pd.read_csv(grim, dtype=str, keep_default_na=False).iterrows():
            out[r["id"]] = ("GRIM: possible" if r["all possible (GRIM)"] == "True" else "GRIM: impossible") + \
                f" for {r['denominators']}"
    return out


def _ci_text(lo, hi, fmt) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{fmt(lo)} to {fmt(hi)}"


def p_class(p) -> int:
    """The printed class of a P value: 0 below 0.001, 1 below 0.01, 2 below 0.05, 3 otherwise."""
    return int(sum(p >= limit for limit in P_CLASS_LIMITS))


def _published_p_classes(text: str) -> set[int]:
    """Every printed class a published P admits ("P = 0.010" admits two; "P < 0.001" one)."""
    rep = parse_reported(text)
    high = np.nextafter(rep.high, 0) if rep.relation == "<" else rep.high
    return set(range(p_class(rep.low), p_class(high) + 1))


def _other_class(published_p: str, p: float) -> bool:
    return p_class(p) not in _published_p_classes(published_p)


def _within_tolerance(reps, r) -> bool:
    """Multivariable OR: OR within ±5%, CI bounds within ±15%, P in a printed class the published P admits."""
    return bool(abs(r["estimate"] / reps[0].value - 1) <= 0.05
                and abs(r["ci_low"] / reps[1].value - 1) <= 0.15
                and abs(r["ci_high"] / reps[2].value - 1) <= 0.15
                and not _other_class(reps[3].text, r["p"]))


def _pick_p_row(res: pd.DataFrame, rep, named: set[str]) -> tuple[pd.Series, bool]:
    """The results row whose P is shown: a named test that matches, else any that matches, else a named one."""
    is_named = res["method"].map(_test_of).isin(named).to_numpy()
    matches = rep.matches(res["p"].to_numpy())
    rank = np.lexsort((np.arange(len(res)), ~is_named, ~matches))
    return res.iloc[rank[0]], bool(is_named[rank[0]])


def replication_table(published: pd.DataFrame, results: pd.DataFrame,
                      reconstructed_dir: str | os.PathLike = "data/reconstructed") -> pd.DataFrame:
    """One row per published statistic: published, reproduced, difference, agreement, consistency.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published`
    results : :func:`load_results`
    reconstructed_dir : where notebook 01 wrote its consistency checks (shown, not used to classify)

    Returns
    -------
    DataFrame with :data:`REPLICATION_COLUMNS`. Typed columns:
    ``matches at printed precision`` (bool), ``named by paper`` (whether the
    reproduced value was computed with the method the paper names; a count
    or a percentage has one method only and counts as named; missing for
    claims), ``P in another printed class`` (a reproduced P outside every
    printed class of :func:`p_class` the published P admits, e.g. P < 0.001
    against a published 0.006; missing where there is no P).

    ``agreement`` is one of :data:`AGREEMENT`:

    - "exact, named method": matches at printed precision, named method;
    - "exact, other method only": matches only under a test the paper does
      not name (or, where the abstract names no test, under any test);
    - "claim consistent": a claim of non-significance, or of the most
      frequent category, that holds;
    - "within calibration tolerance": a multivariable OR with the OR within
      ±5%, its CI bounds within ±15% and its P in a printed class the
      published P admits (the bundled cohorts are calibrated to this);
    - "differs": none of these, including a number no result carries
      (``reproduced`` then says "not computed").
    """
    consistency = _consistency(project_path(reconstructed_dir))
    rows = []
    for label, pub in published.iterrows():
        ident = str(label)
        res = results[results["id"] == ident]
        named_tests = set(pub["test_ids"].split())
        row = {"id": ident, "cohort": pub["cohort"], "measure": pub["measure"], "reproduced": "not computed",
               "difference": np.nan, "reproduced 95% CI": "", "published inside reproduced CI": pd.NA,
               "matches at printed precision": False, "named by paper": pd.NA,
               "P in another printed class": pd.NA, "agreement": "differs", "method": "",
               "consistency (notebook 01)": consistency.get(ident, "")}
        kind = pub["kind"]
        if kind == "count":
            res = results[results["id"] == COUNT_SOURCES.get(ident, "")]
            row["published"] = pub["value"]
            if len(res):
                n = int(res["n"].max())
                row.update(reproduced=str(n), difference=n - int(pub["value"]), **{"named by paper": True},
                           method=f"patients in the {COUNT_SOURCES[ident]} comparison")
                row["matches at printed precision"] = str(n) == pub["value"]
        elif kind == "percent":
            row["published"] = pub["value"]
            res = res[res["method"].str.startswith("proportion")]
            if len(res):
                r = res.iloc[0]
                rep = parse_reported(pub["value"])
                printed = format_percent(r["estimate"] / 100, rep.decimals)
                row.update(reproduced=printed, difference=r["estimate"] - rep.value, method=r["method"],
                           **{"reproduced 95% CI": _ci_text(r["ci_low"], r["ci_high"], lambda x: f"{x:.1f}%"),
                              "published inside reproduced CI": bool(r["ci_low"] <= rep.value <= r["ci_high"]),
                              "named by paper": True})
                row["matches at printed precision"] = printed == pub["value"]
        elif kind == "p":
            row["published"] = pub["p"]
            res = res[res["p"].notna()]
            if len(res):
                rep = parse_reported(pub["p"])
                r, named = _pick_p_row(res, rep, named_tests)
                row.update(reproduced=format_p(r["p"], rep.decimals), difference=r["p"] - rep.value,
                           method=r["method"], **{"named by paper": named,
                                                  "P in another printed class": _other_class(pub["p"], r["p"])})
                row["matches at printed precision"] = bool(rep.matches(r["p"]))
        elif kind == "odds_ratio":
            row["published"] = f"{pub['value']} ({pub['ci_low']}-{pub['ci_high']}), {pub['p']}"
            res = res[res["method"].str.startswith("logistic regression, Wald")]
            if len(res):
                r = res.iloc[0]
                reps = [parse_reported(pub[f]) for f in ("value", "ci_low", "ci_high", "p")]
                d = reps[0].decimals
                row.update(reproduced=f"{format_fixed(r['estimate'], d)} ({format_fixed(r['ci_low'], d)}-"
                                      f"{format_fixed(r['ci_high'], d)}), {format_p(r['p'])}",
                           difference=r["estimate"] - reps[0].value, method=r["method"],
                           **{"reproduced 95% CI": _ci_text(r["ci_low"], r["ci_high"], lambda x: f"{x:.3f}"),
                              "published inside reproduced CI": bool(r["ci_low"] <= reps[0].value <= r["ci_high"]),
                              "named by paper": "logistic_wald" in named_tests,
                              "P in another printed class": _other_class(pub["p"], r["p"])})
                exact = all(rep.matches(x)
                            for rep, x in zip(reps, (r["estimate"], r["ci_low"], r["ci_high"], r["p"]), strict=True))
                row["matches at printed precision"] = bool(exact)
                if not exact and pub["analysis"] == "multivariable" and _within_tolerance(reps, r):
                    row["agreement"] = "within calibration tolerance"
        elif kind == "claim":
            row["published"] = pub["value"]
            if len(res):
                r = res.iloc[0]
                if pub["value"] == "not significant":
                    ok = bool(r["p"] > SIGNIFICANCE_LEVEL)
                    row.update(reproduced=f"{format_p(r['p'])} ({'not ' if ok else ''}significant)",
                               method=r["method"])
                else:
                    category = str(r["quantity"]).rsplit(": ", 1)[-1]
                    ok = category == pub["value"]
                    row.update(reproduced=f"{category} ({r['estimate']:.1f}%)", method=r["method"])
                row["matches at printed precision"] = ok
                if ok:
                    row["agreement"] = "claim consistent"
        if row["matches at printed precision"] and kind != "claim":
            row["agreement"] = "exact, named method" if row["named by paper"] is True else "exact, other method only"
        rows.append(row)
    return pd.DataFrame(rows, columns=REPLICATION_COLUMNS)


def _as_bool(column: pd.Series) -> pd.Series:
    """A boolean column, also when read back from CSV as text ("True", "False", "")."""
    return column.map(lambda x: x is True or x is np.True_ or str(x) == "True")


def summary(table: pd.DataFrame) -> str:
    """The scorecard's headline: each agreement class counted separately, and any P in another printed class.

    For example "22 of 30 published numbers reproduced exactly with the method
    the paper names; 2 exactly, but only with a method the paper does not
    name; ...". Works on :func:`replication_table` and on ``replication.csv``
    read back as text.
    """
    counts = table["agreement"].value_counts()
    n = {label: int(counts.get(label, 0)) for label in AGREEMENT}
    parts = [f"{n['exact, named method']} of {len(table)} published numbers reproduced exactly with the method "
             "the paper names",
             f"{n['exact, other method only']} exactly, but only with a method the paper does not name",
             f"{n['claim consistent']} claims consistent",
             f"{n['within calibration tolerance']} within calibration tolerance",
             f"{n['differs']} differ"]
    flagged = table.loc[_as_bool(table["P in another printed class"]), "id"].tolist() \
        if "P in another printed class" in table else []
    if flagged:
        parts.append(f"reproduced P in another printed class than the published one: {', '.join(flagged)}")
    return "; ".join(parts)


def or_comparison(published: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Published and reproduced odds ratios with 95% CIs, two rows per OR of the abstract."""
    rows = []
    for ident, pub in published[published["kind"] == "odds_ratio"].iterrows():
        label = f"{ident} ({pub['analysis']})"
        rows.append({"id": ident, "label": label, "source": "published",
                     **{k: parse_reported(pub[f]).value for k, f in
                        (("or", "value"), ("ci_low", "ci_low"), ("ci_high", "ci_high"))}})
        res = results[(results["id"] == ident) & results["method"].str.startswith("logistic regression, Wald")]
        if len(res):
            r = res.iloc[0]
            rows.append({"id": ident, "label": label, "source": "reproduced", "or": r["estimate"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"]})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ findings: does the finding replicate?
_Z = float(norm.ppf(1 - (1 - CONFIDENCE_LEVEL) / 2))


def se_from_ci(ci_low: float, ci_high: float, level: float = CONFIDENCE_LEVEL) -> float:
    """The SE of a log OR recovered from its CI: (log hi − log lo) / (2 z), z = qnorm(1 − (1 − level)/2)."""
    z = float(norm.ppf(1 - (1 - level) / 2))
    return float((np.log(ci_high) - np.log(ci_low)) / (2 * z))


@dataclass(frozen=True)
class Criteria:
    """The replication criteria of one odds ratio, site against published (ORs on the OR scale).

    Attributes
    ----------
    same_direction : log ORs of the same sign (a null estimate has no direction)
    site_significant : the site's P below :data:`microcalc.study.SIGNIFICANCE_LEVEL`
    direction_and_significance : criterion 1 (Open Science Collaboration 2015): same direction and
        significant; for a finding the paper reports as not significant, not significant either
    published_inside_site_ci : criterion 2
    prediction_interval_low, prediction_interval_high, site_inside_prediction_interval : criterion 3
        (Patil, Peng & Leek 2016): published log OR ± z·sqrt(se_pub² + se_site²)
    difference_log_or, difference_ci_low, difference_ci_high, difference_p : criterion 4, site − published
        log OR with its CI and the two-sided P of the z-test of two independent estimates
    combined_or, combined_ci_low, combined_ci_high, combined_p : criterion 5, fixed-effect
        inverse-variance combination of the two log ORs
    compatible_with_published_and_null : the site's CI holds both the published OR and 1
    """

    same_direction: bool
    site_significant: bool
    direction_and_significance: bool
    published_inside_site_ci: bool
    prediction_interval_low: float
    prediction_interval_high: float
    site_inside_prediction_interval: bool
    difference_log_or: float
    difference_ci_low: float
    difference_ci_high: float
    difference_p: float
    combined_or: float
    combined_ci_low: float
    combined_ci_high: float
    combined_p: float
    compatible_with_published_and_null: bool


def criteria(published_or: float, published_ci_low: float, published_ci_high: float,
             site_or: float, site_ci_low: float, site_ci_high: float, site_p: float,
             published_significant: bool = True) -> Criteria:
    """The five replication criteria for an odds ratio with a 95% CI, published against site.

    Both SEs are recovered from the 95% CIs on the log scale (:func:`se_from_ci`;
    exact for a Wald CI). With b = log OR and z = qnorm(0.975):

    1. same sign of b, and site P < 0.05 (or, when the paper reported the
       finding as not significant, site P ≥ 0.05);
    2. ``site_ci_low <= published_or <= site_ci_high``;
    3. b_site inside b_pub ± z·sqrt(se_pub² + se_site²);
    4. d = b_site − b_pub, CI d ± z·sqrt(se_pub² + se_site²), P = 2·(1 − Φ(|d|/se_d));
    5. b = Σ w·b / Σ w with w = 1/se², CI b ± z / sqrt(Σ w), P = 2·(1 − Φ(|b|·sqrt(Σ w))).

    Criteria 3 and 4 share their variance: the site's estimate lies outside
    the prediction interval exactly when the difference has P < 0.05.
    """
    b_pub, b_site = np.log(published_or), np.log(site_or)
    se_pub, se_site = se_from_ci(published_ci_low, published_ci_high), se_from_ci(site_ci_low, site_ci_high)
    se_d = float(np.hypot(se_pub, se_site))
    d = float(b_site - b_pub)
    w = np.array([1 / se_pub**2, 1 / se_site**2])
    b_fe = float((w * np.array([b_pub, b_site])).sum() / w.sum())
    se_fe = float(1 / np.sqrt(w.sum()))
    same = bool(np.sign(b_pub) == np.sign(b_site) != 0)
    significant = bool(site_p < SIGNIFICANCE_LEVEL)
    return Criteria(
        same_direction=same, site_significant=significant,
        direction_and_significance=(same and significant) if published_significant else not significant,
        published_inside_site_ci=bool(site_ci_low <= published_or <= site_ci_high),
        prediction_interval_low=float(np.exp(b_pub - _Z * se_d)),
        prediction_interval_high=float(np.exp(b_pub + _Z * se_d)),
        site_inside_prediction_interval=bool(abs(d) <= _Z * se_d),
        difference_log_or=d, difference_ci_low=d - _Z * se_d, difference_ci_high=d + _Z * se_d,
        difference_p=float(2 * norm.sf(abs(d) / se_d)),
        combined_or=float(np.exp(b_fe)), combined_ci_low=float(np.exp(b_fe - _Z * se_fe)),
        combined_ci_high=float(np.exp(b_fe + _Z * se_fe)), combined_p=float(2 * norm.sf(abs(b_fe) / se_fe)),
        compatible_with_published_and_null=bool(site_ci_low <= published_or <= site_ci_high
                                                and site_ci_low <= 1 <= site_ci_high),
    )


_CRITERIA_FIELDS = list(Criteria.__dataclass_fields__)

#: The columns of ``replication_findings.csv``: numbers and booleans, one row per finding.
FINDINGS_COLUMNS = (["id", "measure", "kind", "published", "published_estimate", "published_ci_low",
                     "published_ci_high", "published_significant", "published_rate_difference",
                     "site_estimate", "site_ci_low", "site_ci_high", "site_p", "site_n", "site_method",
                     "site_rate_difference"] + _CRITERIA_FIELDS + ["note"])

_FLAGS = ["published_significant"] + [c for c in _CRITERIA_FIELDS if Criteria.__dataclass_fields__[c].type == "bool"]
_TEXT = ["id", "measure", "kind", "published", "site_method", "note"]

_NOT_APPLICABLE = "criteria 2-5 not applicable: the abstract reports this comparison only as a P"


def _published_significant(text: str) -> bool:
    rep = parse_reported(text)
    return bool(rep.value <= SIGNIFICANCE_LEVEL if rep.relation == "<" else rep.value < SIGNIFICANCE_LEVEL)


def _site_row(results: pd.DataFrame, ident: str, method: str) -> pd.Series | None:
    res = results[(results["id"] == ident) & results["method"].astype(str).str.startswith(method)]
    return res.iloc[0] if len(res) else None


def _finding_row(finding: Finding, pub: pd.DataFrame, results: pd.DataFrame) -> dict:
    p = cast(pd.Series, pub.loc[finding.id])
    row: dict = dict.fromkeys(FINDINGS_COLUMNS, np.nan) | dict.fromkeys(_FLAGS, pd.NA)
    row.update(id=finding.id, measure=p["measure"], kind=finding.kind, note="", site_method="",
               published_significant=_published_significant(p["p"]))
    site = _site_row(results, finding.id, finding.method)
    if finding.kind == "odds_ratio":
        row.update(published=f"{p['value']} ({p['ci_low']}-{p['ci_high']}), {p['p']}",
                   **{k: parse_reported(p[f]).value for k, f in (("published_estimate", "value"),
                                                              ("published_ci_low", "ci_low"),
                                                              ("published_ci_high", "ci_high"))})
        if site is None:
            row["note"] = f"not estimable: this run has no {finding.method} result for {finding.id}"
            return row
        row.update(site_estimate=site["estimate"], site_ci_low=site["ci_low"], site_ci_high=site["ci_high"],
                   site_p=site["p"], site_n=site["n"], site_method=site["method"])
        values = np.array([site["estimate"], site["ci_low"], site["ci_high"]], dtype=float)
        if not (np.isfinite(values).all() and (values > 0).all() and values[2] > values[1]):
            row["note"] = "not estimable: the site's OR or its CI is not finite (separation or no events?)"
            return row
        row.update(asdict(criteria(row["published_estimate"], row["published_ci_low"], row["published_ci_high"],
                                   values[0], values[1], values[2], site["p"], row["published_significant"])))
        return row
    rate_ids = list(finding.rates)
    rates = [parse_reported(pub.loc[r, "value"]).value for r in rate_ids]
    row.update(published=f"{pub['value'][rate_ids[0]]} vs {pub['value'][rate_ids[1]]}, {p['p']}",
               published_rate_difference=rates[0] - rates[1], note=_NOT_APPLICABLE)
    rate_1, rate_0 = (_site_row(results, r, "proportion") for r in rate_ids)
    if site is None or rate_1 is None or rate_0 is None:
        row["note"] = f"not estimable: this run has no {finding.method} result or no rates for {finding.id}"
        return row
    diff = float(rate_1["estimate"] - rate_0["estimate"])
    same = bool(np.sign(diff) == np.sign(row["published_rate_difference"]) != 0)
    significant = bool(site["p"] < SIGNIFICANCE_LEVEL)
    row.update(site_p=site["p"], site_n=site["n"], site_method=site["method"], site_rate_difference=diff,
               same_direction=same, site_significant=significant,
               direction_and_significance=(same and significant) if row["published_significant"] else not significant)
    return row


def findings_table(published: pd.DataFrame, results: pd.DataFrame,
                   findings: tuple[Finding, ...] = FINDINGS) -> pd.DataFrame:
    """One row per finding of :data:`microcalc.study.FINDINGS` with every replication criterion, as numbers.

    Odds ratios get all five criteria (:func:`criteria`). Comparisons that
    the abstract reports only as a P get criterion 1 (the same direction of
    the rate difference, in percentage points, and the site's P below 0.05;
    for the type comparison, which the paper reports as not significant, the
    site's P at or above 0.05) and missing values, with a note, for the
    others. A finding this run could not estimate keeps missing criteria and
    a note "not estimable: <reason>".
    """
    table = pd.DataFrame([_finding_row(f, published, results) for f in findings], columns=FINDINGS_COLUMNS)
    table[_FLAGS] = table[_FLAGS].astype("boolean")
    numbers = [c for c in FINDINGS_COLUMNS if c not in _FLAGS + _TEXT]
    table[numbers] = table[numbers].astype(float)
    return table


def _yes(x) -> str:
    return "not applicable" if x is pd.NA or (isinstance(x, float) and np.isnan(x)) else ("yes" if x else "no")


def _or_text(est, lo, hi) -> str:
    return f"{est:.2f} ({lo:.2f}-{hi:.2f})"


def findings_headline(findings: pd.DataFrame) -> str:
    """"Of the paper's K findings, this site's data replicate N by direction and significance, and M ..."."""
    k = len(findings)
    n = int(_as_bool(findings["direction_and_significance"]).sum())
    with_ci = findings[findings["kind"] == "odds_ratio"]
    m = int(_as_bool(with_ci["site_inside_prediction_interval"]).sum())
    missing = int(findings["note"].astype(str).str.startswith("not estimable").sum())
    text = (f"Of the paper's {k} findings, this site's data replicate {n} by direction and significance, and "
            f"{m} of the {len(with_ci)} odds ratios lie within the 95% prediction interval for a replication")
    return text + (f" ({missing} not estimable)" if missing else "")


def findings_display(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings with every criterion, in words and rounded numbers, for the page."""
    rows = []
    for _, f in findings.iterrows():
        ratio = with_pi = combined = inside = "not applicable"
        if f["kind"] == "odds_ratio" and not str(f["note"]).startswith("not estimable"):
            site = _or_text(f["site_estimate"], f["site_ci_low"], f["site_ci_high"]) + f", {format_p(f['site_p'])}"
            inside = _yes(f["published_inside_site_ci"])
            with_pi = (f"{_yes(f['site_inside_prediction_interval'])} "
                       f"({f['prediction_interval_low']:.2f}-{f['prediction_interval_high']:.2f})")
            ratio = (_or_text(*np.exp([f["difference_log_or"], f["difference_ci_low"], f["difference_ci_high"]]))
                     + f", {format_p(f['difference_p'])}")
            combined = _or_text(f["combined_or"], f["combined_ci_low"], f["combined_ci_high"])
        elif f["kind"] == "comparison" and pd.notna(f["site_p"]):
            site = f"difference {f['site_rate_difference']:+.1f} points, {format_p(f['site_p'])}"
        else:
            site = f["note"]
        rows.append({"finding": f"{f['id']}: {f['measure']}", "published": f["published"], "this site": site,
                     "1 same direction, significant": _yes(f["direction_and_significance"]),
                     "2 published inside site's CI": inside, "3 inside 95% prediction interval": with_pi,
                     "4 ratio of ORs, site / published (95% CI), P": ratio,
                     "5 fixed-effect combined OR (95% CI)": combined})
    return pd.DataFrame(rows)


def findings_sentences(findings: pd.DataFrame) -> list[str]:
    """One neutral sentence per finding: what the site's data say on each criterion that applies."""
    out = []
    for _, f in findings.iterrows():
        if str(f["note"]).startswith("not estimable"):
            out.append(f"`{f['id']}`: {f['note']}.")
            continue
        direction = "the same direction as published" if f["same_direction"] else "the opposite direction"
        if f["published_significant"]:
            sig = "significant at 0.05" if f["site_significant"] else "not significant at 0.05"
        else:
            sig = ("not significant at 0.05, as in the paper" if not f["site_significant"]
                   else "significant at 0.05, where the paper found no significant difference")
        text = f"`{f['id']}`: {direction}, {sig} ({format_p(f['site_p'])})"
        if f["kind"] == "odds_ratio":
            if f["compatible_with_published_and_null"]:
                text += "; the site's 95% CI is wide: its data are compatible with both the published effect and no effect"
            if not f["site_inside_prediction_interval"]:
                text += ("; the estimate lies outside the 95% prediction interval, so on this criterion the finding "
                         "does not replicate")
            else:
                text += "; the estimate lies inside the 95% prediction interval"
        elif f["id"] in ("bone_type_compare", "bone_extent_compare"):
            text += "; the direction is that of the single category the abstract compares, the P that of the 2x3 table"
        out.append(text + ".")
    return out


def context_table(scorecard: pd.DataFrame, finding_ids=FINDING_IDS) -> pd.DataFrame:
    """Everything the abstract reports that is not a finding (sizes, rates, shares, claims), published beside
    this run's value; context, so without any verdict."""
    rows = scorecard[~scorecard["id"].isin(finding_ids)]
    return rows[["id", "measure", "published", "reproduced", "reproduced 95% CI"]].rename(
        columns={"reproduced": "this site", "reproduced 95% CI": "this site's 95% CI"}).reset_index(drop=True)


def _criteria_cell(f: pd.Series) -> str:
    if str(f["note"]).startswith("not estimable"):
        return f["note"]
    one = f"1 {_yes(f['direction_and_significance'])} ({format_p(f['site_p'])})"
    if f["kind"] != "odds_ratio":
        return f"{one}; 2-5 not applicable"
    ratio = _or_text(*np.exp([f["difference_log_or"], f["difference_ci_low"], f["difference_ci_high"]]))
    return (f"{one}; 2 {_yes(f['published_inside_site_ci'])}; 3 {_yes(f['site_inside_prediction_interval'])}; "
            f"4 ratio {ratio}, {format_p(f['difference_p'])}; "
            f"5 combined {_or_text(f['combined_or'], f['combined_ci_low'], f['combined_ci_high'])}")


def criteria_side_by_side(runs: dict[str, Path], published: pd.DataFrame | None = None) -> pd.DataFrame:
    """The replication criteria of every finding, one column per run, for the side-by-side table of sites.

    Rows are indexed "<finding id> (criteria)", with the columns of
    :func:`microcalc.pipeline.run.side_by_side` (``measure``, ``published``, one per
    site), so the two tables can be concatenated. Each cell reads
    "1 yes (P = ...); 2 yes; 3 yes; 4 ratio ..., P = ...; 5 combined ...".
    """
    from microcalc.abstract.published import load_published

    published = load_published() if published is None else published
    tables = {site: findings_table(published, load_results(run_dir)) for site, run_dir in runs.items()}
    base = findings_table(published, pd.DataFrame(columns=["id", "method"]))
    table = pd.DataFrame({"measure": "replication criteria: " + base["measure"], "published": base["published"]})
    table.index = (base["id"] + " (criteria)").rename("id")
    for site, f in tables.items():
        table[site] = [_criteria_cell(row) for _, row in f.iterrows()]
    return table


def plot_findings(findings: pd.DataFrame, ax=None):
    """Published and site ORs with 95% CIs, and the 95% prediction interval for a replication as a band."""
    import matplotlib.pyplot as plt

    from microcalc.analysis.plots import OKABE_ITO

    ors = findings[(findings["kind"] == "odds_ratio") & findings["site_estimate"].notna()
                   & ~findings["note"].astype(str).str.startswith("not estimable")].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.9 * max(len(ors), 1) + 1.4))
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    y = np.arange(len(ors))[::-1].astype(float)
    ax.barh(y, ors["prediction_interval_high"].astype(float) - ors["prediction_interval_low"].astype(float),
            left=ors["prediction_interval_low"].astype(float), height=0.7, color="#dddddd",
            label="95% prediction interval for a replication")
    for offset, (prefix, label, colour, marker) in zip((0.15, -0.15), (
            ("published", "published (95% CI)", OKABE_ITO[1], "D"), ("site", "this site (95% CI)", OKABE_ITO[0], "s")),
            strict=True):
        est = ors[f"{prefix}_estimate"].astype(float)
        ax.errorbar(est, y + offset, xerr=[est - ors[f"{prefix}_ci_low"].astype(float),
                                           ors[f"{prefix}_ci_high"].astype(float) - est],
                    fmt=marker, color=colour, ecolor=colour, capsize=2, linewidth=1, markersize=5, label=label)
    ax.set_yticks(y, ors["id"])
    ax.set_xscale("log")
    values = ors[["published_ci_low", "site_ci_low", "prediction_interval_low", "published_ci_high",
                  "site_ci_high", "prediction_interval_high"]].astype(float).to_numpy()
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        ticks = [t for t in (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 20) if lo / 1.3 <= t <= hi * 1.3]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("odds ratio (log scale)")
    ax.legend(frameon=False, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize="small")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax


# ------------------------------------------------------------------ the page of notebook 07, one branch per run
def framing(bundled: bool, data_dir: str) -> str:
    """What this run can show, for the kind of run that ran only (the other branch's text never appears)."""
    if bundled:
        return ("> **This run used the bundled synthetic data.** This page is a reproduction check of the "
                "pipeline, not a replication. Agreement of the univariate numbers (rates, univariable odds ratios, "
                "comparison P values, cohort sizes) is *by construction*: the synthetic cohorts were built from the "
                "tables the abstract implies. Agreement of the multivariable odds ratios is *calibrated*: the "
                "generator's parameters were tuned until the models came close. What this still demonstrates: the "
                "pipeline computes what the paper computed (the same tests, the same models, the same printed "
                "precision), and the paper's numbers are internally consistent, or not, as the consistency column "
                "says. It is not evidence that the paper's findings hold.")
    return (f"> **This run used the data in `{Path(str(data_dir)).name}`.** Each number was computed afresh from "
            "these patients, so this page asks whether the paper's *findings* hold in them, by the standard "
            "criteria of the replication literature, not whether its printed digits recur. Cohort sizes, rates "
            "and shares are expected to differ between hospitals: they are shown as context and never counted "
            "as differences.")


def headline(scorecard: pd.DataFrame, findings: pd.DataFrame, bundled: bool) -> str:
    """The page's headline: the scorecard's counts on the bundled data, the findings' otherwise."""
    return f"**{summary(scorecard) if bundled else findings_headline(findings)}.**"


def main_tables(scorecard: pd.DataFrame, findings: pd.DataFrame, bundled: bool) -> list:
    """What the page shows as its tables: the scorecard, or the findings followed by the context."""
    from IPython.display import Markdown

    if bundled:
        return [scorecard.drop(columns=["method"])]
    return [Markdown("**The findings, judged on each criterion.** 1: same direction and significant at 0.05 "
                     "(Open Science Collaboration 2015); 2: the published estimate inside this site's 95% CI; "
                     "3: this site's estimate inside the 95% prediction interval for a replication (Patil, Peng & "
                     "Leek 2016); 4: the difference of the log ORs, shown as a ratio of ORs, with its 95% CI and P; "
                     "5: the fixed-effect inverse-variance combination of the two estimates."),
            findings_display(findings),
            Markdown("**Context, not judged.** The abstract's other numbers beside this site's."),
            context_table(scorecard)]


def table_notes(published: pd.DataFrame, scorecard: pd.DataFrame, findings: pd.DataFrame, bundled: bool) -> str:
    """The sentences under the tables."""
    if not bundled:
        return "\n".join(f"- {s}" for s in findings_sentences(findings))
    inside = scorecard["published inside reproduced CI"].dropna()
    lines = [f"- For {int(_as_bool(inside).sum())} of the {len(inside)} published estimates that have a reproduced "
             "95% CI, the published value lies inside it."]
    other = scorecard[scorecard["agreement"] == "exact, other method only"]
    if len(other):
        said = [f"{r['id']} by {r['method'].split(',')[0]} (the paper names "
                f"{published.loc[r['id'], 'test_named'] if published.loc[r['id'], 'test_ids'] else 'no test'})"
                for _, r in other.iterrows()]
        lines.append(f"- Reproduced exactly, but not with a test the paper names for it: {'; '.join(said)}.")
    flagged = scorecard.loc[_as_bool(scorecard["P in another printed class"]), "id"].tolist()
    lines.append("- Reproduced P values in another printed class (below 0.001, 0.01, 0.05, or above) than the "
                 f"published one: {', '.join(flagged) if flagged else 'none'}.")
    lines.append("- The replication criteria of a site run are computed here too and written to "
                 "`replication_findings.csv`, so that every run writes the same files; on calibrated synthetic "
                 "data they are met by construction, and are not shown as evidence.")
    return "\n".join(lines)


def report_figure(published: pd.DataFrame, results: pd.DataFrame, findings: pd.DataFrame, bundled: bool,
                  output_dir: str | os.PathLike = ".") -> list[Path]:
    """The page's figure, saved: published and reproduced ORs (bundled), or the findings with prediction
    intervals (a site run)."""
    from microcalc.analysis import plots

    if bundled:
        ax = plots.plot_or_comparison(or_comparison(published, results))
        return plots.save_figure(ax.figure, "07_or_published_vs_reproduced", output_dir)
    ax = plot_findings(findings)
    return plots.save_figure(ax.figure, "07_findings_published_vs_site", output_dir)


def limitations(bundled: bool) -> str:
    """The page's limitations, for the kind of run that ran."""
    if bundled:
        return ("- Numbers are matched by the paper's printed precision; a reproduced value that rounds differently "
                "by a hair counts as a difference.\n"
                "- Comparison P values are matched under a test the paper names where one reproduces the published "
                "value, else under any test; the `method` column of `replication.csv` says which.\n"
                "- Qualitative claims (\"not significantly associated\", \"predominated\", \"mainly axial\") are read "
                "as: multivariable likelihood-ratio P > 0.05, and the most frequent category.")
    return ("- The published SEs are recovered from the printed 95% CIs, which are rounded to three decimals.\n"
            "- The prediction interval assumes one true effect shared by the paper's hospitals and this one; "
            "real between-hospital heterogeneity widens it, so a finding outside it may still be a true effect "
            "that varies between hospitals.\n"
            "- The type comparison is reported by the paper as not significant; for it, criterion 1 asks that the "
            "site find no significant difference either, which in a small site is weak evidence of no difference.\n"
            "- One site's data judge one replication. A CI that holds both the published effect and no effect "
            "means this site's data cannot tell them apart, not that the finding failed.")
