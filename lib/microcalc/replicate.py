"""The replication report: every published number against the value this run reproduced.

:func:`load_results` gathers the tidy results files of a run
(``<output_dir>/data/results/NN_results.csv``); :func:`replication_table`
matches each statistic of ``data/published/abstract_statistics.csv`` with its
reproduced value, says whether it matches at the printed precision, how far
apart the two are, whether the published value lies inside the reproduced
95% CI, and what notebook 01's consistency checks said of the published
number. On another site's data most numbers will differ: the table reports
the differences, it does not fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .paths import project_path
from .published import format_fixed, format_p, format_percent, parse_reported
from .results import read_results
from .stats import TEST_METHODS

__all__ = ["load_results", "replication_table", "summary", "or_comparison", "COUNT_SOURCES",
           "REPLICATION_COLUMNS"]

#: Cohort sizes are reproduced as the n of their cohort's main comparison.
COUNT_SOURCES = {"nact_n": "nact_pcr_compare", "bone_n": "bone_met_compare"}

REPLICATION_COLUMNS = ["id", "cohort", "measure", "published", "reproduced", "difference",
                       "reproduced 95% CI", "published inside reproduced CI", "matches at printed precision",
                       "agreement", "method", "consistency (notebook 01)"]


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


def replication_table(published: pd.DataFrame, results: pd.DataFrame,
                      reconstructed_dir: str | os.PathLike = "data/reconstructed") -> pd.DataFrame:
    """One row per published statistic: published, reproduced, difference, match, consistency.

    Parameters
    ----------
    published : :func:`microcalc.published.load_published`
    results : :func:`load_results`
    reconstructed_dir : where notebook 01 wrote its consistency checks

    Returns
    -------
    DataFrame with :data:`REPLICATION_COLUMNS`. ``agreement`` is "exact at
    printed precision", "within calibration tolerance" (multivariable ORs:
    OR within ±5%, CI bounds within ±15%, P on the same side of 0.05 and
    0.01), "differs", or "not reproduced" when no result carries the id.
    """
    consistency = _consistency(project_path(reconstructed_dir))
    rows = []
    for ident, pub in published.iterrows():
        res = results[results["id"] == ident]
        row = {"id": ident, "cohort": pub["cohort"], "measure": pub["measure"], "reproduced": "",
               "difference": np.nan, "reproduced 95% CI": "", "published inside reproduced CI": pd.NA,
               "matches at printed precision": False, "agreement": "not reproduced", "method": "",
               "consistency (notebook 01)": consistency.get(ident, "")}
        kind = pub["kind"]
        if kind == "count":
            res = results[results["id"] == COUNT_SOURCES.get(ident, "")]
            row["published"] = pub["value"]
            if len(res):
                n = int(res["n"].max())
                row.update(reproduced=str(n), difference=n - int(pub["value"]),
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
                              "published inside reproduced CI": bool(r["ci_low"] <= rep.value <= r["ci_high"])})
                row["matches at printed precision"] = printed == pub["value"]
        elif kind == "p":
            row["published"] = pub["p"]
            if len(res):
                rep = parse_reported(pub["p"])
                tests = res["method"].map(_test_of)
                verdict = consistency.get(ident, "")
                found = [t for t in TEST_METHODS if t in verdict]
                named = pub["test_ids"].split()
                ranked = sorted(range(len(res)), key=lambda i: (tests.iloc[i] not in found,
                                                                tests.iloc[i] not in named, i))
                r = res.iloc[ranked[0]]
                row.update(reproduced=format_p(r["p"], rep.decimals), difference=r["p"] - rep.value,
                           method=r["method"])
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
                              "published inside reproduced CI": bool(r["ci_low"] <= reps[0].value <= r["ci_high"])})
                exact = all(rep.matches(x) for rep, x in zip(reps, (r["estimate"], r["ci_low"], r["ci_high"], r["p"])))
                row["matches at printed precision"] = bool(exact)
                if not exact and pub["analysis"] == "multivariable":
                    within = (abs(r["estimate"] / reps[0].value - 1) <= 0.05
                              and abs(r["ci_low"] / reps[1].value - 1) <= 0.15
                              and abs(r["ci_high"] / reps[2].value - 1) <= 0.15
                              and all((r["p"] < c) == ((reps[3].high if reps[3].relation == "<" else reps[3].value) < c)
                                      for c in (0.05, 0.01)))
                    if within:
                        row["agreement"] = "within calibration tolerance"
        elif kind == "claim":
            row["published"] = pub["value"]
            if len(res):
                r = res.iloc[0]
                if pub["value"] == "not significant":
                    ok = bool(r["p"] > 0.05)
                    row.update(reproduced=f"{format_p(r['p'])} ({'not ' if ok else ''}significant)",
                               method=r["method"])
                else:
                    category = str(r["quantity"]).rsplit(": ", 1)[-1]
                    ok = category == pub["value"]
                    row.update(reproduced=f"{category} ({r['estimate']:.1f}%)", method=r["method"])
                row["matches at printed precision"] = ok
        if row["matches at printed precision"]:
            row["agreement"] = "exact at printed precision"
        elif row["agreement"] == "not reproduced" and row["reproduced"]:
            row["agreement"] = "differs"
        rows.append(row)
    return pd.DataFrame(rows, columns=REPLICATION_COLUMNS)


def summary(table: pd.DataFrame) -> str:
    """"N of M published numbers reproduced at printed precision", with the other agreements counted."""
    counts = table["agreement"].value_counts()
    exact = int(counts.get("exact at printed precision", 0))
    parts = [f"{exact} of {len(table)} published numbers reproduced at their printed precision"]
    for label in ("within calibration tolerance", "differs", "not reproduced"):
        if counts.get(label, 0):
            parts.append(f"{int(counts[label])} {label}")
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
