"""Benchmark: calibration and generation of the synthetic cohorts.

Goal (issue "Synthetic cohorts"): both cohorts, calibration included, in under 30 s.
Run with ``make bench``; prints figures, asserts nothing.
"""

import time

from microcalc.abstract.published import load_published
from microcalc.cohorts import synthesize


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    published = load_published()
    assumptions = synthesize.load_assumptions()
    recon = synthesize.load_reconstructed()
    cal, t_cal = timed(synthesize.calibrate, published, assumptions, recon)
    _, t_nact = timed(synthesize.generate_nact, cal, assumptions, reconstructed=recon)
    _, t_bone = timed(synthesize.generate_bone, cal, assumptions, reconstructed=recon)
    print("synthetic cohorts:")
    print(f"  calibration (choices, cell search, seed search, bone grid): {t_cal:.1f} s")
    print(f"  generate NACT (313) {t_nact:.2f} s, bone (1182) {t_bone:.2f} s")
    print(f"  total {t_cal + t_nact + t_bone:.1f} s; goal < 30 s")
    for n in (10**4, 10**5, 10**6):
        _, t = timed(synthesize.generate_bone, cal, assumptions, n=n, reconstructed=recon)
        print(f"  bone cohort of {n:>9,} synthetic patients: {t:.2f} s")


if __name__ == "__main__":
    main()
