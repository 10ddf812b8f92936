"""This paper's reconstructions: which tables its abstract implies, and its consistency table.

Every number is read from ``data/published/abstract_statistics.csv`` by id;
this module only says which reported numbers belong together. The chain:

1. ``nact_pcr``: pCR by microcalcification, from the two pCR rates, the
   cohort size and the univariable OR of non-pCR with its CI and P.
2. ``nact_necrosis``: MRI necrosis by microcalcification, from the two
   necrosis rates and their P, in an MRI subset no larger than each group of (1).
3. ``bone_met``: bone metastasis by microcalcification, as (1).
4. ``bone_type_2x2`` / ``bone_type_2x3``: osteolytic share among the patients
   with bone metastasis of (3), collapsed to osteolytic vs other, and as the
   full osteolytic / osteoblastic / mixed table that reproduces the P.
5. ``bone_extent_2x2`` / ``bone_extent_2x3``: the same for whole-body extent
   (whole body / axial / appendicular).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from microcalc.abstract.consistency import grim, or_ci_p_coherence, p_test_verdicts
from microcalc.abstract.published import load_published
from microcalc.abstract.pvalues import TESTS
from microcalc.abstract.reconstruct import Reconstruction, reconstruct_2x2, reconstruct_2xk

__all__ = ["PaperReconstruction", "reconstruct_paper", "GROUPS", "CONSISTENCY_FILE", "reproducing_tests",
           "NOT_SIGNIFICANT"]

#: The abstract's "not significantly associated with non-pCR" claims: published id -> covariate.
NOT_SIGNIFICANT = {"nact_ns_age": "age", "nact_ns_menopause": "menopausal_status",
                   "nact_ns_density": "breast_density", "nact_ns_mass": "mass",
                   "nact_ns_molecular": "molecular_subtype", "nact_ns_pathology": "pathology_type"}

#: The consistency table written by notebook 01.
CONSISTENCY_FILE = "data/reconstructed/01_consistency.csv"


def reproducing_tests(ident: str, path=None) -> dict[str, list[str]]:
    """For a reported P, the tests that reproduced it in notebook 01, by table basis ("2x2 ...", "2x3 ...").

    Read from :data:`CONSISTENCY_FILE`; an empty list where no test did.
    """
    from microcalc.core.paths import project_path

    table = pd.read_csv(project_path(path or CONSISTENCY_FILE), dtype=str, keep_default_na=False)
    out = {}
    for _, row in table[table["id"] == ident].iterrows():
        tests = [t for t in row["reproduced by"].split(", ") if t and t != "none"]
        out[row["basis"]] = tests
    return out

#: Row labels of every table: exposed first.
GROUPS = ("microcalcification", "no_microcalcification")

_TYPE_CATEGORIES = ["osteolytic", "osteoblastic", "mixed"]
_EXTENT_CATEGORIES = ["whole_body", "axial", "appendicular"]


@dataclass
class Item:
    """One reconstruction and what it is made of."""

    name: str
    title: str
    reconstruction: Reconstruction
    categories: list[str]
    inputs: list[str]
    p_ids: list[str] = field(default_factory=list)


@dataclass
class PaperReconstruction:
    """All reconstructions of the abstract, with the checks built on them."""

    published: pd.DataFrame
    items: dict[str, Item]

    def __getitem__(self, name: str) -> Reconstruction:
        return self.items[name].reconstruction

    # ------------------------------------------------------------------ tables
    def table_frame(self, name: str, solution: int = 1) -> pd.DataFrame:
        """Feasible table number ``solution`` (1-based) of ``name``, labelled, with totals and row %."""
        it = self.items[name]
        t = it.reconstruction.arrays()[solution - 1]
        frame = pd.DataFrame(t, index=list(GROUPS), columns=it.categories)
        frame["total"] = frame.sum(axis=1)
        frame[f"% {it.categories[0]}"] = (100 * frame[it.categories[0]] / frame["total"]).round(1)
        return frame.rename_axis(name)

    def overview(self) -> pd.DataFrame:
        """One row per reconstruction: what it uses, and whether it is unique."""
        rows = []
        for it in self.items.values():
            r = it.reconstruction
            rows.append({
                "reconstruction": it.name,
                "what": it.title,
                "from published ids": ", ".join(it.inputs),
                "feasible tables": r.n_solutions,
                "status": r.status,
                "table": _describe(r, it.categories) if r.unique else "",
            })
        return pd.DataFrame(rows)

    def long_tables(self) -> pd.DataFrame:
        """Every feasible table of every reconstruction, one row per cell (tidy)."""
        frames = []
        for it in self.items.values():
            arr = it.reconstruction.arrays()
            if not len(arr):
                continue
            m, _, k = arr.shape
            idx = np.indices(arr.shape).reshape(3, -1)
            frames.append(pd.DataFrame({
                "reconstruction": it.name,
                "status": it.reconstruction.status,
                "solution": idx[0] + 1,
                "group": np.array(GROUPS)[idx[1]],
                "category": np.array(it.categories)[idx[2]],
                "count": arr.reshape(-1),
            }))
        return pd.concat(frames, ignore_index=True)

    def coherence(self) -> pd.DataFrame:
        """OR-CI-P coherence (Altman & Bland 2011) for every odds ratio of the abstract."""
        pub = self.published
        rows = []
        for ident in pub.index[pub["kind"] == "odds_ratio"]:
            r = pub.loc[ident]
            c = or_ci_p_coherence(r["value"], r["ci_low"], r["ci_high"], r["p"])
            rows.append({
                "id": ident, "analysis": r["analysis"],
                "reported": f"{r['value']} ({r['ci_low']}-{r['ci_high']}), {r['p']}",
                "P from CI": c.p_recomputed, "P min": c.p_min, "P max": c.p_max,
                "P consistent": c.p_consistent,
                "OR from CI": c.or_from_ci, "OR consistent": c.or_consistent,
            })
        return pd.DataFrame(rows)

    def grim(self) -> pd.DataFrame:
        """Each reported percentage checked against the denominators its reconstruction found."""
        pub = self.published
        rows = []
        for it in self.items.values():
            r = it.reconstruction
            for ident, size_cols in zip(it.inputs[:2], _size_columns(r, it.categories), strict=True):
                if pub.loc[ident, "kind"] != "percent" or not r.n_solutions:
                    continue
                sizes = np.unique(r.tables[size_cols].sum(axis=1).to_numpy())
                ok = np.atleast_1d(grim(pub.loc[ident, "value"], sizes))
                rows.append({
                    "id": ident, "reported": pub.loc[ident, "value"],
                    "reconstruction": it.name,
                    "denominators": _span(sizes),
                    "all possible (GRIM)": bool(ok.all()),
                })
        return pd.DataFrame(rows).drop_duplicates("id").reset_index(drop=True)

    def consistency(self) -> pd.DataFrame:
        """Every reported P: which tests reproduce it, and is that the test the paper names?

        Comparisons and univariable ORs are tested on the reconstructed
        table(s) under every test of :data:`microcalc.abstract.pvalues.TESTS`;
        multivariable ORs, whose tables cannot be reconstructed, by the
        OR-CI-P coherence of :func:`microcalc.abstract.consistency.or_ci_p_coherence`.
        """
        pub = self.published
        rows = []
        for it in self.items.values():
            for ident in it.p_ids:
                rec = cast(pd.Series, pub.loc[ident])
                named = rec["test_ids"].split()
                v = p_test_verdicts(it.reconstruction, rec["p"], named=named)
                row = {"id": ident, "reported P": rec["p"], "basis": _basis(it)}
                for _, t in v.iterrows():
                    row[t["test"]] = _p_cell(t)
                rows.append(row | _agreement(v, rec["test_named"]))
        for ident in pub.index[(pub["kind"] == "odds_ratio") & (pub["analysis"] == "multivariable")]:
            rec = pub.loc[ident]
            c = or_ci_p_coherence(rec["value"], rec["ci_low"], rec["ci_high"], rec["p"])
            row = {"id": ident, "reported P": rec["p"],
                   "basis": f"OR {rec['value']} and its 95% CI (Altman & Bland)"}
            for test in TESTS:
                row[test] = "not applicable"
            lo, hi = _fmt(c.p_min), _fmt(c.p_max)
            row["logistic_wald"] = (lo if lo == hi else f"{lo}-{hi}") + (" ✓" if c.p_consistent else "")
            row.update({
                "reproduced by": "Wald P from the CI" if c.p_consistent else "none",
                "paper names": rec["test_named"],
                "agrees": "yes: consistent with a Wald test" if c.p_consistent
                          else "no: P does not follow from the CI",
            })
            rows.append(row)
        order = list(pub.index)
        out = pd.DataFrame(rows)
        out["_o"] = out["id"].map(order.index)
        return out.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)


    def verdicts(self) -> pd.DataFrame:
        """One verdict per reported P, over all the tables it was tested on.

        ``verdict`` is one of: "named test reproduces it", "only an unnamed
        test reproduces it", "reproduced; the paper names no test", "no test
        reproduces it".
        """
        rows = []
        for ident, grp in self.consistency().groupby("id", sort=False):
            by = sorted({t for cell in grp["reproduced by"] for t in cell.split(", ") if t != "none"})
            named = grp["paper names"].iloc[0]
            if not by:
                verdict = "no test reproduces it"
            elif grp["agrees"].str.startswith("yes").any():
                verdict = "named test reproduces it"
            elif named == "not stated":
                verdict = "reproduced; the paper names no test"
            else:
                verdict = "only an unnamed test reproduces it"
            rows.append({"id": ident, "reported P": grp["reported P"].iloc[0],
                         "reproduced by": ", ".join(by) or "none", "paper names": named,
                         "verdict": verdict})
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------- helpers
def _size_columns(r: Reconstruction, categories: list[str]) -> list[list[str]]:
    if r.kind == "2x2":
        return [["n_exposed"], ["n_reference"]]
    return [[f"exposed_{c}" for c in categories], [f"reference_{c}" for c in categories]]


def _span(values: np.ndarray) -> str:
    values = np.asarray(values)
    if len(values) == 1:
        return str(int(values[0]))
    return f"{int(values.min())}-{int(values.max())} ({len(values)} values)"


def _describe(r: Reconstruction, categories: list[str]) -> str:
    t = r.arrays()[0]
    if r.kind == "2x2":
        return f"{t[0, 0]}/{t[0].sum()} vs {t[1, 0]}/{t[1].sum()}"
    return " vs ".join("/".join(str(x) for x in row) for row in t) + f" ({'/'.join(categories)})"


def _basis(it: Item) -> str:
    r = it.reconstruction
    shape = "2x2" if r.kind == "2x2" else f"2x{len(it.categories)}"
    if r.unique:
        return f"{shape} {_describe(r, it.categories)}"
    return f"{shape}, feasible set of {r.n_solutions} tables"


def _fmt(p: float) -> str:
    return f"{p:.2e}" if p < 0.001 else f"{p:.4f}"


def _p_cell(t: pd.Series) -> str:
    if t["reproduces"] == "not applicable":
        return "not applicable"
    lo, hi = _fmt(t["p_min"]), _fmt(t["p_max"])
    value = lo if lo == hi else f"{lo}-{hi}"
    if t["tables"] > 1:
        return f"{value} (reproduces in {t['tables_reproducing']} of {t['tables']})"
    return value + (" ✓" if t["reproduces"] == "yes" else "")


def _agreement(v: pd.DataFrame, test_named: str) -> dict:
    hits = v[v["reproduces"].isin(["yes", "in some tables"])]
    by = ", ".join(hits["test"]) or "none"
    named_hits = hits[hits["named"]]
    if hits.empty:
        agrees = "no test reproduces it"
    elif not v["named"].any():
        agrees = "test not named"
    elif not named_hits.empty:
        agrees = "yes: " + ", ".join(named_hits["test"])
    else:
        agrees = "no: the named test does not reproduce it"
    return {"reproduced by": by, "paper names": test_named or "not stated", "agrees": agrees}


def _mark_claims(r: Reconstruction, pub: pd.DataFrame) -> None:
    """Add a ``claim_<id>`` column per qualitative claim of the abstract that bears on ``r``.

    ``bone_type_predominant`` ("Osteolytic bone metastases predominated"): the
    claimed type is the most frequent in both groups. ``bone_extent_calc_axial``
    ("Calcified BC was mainly involved in axial bone"): the claimed extent is
    the most frequent in the microcalcification group.
    """
    t = r.tables
    for ident, rows in (("bone_type_predominant", ("exposed", "reference")),
                        ("bone_extent_calc_axial", ("exposed",))):
        if ident not in pub.index:
            continue
        claimed = pub.loc[ident, "value"]
        if claimed not in r.categories:
            continue
        ok = np.ones(len(t), dtype=bool)
        for row in rows:
            others = [f"{row}_{c}" for c in r.categories if c != claimed]
            ok &= t[f"{row}_{claimed}"].to_numpy() > t[others].max(axis=1).to_numpy()
        t[f"claim_{ident}"] = ok


# ------------------------------------------------------------------ the chain
def reconstruct_paper(published: pd.DataFrame | None = None) -> PaperReconstruction:
    """Run every reconstruction of the abstract, in the order of the module docstring.

    Parameters
    ----------
    published : DataFrame, optional
        :func:`microcalc.abstract.published.load_published` output; read from the
        project's file when omitted.
    """
    pub = load_published() if published is None else published
    def v(ident: str, f: str = "value"):  # short accessor
        return pub[f][ident]
    items: dict[str, Item] = {}

    def add(name, title, recon, categories, inputs, p_ids):
        items[name] = Item(name, title, recon, categories, inputs, p_ids)

    def or_args(ident):
        return dict(odds_ratio=v(ident), ci_low=v(ident, "ci_low"), ci_high=v(ident, "ci_high"),
                    or_p=v(ident, "p"))

    # 1. NACT: pCR by microcalcification.
    pcr = reconstruct_2x2(v("nact_pcr_calc"), v("nact_pcr_nocalc"), n_total=int(v("nact_n")),
                          **or_args("nact_or_calc_uni"))
    add("nact_pcr", "pCR by microcalcification (NACT cohort)", pcr, ["pcr", "no_pcr"],
        ["nact_pcr_calc", "nact_pcr_nocalc", "nact_n", "nact_or_calc_uni"],
        ["nact_pcr_compare", "nact_or_calc_uni"])

    # 2. NACT: MRI necrosis, in a subset no larger than each group of (1).
    n1 = int(pcr.tables["n_exposed"].max()) if pcr.n_solutions else int(v("nact_n"))
    n0 = int(pcr.tables["n_reference"].max()) if pcr.n_solutions else int(v("nact_n"))
    nec = reconstruct_2x2(v("nact_necrosis_calc"), v("nact_necrosis_nocalc"),
                          n_exposed=(1, n1), n_reference=(1, n0),
                          p_value=v("nact_necrosis_compare", "p"), orientation="event")
    add("nact_necrosis", "MRI necrosis by microcalcification (NACT patients with MRI)", nec,
        ["necrosis", "no_necrosis"],
        ["nact_necrosis_calc", "nact_necrosis_nocalc", "nact_necrosis_compare"],
        ["nact_necrosis_compare"])

    # 3. Bone cohort: bone metastasis by microcalcification.
    bone = reconstruct_2x2(v("bone_met_calc"), v("bone_met_nocalc"), n_total=int(v("bone_n")),
                           **or_args("bone_or_calc_uni"))
    add("bone_met", "Bone metastasis by microcalcification (multicentre cohort)", bone,
        ["bone_metastasis", "no_bone_metastasis"],
        ["bone_met_calc", "bone_met_nocalc", "bone_n", "bone_or_calc_uni"],
        ["bone_met_compare", "bone_or_calc_uni"])

    # 4-5. Type and extent among the patients with bone metastasis of (3).
    if bone.unique:
        m1 = int(bone.tables["events_exposed"][0])
        m0 = int(bone.tables["events_reference"][0])
        for key, cats, pct1, pct0, p_id in (
            ("bone_type", _TYPE_CATEGORIES, "bone_osteolytic_calc", "bone_osteolytic_nocalc",
             "bone_type_compare"),
            ("bone_extent", _EXTENT_CATEGORIES, "bone_wholebody_calc", "bone_wholebody_nocalc",
             "bone_extent_compare"),
        ):
            what = "bone metastasis type" if key == "bone_type" else "bone metastasis extent"
            r2 = reconstruct_2x2(v(pct1), v(pct0), n_exposed=m1, n_reference=m0,
                                 orientation="event")
            add(f"{key}_2x2", f"{cats[0]} vs other {what}, patients with bone metastasis", r2,
                [cats[0], "other"], [pct1, pct0, "bone_met"], [p_id])
            rk = reconstruct_2xk(v(pct1), v(pct0), n_exposed=m1, n_reference=m0,
                                 categories=cats, p_value=v(p_id, "p"))
            _mark_claims(rk, pub)
            add(f"{key}_2x3", f"{what} ({'/'.join(cats)}), patients with bone metastasis", rk,
                cats, [pct1, pct0, "bone_met", p_id], [p_id])
    return PaperReconstruction(pub, items)
