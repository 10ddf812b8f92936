"""Which test reproduces each P of the abstract: a typed long table, the verdicts read from it, and its display.

:func:`consistency_table` is the computed fact: one row per (reported P,
table basis, test), with numbers and booleans only (:data:`CONSISTENCY_COLUMNS`).
Everything shown in words (the ✓ marks, "yes: fisher_exact", the verdicts)
is derived from it by :func:`consistency_display` and :func:`verdicts`;
nothing reads those words back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from microcalc.abstract.consistency import or_ci_p_coherence, p_test_verdicts
from microcalc.abstract.pvalues import TESTS
from microcalc.abstract.reconstruct import Reconstruction

__all__ = [
    "CONSISTENCY_COLUMNS",
    "CONSISTENCY_FILE",
    "OR_CI_BASIS",
    "VERDICTS",
    "consistency_display",
    "consistency_table",
    "read_consistency",
    "reproducing_tests",
    "verdicts",
]

#: The consistency table written by notebook 01.
CONSISTENCY_FILE = "data/reconstructed/01_consistency.csv"

#: The ``table`` of a multivariable OR, whose P is checked against its own CI (Altman & Bland) instead.
OR_CI_BASIS = "or_ci"

#: The typed columns of :func:`consistency_table`.
#:
#: ``id`` the published id; ``reported_p`` the P as printed; ``basis`` the table (or OR and CI) it was
#: tested on, in words; ``table`` "2x2", "2x3" or :data:`OR_CI_BASIS`; ``test`` a key of
#: :data:`microcalc.abstract.pvalues.TESTS`; ``applicable`` (bool) whether the test applies to that basis;
#: ``p_min``, ``p_max`` the range of P over the feasible tables (or over every OR and CI that print as
#: reported); ``n_tables`` the number of feasible tables (missing for an OR and CI); ``n_reproducing`` how
#: many of them give a P that prints as reported; ``reproduces`` (bool) whether at least one does (for an OR
#: and CI: whether the reported P is reachable from them); ``named_by_paper`` (bool) whether the paper names
#: this test for this P; ``note`` why a test that applies was not computed (else empty).
CONSISTENCY_COLUMNS = [
    "id",
    "reported_p",
    "basis",
    "table",
    "test",
    "applicable",
    "p_min",
    "p_max",
    "n_tables",
    "n_reproducing",
    "reproduces",
    "named_by_paper",
    "note",
]

#: The verdict on one reported P, over every basis it was tested on.
VERDICTS = (
    "named test reproduces it",
    "only an unnamed test reproduces it",
    "reproduced; the paper names no test",
    "no test reproduces it",
)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=CONSISTENCY_COLUMNS)
    for col in ("applicable", "reproduces", "named_by_paper"):
        out[col] = out[col].astype(bool)
    for col in ("n_tables", "n_reproducing"):
        out[col] = out[col].astype("Int64")
    for col in ("p_min", "p_max"):
        out[col] = out[col].astype(float)
    out["note"] = out["note"].fillna("").astype(str)
    return out


def consistency_table(
    published: pd.DataFrame, checks: Iterable[tuple[Reconstruction, Sequence[str], str, str]]
) -> pd.DataFrame:
    """Every reported P against every test of :data:`~microcalc.abstract.pvalues.TESTS`, one typed row each.

    Parameters
    ----------
    published : :func:`microcalc.abstract.published.load_published`
    checks : ``(reconstruction, published ids of the Ps it bears, basis in words, table shape)``
        Comparisons and univariable ORs are tested on their reconstructed
        table(s); every multivariable OR of ``published``, whose table cannot
        be reconstructed, by its OR-CI-P coherence
        (:func:`microcalc.abstract.consistency.or_ci_p_coherence`).

    Returns
    -------
    DataFrame with :data:`CONSISTENCY_COLUMNS`, in the order of ``published``.
    """
    rows = []
    for reconstruction, p_ids, basis, shape in checks:
        for ident in p_ids:
            rec = published.loc[ident]
            v = p_test_verdicts(reconstruction, rec["p"], named=rec["test_ids"].split())
            for _, t in v.iterrows():
                computed = not t["reproduces"].startswith("not ")
                rows.append(
                    {
                        "id": ident,
                        "reported_p": rec["p"],
                        "basis": basis,
                        "table": shape,
                        "test": t["test"],
                        "applicable": t["reproduces"] != "not applicable",
                        "p_min": t["p_min"],
                        "p_max": t["p_max"],
                        "n_tables": t["tables"],
                        "n_reproducing": t["tables_reproducing"] if computed else pd.NA,
                        "reproduces": t["tables_reproducing"] > 0,
                        "named_by_paper": t["named"],
                        "note": "" if computed or t["reproduces"] == "not applicable" else t["reproduces"],
                    }
                )
    for ident in published.index[(published["kind"] == "odds_ratio") & (published["analysis"] == "multivariable")]:
        rec = published.loc[ident]
        c = or_ci_p_coherence(rec["value"], rec["ci_low"], rec["ci_high"], rec["p"])
        named = rec["test_ids"].split()
        for test in TESTS:
            wald = test == "logistic_wald"
            rows.append(
                {
                    "id": ident,
                    "reported_p": rec["p"],
                    "table": OR_CI_BASIS,
                    "test": test,
                    "basis": f"OR {rec['value']} and its 95% CI (Altman & Bland)",
                    "applicable": wald,
                    "p_min": c.p_min if wald else np.nan,
                    "p_max": c.p_max if wald else np.nan,
                    "n_tables": pd.NA,
                    "n_reproducing": pd.NA,
                    "reproduces": wald and c.p_consistent,
                    "named_by_paper": test in named,
                    "note": "",
                }
            )
    out = _typed(pd.DataFrame(rows))
    order = {ident: i for i, ident in enumerate(published.index)}
    return out.iloc[np.argsort(out["id"].map(order).to_numpy(), kind="stable")].reset_index(drop=True)


def read_consistency(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """:data:`CONSISTENCY_FILE` read back with its types."""
    from microcalc.core.paths import project_path

    frame = pd.read_csv(
        project_path(path or CONSISTENCY_FILE),
        dtype={"id": str, "reported_p": str, "basis": str, "table": str, "test": str, "note": str},
        keep_default_na=False,
        na_values={c: [""] for c in ("p_min", "p_max", "n_tables", "n_reproducing")},
    )
    return _typed(frame)


def reproducing_tests(ident: str, table: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """For a reported P, the tests that reproduced it in notebook 01, by table shape ("2x2", "2x3").

    ``table`` is a :func:`consistency_table` (read from :data:`CONSISTENCY_FILE` when omitted); an empty
    list where no test did. ORs checked against their CI are left out.
    """
    table = read_consistency() if table is None else table
    rows = table[(table["id"] == ident) & (table["table"] != OR_CI_BASIS)]
    return {
        shape: rows.loc[(rows["table"] == shape) & rows["reproduces"], "test"].tolist()
        for shape in dict.fromkeys(rows["table"])
    }


def _fmt(p: float) -> str:
    return f"{p:.2e}" if p < 0.001 else f"{p:.4f}"


def _cell(t: pd.Series) -> str:
    if not t["applicable"]:
        return "not applicable"
    if t["note"]:
        return t["note"]
    lo, hi = _fmt(t["p_min"]), _fmt(t["p_max"])
    value = lo if lo == hi else f"{lo}-{hi}"
    if pd.notna(t["n_tables"]) and t["n_tables"] > 1:
        return f"{value} (reproduces in {t['n_reproducing']} of {t['n_tables']})"
    every = t["reproduces"] and (pd.isna(t["n_tables"]) or t["n_reproducing"] == t["n_tables"])
    return value + (" ✓" if every else "")


def _agreement(grp: pd.DataFrame, test_named: str) -> dict:
    hits = grp[grp["reproduces"]]
    names = test_named or "not stated"
    if (grp["table"] == OR_CI_BASIS).all():
        ok = bool(hits.size)
        return {
            "reproduced by": "Wald P from the CI" if ok else "none",
            "paper names": names,
            "agrees": "yes: consistent with a Wald test" if ok else "no: P does not follow from the CI",
        }
    named_hits = hits[hits["named_by_paper"]]
    if hits.empty:
        agrees = "no test reproduces it"
    elif not grp["named_by_paper"].any():
        agrees = "test not named"
    elif not named_hits.empty:
        agrees = "yes: " + ", ".join(named_hits["test"])
    else:
        agrees = "no: the named test does not reproduce it"
    return {"reproduced by": ", ".join(hits["test"]) or "none", "paper names": names, "agrees": agrees}


def consistency_display(table: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The page's wide view of a :func:`consistency_table`: one row per (P, basis), one column per test.

    Cells read "0.0293 ✓" (the P of the unique table, reproducing), "0.0206-0.0232 (reproduces in 6 of 10)"
    (a feasible set) or "not applicable"; ``agrees`` says whether a test the paper names reproduces it.
    """
    rows = []
    for (ident, basis), grp in table.groupby(["id", "basis"], sort=False):
        row = {"id": ident, "reported P": grp["reported_p"].iloc[0], "basis": basis}
        row |= {t["test"]: _cell(t) for _, t in grp.iterrows()}
        rows.append(row | _agreement(grp, published.loc[ident, "test_named"]))
    return pd.DataFrame(rows)


def verdicts(table: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """One verdict of :data:`VERDICTS` per reported P of a :func:`consistency_table`, over all its bases.

    Columns: ``id``, ``reported P``, ``reproduced by`` (the tests, sorted; "Wald P from the CI" for an OR
    checked against its CI), ``paper names``, ``verdict``, and the typed ``reproduced`` and
    ``named_test_reproduces`` (bool).
    """
    rows = []
    for ident, grp in table.groupby("id", sort=False):
        hits = grp[grp["reproduces"]]
        by = sorted(
            {
                "Wald P from the CI" if t == OR_CI_BASIS else test
                for t, test in zip(hits["table"], hits["test"], strict=True)
            }
        )
        named_hit = bool((hits["named_by_paper"] | (hits["table"] == OR_CI_BASIS)).any())
        test_named = published.loc[ident, "test_named"] or "not stated"
        if not by:
            verdict = VERDICTS[3]
        elif named_hit:
            verdict = VERDICTS[0]
        elif test_named == "not stated":
            verdict = VERDICTS[2]
        else:
            verdict = VERDICTS[1]
        rows.append(
            {
                "id": ident,
                "reported P": grp["reported_p"].iloc[0],
                "reproduced by": ", ".join(by) or "none",
                "paper names": test_named,
                "verdict": verdict,
                "reproduced": bool(by),
                "named_test_reproduces": named_hit,
            }
        )
    return pd.DataFrame(rows)
