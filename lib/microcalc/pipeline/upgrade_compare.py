"""Did a number move? Tidy tables compared within a relative tolerance, other outputs byte for byte,
and the Markdown and CSV report (part of :mod:`microcalc.pipeline.upgrade`).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from microcalc.pipeline.upgrade_pins import _TOOLS, normalise
from microcalc.pipeline.upgrade_probe import Finding

__all__ = [
    "DEFAULT_RTOL",
    "TABLES",
    "BYTE_OUTPUTS",
    "NumberMoved",
    "numbers",
    "compare_csv",
    "compare_tables",
    "compare_bytes",
    "packages_changed",
    "failed_tests",
    "nbval_cells",
    "verdict",
    "write_report",
]


#: Relative tolerance of the number comparison: passes floating-point noise, nothing a table prints.
DEFAULT_RTOL = 1e-9


#: Tidy results and reconstructed tables whose numbers are compared.
TABLES = ("data/results", "data/reconstructed")


#: Outputs compared byte for byte: figures first, then other written files.
BYTE_OUTPUTS = (
    "figures/*.png",
    "figures/*.svg",
    "data/results/*.html",
    "data/raw/*.csv",
    "data/synthetic/calibration.yaml",
)


#: Findings listed on one line per kind in the Markdown report, and the detail of a file whose bytes differ.
_GROUPED = ("output not produced", "new output")


_DIFFERS = "differs from the committed file"


_NUMBER = re.compile(r"(?<![\w.)\]])[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|NaN|inf|-inf)\b")


@dataclass
class NumberMoved:
    """One number (or table cell) that differs between the committed and the upgraded output."""

    file: str
    row: int
    id: str
    quantity: str
    column: str
    before: str
    after: str
    relative_change: float | None


def numbers(text: str) -> tuple[list[float], str]:
    """The numbers in a table cell and the text around them (``1.78 (1.06-2.97)`` -> 3 numbers)."""
    values = []

    def grab(m):
        token = m.group(0).replace("−", "-")
        values.append(float(token))
        return "\0"

    return values, _NUMBER.sub(grab, text)


def _relative(a: float, b: float) -> float:
    """|b - a| / |a|: the change relative to the committed value (inf from 0, nan or inf to anything else)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    if a == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return math.inf
    return abs(b - a) / abs(a)


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _labels(header: list[str], rows: list[list[str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """(id, quantity) of every row, and a name for every column."""
    columns = list(header)
    if len(set(header)) < len(header) and rows:  # a two-line header (tableone): add the second line
        columns = [
            f"{h} / {s}" if header.count(h) > 1 else h
            for h, s in zip(header, rows[0] + [""] * len(header), strict=False)
        ]
    labels: list[tuple[str, str]] = []
    if "id" in header:
        i = header.index("id")
        q = header.index("quantity") if "quantity" in header else None
        for r in rows:
            labels.append((r[i] if i < len(r) else "", r[q] if q is not None and q < len(r) else ""))
    else:
        first = ""
        for r in rows:
            first = r[0] if r and r[0] else first  # regression tables leave the variable blank below its first level
            second = r[1] if len(r) > 1 and not numbers(r[1])[0] else ""
            labels.append((first, second))
    return labels, columns


def compare_csv(before: Path, after: Path, rtol: float = DEFAULT_RTOL, name: str | None = None) -> list[NumberMoved]:
    """Every number that moved by more than ``rtol`` (relative), cell by cell, between two CSVs.

    Cells are matched by position; a cell's numbers are compared in order and
    its text around them must be equal. A changed text, a different count of
    numbers in a cell, or a different shape of the table is reported too (with
    ``relative_change`` None), never skipped.
    """
    name = name or before.name
    a, b = _read_csv(before), _read_csv(after)
    moved: list[NumberMoved] = []
    if not a or not b or a[0] != b[0] or len(a) != len(b):
        what = "columns" if a and b and a[0] != b[0] else "rows"
        moved.append(
            NumberMoved(
                name,
                0,
                "",
                "",
                f"table shape ({what})",
                f"{len(a) - 1} rows x {len(a[0]) if a else 0} columns",
                f"{len(b) - 1} rows x {len(b[0]) if b else 0} columns",
                None,
            )
        )
        return moved
    labels, columns = _labels(a[0], a[1:])
    for r, (row_a, row_b) in enumerate(zip(a[1:], b[1:], strict=True), start=1):
        for c in range(max(len(row_a), len(row_b))):
            x = row_a[c] if c < len(row_a) else ""
            y = row_b[c] if c < len(row_b) else ""
            if x == y:
                continue
            column = columns[c] if c < len(columns) else f"column {c + 1}"
            (nx, sx), (ny, sy) = numbers(x), numbers(y)
            if sx != sy or len(nx) != len(ny):
                moved.append(NumberMoved(name, r, *labels[r - 1], column, x, y, None))
                continue
            for vx, vy in zip(nx, ny, strict=True):
                change = _relative(vx, vy)
                if change > rtol:
                    moved.append(
                        NumberMoved(
                            name,
                            r,
                            *labels[r - 1],
                            column,
                            repr(vx) if len(nx) > 1 else x,
                            repr(vy) if len(nx) > 1 else y,
                            change,
                        )
                    )
    return moved


def compare_tables(before: Path, after: Path, rtol: float = DEFAULT_RTOL, folders=TABLES):
    """Compare every CSV of ``folders`` under two roots; returns (numbers moved, files missing or new)."""
    moved, files = [], []
    for folder in folders:
        a = {p.name for p in (before / folder).glob("*.csv")}
        b = {p.name for p in (after / folder).glob("*.csv")}
        for missing in sorted(a - b):
            files.append(
                Finding("output not produced", "-", f"{folder}/{missing}", "committed, not written by the run")
            )
        for new in sorted(b - a):
            files.append(Finding("new output", "-", f"{folder}/{new}", "written by the run, not committed"))
        for common in sorted(a & b):
            moved += compare_csv(before / folder / common, after / folder / common, rtol, f"{folder}/{common}")
    return moved, files


def compare_bytes(before: Path, after: Path, patterns=BYTE_OUTPUTS) -> list[Finding]:
    """Outputs (figures first) whose bytes differ, or that one side lacks."""
    out = []
    for pattern in patterns:
        a = {p.relative_to(before).as_posix() for p in before.glob(pattern)}
        b = {p.relative_to(after).as_posix() for p in after.glob(pattern)}
        for rel in sorted(a | b):
            if rel not in b:
                out.append(Finding("bytes changed", "-", rel, "not produced by the run"))
            elif rel not in a:
                out.append(Finding("bytes changed", "-", rel, "new, not committed"))
            elif (before / rel).read_bytes() != (after / rel).read_bytes():
                out.append(Finding("bytes changed", "-", rel, _DIFFERS))
    return out


def packages_changed(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str, str]]:
    """(package, before, after) for every distribution whose version differs, was added or removed."""
    b = {normalise(k): v for k, v in before.items() if normalise(k) not in _TOOLS}
    a = {normalise(k): v for k, v in after.items() if normalise(k) not in _TOOLS}
    return [(k, b.get(k, "-"), a.get(k, "-")) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def failed_tests(junit_xml: Path) -> list[str]:
    """Node ids of the failed and errored tests of a pytest ``--junitxml`` report."""
    import xml.etree.ElementTree as ET

    failed = []
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            path = case.get("classname", "").replace(".", "/")
            failed.append(f"{path}.py::{case.get('name')}" if path else case.get("name", "?"))
    return failed


def nbval_cells(junit_xml: Path) -> list[str]:
    """nbval's failed cells, one line per notebook: ``04_nact_pcr.ipynb: cells 3, 5``."""
    import xml.etree.ElementTree as ET

    failed: dict[str, list[str]] = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        if case.find("failure") is None and case.find("error") is None:
            continue
        where = f"{case.get('file', '')} {case.get('classname', '')}"
        m = re.search(r"(\w+)(?:\.|::)ipynb", where)
        cell = re.sub(r"^Cell ", "", case.get("name", "?"))
        failed.setdefault(f"{m.group(1)}.ipynb" if m else where.strip(), []).append(cell)
    return [f"{nb}: cell{'s' if len(c) > 1 else ''} {', '.join(c)}" for nb, c in failed.items()]


def verdict(moved: list[NumberMoved], incomplete: list[str]) -> str:
    """ "no number changed" or "N numbers changed", saying first when the comparison is incomplete."""
    text = "no number changed" if not moved else f"{len(moved)} number{'s' if len(moved) != 1 else ''} changed"
    if incomplete:
        text = f"incomplete ({'; '.join(incomplete)}); {text} among the outputs produced"
    return text


def _md_table(header, rows) -> str:
    def esc(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _grouped(findings) -> list[str]:
    """Findings of one kind and detail on one line: ``- output not produced (3): a.csv, b.csv, c.csv``."""
    groups: dict[str, list[str]] = {}
    for f in findings:
        groups.setdefault(f"{f.kind}, {f.detail}" if f.kind not in _GROUPED else f.kind, []).append(f"`{f.symbol}`")
    return [f"- {key} ({len(v)}): {', '.join(v)}" for key, v in groups.items()]


def _fmt_change(x):
    return "" if x is None else ("inf" if math.isinf(x) else f"{x:.3g}")


def write_report(
    out: Path,
    *,
    source: str,
    rtol: float,
    changed,
    findings: list[Finding],
    tests: list[str],
    tests_run: str,
    nbval_failed: list[str] | None,
    moved: list[NumberMoved],
    bytes_changed: list[Finding],
    verdict_text: str,
    timings: dict[str, float],
) -> str:
    """Write ``report.md`` and ``report.csv`` in ``out`` and return the Markdown."""
    md = [
        f"# Upgrade check: {verdict_text}",
        "",
        f"Environment: {source}. Tolerance: relative {rtol:g}. "
        f"Compared: every number of {', '.join(f'`{t}/*.csv`' for t in TABLES)} against the committed files.",
        "",
    ]
    md += ["## Packages changed", "", _md_table(["package", "before", "after"], changed) if changed else "None.", ""]
    md += ["## Broken imports and failed notebooks", ""]
    md += [f"- {f.line()}" for f in findings if f.kind not in _GROUPED] or ["None."]
    md += _grouped(f for f in findings if f.kind in _GROUPED)
    md += ["", f"## Tests failed ({tests_run})", ""]
    md += [f"- {t}" for t in tests] or ["None."]
    md += ["", "## nbval over the committed notebooks: cells failed", ""]
    md += ["Not run."] if nbval_failed is None else ([f"- {c}" for c in nbval_failed] or ["None."])
    md += ["", "## Numbers moved", ""]
    md += [
        _md_table(
            ["file", "row", "id", "quantity", "column", "before", "after", "relative change"],
            [
                (m.file, m.row, m.id, m.quantity, m.column, m.before, m.after, _fmt_change(m.relative_change))
                for m in moved
            ],
        )
        if moved
        else "None."
    ]
    md += ["", "## Figures and other outputs that changed bytes", ""]
    md += [f"- `{f.symbol}`: {f.detail}" for f in bytes_changed if f.detail == _DIFFERS]
    md += _grouped(f for f in bytes_changed if f.detail != _DIFFERS)
    md += [] if bytes_changed else ["None."]
    md += ["", "## Timings", "", ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()), ""]
    text = "\n".join(md)
    (out / "report.md").write_text(text, encoding="utf-8")
    with open(out / "report.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["kind", "file", "row", "id", "quantity", "column", "before", "after", "relative_change", "detail"])
        w.writerow(["verdict", "", "", "", "", "", "", "", "", verdict_text])
        for name, a, b in changed:
            w.writerow(["package changed", "", "", name, "", "", a, b, "", ""])
        for f in findings:
            w.writerow([f.kind, "", "", f.package, f.symbol, "", "", "", "", f.detail])
        for t in tests:
            w.writerow(["test failed", "", "", t, "", "", "", "", "", ""])
        for c in nbval_failed or []:
            w.writerow(["nbval cells failed", "", "", "", "", "", "", "", "", c])
        for m in moved:
            w.writerow(
                [
                    "number moved",
                    m.file,
                    m.row,
                    m.id,
                    m.quantity,
                    m.column,
                    m.before,
                    m.after,
                    "" if m.relative_change is None else repr(m.relative_change),
                    "",
                ]
            )
        for f in bytes_changed:
            w.writerow(["bytes changed", f.symbol, "", "", "", "", "", "", "", f.detail])
    return text
