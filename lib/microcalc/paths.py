"""Where the project is, so that every path resolves the same from anywhere.

Notebooks run with ``notebooks/`` as working directory (papermill and nbval
both), tests from the project root, the command line from wherever the user
is. All of them resolve project files through :func:`project_path`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "project_path"]


def project_root() -> Path:
    """The compendium's root folder (the one holding ``pyproject.toml``).

    ``$MICROCALC_ROOT`` wins when set; otherwise the folder two levels above
    this package (``lib/microcalc``) when it is a checkout, else the first
    folder upward from the working directory that holds ``pyproject.toml``.
    """
    env = os.environ.get("MICROCALC_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").is_file():
        return here
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError("cannot find the project root (no pyproject.toml above the working directory)")


def project_path(*parts: str | os.PathLike) -> Path:
    """A path inside the project; absolute paths are returned unchanged."""
    path = Path(*parts)
    return path if path.is_absolute() else project_root() / path
