"""Generation of the synthetic cohorts from the calibration (part of :mod:`microcalc.cohorts.synthesize`).

The inputs (assumptions, calibration, reconstructed tables) and the two
generators, :func:`generate_nact` and :func:`generate_bone`, which only read
the calibration, so that regeneration is fast and byte-identical for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from microcalc.cohorts.contract import CONTRACT, categories
from microcalc.core.paths import project_path

__all__ = [
    "DEFAULT_SEED",
    "ASSUMPTIONS_FILE",
    "CALIBRATION_FILE",
    "RECONSTRUCTED_FILE",
    "load_assumptions",
    "load_calibration",
    "load_reconstructed",
    "generate_nact",
    "generate_bone",
]


#: Seed of the bundled cohorts (the paper's online publication date).
DEFAULT_SEED = 20230314


ASSUMPTIONS_FILE = "data/synthetic/assumptions.yaml"


CALIBRATION_FILE = "data/synthetic/calibration.yaml"


RECONSTRUCTED_FILE = "data/reconstructed/01_reconstructed_tables.csv"


# --------------------------------------------------------------------------- inputs
def load_assumptions(path: str | Path | None = None) -> dict:
    """The covariate assumptions (``data/synthetic/assumptions.yaml``)."""
    with open(project_path(path or ASSUMPTIONS_FILE), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_calibration(path: str | Path | None = None) -> dict:
    """The stored choices and calibrated parameters (``data/synthetic/calibration.yaml``)."""
    with open(project_path(path or CALIBRATION_FILE), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_reconstructed(path: str | Path | None = None) -> dict[str, np.ndarray]:
    """Every feasible table of notebook 01, by reconstruction name, as ``(m, 2, k)`` arrays.

    Tables keep the order of the file's ``solution`` column, rows are
    (microcalcification, no microcalcification), columns the categories in
    the order of the file.
    """
    long = pd.read_csv(project_path(path or RECONSTRUCTED_FILE), dtype={"count": np.int64})
    out = {}
    for name, sub in long.groupby("reconstruction", sort=False):
        cats = list(dict.fromkeys(sub["category"]))
        groups = list(dict.fromkeys(sub["group"]))
        wide = sub.pivot_table(index=["solution", "group"], columns="category", values="count", aggfunc="sum")
        wide = wide.reindex(columns=cats).reindex(groups, level="group")
        out[name] = wide.to_numpy().reshape(-1, 2, len(cats)).astype(np.int64)
    return out


def _inputs(key: str, calibration, assumptions, reconstructed, seed):
    """The calibration and assumptions of cohort ``key``, the tables, and a seeded generator."""
    c = (calibration or load_calibration())[key]
    a = (assumptions or load_assumptions())[key]
    recon = reconstructed or load_reconstructed()
    rng = np.random.default_rng(c["seed"] if seed is None else seed)
    return c, a, recon, rng


def _pcr_design(recon: dict[str, np.ndarray]) -> dict:
    t = recon["nact_pcr"]
    if len(t) != 1:
        raise ValueError("the NACT pCR table is not unique; the generator needs one table")
    t = t[0]
    return {"n": [int(t[0].sum()), int(t[1].sum())], "pcr": [int(t[0, 0]), int(t[1, 0])]}


def _draw(rng: np.random.Generator, probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """One draw per row of ``probs`` (n, k): vectorised inverse-CDF sampling."""
    probs = np.atleast_2d(probs)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((cum.shape[0], 1))  # one uniform per row, as a column
    idx = np.minimum((u > cum).sum(axis=1), len(labels) - 1)
    return np.asarray(labels, dtype=object)[idx]


def _age_and_menopause(rng, n: int, a: dict, m: dict) -> tuple[np.ndarray, np.ndarray]:
    age = np.clip(np.rint(rng.normal(a["mean"], a["sd"], n)), a["min"], a["max"]).astype(np.int64)
    p_post = 1 / (1 + np.exp(-m["slope_per_year"] * (age - m["age_at_50_percent"])))
    post = rng.random(n) < p_post
    return age, np.where(post, "postmenopausal", "premenopausal")


def _probs(d: dict, labels: Sequence[str]) -> np.ndarray:
    return np.array([d[x] for x in labels], dtype=float)


def _categorical(values, cohort: str, column: str) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories(cohort, column)))


def _finish(df: pd.DataFrame, cohort: str, rng: np.random.Generator, prefix: str) -> pd.DataFrame:
    df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    width = max(4, len(str(len(df))))
    df.insert(0, "patient_id", pd.array([f"{prefix}{i:0{width}d}" for i in range(1, len(df) + 1)], dtype="string"))
    return df[[c.name for c in CONTRACT[cohort]]]


def _pcr_by_subtype(
    rng: np.random.Generator, df: pd.DataFrame, subtype: np.ndarray, a: dict, strength: float
) -> np.ndarray:
    """Reassign the pCRs of each (microcalcification x MRI necrosis status) cell by subtype.

    Within each cell the number of pCRs stays the calibrated one; they go to
    the patients with the highest latent propensity ``strength * shift[subtype]
    + logistic noise``, where ``shift`` is the assumed log-odds of pCR of each
    subtype (``assumptions['pcr_by_subtype']``). ``strength`` 0 keeps pCR
    independent of subtype within the cells; 1 applies the literature's full
    log-odds differences.
    """
    shifts = a["pcr_by_subtype"]["log_odds_vs_luminal_b"]
    latent = strength * np.array([shifts[s] for s in subtype], dtype=float) + rng.logistic(size=len(df))
    pcr = np.zeros(len(df), dtype=bool)
    status = df["mri_necrosis"].map({True: "necrosis", False: "no_necrosis"}).fillna("not_assessed")
    cell = (df["microcalcification"].map({True: "calc", False: "nocalc"}) + "|" + status).to_numpy()
    counts = df["pcr"].to_numpy(bool)
    for key in pd.unique(cell):
        rows = np.flatnonzero(cell == key)
        k = int(counts[rows].sum())
        pcr[rows[np.argsort(-latent[rows], kind="stable")[:k]]] = True
    return pcr


def generate_nact(
    calibration: dict | None = None,
    assumptions: dict | None = None,
    seed: int | None = None,
    reconstructed: dict | None = None,
) -> pd.DataFrame:
    """The synthetic NACT cohort, typed as the contract's harmonised form.

    Counts come from the reconstruction and the calibrated cell split; the
    covariates are drawn from the assumptions. Deterministic for a seed
    (default: the calibrated one).
    """
    c, a, recon, rng = _inputs("nact", calibration, assumptions, reconstructed, seed)
    design = _pcr_design(recon)
    nec = recon["nact_necrosis"][c["necrosis_table"] - 1]
    split = c["pcr_split"]
    blocks = []
    for g, calc in enumerate((True, False)):
        key = "calc" if calc else "nocalc"
        k, m = int(nec[g, 0]), int(nec[g].sum())
        n = design["n"][g]
        q_nec, q_no = split[f"pcr_{key}_necrosis"], split[f"pcr_{key}_no_necrosis"]
        q_rest = design["pcr"][g] - q_nec - q_no
        for status, size, pcrs in (
            ("necrosis", k, q_nec),
            ("no_necrosis", m - k, q_no),
            ("not_assessed", n - m, q_rest),
        ):
            blocks.append(
                pd.DataFrame(
                    {
                        "microcalcification": calc,
                        "mri_necrosis": {"necrosis": True, "no_necrosis": False, "not_assessed": pd.NA}[status],
                        "pcr": np.arange(size) < pcrs,
                    }
                )
            )
    df = pd.concat(blocks, ignore_index=True)
    n = len(df)
    calc = df["microcalcification"].to_numpy(bool)
    necrotic = df["mri_necrosis"].fillna(False).to_numpy(bool)
    age, meno = _age_and_menopause(rng, n, a["age"], a["menopause"])
    st = a["molecular_subtype"]
    labels = categories("nact_cohort", "molecular_subtype")
    base = np.where(
        calc[:, None], _probs(st["with_calcification"], labels), _probs(st["without_calcification"], labels)
    )
    shift = np.exp(np.outer(necrotic, _probs(st["necrosis_log_odds_shift"], labels)))
    density_labels = categories("nact_cohort", "breast_density")
    path_labels = categories("nact_cohort", "pathology_type")
    mass_p = np.where(calc, a["mass"]["probability_with_calcification"], a["mass"]["probability_without_calcification"])
    df["age"] = pd.array(age, dtype="Int64")
    df["menopausal_status"] = _categorical(meno, "nact_cohort", "menopausal_status")
    df["breast_density"] = _categorical(
        _draw(rng, np.tile(_probs(a["breast_density"]["probabilities"], density_labels), (n, 1)), density_labels),
        "nact_cohort",
        "breast_density",
    )
    df["mass"] = pd.array(rng.random(n) < mass_p, dtype="boolean")
    subtype = _draw(rng, base * shift, labels)
    df["molecular_subtype"] = _categorical(subtype, "nact_cohort", "molecular_subtype")
    df["pcr"] = _pcr_by_subtype(rng, df, subtype, a, c.get("pcr_subtype_strength", 0.0))
    df["pathology_type"] = _categorical(
        _draw(rng, np.tile(_probs(a["pathology_type"]["probabilities"], path_labels), (n, 1)), path_labels),
        "nact_cohort",
        "pathology_type",
    )
    df["microcalcification"] = df["microcalcification"].astype("boolean")
    df["mri_necrosis"] = df["mri_necrosis"].astype("boolean")
    df["pcr"] = df["pcr"].astype("boolean")
    return _finish(df, "nact_cohort", rng, "SYN-NACT-")


def _stage_scores(rng, calc: np.ndarray, shift: float, a: dict) -> tuple[np.ndarray, np.ndarray]:
    """T and N stage indices (0-3) with exact marginal shares, shifted upward by microcalcification."""
    n = len(calc)
    e_t = rng.standard_normal(n)
    e_n = rng.standard_normal(n)
    r = a["n_stage"]["t_correlation"]
    latent_t = shift * calc + e_t
    latent_n = shift * calc + r * e_t + np.sqrt(1 - r**2) * e_n

    def by_rank(latent, probs):
        counts = np.floor(np.cumsum(probs) / np.sum(probs) * n + 0.5).astype(np.int64)
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(latent, kind="stable")] = np.arange(n)
        return np.searchsorted(counts, rank, side="right")

    t = by_rank(latent_t, _probs(a["t_stage"]["probabilities"], ("T1", "T2", "T3", "T4")))
    nn = by_rank(latent_n, _probs(a["n_stage"]["probabilities"], ("N0", "N1", "N2", "N3")))
    return t, nn


def _bone_counts(recon: dict[str, np.ndarray], n: int | None) -> dict:
    t = recon["bone_met"]
    if len(t) != 1:
        raise ValueError("the bone-metastasis table is not unique; the generator needs one table")
    t = t[0]
    sizes = np.array([t[0].sum(), t[1].sum()])
    events = np.array([t[0, 0], t[1, 0]])
    if n is None or n == sizes.sum():
        return {"sizes": sizes, "events": events, "scale": 1.0}
    scale = n / sizes.sum()
    new_sizes = np.array([int(round(sizes[0] * scale)), 0])
    new_sizes[1] = n - new_sizes[0]
    new_events = np.rint(events / sizes * new_sizes).astype(np.int64)
    return {"sizes": new_sizes, "events": new_events, "scale": scale}


def _split_counts(counts: np.ndarray, total: int) -> np.ndarray:
    """Scale category counts to ``total`` by largest remainders (exact when ``total`` is theirs)."""
    raw = counts / counts.sum() * total
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def generate_bone(
    calibration: dict | None = None,
    assumptions: dict | None = None,
    seed: int | None = None,
    n: int | None = None,
    reconstructed: dict | None = None,
) -> pd.DataFrame:
    """The synthetic bone-metastasis cohort, typed as the contract's harmonised form.

    Parameters
    ----------
    n : int, optional
        Cohort size. By default the published 1182, with the reconstructed
        counts exactly; any other size keeps the same rates and structure
        (for benchmarks).
    """
    c, a, recon, rng = _inputs("bone", calibration, assumptions, reconstructed, seed)
    counts = _bone_counts(recon, n)
    sizes, events = counts["sizes"], counts["events"]
    total = int(sizes.sum())
    calc = np.repeat([True, False], sizes)
    t_idx, n_idx = _stage_scores(rng, calc, c["calcification_stage_shift"], a)
    risk = c["stage_effect"] * (t_idx + n_idx) + rng.logistic(size=total)
    bone = np.zeros(total, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    type_t = recon["bone_type_2x3"][c["type_table"] - 1]
    ext_t = recon["bone_extent_2x3"][c["extent_table"] - 1]
    type_cats = ["osteolytic", "osteoblastic", "mixed"]
    ext_cats = ["whole_body", "axial", "appendicular"]
    btype = np.full(total, None, dtype=object)
    bext = np.full(total, None, dtype=object)
    for g in range(2):
        sl = slice(starts[g], starts[g + 1])
        top = np.argsort(-risk[sl], kind="stable")[: events[g]] + starts[g]
        bone[top] = True
        picked = top[rng.permutation(len(top))]
        btype[picked] = np.repeat(type_cats, _split_counts(type_t[g], events[g]))
        picked = top[rng.permutation(len(top))]
        bext[picked] = np.repeat(ext_cats, _split_counts(ext_t[g], events[g]))
    age, meno = _age_and_menopause(rng, total, a["age"], a["menopause"])
    st = a["molecular_subtype"]
    labels = categories("bone_cohort", "molecular_subtype")
    sub_p = np.where(
        calc[:, None], _probs(st["with_calcification"], labels), _probs(st["without_calcification"], labels)
    )
    path_labels = categories("bone_cohort", "pathology_type")
    centers = list(a["centers"]["probabilities"])
    df = pd.DataFrame(
        {
            "center": pd.array(
                _draw(rng, np.tile(_probs(a["centers"]["probabilities"], centers), (total, 1)), centers), dtype="string"
            ),
            "age": pd.array(age, dtype="Int64"),
            "menopausal_status": _categorical(meno, "bone_cohort", "menopausal_status"),
            "molecular_subtype": _categorical(_draw(rng, sub_p, labels), "bone_cohort", "molecular_subtype"),
            "pathology_type": _categorical(
                _draw(rng, np.tile(_probs(a["pathology_type"]["probabilities"], path_labels), (total, 1)), path_labels),
                "bone_cohort",
                "pathology_type",
            ),
            "microcalcification": pd.array(calc, dtype="boolean"),
            "t_stage": _categorical(np.array(["T1", "T2", "T3", "T4"])[t_idx], "bone_cohort", "t_stage"),
            "n_stage": _categorical(np.array(["N0", "N1", "N2", "N3"])[n_idx], "bone_cohort", "n_stage"),
            "bone_metastasis": pd.array(bone, dtype="boolean"),
            "bone_metastasis_type": _categorical(btype, "bone_cohort", "bone_metastasis_type"),
            "bone_metastasis_extent": _categorical(bext, "bone_cohort", "bone_metastasis_extent"),
        }
    )
    return _finish(df, "bone_cohort", rng, "SYN-BONE-")
