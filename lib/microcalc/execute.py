"""Run notebooks with papermill and leave them byte-stable.

papermill records start and end times and durations in the notebook's
metadata; committing those would make every ``make all`` change the
reference notebooks. :func:`run_notebook` executes a notebook in place (or
to another path) with the kernel started in ``notebooks/`` and then removes
that volatile metadata, so that rerunning leaves ``git status`` clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from .paths import project_path

__all__ = ["run_notebook", "strip_volatile_metadata", "main"]

_VOLATILE_NOTEBOOK_KEYS = ("papermill",)
_VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove timings, paths and interpreter patch versions from a notebook's metadata (in place)."""
    for key in _VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    lang = nb.metadata.get("language_info")
    if lang is not None:
        lang.pop("version", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
    return nb


def run_notebook(path: str | Path, output: str | Path | None = None, parameters: dict | None = None,
                 cwd: str | Path | None = None) -> Path:
    """Execute a notebook with papermill and strip volatile metadata.

    Parameters
    ----------
    path : path of the notebook.
    output : where to write the executed notebook; in place by default.
    parameters : values for the notebook's ``parameters`` cell.
    cwd : the kernel's working directory; ``notebooks/`` of the project by default.

    Returns
    -------
    Path of the executed notebook.
    """
    import papermill as pm

    path = Path(path)
    output = Path(output) if output is not None else path
    cwd = Path(cwd) if cwd is not None else project_path("notebooks")
    pm.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                        cwd=str(cwd), progress_bar=False)
    nb = nbformat.read(output, as_version=4)
    nbformat.write(strip_volatile_metadata(nb), output)
    return output


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.execute NOTEBOOK...``: execute each in place, in order."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.execute", description=main.__doc__)
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args(argv)
    for nb in args.notebooks:
        print(f"executing {nb}", flush=True)
        try:
            run_notebook(nb)
        except Exception as err:  # papermill's error names the failing cell
            print(f"\n{nb} failed; the executed notebook with the error is {nb}\n{err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
