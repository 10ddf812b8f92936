"""The consortium page's tables as a clinician reads them (part of :mod:`microcalc.pipeline.consortium`).

Each function takes the computed frames of :mod:`~microcalc.pipeline.consortium_pool` and returns a
table whose headers are words, whose methods, cohorts and outcomes are named, and whose intervals
are written out ("1.20–4.80"); :func:`microcalc.analysis.display.show` then formats the numbers
(journal-style P, "–" for a cell that does not apply) and names the sites. Nothing here computes
a result: the pooled CSVs are written from the frames these read.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from microcalc import labels
from microcalc.analysis.display import MISSING, relabel
from microcalc.analysis.tables import or_text
from microcalc.pipeline.bundle import Bundle
from microcalc.pipeline.consortium_pool import FINDINGS, PooledFinding

__all__ = [
    "METHODS",
    "POOLED_CAPTION",
    "interval",
    "published_row",
    "sources_table",
    "site_table",
    "pooled_table",
    "leave_one_out_note",
    "leave_one_out_table",
    "mantel_haenszel_display",
]

#: The pooling methods' labels (as in the pooled CSV) -> their names on the page.
METHODS: dict[str, str] = {
    "REML + HKSJ": "Random effects (REML), Hartung–Knapp–Sidik–Jonkman CI",
    "fixed effect (IV)": "Fixed effect (inverse variance)",
    "DerSimonian-Laird": "Random effects (DerSimonian–Laird)",
    "REML + HKSJ truncated (check)": "Random effects (REML), Hartung–Knapp CI truncated (check)",
}

#: What a "–" in :func:`pooled_table` means.
POOLED_CAPTION = (
    "–: does not apply. Only the Hartung–Knapp intervals use the t distribution (with one degree of freedom "
    "fewer than there are sites); the fixed-effect and DerSimonian–Laird intervals use the normal one. Only the "
    "random-effects (REML) results have a prediction interval for a new site. The fixed-effect model takes τ² "
    "as 0. The paper's row is its own multivariable OR, from one cohort, as printed."
)


def interval(low: float, high: float, decimals: int = 2) -> str:
    """``"1.20–4.80"``, or :data:`~microcalc.analysis.display.MISSING` when a limit is missing.

    >>> interval(1.2, 4.8), interval(float("nan"), 4.8)
    ('1.20–4.80', '–')
    """
    if pd.isna(low) or pd.isna(high):
        return MISSING
    return f"{low:.{decimals}f}–{high:.{decimals}f}"


def _small(value: float) -> str:
    """A variance such as tau² for reading: "0" when zero, "< 0.001" below, else 3 decimals; never e-notation."""
    if pd.isna(value):
        return MISSING
    if value == 0:
        return "0"
    return "< 0.001" if abs(value) < 0.0005 else f"{value:.3f}"


def _count(value) -> int | None:
    return None if pd.isna(value) else int(value)


def _p_cell(printed: str) -> str:
    """The paper's printed P ("P = 0.014", "P < 0.001") as a table cell ("0.014", "<0.001")."""
    text = str(printed).strip()
    return text.removeprefix("P = ").replace("P < ", "<") if text.startswith("P") else text


def published_row(cohort: str) -> dict:
    """The paper's multivariable OR of ``cohort``'s finding as a row of :func:`pooled_table`: its OR with
    the printed 95% CI and P (``data/published/abstract_statistics.csv``)."""
    from microcalc.abstract.published import load_published

    row = load_published().loc[FINDINGS[cohort][1]]
    estimate = {"or": float(row["value"]), "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"])}
    return {"Method": "Published (the paper, one cohort)", "OR (95% CI)": or_text(estimate), "P": _p_cell(row["p"])}


def sources_table(bundles: list[Bundle]) -> pd.DataFrame:
    """One row per bundle: site, synthetic or not, format, contract version, a checksum of its results
    (the first 12 digits of the sha256 of the result tables only, so it does not change with the Python
    or package versions that wrote them), and cohort sizes."""
    rows = []
    for b in bundles:
        sizes = b.cohorts.set_index("cohort")["n"]
        rows.append(
            {
                "Site": b.site,
                "Synthetic": bool(b.run.get("synthetic", False)),
                "Bundle format": str(b.meta["bundle_format"]),
                "Data contract version": str(b.meta["contract_version"]),
                "Results checksum (SHA-256, first 12 digits)": b.results_sha256[:12],
                "NACT patients": _count(sizes.get("nact_cohort")),
                "Bone-metastasis cohort patients": _count(sizes.get("bone_cohort")),
            }
        )
    return pd.DataFrame(rows).astype({"NACT patients": "Int64", "Bone-metastasis cohort patients": "Int64"})


def _ratio(events, n) -> str:
    return MISSING if pd.isna(events) or pd.isna(n) else f"{events:.0f} / {n:.0f}"


def site_table(finding: PooledFinding) -> pd.DataFrame:
    """The sites of a finding: patients (events) in the model, OR (95% CI), log OR and SE, the 2×2 counts
    of the event with and without microcalcification, and a Note column when a site is not estimable (its
    OR then reads "not estimable", and its log OR and SE are not shown: a fit that did not converge gives
    numbers that are not estimates)."""
    s = finding.sites.copy()
    s.loc[~s["estimable"].astype(bool), ["log_or", "se", "or", "ci_low", "ci_high"]] = np.nan  # not shown as if usable
    event = finding.label
    counted = event[0].upper() + event[1:]
    out = pd.DataFrame(
        {
            "Site": s["centre"],
            f"Patients in the model ({event})": [
                MISSING if pd.isna(n) else f"{n:.0f} ({e:.0f})" for n, e in zip(s["n"], s["events"], strict=True)
            ],
            "OR (95% CI)": [or_text(r[["or", "ci_low", "ci_high"]]) for _, r in s.iterrows()],
            "log OR": s["log_or"],
            "SE": s["se"],
            f"{counted} / patients, with microcalcification": [
                _ratio(a, b) for a, b in zip(s["events_exposed"], s["n_exposed"], strict=True)
            ],
            f"{counted} / patients, without microcalcification": [
                _ratio(a, b) for a, b in zip(s["events_reference"], s["n_reference"], strict=True)
            ],
            "Note": s["note"],
        }
    )
    return out if out["Note"].astype(bool).any() else out.drop(columns="Note")


def pooled_table(finding: PooledFinding) -> pd.DataFrame:
    """The pooled ORs of a finding by each method, then the paper's OR (:func:`published_row`).

    Columns: Method, Sites, OR (95% CI), P, degrees of freedom of the t reference (Hartung–Knapp only),
    τ², I² (%), Cochran's Q with its P, the 95% prediction interval of a new site's OR (REML only), and
    a Note when a method is not estimable. A cell that does not apply is missing (shown "–").
    """
    rows = []
    for _, r in finding.pooled.iterrows():
        rows.append(
            {
                "Method": METHODS.get(r["label"], r["label"]),
                "Sites": _count(r.get("k")),
                "OR (95% CI)": or_text(r[["or", "ci_low", "ci_high"]]),
                "P": r.get("p", np.nan),
                "Degrees of freedom (t)": _count(r.get("df")),
                "τ²": _small(r.get("tau2", np.nan)),
                "I² (%)": MISSING if pd.isna(r.get("i2", np.nan)) else f"{r['i2']:.1f}",
                "Cochran's Q": r.get("q", np.nan),
                "P (Cochran's Q)": r.get("q_p", np.nan),
                "95% prediction interval": interval(r.get("pi_low", np.nan), r.get("pi_high", np.nan)),
                "Note": r.get("note", ""),
            }
        )
    cohort = next(c for c, (outcome, _, _) in FINDINGS.items() if outcome == finding.outcome)
    rows.append({**published_row(cohort), "Note": ""})
    out = pd.DataFrame(rows).astype({"Sites": "Int64", "Degrees of freedom (t)": "Int64"})
    return out if out["Note"].fillna("").astype(bool).any() else out.drop(columns="Note")


#: A leave-one-out reason (the library's, after "REML: " or "Mantel-Haenszel: ") -> how a reader reads it.
_FEW_SITES = re.compile(
    r"pooling needs at least 2 (?:centres|sites) with (an estimable odds ratio|patients), got (\d+)"
)
_REASONS = {
    "the Mantel-Haenszel test needs at least 2 patients in every centre": "a remaining site has fewer than 2 patients",
    "the Mantel-Haenszel odds ratio is 0 or infinite (a sum of cross products is 0)": (
        "the remaining sites' counts give an odds ratio of 0 or infinity"
    ),
}
_METHOD_NAMES = {"REML": "Random effects", "Mantel-Haenszel": "Mantel–Haenszel"}


def _remaining(count: int) -> str:
    return {0: "no site", 1: "only one site"}.get(count, f"only {count} sites")


def leave_one_out_note(note: str) -> str:
    """The Note of a leave-one-site-out row (:func:`~microcalc.pipeline.consortium_pool.leave_one_site_out`,
    "not estimable: REML: <reason>; Mantel-Haenszel: <reason>") as sentences for a reader; "" stays "".

    >>> leave_one_out_note("not estimable: REML: pooling needs at least 2 centres with an estimable odds ratio, "
    ...                    "got 1; Mantel-Haenszel: pooling needs at least 2 centres with patients, got 1")
    'Not estimable: with this site left out, only one site has an estimable odds ratio, and pooling needs two.'
    >>> leave_one_out_note("not estimable: REML: REML Fisher scoring did not converge in 100 iterations")
    'Random effects not estimable: the REML estimate of the between-site variance did not converge in 100 steps.'
    """
    text = str(note or "").strip()
    if not text:
        return ""
    parts = {}
    for part in text.removeprefix("not estimable: ").split("; "):
        method, _, reason = part.partition(": ")
        parts[method] = reason
    few = {m: _FEW_SITES.fullmatch(r) for m, r in parts.items()}
    if set(parts) == set(_METHOD_NAMES) and all(few.values()):
        count = min(int(m.group(2)) for m in few.values() if m)
        left = _remaining(count)
        return f"Not estimable: with this site left out, {left} has an estimable odds ratio, and pooling needs two."
    sentences = []
    for method, reason in parts.items():
        if (m := few.get(method)) is not None:
            what = "an estimable odds ratio" if m.group(1).startswith("an") else "patients"
            reason = f"with this site left out, {_remaining(int(m.group(2)))} has {what}, and pooling needs two"
        elif (m := re.fullmatch(r"REML Fisher scoring did not converge in (\d+) iterations", reason)) is not None:
            reason = f"the REML estimate of the between-site variance did not converge in {m.group(1)} steps"
        else:
            reason = _REASONS.get(
                reason, reason.replace("centre", "site").replace("Mantel-Haenszel", "Mantel–Haenszel")
            )
        name = _METHOD_NAMES.get(method)
        sentences.append(f"{name} not estimable: {reason}." if name else f"Not estimable: {method}: {reason}.")
    return " ".join(sentences)


def leave_one_out_table(finding: PooledFinding) -> pd.DataFrame:
    """Each site left out in turn: sites pooled, the random-effects (REML, Hartung–Knapp) OR (95% CI) and τ²
    of the others' multivariable estimates, the Mantel–Haenszel OR (95% CI) of their counts, and a Note
    saying in words what is not estimable (:func:`leave_one_out_note`)."""
    loo = finding.leave_one_out
    mh = pd.DataFrame({"or": loo["or_mh"], "ci_low": loo["ci_low_mh"], "ci_high": loo["ci_high_mh"]})
    return pd.DataFrame(
        {
            "Site left out": loo["site_left_out"],
            "Sites pooled": loo["k"].astype("Int64"),
            "OR (95% CI), random effects (REML, Hartung–Knapp)": [
                or_text(r[["or", "ci_low", "ci_high"]]) for _, r in loo.iterrows()
            ],
            "τ²": [_small(t) for t in loo["tau2"]],
            "OR (95% CI), Mantel–Haenszel (univariable counts)": [
                or_text(r[["or", "ci_low", "ci_high"]]) for _, r in mh.iterrows()
            ],
            "Note": [leave_one_out_note(n) for n in loo["note"].fillna("")],
        }
    )


def mantel_haenszel_display(mh: pd.DataFrame) -> pd.DataFrame:
    """The Mantel–Haenszel table (:func:`~microcalc.pipeline.consortium_pool.mantel_haenszel_table`) with
    the cohort, outcome and comparison named, the OR with its 95% CI, P and the continuity-corrected
    Cochran–Mantel–Haenszel χ², and a Note when a comparison is not estimable."""
    comparison = [
        f"{labels.VARIABLES.get(v, relabel(v, labels.ALL))}: yes vs no"
        for v in mh["comparison"].str.removesuffix(" yes vs no")
    ]
    out = pd.DataFrame(
        {
            "Cohort": mh["cohort"].map(lambda c: labels.COHORT_NAMES.get(c, c)),
            "Outcome": mh["outcome"].map(lambda o: labels.VARIABLES.get(o, o)),
            "Comparison": comparison,
            "Sites": mh["k"].astype("Int64"),
            "OR (95% CI)": [or_text(r) for _, r in mh.reindex(columns=["or", "ci_low", "ci_high"]).iterrows()],
            "P": mh["p"] if "p" in mh else np.nan,
            "χ², Cochran–Mantel–Haenszel (continuity-corrected)": mh["cmh_chi2"] if "cmh_chi2" in mh else np.nan,
            "Note": mh["note"].fillna(""),
        }
    )
    return out if out["Note"].astype(bool).any() else out.drop(columns="Note")
