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

import numpy as np
import pandas as pd

from microcalc.abstract.consistency import grim, or_ci_p_coherence
from microcalc.abstract.published import load_published
from microcalc.abstract.reconstruct import Reconstruction, reconstruct_2x2, reconstruct_2xk
from microcalc.core.cache import reusable
from microcalc.paper.checks import consistency_table, verdicts

__all__ = ["GROUPS", "Item", "PaperReconstruction", "reconstruct_paper"]

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
            rows.append(
                {
                    "reconstruction": it.name,
                    "what": it.title,
                    "from published ids": ", ".join(it.inputs),
                    "feasible tables": r.n_solutions,
                    "status": r.status,
                    "table": _describe(r, it.categories) if r.unique else "",
                }
            )
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
            frames.append(
                pd.DataFrame(
                    {
                        "reconstruction": it.name,
                        "status": it.reconstruction.status,
                        "solution": idx[0] + 1,
                        "group": np.array(GROUPS)[idx[1]],
                        "category": np.array(it.categories)[idx[2]],
                        "count": arr.reshape(-1),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def coherence(self) -> pd.DataFrame:
        """OR-CI-P coherence (Altman & Bland 2011) for every odds ratio of the abstract."""
        pub = self.published
        rows = []
        for ident in pub.index[pub["kind"] == "odds_ratio"]:
            r = pub.loc[ident]
            c = or_ci_p_coherence(r["value"], r["ci_low"], r["ci_high"], r["p"])
            rows.append(
                {
                    "id": ident,
                    "analysis": r["analysis"],
                    "reported": f"{r['value']} ({r['ci_low']}-{r['ci_high']}), {r['p']}",
                    "P from CI": c.p_recomputed,
                    "P min": c.p_min,
                    "P max": c.p_max,
                    "P consistent": c.p_consistent,
                    "OR from CI": c.or_from_ci,
                    "OR consistent": c.or_consistent,
                }
            )
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
                rows.append(
                    {
                        "id": ident,
                        "reported": pub.loc[ident, "value"],
                        "reconstruction": it.name,
                        "denominators": _span(sizes),
                        "all possible (GRIM)": bool(ok.all()),
                    }
                )
        return pd.DataFrame(rows).drop_duplicates("id").reset_index(drop=True)

    def consistency(self) -> pd.DataFrame:
        """Each reported P against each test, a typed long table (:func:`~microcalc.paper.checks.consistency_table`)."""
        return consistency_table(
            self.published, [(it.reconstruction, it.p_ids, _basis(it), _shape(it)) for it in self.items.values()]
        )

    def verdicts(self) -> pd.DataFrame:
        """One verdict per reported P (:func:`microcalc.paper.checks.verdicts`)."""
        return verdicts(self.consistency(), self.published)


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


def _shape(it: Item) -> str:
    return "2x2" if it.reconstruction.kind == "2x2" else f"2x{len(it.categories)}"


def _basis(it: Item) -> str:
    r = it.reconstruction
    shape = _shape(it)
    if r.unique:
        return f"{shape} {_describe(r, it.categories)}"
    return f"{shape}, feasible set of {r.n_solutions} tables"


def _mark_claims(r: Reconstruction, pub: pd.DataFrame) -> None:
    """Add a ``claim_<id>`` column per qualitative claim of the abstract that bears on ``r``.

    ``bone_type_predominant`` ("Osteolytic bone metastases predominated"): the
    claimed type is the most frequent in both groups. ``bone_extent_calc_axial``
    ("Calcified BC was mainly involved in axial bone"): the claimed extent is
    the most frequent in the microcalcification group.
    """
    t = r.tables
    for ident, rows in (("bone_type_predominant", ("exposed", "reference")), ("bone_extent_calc_axial", ("exposed",))):
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

    When ``MICROCALC_RESULT_CACHE`` is set (``make all``), the reconstruction is kept under a key of
    the published numbers, the code and the package versions: notebook 02 and a rerun read it back.
    """
    return _reconstruct(load_published() if published is None else published)


@reusable
def _reconstruct(pub: pd.DataFrame) -> PaperReconstruction:
    """:func:`reconstruct_paper` of these published numbers (kept by ``make all``: see :mod:`microcalc.core.cache`)."""

    def v(ident, f="value"):
        return pub.loc[ident, f]

    items: dict[str, Item] = {}

    def add(name, title, recon, categories, inputs, p_ids):
        items[name] = Item(name, title, recon, categories, inputs, p_ids)

    def or_args(ident):
        return dict(odds_ratio=v(ident), ci_low=v(ident, "ci_low"), ci_high=v(ident, "ci_high"), or_p=v(ident, "p"))

    # 1. NACT: pCR by microcalcification.
    pcr = reconstruct_2x2(
        v("nact_pcr_calc"), v("nact_pcr_nocalc"), n_total=int(v("nact_n")), **or_args("nact_or_calc_uni")
    )
    add(
        "nact_pcr",
        "pCR by microcalcification (NACT cohort)",
        pcr,
        ["pcr", "no_pcr"],
        ["nact_pcr_calc", "nact_pcr_nocalc", "nact_n", "nact_or_calc_uni"],
        ["nact_pcr_compare", "nact_or_calc_uni"],
    )

    # 2. NACT: MRI necrosis, in a subset no larger than each group of (1).
    n1 = int(pcr.tables["n_exposed"].max()) if pcr.n_solutions else int(v("nact_n"))
    n0 = int(pcr.tables["n_reference"].max()) if pcr.n_solutions else int(v("nact_n"))
    nec = reconstruct_2x2(
        v("nact_necrosis_calc"),
        v("nact_necrosis_nocalc"),
        n_exposed=(1, n1),
        n_reference=(1, n0),
        p_value=v("nact_necrosis_compare", "p"),
        orientation="event",
    )
    add(
        "nact_necrosis",
        "MRI necrosis by microcalcification (NACT patients with MRI)",
        nec,
        ["necrosis", "no_necrosis"],
        ["nact_necrosis_calc", "nact_necrosis_nocalc", "nact_necrosis_compare"],
        ["nact_necrosis_compare"],
    )

    # 3. Bone cohort: bone metastasis by microcalcification.
    bone = reconstruct_2x2(
        v("bone_met_calc"), v("bone_met_nocalc"), n_total=int(v("bone_n")), **or_args("bone_or_calc_uni")
    )
    add(
        "bone_met",
        "Bone metastasis by microcalcification (multicentre cohort)",
        bone,
        ["bone_metastasis", "no_bone_metastasis"],
        ["bone_met_calc", "bone_met_nocalc", "bone_n", "bone_or_calc_uni"],
        ["bone_met_compare", "bone_or_calc_uni"],
    )

    # 4-5. Type and extent among the patients with bone metastasis of (3).
    if bone.unique:
        m1 = int(bone.tables.loc[0, "events_exposed"])
        m0 = int(bone.tables.loc[0, "events_reference"])
        for key, cats, pct1, pct0, p_id in (
            ("bone_type", _TYPE_CATEGORIES, "bone_osteolytic_calc", "bone_osteolytic_nocalc", "bone_type_compare"),
            ("bone_extent", _EXTENT_CATEGORIES, "bone_wholebody_calc", "bone_wholebody_nocalc", "bone_extent_compare"),
        ):
            what = "bone metastasis type" if key == "bone_type" else "bone metastasis extent"
            r2 = reconstruct_2x2(v(pct1), v(pct0), n_exposed=m1, n_reference=m0, orientation="event")
            add(
                f"{key}_2x2",
                f"{cats[0]} vs other {what}, patients with bone metastasis",
                r2,
                [cats[0], "other"],
                [pct1, pct0, "bone_met"],
                [p_id],
            )
            rk = reconstruct_2xk(v(pct1), v(pct0), n_exposed=m1, n_reference=m0, categories=cats, p_value=v(p_id, "p"))
            _mark_claims(rk, pub)
            add(
                f"{key}_2x3",
                f"{what} ({'/'.join(cats)}), patients with bone metastasis",
                rk,
                cats,
                [pct1, pct0, "bone_met", p_id],
                [p_id],
            )
    return PaperReconstruction(pub, items)
