"""The reproduction check of a run on the bundled data: each printed number of the abstract against this run.

:func:`replication_table` matches each statistic of
``data/published/abstract_statistics.csv`` with its reproduced value and
classifies the agreement in a fixed vocabulary (:data:`AGREEMENT`);
:func:`summary` counts each class separately. Results rows are chosen by
their typed ``estimator``, never by the words of their ``method``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.abstract.published import format_fixed, format_p, format_percent, parse_reported
from microcalc.analysis.results import read_results, with_estimators
from microcalc.core.paths import project_path
from microcalc.study import COUNT_SOURCES, SIGNIFICANCE_LEVEL

__all__ = [
    "AGREEMENT",
    "P_CLASS_LIMITS",
    "REPLICATION_COLUMNS",
    "TEST_OF_ESTIMATOR",
    "as_bool",
    "load_results",
    "or_comparison",
    "p_class",
    "replication_table",
    "summary",
]

#: The test id (:data:`microcalc.abstract.pvalues.TESTS`, as the published ``test_ids`` name them) of each
#: results ``estimator`` that is a test.
TEST_OF_ESTIMATOR = {
    "pearson_chi2": "pearson_chi2",
    "yates_chi2": "yates_chi2",
    "fisher_exact": "fisher_exact",
    "mann_whitney": "mann_whitney",
    "wald_logistic": "logistic_wald",
}

#: The scorecard's agreement classes, in the order :func:`summary` counts them.
AGREEMENT = (
    "exact, named method",
    "exact, other method only",
    "claim consistent",
    "within calibration tolerance",
    "differs",
)

#: The printed classes of a P value: below 0.001, below 0.01, below 0.05, and the rest.
P_CLASS_LIMITS = (0.001, 0.01, 0.05)

REPLICATION_COLUMNS = [
    "id",
    "cohort",
    "measure",
    "published",
    "reproduced",
    "difference",
    "reproduced 95% CI",
    "published inside reproduced CI",
    "matches at printed precision",
    "named by paper",
    "P in another printed class",
    "agreement",
    "method",
    "consistency (notebook 01)",
    "estimator",
]


def load_results(output_dir: str | os.PathLike = ".") -> pd.DataFrame:
    """Every ``NN_results.csv`` of a run, concatenated, with the file name in ``source``."""
    folder = project_path(output_dir) / "data" / "results"
    frames = [read_results(p).assign(source=p.name) for p in sorted(folder.glob("[0-9][0-9]_results.csv"))]
    if not frames:
        raise FileNotFoundError(f"no NN_results.csv files in {folder}: run the analysis notebooks first")
    return pd.concat(frames, ignore_index=True)


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
            out[r["id"]] = (
                "GRIM: possible" if r["all possible (GRIM)"] == "True" else "GRIM: impossible"
            ) + f" for {r['denominators']}"
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
    return bool(
        abs(r["estimate"] / reps[0].value - 1) <= 0.05
        and abs(r["ci_low"] / reps[1].value - 1) <= 0.15
        and abs(r["ci_high"] / reps[2].value - 1) <= 0.15
        and not _other_class(reps[3].text, r["p"])
    )


def _pick_p_row(res: pd.DataFrame, rep, named: set[str]) -> tuple[pd.Series, bool]:
    """The results row whose P is shown: a named test that matches, else any that matches, else a named one."""
    is_named = res["estimator"].map(TEST_OF_ESTIMATOR).isin(named).to_numpy()
    matches = rep.matches(res["p"].to_numpy())
    rank = np.lexsort((np.arange(len(res)), ~is_named, ~matches))
    return res.iloc[rank[0]], bool(is_named[rank[0]])


def replication_table(
    published: pd.DataFrame, results: pd.DataFrame, reconstructed_dir: str | os.PathLike = "data/reconstructed"
) -> pd.DataFrame:
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
    results = with_estimators(results)
    rows = []
    for ident, pub in published.iterrows():
        res = results[results["id"] == ident]
        named_tests = set(pub["test_ids"].split())
        row = {
            "id": ident,
            "cohort": pub["cohort"],
            "measure": pub["measure"],
            "reproduced": "not computed",
            "difference": np.nan,
            "reproduced 95% CI": "",
            "published inside reproduced CI": pd.NA,
            "matches at printed precision": False,
            "named by paper": pd.NA,
            "P in another printed class": pd.NA,
            "agreement": "differs",
            "method": "",
            "estimator": "",
            "consistency (notebook 01)": consistency.get(ident, ""),
        }
        kind = pub["kind"]
        if kind == "count":
            res = results[results["id"] == COUNT_SOURCES.get(ident, "")]
            row["published"] = pub["value"]
            if len(res):
                n = int(res["n"].max())
                row.update(
                    reproduced=str(n),
                    difference=n - int(pub["value"]),
                    **{"named by paper": True},
                    method=f"patients in the {COUNT_SOURCES[ident]} comparison",
                    estimator="count",
                )
                row["matches at printed precision"] = str(n) == pub["value"]
        elif kind == "percent":
            row["published"] = pub["value"]
            res = res[res["estimator"] == "wilson_proportion"]
            if len(res):
                r = res.iloc[0]
                rep = parse_reported(pub["value"])
                printed = format_percent(r["estimate"] / 100, rep.decimals)
                row.update(
                    reproduced=printed,
                    difference=r["estimate"] - rep.value,
                    method=r["method"],
                    estimator=r["estimator"],
                    **{
                        "reproduced 95% CI": _ci_text(r["ci_low"], r["ci_high"], lambda x: f"{x:.1f}%"),
                        "published inside reproduced CI": bool(r["ci_low"] <= rep.value <= r["ci_high"]),
                        "named by paper": True,
                    },
                )
                row["matches at printed precision"] = printed == pub["value"]
        elif kind == "p":
            row["published"] = pub["p"]
            res = res[res["p"].notna()]
            if len(res):
                rep = parse_reported(pub["p"])
                r, named = _pick_p_row(res, rep, named_tests)
                row.update(
                    reproduced=format_p(r["p"], rep.decimals),
                    difference=r["p"] - rep.value,
                    method=r["method"],
                    estimator=r["estimator"],
                    **{"named by paper": named, "P in another printed class": _other_class(pub["p"], r["p"])},
                )
                row["matches at printed precision"] = bool(rep.matches(r["p"]))
        elif kind == "odds_ratio":
            row["published"] = f"{pub['value']} ({pub['ci_low']}-{pub['ci_high']}), {pub['p']}"
            res = res[res["estimator"] == "wald_logistic"]
            if len(res):
                r = res.iloc[0]
                reps = [parse_reported(pub[f]) for f in ("value", "ci_low", "ci_high", "p")]
                d = reps[0].decimals
                row.update(
                    reproduced=f"{format_fixed(r['estimate'], d)} ({format_fixed(r['ci_low'], d)}-"
                    f"{format_fixed(r['ci_high'], d)}), {format_p(r['p'])}",
                    difference=r["estimate"] - reps[0].value,
                    method=r["method"],
                    estimator=r["estimator"],
                    **{
                        "reproduced 95% CI": _ci_text(r["ci_low"], r["ci_high"], lambda x: f"{x:.3f}"),
                        "published inside reproduced CI": bool(r["ci_low"] <= reps[0].value <= r["ci_high"]),
                        "named by paper": "logistic_wald" in named_tests,
                        "P in another printed class": _other_class(pub["p"], r["p"]),
                    },
                )
                exact = all(
                    rep.matches(x)
                    for rep, x in zip(reps, (r["estimate"], r["ci_low"], r["ci_high"], r["p"]), strict=True)
                )
                row["matches at printed precision"] = bool(exact)
                if not exact and pub["analysis"] == "multivariable" and _within_tolerance(reps, r):
                    row["agreement"] = "within calibration tolerance"
        elif kind == "claim":
            row["published"] = pub["value"]
            if len(res):
                r = res.iloc[0]
                if pub["value"] == "not significant":
                    ok = bool(r["p"] > SIGNIFICANCE_LEVEL)
                    row.update(
                        reproduced=f"{format_p(r['p'])} ({'not ' if ok else ''}significant)",
                        method=r["method"],
                        estimator=r["estimator"],
                    )
                else:
                    category = str(r["category"]) or "not recorded"
                    ok = category == pub["value"]
                    row.update(
                        reproduced=f"{category} ({r['estimate']:.1f}%)", method=r["method"], estimator=r["estimator"]
                    )
                row["matches at printed precision"] = ok
                if ok:
                    row["agreement"] = "claim consistent"
        if row["matches at printed precision"] and kind != "claim":
            row["agreement"] = "exact, named method" if row["named by paper"] is True else "exact, other method only"
        rows.append(row)
    return pd.DataFrame(rows, columns=REPLICATION_COLUMNS)


def as_bool(column: pd.Series) -> pd.Series:
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
    parts = [
        f"{n['exact, named method']} of {len(table)} published numbers reproduced exactly with the method "
        "the paper names",
        f"{n['exact, other method only']} exactly, but only with a method the paper does not name",
        f"{n['claim consistent']} claims consistent",
        f"{n['within calibration tolerance']} within calibration tolerance",
        f"{n['differs']} differ",
    ]
    flagged = (
        table.loc[as_bool(table["P in another printed class"]), "id"].tolist()
        if "P in another printed class" in table
        else []
    )
    if flagged:
        parts.append(f"reproduced P in another printed class than the published one: {', '.join(flagged)}")
    return "; ".join(parts)


def or_comparison(published: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Published and reproduced odds ratios with 95% CIs, two rows per OR of the abstract."""
    rows = []
    results = with_estimators(results)
    for ident, pub in published[published["kind"] == "odds_ratio"].iterrows():
        label = f"{ident} ({pub['analysis']})"
        rows.append(
            {
                "id": ident,
                "label": label,
                "source": "published",
                **{
                    k: parse_reported(pub[f]).value
                    for k, f in (("or", "value"), ("ci_low", "ci_low"), ("ci_high", "ci_high"))
                },
            }
        )
        res = results[(results["id"] == ident) & (results["estimator"] == "wald_logistic")]
        if len(res):
            r = res.iloc[0]
            rows.append(
                {
                    "id": ident,
                    "label": label,
                    "source": "reproduced",
                    "or": r["estimate"],
                    "ci_low": r["ci_low"],
                    "ci_high": r["ci_high"],
                }
            )
    return pd.DataFrame(rows)
