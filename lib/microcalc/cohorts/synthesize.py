"""Synthetic NACT and bone-metastasis cohorts, calibrated to the published results.

**Synthetic means synthetic.** No row of these cohorts is a patient. They are
generated from three inputs only:

1. the reconstructed tables of notebook 01
   (``data/reconstructed/01_reconstructed_tables.csv``), which fix every
   count the abstract implies: group sizes, pCR, necrosis, bone metastasis,
   type and extent;
2. the published multivariable results (``data/published/``), which the
   calibration aims at;
3. covariate assumptions with their sources (``data/synthetic/assumptions.yaml``).

Where the published numbers leave a choice, :mod:`calibration.yaml
<microcalc.cohorts.synthesize>` (``data/synthetic/calibration.yaml``) records the
member of the feasible set that was chosen, why, and the calibrated
parameters. :func:`calibrate` recomputes that file; :func:`generate_nact` and
:func:`generate_bone` only read it, so regeneration is fast and
byte-identical for a given seed. :func:`targets` checks the result against the
abstract.

How the counts stay exact: outcomes are never drawn with a probability. The
NACT cohort is built cell by cell (microcalcification x MRI necrosis status),
each cell with its calibrated number of pCRs; in the bone cohort, bone
metastasis goes, within each microcalcification group, to the patients with
the highest latent risk (a stage effect plus logistic noise), so the group
counts are those of the reconstruction whatever the seed.

The work is split by role over sibling modules, whose public names this
module re-exports: :mod:`~microcalc.cohorts.generate` (inputs and the two
generators), :mod:`~microcalc.cohorts.calibrate` (choices and calibrated
parameters), :mod:`~microcalc.cohorts.targets` (the check against the
abstract) and :mod:`~microcalc.cohorts.provenance` (cache key, summaries,
provenance block and ``calibration.yaml``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from microcalc.cohorts.calibrate import (
    SUBTYPE_STRENGTHS,
    calibrate,
    nact_cell_candidates,
    subtype_strength,
    subtype_strength_scan,
)
from microcalc.cohorts.contract import to_canonical_csv
from microcalc.cohorts.generate import (
    ASSUMPTIONS_FILE,
    CALIBRATION_FILE,
    DEFAULT_SEED,
    RECONSTRUCTED_FILE,
    generate_bone,
    generate_nact,
    load_assumptions,
    load_calibration,
    load_reconstructed,
)
from microcalc.cohorts.provenance import (
    CACHE_FOLDER,
    age_summary,
    assumptions_table,
    cache_key,
    cached_frame,
    covariate_summary,
    write_calibration,
    write_provenance,
)
from microcalc.cohorts.targets import subtype_direction_ok, subtype_pcr_rates, target_rules, targets
from microcalc.core.outputs import sha256, write_csv
from microcalc.core.paths import project_path
from microcalc.study import BONE_TERMS, NACT_TERMS

__all__ = [
    "DEFAULT_SEED",
    "ASSUMPTIONS_FILE",
    "CALIBRATION_FILE",
    "RECONSTRUCTED_FILE",
    "NACT_TERMS",
    "BONE_TERMS",
    "load_assumptions",
    "load_calibration",
    "load_reconstructed",
    "nact_cell_candidates",
    "generate_nact",
    "generate_bone",
    "targets",
    "target_rules",
    "calibrate",
    "write_cohorts",
    "sha256",
    "main",
    "assumptions_table",
    "covariate_summary",
    "age_summary",
    "write_provenance",
    "write_calibration",
    "SUBTYPE_STRENGTHS",
    "subtype_strength",
    "subtype_strength_scan",
    "subtype_pcr_rates",
    "subtype_direction_ok",
    "CACHE_FOLDER",
    "cache_key",
    "cached_frame",
]


# --------------------------------------------------------------------------- files
def write_cohorts(
    output_dir: str | Path = ".", calibration: dict | None = None, assumptions: dict | None = None
) -> dict[str, Path]:
    """Generate both bundled cohorts and write ``<output_dir>/data/raw/*.csv`` in canonical form."""
    cal = calibration or load_calibration()
    a = assumptions or load_assumptions()
    recon = load_reconstructed()
    out = {}
    for cohort, frame in (
        ("nact_cohort", generate_nact(cal, a, reconstructed=recon)),
        ("bone_cohort", generate_bone(cal, a, reconstructed=recon)),
    ):
        path = project_path(output_dir) / "data" / "raw" / f"{cohort}.csv"
        out[cohort] = write_csv(to_canonical_csv(frame, cohort), path)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.cohorts.synthesize [--calibrate] [--bone-n N --out FILE]``."""
    ap = argparse.ArgumentParser(
        prog="python -m microcalc.cohorts.synthesize", description="Write the synthetic cohorts (or recalibrate them)."
    )
    ap.add_argument("--calibrate", action="store_true", help=f"recompute {CALIBRATION_FILE} (slow) before writing")
    ap.add_argument("--bone-n", type=int, help="write a bone cohort of this size to --out instead")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.bone_n:
        if not args.out:
            ap.error("--bone-n needs --out")
        frame = generate_bone(n=args.bone_n)
        write_csv(to_canonical_csv(frame, "bone_cohort"), args.out)
        print(f"wrote {args.out} ({args.bone_n} synthetic patients)")
        return 0
    if args.calibrate:
        write_calibration(calibrate())
        print(f"wrote {CALIBRATION_FILE}")
    for path in write_cohorts().values():
        print(f"wrote {path.relative_to(project_path('.'))}  sha256 {sha256(path)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
