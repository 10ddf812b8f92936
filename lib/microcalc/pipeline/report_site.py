"""The site folder of the HTML edition, and its summary printed to PDF (part of :mod:`microcalc.pipeline.report`).

The site folder is marked as the builder's (:data:`MARKER`, listing the files
it wrote). A rebuild deletes only the files that list names; a folder that
exists, is not empty and carries no marker is refused
(:class:`ReportFolderError`), never deleted. :func:`print_pdf` prints a page
with headless Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

__all__ = ["MARKER", "ReportFolderError", "print_pdf"]

#: The file that marks a folder as written by :func:`microcalc.pipeline.report.build_report` and lists what it wrote.
MARKER = ".microcalc-report.json"


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
    if marker.is_file():
        try:
            listed = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError):
            listed = []
    else:
        listed = _legacy_files(out)
        if listed is None:
            raise ReportFolderError(
                f"{out.name} is not empty and was not written by the report builder "
                f"(no {MARKER}); it is left untouched: choose a new or empty folder"
            )
    for rel in listed:
        target = out / rel
        if (
            isinstance(rel, str)
            and not os.path.isabs(rel)
            and ".." not in Path(rel).parts
            and (target.is_file() or target.is_symlink())
        ):
            target.unlink()
    if (out / "figures").is_dir() and not any((out / "figures").iterdir()):
        (out / "figures").rmdir()
    marker.unlink(missing_ok=True)


def _write_marker(out: Path, files: list[str]) -> None:
    (out / MARKER).write_text(
        json.dumps({"written_by": "microcalc.pipeline.report", "files": sorted(files)}, indent=1) + "\n",
        encoding="utf-8",
    )


def print_pdf(page: Path, pdf: Path, timeout: int = 120) -> None:
    """Print ``page`` to ``pdf`` with headless Chromium (its print stylesheet applies).

    Raises
    ------
    RuntimeError
        If Chromium is not installed or fails; the message says how to install it.
    """
    import subprocess
    import tempfile

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
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
