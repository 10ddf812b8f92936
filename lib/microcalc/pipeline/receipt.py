"""The receipt of a run: what ran, on what, and how long each notebook took.

CODECHECK's guide asks for a record of the computing environment of a
reproduction. ``make all`` ends with ``python -m microcalc.pipeline.receipt``, which
writes ``run_info.json`` (git-ignored, so the determinism check never sees
it): the commit and whether the working tree had changes, when the run
finished, the exact Python, a SHA-256 of the installed package set (every
distribution's ``name==version``, sorted) and of ``requirements.lock``, and
each notebook's wall-clock time as `make notebooks` measured it (one line per
notebook in a tab-separated file: path, start, end, in seconds since the epoch;
the notebooks run side by side, so start is when its process started).

No absolute path and no data enter the receipt.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from microcalc.core.digest import package_set, package_set_sha256
from microcalc.core.paths import project_path, project_root

__all__ = ["package_set", "package_set_sha256", "read_timings", "git_state", "build_receipt", "main"]


def read_timings(path: str | Path) -> list[dict]:
    """Read the Makefile's notebook timings: one ``path<TAB>start<TAB>end`` line per notebook.

    Returns a list of ``{"notebook", "seconds"}`` in run order. A malformed
    line raises ``ValueError`` naming the file's line and what is expected.
    """
    rows = []
    path = Path(path)
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            if len(parts) != 3:
                raise ValueError
            start, end = float(parts[1]), float(parts[2])
        except ValueError:
            raise ValueError(
                f"{path.name}, line {i}: expected 'notebook<TAB>start<TAB>end' (seconds since the epoch), got {line!r}"
            ) from None
        if end < start:
            raise ValueError(f"{path.name}, line {i}: end {end} is before start {start}")
        rows.append({"notebook": Path(parts[0]).as_posix(), "seconds": round(end - start, 2)})
    return rows


def git_state(root: str | Path | None = None) -> dict:
    """The commit checked out and whether tracked files differ from it (``None`` outside git)."""
    root = Path(root) if root is not None else project_root()

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "uncommitted_changes": None if status is None else bool(status)}


def build_receipt(timings: list[dict] | None, lock: str | Path | None = None, now: datetime | None = None) -> dict:
    """The receipt as a dict (see the module's docstring)."""
    now = now or datetime.now(UTC)
    pins = package_set()
    lock = Path(lock) if lock is not None else project_path("requirements.lock")
    receipt = {
        "finished_utc": now.astimezone(UTC).isoformat(timespec="seconds"),
        **git_state(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "build": " ".join(platform.python_build()),
            "compiler": platform.python_compiler(),
        },
        "platform": {"system": platform.system(), "release": platform.release(), "machine": platform.machine()},
        "packages": {"count": len(pins), "sha256": package_set_sha256(pins)},
        "requirements_lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
    }
    if timings is None:
        receipt["notebooks"] = "not measured: no timings file (notebook times are measured by make all)"
    else:
        receipt["notebooks"] = timings
        receipt["notebooks_total_seconds"] = round(sum(t["seconds"] for t in timings), 2)
    return receipt


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.receipt --timings FILE --out run_info.json``: write the run's receipt."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.receipt", description=main.__doc__)
    ap.add_argument("--timings", help="the Makefile's notebook timings (path, start, end per line)")
    ap.add_argument("--out", default="run_info.json", help="where to write the receipt (project-relative)")
    args = ap.parse_args(argv)
    timings = None
    if args.timings and project_path(args.timings).is_file():
        timings = read_timings(project_path(args.timings))
    receipt = build_receipt(timings)
    out = project_path(args.out)
    out.write_text(json.dumps(receipt, indent=2, sort_keys=True) + "\n")
    print(
        f"wrote {args.out}: Python {receipt['python']['version']}, {receipt['packages']['count']} packages, "
        f"commit {(receipt['commit'] or 'unknown')[:12]}",
        file=sys.stdout,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
