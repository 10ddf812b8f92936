"""Where the project is, so that every path resolves the same from anywhere.

Notebooks run with ``notebooks/`` as working directory (papermill and nbval
both), tests from the project root, the command line from wherever the user
is. All of them resolve project files through :func:`project_path`.

A site run (``microcalc.pipeline.run``) stages its writes: it passes the notebooks
``output_dir = runs/<name>`` (where the run will be once complete) and sets
``$MICROCALC_RUN_DIR`` (that folder) and ``$MICROCALC_STAGING_DIR`` (the
staging folder) for their kernels; while both are set, :func:`project_path`
maps every path under the run's folder to the same path under the staging
folder, so that nothing reaches ``runs/<name>/`` before the whole run has
succeeded.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "project_path", "staged", "RUN_DIR_ENV", "STAGING_DIR_ENV"]

#: Environment variables by which a run redirects its folder to its staging folder.
RUN_DIR_ENV = "MICROCALC_RUN_DIR"
STAGING_DIR_ENV = "MICROCALC_STAGING_DIR"


def project_root() -> Path:
    """The compendium's root folder (the one holding ``pyproject.toml``).

    ``$MICROCALC_ROOT`` wins when set; otherwise the folder two levels above
    this package (``lib/microcalc``) when it is a checkout, else the first
    folder upward from the working directory that holds ``pyproject.toml``.
    """
    env = os.environ.get("MICROCALC_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parents[3]
    if (here / "pyproject.toml").is_file():
        return here
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    raise FileNotFoundError("cannot find the project root (no pyproject.toml above the working directory)")


def project_path(*parts: str | os.PathLike) -> Path:
    """A path inside the project; absolute paths are kept (both go through :func:`staged`)."""
    path = Path(*parts)
    return staged(path if path.is_absolute() else project_root() / path)


def staged(path: str | os.PathLike) -> Path:
    """``path``, moved into the staging folder when a run is staging and ``path`` lies in its folder.

    Containment is decided on the normalised path (``..`` removed, symlinks
    not followed); without ``$MICROCALC_RUN_DIR`` and ``$MICROCALC_STAGING_DIR``
    the path is returned unchanged.
    """
    path = Path(path)
    target, staging = os.environ.get(RUN_DIR_ENV), os.environ.get(STAGING_DIR_ENV)
    if not (target and staging):
        return path
    try:
        rel = Path(os.path.normpath(path)).relative_to(os.path.normpath(target))
    except ValueError:
        return path
    return Path(staging) / rel
