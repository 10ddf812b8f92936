"""Writing results: deterministic bytes, written atomically.

A run that fails half-way must not leave a half-written file behind, and a
rerun on the same data must write the same bytes (so ``git status`` stays
clean). :func:`write_csv` does both.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

from microcalc.core.paths import project_path

__all__ = ["write_csv", "output_path", "sha256", "neutralise_formulas", "FORMULA_TRIGGERS"]

#: First characters with which a spreadsheet starts a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _neutral(value):
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell, index label and column name that a spreadsheet would run as a
    formula prefixed by ``'``; numbers and text like ``-0.5`` are left as they are. Returns a copy
    only when something changed."""

    def is_text(col: pd.Series) -> bool:
        return not (
            pd.api.types.is_numeric_dtype(col)
            or pd.api.types.is_bool_dtype(col)
            or pd.api.types.is_datetime64_any_dtype(col)
        )

    def changes(values) -> bool:
        return any(_neutral(v) is not v for v in values)

    hit = [i for i in range(frame.shape[1]) if is_text(frame.iloc[:, i]) and changes(frame.iloc[:, i])]
    multi = isinstance(frame.index, pd.MultiIndex)
    index_hit = changes(v for t in frame.index for v in t) if multi else changes(frame.index)
    names_hit = changes(frame.columns)
    if not (hit or index_hit or names_hit):
        return frame
    out = frame.copy()
    for i in hit:
        out.isetitem(i, out.iloc[:, i].map(_neutral))
    if names_hit:
        out.columns = [_neutral(c) for c in out.columns]
    if index_hit and multi:
        out.index = pd.MultiIndex.from_tuples([tuple(_neutral(v) for v in t) for t in out.index], names=out.index.names)
    elif index_hit:
        out.index = pd.Index([_neutral(v) for v in out.index], name=out.index.name)
    return out


def output_path(output_dir: str | os.PathLike, *parts: str) -> Path:
    """``<output_dir>/<parts>``, with ``output_dir`` relative to the project root."""
    return project_path(output_dir).joinpath(*parts)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, index: bool = False) -> Path:
    """Write ``frame`` as UTF-8 CSV with ``\\n`` line ends and 10 significant digits, atomically.

    The file is written next to its destination and renamed into place, so
    readers see either the old file or the whole new one. Text that a
    spreadsheet would evaluate is neutralised first (:func:`neutralise_formulas`).
    """
    frame = neutralise_formulas(frame)
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
