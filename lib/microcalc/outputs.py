"""Writing results: deterministic bytes, written atomically.

A run that fails half-way must not leave a half-written file behind, and a
rerun on the same data must write the same bytes (so ``git status`` stays
clean). :func:`write_csv` does both.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pandas as pd

from .paths import project_path

__all__ = ["write_csv", "output_path", "sha256"]


def output_path(output_dir: str | os.PathLike, *parts: str) -> Path:
    """``<output_dir>/<parts>``, with ``output_dir`` relative to the project root."""
    return project_path(output_dir).joinpath(*parts)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, index: bool = False) -> Path:
    """Write ``frame`` as UTF-8 CSV with ``\\n`` line ends and 10 significant digits, atomically.

    The file is written next to its destination and renamed into place, so
    readers see either the old file or the whole new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=index, lineterminator="\n", float_format="%.10g")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, hex (for checksums of raw and generated files)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
