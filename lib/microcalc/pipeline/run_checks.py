"""Checks made before a site run starts: the run's name, the data folder, the notebooks and their
parameters (part of :mod:`microcalc.pipeline.run`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from microcalc.core.paths import project_path, project_root

__all__ = ["RUNNER_PARAMETERS", "RunError", "RunInterrupted", "check_name", "check_parameters"]


#: Parameters only the runner sets: where the data are read from and where the run writes.
RUNNER_PARAMETERS = ("data_dir", "output_dir")


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


_RESERVED_SUFFIXES = (".failed",)


class RunError(RuntimeError):
    """A run could not start or a notebook failed; the message says where and why."""


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C or SIGTERM); the previous complete run is untouched."""


def check_name(name: str) -> str:
    """Refuse a run name that is not a plain folder name (1-64 of letters, digits, ``_ . -``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(_RESERVED_SUFFIXES):
        raise RunError(
            f"run name {name!r}: use 1 to 64 letters, digits, '_', '.' or '-', starting with a "
            "letter or digit and not ending in '.failed'"
        )
    return name


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the project root when inside it."""
    try:
        return Path(os.path.normpath(path)).relative_to(project_root()).as_posix()
    except ValueError:
        return str(path)


def _inside_project(folder: str | os.PathLike) -> str:
    """``folder`` relative to the project root (lexically), or a RunError if it lies outside."""
    path = Path(os.path.normpath(project_path(folder)))
    try:
        rel = path.relative_to(project_root())
    except ValueError:
        raise RunError(
            f"the data folder {Path(folder).name!r} lies outside the project; put the files (or a "
            "symlink to their folder) under data/private/<site>/, so that no path of this "
            "machine enters the run's notebooks and pages"
        ) from None
    return rel.as_posix() or "."


def _notebook_path(name: str) -> Path:
    """A notebook by name (``04_nact_pcr``) or number (``04``)."""
    folder = project_path("notebooks")
    if name.isdigit():
        found = sorted(folder.glob(f"{int(name):02d}_*.ipynb"))
    else:
        found = [folder / (name if name.endswith(".ipynb") else f"{name}.ipynb")]
    found = [p for p in found if p.is_file()]
    if not found:
        have = ", ".join(p.stem for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")))
        raise RunError(f"no notebook {name!r} in notebooks/ (have: {have})")
    return found[0]


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Refuse parameters the notebook does not declare in its ``parameters`` cell."""
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    if not declared:
        raise RunError(f"{notebook.name} has no cell tagged 'parameters': it cannot take {sorted(parameters)}")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise RunError(
            f"{notebook.name} does not declare the parameter(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(sorted(declared))}"
        )
