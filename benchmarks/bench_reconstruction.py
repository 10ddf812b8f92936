"""Benchmark: this paper's reconstructions, and the checker at registry sizes.

Goals: the paper's reconstructions and checks under 5 s (issue "Foundation");
``reconstruct_2x2`` and ``reconstruct_2xk`` with totals up to 10^6 patients in
at most 10 s and 2 GiB each, answering with the feasible set or with a clear
refusal when that set (or the search space) is too large to hold (issue 17).
Each registry case runs in a fresh process, whose peak memory is reported.
Run with ``make bench``; prints figures, asserts nothing.
"""

import multiprocessing as mp
import resource
import statistics
import time

import numpy as np

from microcalc.abstract.published import format_fixed, format_p, format_percent, load_published
from microcalc.paper import reconstruct_paper


def once(published) -> float:
    start = time.perf_counter()
    paper = reconstruct_paper(published)
    paper.consistency(), paper.verdicts(), paper.coherence(), paper.grim(), paper.long_tables()
    return time.perf_counter() - start


def printed(a, n1, b, n0, pct_decimals):
    """A registry-sized table's numbers as an abstract prints them."""
    from microcalc.abstract.pvalues import odds_ratio_wald

    w = odds_ratio_wald(np.array([[a, n1 - a], [b, n0 - b]]))
    return dict(
        pct_exposed=format_percent(a / n1, pct_decimals),
        pct_reference=format_percent(b / n0, pct_decimals),
        odds_ratio=format_fixed(float(w["or"]), 3),
        ci_low=format_fixed(float(w["low"]), 3),
        ci_high=format_fixed(float(w["high"]), 3),
        or_p=format_p(float(w["p"])),
    )


def registry_table(n_total):
    """A bone-cohort-like table (11.6% vs 4.9%) scaled to ``n_total`` patients."""
    n1 = int(n_total * 0.517)
    n0 = n_total - n1
    return int(n1 * 0.1163), n1, int(n0 * 0.0491), n0


def case(name, n_total):
    from microcalc.abstract.reconstruct import SearchTooLarge, reconstruct_2x2, reconstruct_2xk

    a, n1, b, n0 = registry_table(n_total)
    start = time.perf_counter()
    try:
        if name == "2x2, 2-decimal %, OR, CI, P":
            r = reconstruct_2x2(**printed(a, n1, b, n0, 2), n_total=n_total)
        elif name == "2x2, 1-decimal %, OR, CI, P":
            r = reconstruct_2x2(**printed(a, n1, b, n0, 1), n_total=n_total)
        elif name == "2x2, 1-decimal %, both group sizes, P":
            pcts = printed(a, n1, b, n0, 1)
            r = reconstruct_2x2(
                pcts["pct_exposed"], pcts["pct_reference"], n_exposed=n1, n_reference=n0, p_value="P < 0.001"
            )
        elif name == "2x2, 1-decimal %, both group sizes, OR, CI, P":
            r = reconstruct_2x2(**printed(a, n1, b, n0, 1), n_exposed=n1, n_reference=n0)
        elif name == "2x2, 1-decimal %, total only":
            pcts = printed(a, n1, b, n0, 1)
            r = reconstruct_2x2(pcts["pct_exposed"], pcts["pct_reference"], n_total=n_total)
        elif name == "2x3, one category's shares, P":
            r = reconstruct_2xk(
                format_percent(a / n1),
                format_percent(b / n0),
                n_exposed=n1,
                n_reference=n0,
                categories=3,
                p_value="P < 0.001",
            )
        outcome = r.status
    except SearchTooLarge as err:
        outcome = f"refused: {str(err)[:60]}..."
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return seconds, peak, outcome


CASES = [
    "2x2, 2-decimal %, OR, CI, P",
    "2x2, 1-decimal %, OR, CI, P",
    "2x2, 1-decimal %, both group sizes, P",
    "2x2, 1-decimal %, both group sizes, OR, CI, P",
    "2x2, 1-decimal %, total only",
    "2x3, one category's shares, P",
]


def main(repeats: int = 7) -> None:
    published = load_published()
    first = once(published)
    runs = [once(published) for _ in range(repeats)]
    print("reconstruct_paper + every check (7 reconstructions, 10 P verdicts):")
    print(f"  first call in a fresh process: {first:.2f} s")
    print(
        f"  median of {repeats} further calls: {statistics.median(runs):.2f} s "
        f"(min {min(runs):.2f}, max {max(runs):.2f}); goal < 5 s"
    )
    print("\nRegistry sizes (each case in a fresh process; goal <= 10 s and <= 2 GiB):")
    ctx = mp.get_context("spawn")
    for n_total in (10**4, 10**5, 10**6):
        for name in CASES:
            with ctx.Pool(1) as pool:
                seconds, peak, outcome = pool.apply(case, (name, n_total))
            print(f"  n = {n_total:>9,}  {name:<46} {seconds:6.2f} s  {peak:5.2f} GiB  {outcome}")


if __name__ == "__main__":
    main()
