"""What a site run must not leak: the patient identifiers of the data folder, redacted from every
file the run keeps (part of :mod:`microcalc.pipeline.run`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from pathlib import Path

from microcalc.pipeline.execute import redact_text

__all__ = []


#: Ids shorter than this are not redacted: they cannot be told from the counts around them.
_MIN_REDACTED_ID = 3


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _is_id_header(cell) -> bool:
    return re.sub(r"[\s_-]+", "_", str(cell).strip().lstrip("\ufeff").lower()) == "patient_id"


def _ids_in_rows(rows) -> set[str]:
    """The values under a ``patient_id`` header in rows of cells (the header is the first row)."""
    rows = iter(rows)
    header = next(rows, None) or []
    columns = [i for i, cell in enumerate(header) if _is_id_header(cell)]
    return {str(row[i]).strip() for row in rows for i in columns if i < len(row) and row[i] is not None}


def _patient_ids(folder: Path) -> frozenset[str]:
    """The ``patient_id`` values of the data files, as best they can be read (for redaction only).

    Independent of the cleaning step, so that whatever made a run fail, its
    ids can still be found: every workbook sheet, and text files decoded as
    UTF-8, UTF-16 or Latin-1 and split on the most frequent of comma,
    semicolon and tab in their first line.
    """
    import csv
    import io

    ids: set[str] = set()
    for path in _data_files(folder):
        try:
            if path.suffix.lower() in (".xlsx", ".xlsm"):
                import openpyxl

                book = openpyxl.load_workbook(path, read_only=True, data_only=True)
                for sheet in book.worksheets:
                    ids |= _ids_in_rows(sheet.iter_rows(values_only=True))
                book.close()
                continue
            data = path.read_bytes()
            if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                text = data.decode("utf-16")
            else:
                try:
                    text = data.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
            first = text.split("\n", 1)[0]
            delimiter = max(",;\t", key=first.count)
            limit = csv.field_size_limit(sys.maxsize)  # oversized cells are read too, then the limit restored
            try:
                ids |= _ids_in_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
            finally:
                csv.field_size_limit(limit)
        except Exception:  # noqa: BLE001 - a file that cannot be read shows no id either
            continue
    return frozenset(i for i in ids if len(i) >= _MIN_REDACTED_ID)


@contextlib.contextmanager
def _kernel_stderr(log_file: Path):
    """Send what the kernels print to stderr (started meanwhile) to ``log_file``, not the user's terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


def _redact_file(path: Path, paths: dict[str, str], ids: frozenset[str]) -> None:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        path.write_text(redact_text(path.read_text(encoding="utf-8"), paths, ids), encoding="utf-8")
