"""Does a dependency upgrade change any number? ``make upgrade-check`` answers it.

:func:`upgrade_check` builds a throwaway environment under ``runs/upgrade/``
from the project's pins (``requirements.lock`` when it exists, else the
exact pins of ``pyproject.toml``) with the named changes, copies the
committed project tree there (``git archive HEAD``), and in that copy:

1. probes every import the library and the notebooks make
   (:func:`collect_imports`, :func:`probe_imports`), so that a removed module
   or symbol is one line naming the package and the symbol;
2. runs nbval over the committed notebooks (:func:`nbval_cells`), every
   notebook with default parameters (a failure is one line,
   :func:`notebook_errors`) and the unit tests;
3. compares every number of every tidy results file and reconstructed table
   (``data/results/*.csv``, ``data/reconstructed/*.csv``) with the committed
   ones within a relative tolerance (:func:`compare_csv`), and the bytes of
   the figures and other outputs (:func:`compare_bytes`).

It prints a short report and writes it as Markdown and CSV in
``runs/upgrade/`` (:func:`write_report`). The committed outputs and the main
``.venv`` are never touched: everything runs in the copy, with the copy's
interpreter.

Command line: ``python -m microcalc.pipeline.upgrade [--packages "scipy==X statsmodels==Y"]
[--latest] [--rtol 1e-9] [--tests "tests/test_x.py" | --tests none] [--no-nbval]``.

This module runs the check; its parts sit in sibling modules, whose public
names it re-exports: :mod:`~microcalc.pipeline.upgrade_pins` (pins),
:mod:`~microcalc.pipeline.upgrade_probe` (imports and notebook errors) and
:mod:`~microcalc.pipeline.upgrade_compare` (numbers, bytes and the report).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tarfile
import time
from importlib import metadata
from pathlib import Path

from microcalc.core.paths import project_path, project_root
from microcalc.pipeline.upgrade_compare import (
    DEFAULT_RTOL,
    TABLES,
    NumberMoved,
    compare_bytes,
    compare_csv,
    compare_tables,
    failed_tests,
    nbval_cells,
    numbers,
    packages_changed,
    verdict,
    write_report,
)
from microcalc.pipeline.upgrade_pins import Requirements, normalise, parse_packages, parse_pins, requirements
from microcalc.pipeline.upgrade_probe import (
    Finding,
    _env_of,
    collect_imports,
    describe_error,
    notebook_errors,
    probe_imports,
)

__all__ = [
    "DEFAULT_RTOL",
    "Requirements",
    "NumberMoved",
    "Finding",
    "normalise",
    "parse_pins",
    "parse_packages",
    "requirements",
    "collect_imports",
    "probe_imports",
    "describe_error",
    "notebook_errors",
    "nbval_cells",
    "numbers",
    "compare_csv",
    "compare_tables",
    "compare_bytes",
    "packages_changed",
    "failed_tests",
    "verdict",
    "write_report",
    "upgrade_check",
    "UpgradeError",
    "main",
]


# --------------------------------------------------------------------------- the check


class UpgradeError(RuntimeError):
    """The throwaway environment could not be built; the message says why."""


def _step(label: str, cmd, log: Path, root: Path, **kw) -> subprocess.CompletedProcess:
    run = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"$ {label}\n{run.stdout}\n{run.stderr}\n".replace(str(root), "<project>"))
    return run


def _copy_tree(root: Path, tree: Path) -> None:
    """The committed project (``git archive HEAD``), without uncommitted changes."""
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", "HEAD"], capture_output=True)
    if archive.returncode != 0:
        raise UpgradeError("git archive HEAD failed: the check needs the project's git history")
    tree.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")


def _clear_outputs(tree: Path) -> None:
    """Remove the copies of the compared outputs, so that an output not produced is seen missing."""
    for folder in TABLES:
        for p in (tree / folder).glob("*"):
            if p.is_file():
                p.unlink()
    for pattern in ("figures/*.png", "figures/*.svg", "data/results/*.html"):
        for p in tree.glob(pattern):
            p.unlink()


def _installed(python: Path, env: dict) -> dict[str, str]:
    code = (
        "import json; from importlib import metadata; "
        "print(json.dumps({d.metadata['Name']: d.version for d in metadata.distributions()}))"
    )
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env)
    return json.loads(run.stdout) if run.returncode == 0 else {}


def _build_environment(base: str, out: Path, tree: Path, hashed: bool, root: Path, log: Path):
    """Create ``out/venv`` and install the requirements, the project copy and its kernel.

    Returns ``(python, env, None)``, or ``(None, None, reason)`` naming the step that failed.
    """
    venv = out / "venv"
    py = venv / "bin" / "python"
    env = _env_of(py, {"MICROCALC_ROOT": str(tree), "VIRTUAL_ENV": str(venv)})
    steps = [
        ("venv", [base, "-m", "venv", venv]),
        ("pip", [py, "-m", "pip", "install", "--quiet", "pip==26.3"]),
        (
            "dependencies",
            [py, "-m", "pip", "install", "--quiet", "-r", out / "requirements.txt"]
            + (["--require-hashes"] if hashed else []),
        ),
        ("project", [py, "-m", "pip", "install", "--quiet", "--no-deps", "-e", tree]),
        (
            "kernel",
            [
                py,
                "-m",
                "ipykernel",
                "install",
                "--sys-prefix",
                "--name",
                "python3",
                "--display-name",
                "Python 3 (microcalc upgrade check)",
            ],
        ),
    ]
    for label, cmd in steps:
        run = _step(label, cmd, log, root, env=env)
        if run.returncode != 0:
            errors = [line.strip() for line in (run.stderr or run.stdout).splitlines() if line.strip()]
            return None, None, f"{label}: " + "; ".join(errors[-4:]).replace(str(root), "<project>")
    return py, env, None


def _nbval(py: Path, env: dict, tree: Path, notebooks: list[Path], out: Path, root: Path, log: Path) -> list[str]:
    """nbval over the committed notebooks of the copy (before papermill rewrites them); failed cells."""
    junit = out / "nbval.xml"
    run = _step(
        "nbval",
        [
            py,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            "tests/nbval_sanitize.cfg",
            *(nb.relative_to(tree) for nb in notebooks),
        ],
        log,
        root,
        env=env,
        cwd=tree,
    )
    return nbval_cells(junit) if junit.is_file() else [f"nbval did not run (exit {run.returncode})"]


def _execute(
    py: Path, env: dict, tree: Path, notebooks: list[Path], dists: dict, versions: dict, root: Path, log: Path
) -> tuple[list[str], list[Finding]]:
    """Run every notebook in place in the copy with papermill; (failed notebooks, one finding per error)."""
    failed, findings = [], []
    for nb in notebooks:
        print(f"running {nb.name} ...", flush=True)
        run = _step(nb.name, [py, "-m", "microcalc.pipeline.execute", nb], log, root, env=env, cwd=tree)
        if run.returncode != 0:
            failed.append(nb.name)
            errors = notebook_errors(nb, dists, versions) or [
                Finding("notebook failed", "-", "-", f"{nb.name}: see runs/upgrade/log.txt")
            ]
            for f in errors:
                print("  " + f.line(), flush=True)
            findings += errors
    return failed, findings


def _unit_tests(py: Path, env: dict, tree: Path, tests: str, out: Path, root: Path, log: Path) -> list[str]:
    junit = out / "tests.xml"
    run = _step(
        "tests",
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *tests.split()],
        log,
        root,
        env=env,
        cwd=tree,
    )
    return failed_tests(junit) if junit.is_file() else [f"pytest did not run (exit {run.returncode})"]


def upgrade_check(
    packages: str = "",
    latest: bool = False,
    rtol: float = DEFAULT_RTOL,
    tests: str = "tests",
    python: str | None = None,
    out: Path | None = None,
    nbval: bool = True,
) -> tuple[str, int]:
    """Run the whole check (see the module's docstring) and write its report.

    Parameters
    ----------
    packages : named changes, ``"scipy==1.17.0 statsmodels==0.14.4"``.
    latest : newest releases within the declared ranges instead of the pins.
    rtol : relative tolerance of the number comparison.
    tests : pytest arguments for the unit tests (``"none"`` skips them).
    python : the Python 3.11 that creates the environment (this one's base by default).
    out : the check's folder, ``runs/upgrade`` by default (emptied first).
    nbval : also run nbval over the committed notebooks in the new environment.

    Returns
    -------
    (verdict, exit status): 0 when no number changed and nothing failed, 1 otherwise,
    2 when the environment could not be built.
    """
    root = project_root()
    reqs = requirements(root, parse_packages(packages), latest)  # refuses a bad PACKAGES before anything is removed
    run_tests = tests.strip() not in ("", "none")
    out = out or project_path("runs/upgrade")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    log, tree = out / "log.txt", out / "tree"
    timings: dict[str, float] = {}
    t0 = t = time.perf_counter()

    def lap(name):
        nonlocal t
        timings[name] = time.perf_counter() - t
        t = time.perf_counter()

    print(f"upgrade check: environment from {reqs.source}", flush=True)
    _copy_tree(root, tree)
    shutil.copytree(tree, out / "committed", ignore=shutil.ignore_patterns("notebooks", "tests", "lib", "benchmarks"))
    _clear_outputs(tree)
    (out / "requirements.txt").write_text(reqs.file_text(), encoding="utf-8")
    print("building the throwaway environment in runs/upgrade/venv ...", flush=True)
    base = python or str(getattr(sys, "_base_executable", sys.executable))
    py, env, failure = _build_environment(base, out, tree, reqs.hashed, root, log)
    lap("environment")
    tests_run = tests if run_tests else "not run"
    if failure:
        text = f"environment could not be built ({failure})"
        write_report(
            out,
            changed=[],
            findings=[Finding("install", "-", failure.split(":")[0], failure)],
            tests=[],
            nbval_failed=None,
            moved=[],
            bytes_changed=[],
            verdict_text=text,
            source=reqs.source,
            rtol=rtol,
            tests_run=tests_run,
            timings=timings,
        )
        print(text, file=sys.stderr)
        return text, 2

    baseline = (
        reqs.baseline
        if (root / "requirements.lock").is_file()
        else {d.metadata["Name"]: d.version for d in metadata.distributions()}
    )  # this (main) environment, read only
    changed = packages_changed(baseline, _installed(py, env))
    print(f"  {len(changed)} packages differ from the baseline", flush=True)

    notebooks = sorted((tree / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    imports = collect_imports(sorted((tree / "lib" / "microcalc").rglob("*.py")) + notebooks)
    findings, dists, versions = probe_imports(py, imports, cwd=tree, env=env)
    for f in findings:
        print("  " + f.line(), flush=True)
    lap("import probe")
    nbval_failed = None
    if nbval:
        print("running nbval over the committed notebooks ...", flush=True)
        nbval_failed = _nbval(py, env, tree, notebooks, out, root, log)
        lap("nbval")
    failed_notebooks, errors = _execute(py, env, tree, notebooks, dists, versions, root, log)
    findings += errors
    lap("notebooks")
    tests_failed = []
    if run_tests:
        print(f"running the unit tests ({tests}) ...", flush=True)
        tests_failed = _unit_tests(py, env, tree, tests, out, root, log)
        lap("tests")

    moved, files = compare_tables(out / "committed", tree, rtol)
    bytes_changed = compare_bytes(out / "committed", tree)
    findings += files
    incomplete = ([f"{len(failed_notebooks)} notebook(s) failed"] if failed_notebooks else []) + (
        [f"{len(files)} table(s) not produced or new"] if files else []
    )
    text = verdict(moved, incomplete)
    timings["total"] = time.perf_counter() - t0
    md = write_report(
        out,
        changed=changed,
        findings=findings,
        tests=tests_failed,
        nbval_failed=nbval_failed,
        moved=moved,
        bytes_changed=bytes_changed,
        verdict_text=text,
        source=reqs.source,
        rtol=rtol,
        tests_run=tests_run,
        timings=timings,
    )
    print("\n" + md)
    print("report: runs/upgrade/report.md and runs/upgrade/report.csv")
    ok = not moved and not findings and not tests_failed and not nbval_failed
    return text, 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.upgrade``: does an upgrade change any number? (see the module's docstring)"""
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.upgrade", description=main.__doc__)
    ap.add_argument("--packages", default="", help='changes, e.g. "scipy==1.17.2 statsmodels==0.14.4"')
    ap.add_argument("--latest", action="store_true", help="newest releases within the declared ranges")
    ap.add_argument("--rtol", type=float, default=DEFAULT_RTOL, help="relative tolerance (default 1e-9)")
    ap.add_argument(
        "--tests", default="tests", help='pytest arguments for the unit tests (default: tests; "none" skips them)'
    )
    ap.add_argument("--no-nbval", action="store_true", help="skip nbval over the committed notebooks")
    ap.add_argument("--python", default=None, help="the Python 3.11 that builds the environment")
    args = ap.parse_args(argv)
    try:
        _, status = upgrade_check(
            args.packages, args.latest, args.rtol, args.tests, args.python, nbval=not args.no_nbval
        )
    except (ValueError, UpgradeError) as err:
        print(f"upgrade check: {err}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
