"""Benchmark: cleaning and every bone-cohort analysis on synthetic cohorts of 10^3 to 10^6 patients.

Goal (issue "Reruns, regression suite, benchmarks"): 10^6 patients in at most
60 s and 4 GiB on the 2-core reference machine, growth close to linear.
Each size runs in a fresh process, so peak memory (max RSS) is that size's own.
Run with ``make bench``; prints figures, asserts nothing.
"""

import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (10**3, 10**4, 10**5, 10**6)


def one_size(n: int, folder: Path) -> dict:
    """Write synthetic files of ``n`` bone patients, then time cleaning and the bone analyses."""
    from microcalc.analysis import meta, stats, tables
    from microcalc.analysis.models import fit_logistic
    from microcalc.cohorts import synthesize
    from microcalc.cohorts.clean import clean_cohorts
    from microcalc.cohorts.contract import to_canonical_csv
    from microcalc.core.outputs import write_csv
    from microcalc.study import BONE_TERMS

    write_csv(to_canonical_csv(synthesize.generate_bone(n=n), "bone_cohort"), folder / "bone_cohort.csv")
    write_csv(to_canonical_csv(synthesize.generate_nact(), "nact_cohort"), folder / "nact_cohort.csv")
    t0 = time.perf_counter()
    bone = clean_cohorts(folder, folder / "out")["bone_cohort"]
    t_clean = time.perf_counter() - t0
    t1 = time.perf_counter()
    rates = stats.group_rates(bone, "microcalcification", "bone_metastasis")
    stats.compare_groups([[int(e), int(m - e)] for e, m in rates[["events", "n"]].to_numpy()])
    tables.regression_table(bone, "bone_metastasis", BONE_TERMS)
    stats.events_per_variable(bone, "bone_metastasis", BONE_TERMS)
    stats.firth_table(bone, "bone_metastasis", BONE_TERMS)
    with_bm = bone[bone["bone_metastasis"].astype(bool)]
    for column, reported in (("bone_metastasis_type", "osteolytic"), ("bone_metastasis_extent", "whole_body")):
        stats.category_comparison(stats.crosstab(with_bm, "microcalcification", column), reported, {}, [])
    centres = meta.centre_odds_ratios(bone, "microcalcification", "bone_metastasis", "center")
    meta.pool_random_effects(centres["log_or"], centres["var"])
    fit_logistic(bone, "bone_metastasis", list(BONE_TERMS) + ["center"])
    fit_logistic(bone, "bone_metastasis", BONE_TERMS, cluster="center")
    t_analyse = time.perf_counter() - t1
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"n": n, "clean_s": t_clean, "analyse_s": t_analyse, "total_s": t_clean + t_analyse, "peak_gib": rss_gib}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(one_size(int(sys.argv[2]), Path(tmp))))
        return
    print("cleaning + all bone-cohort analyses (rates, tests, uni/multivariable models, Firth, type/extent, centres):")
    rows = []
    for n in SIZES:
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(
            f"  {n:>9,} patients: cleaning {r['clean_s']:6.1f} s, analyses {r['analyse_s']:6.1f} s, "
            f"total {r['total_s']:6.1f} s, peak memory {r['peak_gib']:.2f} GiB",
            flush=True,
        )
    a, b = rows[-2], rows[-1]
    exponent = math.log(b["total_s"] / a["total_s"]) / math.log(b["n"] / a["n"])
    print(f"  growth exponent 10^5 -> 10^6: {exponent:.2f} (1 = linear); goal: 10^6 in <= 60 s and <= 4 GiB")


if __name__ == "__main__":
    main()
