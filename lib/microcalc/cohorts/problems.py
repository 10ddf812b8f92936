"""What cleaning reports: one :class:`Problem`, the :class:`CleaningError` listing all of them, and the
harmonised :class:`Cohorts` with how each file was read (part of :mod:`microcalc.cohorts.clean`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["READING_COLUMNS", "Problem", "Cohorts", "CleaningError"]


#: Problems listed one per line in a CleaningError's message (all of them are in its ``problems``).
_MESSAGE_LIMIT = 100


#: Columns of the reading report (how each file was read).
READING_COLUMNS = ["cohort", "file", "format", "encoding", "delimiter", "sheet", "rows", "note"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as the user sees it."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    problem: str
    allowed: str = ""


def _reading_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=READING_COLUMNS)
    text = [c for c in READING_COLUMNS if c != "rows"]
    frame[text] = frame[text].astype(object).where(frame[text].notna(), "").astype(str)
    frame["rows"] = frame["rows"].astype("Int64")
    return frame


def _how_read(r) -> str:
    """``UTF-8, comma`` or ``sheet 'Data'``: one file's row of the reading report in words."""
    said = [v for v in (r.encoding, r.delimiter, r.sheet and f"sheet {r.sheet!r}") if v]
    return ", ".join(said) or "not read"


class Cohorts(dict):
    """The harmonised cohorts (cohort name -> DataFrame), and ``reading``: how each file was read.

    ``reading`` is a DataFrame with one row per file: cohort, file, format,
    encoding and delimiter (text files), sheet (workbooks), rows read, note.
    """

    def __init__(self, frames: dict[str, pd.DataFrame], reading: pd.DataFrame):
        super().__init__(frames)
        self.reading = reading


class CleaningError(ValueError):
    """The input data cannot be cleaned; ``problems`` lists every reason (a DataFrame).

    The message is a readable report of all problems, then how each file was
    read (``reading``, as far as it got); nothing was written. No problem
    quotes a ``patient_id`` or a line of a file: at most the offending cell.
    """

    def __init__(self, problems: list[Problem], reading: pd.DataFrame | None = None):
        self.reading = _reading_frame([]) if reading is None else reading
        self.problems = pd.DataFrame(
            [asdict(p) for p in problems], columns=["file", "row", "column", "value", "problem", "allowed"]
        )
        self.problems["row"] = self.problems["row"].astype("Int64")
        lines = [
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the input data; "
            "nothing was written. Fix these and run again:"
        ]
        for p in problems[:_MESSAGE_LIMIT]:
            where = p.file + (f", row {p.row}" if p.row is not None else "")
            where += f", column '{p.column}'" if p.column else ""
            value = f" value {p.value!r}:" if p.value is not None else ""
            allowed = f" Allowed: {p.allowed}." if p.allowed else ""
            lines.append(f"  - {where}:{value} {p.problem}.{allowed}")
        if len(problems) > _MESSAGE_LIMIT:
            lines.append(
                f"  … and {len(problems) - _MESSAGE_LIMIT:,} more problems (every one is in the "
                "problems table, which the cleaning notebook shows)."
            )
        if len(self.reading):
            lines.append(
                "How the files were read: "
                + "; ".join(f"{r.file} ({_how_read(r)})" for r in self.reading.itertuples())
                + "."
            )
        super().__init__("\n".join(lines))
