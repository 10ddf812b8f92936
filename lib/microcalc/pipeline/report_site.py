"""The site folder of the HTML edition, and its summary printed to PDF (part of :mod:`microcalc.pipeline.report`).

The site folder is marked as the builder's (:data:`MARKER`, listing the files
it wrote). A rebuild deletes only the files that list names; a folder that
exists, is not empty and carries no marker is refused
(:class:`ReportFolderError`), never deleted. A rebuild first deletes the
record of the last complete build (:data:`INPUTS_RECORD`), so a site whose
rebuild was interrupted is never taken as up to date. :func:`print_pdf` prints
a page with headless Chromium.

:func:`main` (``python -m microcalc.pipeline.report_site``, what ``make report``
runs, and ``python -m microcalc.pipeline.report``) builds the edition unless
the site holds a complete build of byte-for-byte the same inputs
(:func:`edition_inputs`, the options, Chromium's version, the Python and the
package set: :mod:`microcalc.core.digest`); it imports the renderer only to
build, so a skip takes a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

from microcalc.core.digest import inputs_sha256, is_up_to_date, write_record
from microcalc.core.paths import project_path, project_root
from microcalc.core.sources import LIBRARY  # the library the edition is built with, templates included: an input

__all__ = [
    "MARKER",
    "INPUTS_RECORD",
    "INPUT_FOLDERS",
    "ReportFolderError",
    "edition_inputs",
    "listed_files",
    "print_pdf",
    "chromium_version",
    "main",
]

#: The file that marks a folder as written by :func:`microcalc.pipeline.report.build_report` and lists what it wrote.
MARKER = ".microcalc-report.json"

#: The record of the last complete build: its inputs' SHA-256 and that of every file it wrote
#: (:func:`microcalc.core.digest.write_record`), written last.
INPUTS_RECORD = ".inputs.json"


#: The folders of the project (and, for a run elsewhere, of its output folder) whose every file is an input
#: of the edition, beside the executed notebooks and :data:`LIBRARY`. The Makefile's REPORT_INPUTS names the
#: same files (``tests/test_report_skip.py`` checks).
INPUT_FOLDERS = ("docs", "figures", "data/results", "data/reconstructed", "data/published")


class ReportFolderError(RuntimeError):
    """The site folder exists and was not written by the report builder: it is left alone."""


def _legacy_files(out: Path) -> list[str] | None:
    """The files of a site built before sites were marked, or None if ``out`` holds anything else."""
    files = []
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        if p.is_dir() and rel == "figures":
            continue
        if p.is_symlink() or not (
            re.fullmatch(r"(index|\d\d_[\w.-]+)\.html", rel) or re.fullmatch(r"figures/\d\d_[\w.-]+\.png", rel)
        ):
            return None
        files.append(rel)
    return files


def _prepare_site(out: Path) -> None:
    """Delete from ``out`` what an earlier build wrote, or refuse a folder the builder did not write."""
    marker = out / MARKER
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReportFolderError(
            f"{out.name} exists and is not a folder the report builder wrote; choose a new or empty folder"
        )
    if not out.exists() or not any(out.iterdir()):
        return
    listed: list[str] | None = (listed_files(out) or []) if marker.is_file() else _legacy_files(out)
    if listed is None:
        raise ReportFolderError(
            f"{out.name} is not empty and was not written by the report builder "
            f"(no {MARKER}); it is left untouched: choose a new or empty folder"
        )
    (out / INPUTS_RECORD).unlink(missing_ok=True)
    for rel in listed:
        target = out / rel
        if target.is_file() or target.is_symlink():
            target.unlink()
    if (out / "figures").is_dir() and not any((out / "figures").iterdir()):
        (out / "figures").rmdir()
    marker.unlink(missing_ok=True)


def listed_files(out: Path) -> list[str] | None:
    """The files the marker of the site ``out`` lists (relative paths inside it), or None without a readable marker."""
    try:
        listed = json.loads((out / MARKER).read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(listed, list):
        return None
    return [rel for rel in listed if isinstance(rel, str) and not os.path.isabs(rel) and ".." not in Path(rel).parts]


def _write_marker(out: Path, files: list[str]) -> None:
    (out / MARKER).write_text(
        json.dumps({"written_by": "microcalc.pipeline.report", "files": sorted(files)}, indent=1) + "\n",
        encoding="utf-8",
    )


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def chromium_version() -> str | None:
    """What ``chromium --version`` prints (0.05 s on the reference machine), or None without a working Chromium."""
    import subprocess

    chromium = _chromium()
    if not chromium:
        return None
    try:
        proc = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def print_pdf(page: Path, pdf: Path, timeout: int = 120) -> None:
    """Print ``page`` to ``pdf`` with headless Chromium (its print stylesheet applies).

    Raises
    ------
    RuntimeError
        If Chromium is not installed or fails; the message says how to install it.
    """
    import subprocess
    import tempfile

    chromium = _chromium()
    if not chromium:
        raise RuntimeError(
            "summary.pdf not written: Chromium is needed to print it "
            "(apt-get install chromium; `make report` does this when run as root)"
        )
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--no-pdf-header-footer",
                f"--user-data-dir={profile}",
                f"--print-to-pdf={pdf}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if proc.returncode != 0 or not pdf.is_file():
        raise RuntimeError(f"summary.pdf not written: Chromium exited with status {proc.returncode}")


def _files_under(folder: Path, name: str) -> dict[str, Path]:
    """Every file under ``folder`` (``__pycache__`` left out), named ``name/<path inside folder>``."""
    if not folder.is_dir():
        return {}
    return {
        f"{name}/{p.relative_to(folder).as_posix()}": p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.relative_to(folder).as_posix()
    }


def _name(path: Path) -> str:
    """``path`` relative to the project root when inside it, else as it is (enters the digest only, never shown)."""
    root = project_root().resolve()
    path = path.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def edition_inputs(notebooks_dir: str | Path = "notebooks", output_dir: str | Path = ".") -> dict[str, Path]:
    """Every file the edition is built from, by its name relative to the project: the one definition of them.

    The executed notebooks (``notebooks/NN_*.ipynb``), every file of the library
    (:data:`LIBRARY`, as ``lib/microcalc/...``) and of the project's
    :data:`INPUT_FOLDERS`; for a run whose output folder is not the project, also
    that folder's :data:`INPUT_FOLDERS` and ``run.json`` (as ``output/...``).
    ``__pycache__`` is left out. The Makefile's ``REPORT_INPUTS`` names the same
    files for the project's own edition.
    """
    files = {f"notebooks/{p.name}": p for p in project_path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")}
    files |= _files_under(LIBRARY, "lib/microcalc")
    for folder in INPUT_FOLDERS:
        files |= _files_under(project_path(folder), folder)
    out = project_path(output_dir)
    if out.resolve() != project_root().resolve():
        for folder in INPUT_FOLDERS:
            files |= _files_under(out / folder, f"output/{folder}")
    if (out / "run.json").is_file():
        files["output/run.json"] = out / "run.json"
    return files


def _site_is_current(site: Path, digest: str, summary_pdf: bool) -> bool:
    """Whether ``site`` holds a complete build of inputs with this ``digest`` (:func:`main`)."""
    listed = listed_files(site)
    if not listed or "index.html" not in listed or (summary_pdf and "summary.pdf" not in listed):
        return False
    return is_up_to_date(site / INPUTS_RECORD, digest, {rel: site / rel for rel in listed})


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.report [--notebooks D] [--output-dir D] [--site D] [--summary-pdf] [--force]``.

    Skips the build when the site holds a complete build of the same inputs (see the module's docstring).
    """
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.report", description=main.__doc__)
    ap.add_argument("--notebooks", default="notebooks")
    ap.add_argument("--output-dir", default=".")
    ap.add_argument("--site", default=None)
    ap.add_argument("--summary-pdf", action="store_true", help="also print summary.pdf with headless Chromium")
    ap.add_argument("--force", action="store_true", help="rebuild even if no input changed")
    args = ap.parse_args(argv)
    site = project_path(args.site) if args.site else project_path(args.output_dir) / "report"
    inputs = edition_inputs(args.notebooks, args.output_dir)
    settings = {
        "notebooks": _name(project_path(args.notebooks)),
        "output_dir": _name(project_path(args.output_dir)),
        "site": _name(site),
        "summary_pdf": args.summary_pdf,
        "chromium": chromium_version() if args.summary_pdf else None,
    }
    digest = inputs_sha256(inputs, settings)
    if not args.force and _site_is_current(site, digest, args.summary_pdf):
        if args.summary_pdf:
            os.utime(site / "summary.pdf")  # make's target counts as up to date
        print(f"HTML edition up to date: its {len(inputs)} input files are unchanged (sha256 {digest[:12]}…)")
        return 0
    try:
        from microcalc.pipeline.report import build_report

        index = build_report(args.notebooks, args.output_dir, args.site, summary_pdf=args.summary_pdf)
    except ReportFolderError as err:
        print(f"report not built: {err}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # the pages are written, the summary PDF is not
        print(f"the HTML pages are written, but {err}", file=sys.stderr)
        return 1
    written = listed_files(site) or []
    write_record(site / INPUTS_RECORD, digest, len(inputs), {rel: site / rel for rel in written})
    print(f"wrote {index.parent.name}/{index.name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
