"""Benchmark: all of this paper's reconstructions and consistency checks together.

Goal (issue "Foundation"): under 5 s on the 2-core reference machine.
Run with ``make bench``; prints figures, asserts nothing.
"""

import statistics
import time

from microcalc.paper import reconstruct_paper
from microcalc.published import load_published


def once(published) -> float:
    start = time.perf_counter()
    paper = reconstruct_paper(published)
    paper.consistency(), paper.verdicts(), paper.coherence(), paper.grim(), paper.long_tables()
    return time.perf_counter() - start


def main(repeats: int = 7) -> None:
    published = load_published()
    first = once(published)
    runs = [once(published) for _ in range(repeats)]
    print("reconstruct_paper + every check (7 reconstructions, 10 P verdicts):")
    print(f"  first call in a fresh process: {first:.2f} s")
    print(f"  median of {repeats} further calls: {statistics.median(runs):.2f} s "
          f"(min {min(runs):.2f}, max {max(runs):.2f}); goal < 5 s")


if __name__ == "__main__":
    main()
