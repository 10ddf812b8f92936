"""Is every tidy number unchanged? Compare data/results/*.csv and data/reconstructed/*.csv with a git ref.

Usage: ``python benchmarks/compare_tidy.py [REF]`` (default ``1fad70a``). Prints one line per difference
and a one-line verdict; exits 1 when a number moved, a file went missing or a column was dropped.

Every column of the file at REF must still be there with every cell's numbers equal (exactly, as
:func:`microcalc.pipeline.upgrade.numbers` reads them) and its text around them unchanged; new columns
are allowed. ``01_consistency.csv`` changed layout (one typed row per reported P, table and test): it is
compared through its display (:func:`microcalc.paper.consistency_display`), which must print every
number of the old wide table as it was.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd

from microcalc.abstract.published import load_published
from microcalc.core.paths import project_root
from microcalc.paper import consistency_display, read_consistency
from microcalc.pipeline.upgrade import numbers

FOLDERS = ("data/results", "data/reconstructed")


def _at(ref: str, path: str) -> str | None:
    done = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=project_root(), capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def _files(ref: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", ref, "--", *FOLDERS],
        cwd=project_root(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [p for p in listed if p.endswith(".csv")]


def _now(path: str, before: pd.DataFrame) -> pd.DataFrame:
    """The work tree's file; 01_consistency.csv in its earlier ✓ display when ``before`` is in that form."""
    now = pd.read_csv(project_root() / path, dtype=str, keep_default_na=False)
    if path.endswith("01_consistency.csv") and not set(before.columns) <= set(now.columns):
        return consistency_display(read_consistency(project_root() / path), load_published()).astype(str)
    return now


def compare(before: pd.DataFrame, after: pd.DataFrame, name: str) -> tuple[list[str], int]:
    """Differences between two tables read as text (columns of ``before`` only), and the numbers compared."""
    problems, compared = [], 0
    missing = [c for c in before.columns if c not in after.columns]
    if missing:
        return [f"{name}: columns dropped: {missing}"], 0
    if len(before) != len(after):
        return [f"{name}: {len(before)} rows before, {len(after)} now"], 0
    for col in before.columns:
        for i, (x, y) in enumerate(zip(before[col], after[col], strict=True)):
            (nx, sx), (ny, sy) = numbers(str(x)), numbers(str(y))
            compared += len(nx)
            if sx != sy or nx != ny:
                problems.append(f"{name} row {i + 1} column {col!r}: {x!r} -> {y!r}")
    return problems, compared


def main(ref: str = "1fad70a") -> int:
    problems, compared, files = [], 0, 0
    for path in _files(ref):
        text = _at(ref, path)
        if not (project_root() / path).is_file():
            problems.append(f"{path}: missing in the work tree")
            continue
        before = pd.read_csv(io.StringIO(text or ""), dtype=str, keep_default_na=False)
        found, n = compare(before, _now(path, before), path)
        problems += found
        compared += n
        files += 1
    for p in problems:
        print(p)
    verdict = "IDENTICAL" if not problems else f"DIFFERENT ({len(problems)} differences)"
    print(f"{verdict}: {compared} numbers in {files} CSV files of {', '.join(FOLDERS)} compared with {ref}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
