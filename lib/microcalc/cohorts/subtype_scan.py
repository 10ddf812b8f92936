"""How strong a subtype effect on pCR a synthetic NACT cohort may carry (part of :mod:`microcalc.cohorts.calibrate`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.analysis.models import global_p_values
from microcalc.cohorts.generate import generate_nact
from microcalc.cohorts.provenance import cached_frame

__all__ = ["SUBTYPE_STRENGTHS", "subtype_strength_scan", "subtype_strength"]


#: Strengths of the literature's subtype effect on pCR that the calibration tries, strongest first.
SUBTYPE_STRENGTHS = tuple(np.round(np.arange(1.0, 0.0, -0.1), 1).tolist()) + (0.0,)


def subtype_strength_scan(
    trial: dict,
    assumptions: dict,
    reconstructed: dict,
    base_seed: int,
    seeds: int = 20,
    strengths: Sequence[float] = SUBTYPE_STRENGTHS,
    cache: str | Path | None = None,
) -> pd.DataFrame:
    """The subtype likelihood-ratio P of non-pCR at each strength of the literature's subtype effect.

    For each strength, ``seeds`` cohorts (seeds ``base_seed`` on) are generated
    with the NACT cell split ``trial``, and the univariable global
    (likelihood-ratio) P of molecular subtype for non-pCR is computed. Returns
    one row per strength: ``strength``, ``median_p``, ``share_significant``
    (the share of cohorts with P < 0.05).

    ``cache``: a folder (relative to the project root) where the result is
    kept as exact JSON under its :func:`cache_key`; a later call with the same
    inputs, library source and package versions reads it back (the same
    floats, bit for bit) instead of recomputing. Any change gives a new key.
    """
    if cache is not None:
        return cached_frame(
            "subtype_strength_scan",
            cache,
            lambda: subtype_strength_scan(trial, assumptions, reconstructed, base_seed, seeds, strengths),
            modules=("microcalc.cohorts.subtype_scan",),
            trial=trial,
            assumptions=assumptions,
            reconstructed=reconstructed,
            base_seed=base_seed,
            seeds=seeds,
            strengths=[float(s) for s in strengths],
        )
    rows = []
    for strength in strengths:
        ps = []
        for seed in range(base_seed, base_seed + seeds):
            cal = {"nact": {**trial, "seed": seed, "pcr_subtype_strength": float(strength)}, "bone": {}}
            d = generate_nact(cal, assumptions, reconstructed=reconstructed)
            d = d.assign(non_pcr=~d["pcr"].astype(bool))
            ps.append(global_p_values(d, "non_pcr", ["molecular_subtype"])["molecular_subtype"])
        rows.append(
            {
                "strength": float(strength),
                "median_p": float(np.median(ps)),
                "share_significant": float(np.mean(np.asarray(ps) < 0.05)),
            }
        )
    return pd.DataFrame(rows)


def subtype_strength(trial: dict, assumptions: dict, reconstructed: dict, base_seed: int, seeds: int = 20) -> float:
    """The largest strength of the literature's subtype effect that a typical cohort shows as not significant.

    The abstract reports that subtype was not significantly associated with
    non-pCR; the literature's full effect (Cortazar et al. 2014) would be
    significant at this sample size. The rule: the strongest of
    :data:`SUBTYPE_STRENGTHS` whose median subtype P over ``seeds`` cohorts
    (see :func:`subtype_strength_scan`) is above 0.05. Strengths are scanned
    strongest first and the scan stops at the first that qualifies.
    """
    for strength in SUBTYPE_STRENGTHS:
        scan = subtype_strength_scan(trial, assumptions, reconstructed, base_seed, seeds, strengths=[strength])
        if scan["median_p"].iloc[0] > 0.05:
            return float(strength)
    return 0.0
