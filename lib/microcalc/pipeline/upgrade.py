"""Does a dependency upgrade change any number? ``make upgrade-check`` answers it.

:func:`upgrade_check` builds a throwaway environment under ``runs/upgrade/``
from the project's pins (``requirements.lock`` when it exists, else the
exact pins of ``pyproject.toml``) with the named changes, copies the
committed project tree there (``git archive HEAD``), and in that copy:

1. probes every import the library and the notebooks make
   (:func:`collect_imports`, :func:`probe_imports`), so that a removed module
   or symbol is one line naming the package and the symbol;
2. runs nbval over the committed notebooks (:func:`nbval_cells`), every
   notebook with default parameters (a failure is one line,
   :func:`notebook_errors`) and the unit tests;
3. compares every number of every tidy results file and reconstructed table
   (``data/results/*.csv``, ``data/reconstructed/*.csv``) with the committed
   ones within a relative tolerance (:func:`compare_csv`), and the bytes of
   the figures and other outputs (:func:`compare_bytes`).

It prints a short report and writes it as Markdown and CSV in
``runs/upgrade/`` (:func:`write_report`). The committed outputs and the main
``.venv`` are never touched: everything runs in the copy, with the copy's
interpreter.

Command line: ``python -m microcalc.pipeline.upgrade [--packages "scipy==X statsmodels==Y"]
[--latest] [--rtol 1e-9] [--tests "tests/test_x.py" | --tests none] [--no-nbval]``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from microcalc.core.paths import project_path, project_root

__all__ = ["DEFAULT_RTOL", "Requirements", "NumberMoved", "Finding", "normalise", "parse_pins",
           "parse_packages", "requirements", "collect_imports", "probe_imports", "describe_error",
           "notebook_errors", "nbval_cells", "numbers", "compare_csv", "compare_tables", "compare_bytes",
           "packages_changed", "failed_tests", "verdict", "write_report", "upgrade_check", "main"]

#: Relative tolerance of the number comparison: passes floating-point noise, nothing a table prints.
DEFAULT_RTOL = 1e-9
#: Tidy results and reconstructed tables whose numbers are compared.
TABLES = ("data/results", "data/reconstructed")
#: Outputs compared byte for byte: figures first, then other written files.
BYTE_OUTPUTS = ("figures/*.png", "figures/*.svg", "data/results/*.html", "data/raw/*.csv",
                "data/synthetic/calibration.yaml")
#: Findings listed on one line per kind in the Markdown report, and the detail of a file whose bytes differ.
_GROUPED = ("output not produced", "new output")
_DIFFERS = "differs from the committed file"
#: Packaging tools of the environment itself, not dependencies of the project.
_TOOLS = {"pip", "setuptools", "wheel", "microcalc"}

_NUMBER = re.compile(r"(?<![\w.)\]])[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|NaN|inf|-inf)\b")


def normalise(name: str) -> str:
    """A distribution name in PEP 503 form (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------- requirements

@dataclass
class Requirements:
    """What the throwaway environment installs, and from where."""
    lines: list[str]
    source: str
    hashed: bool = False
    baseline: dict[str, str] = field(default_factory=dict)
    lock_text: str = ""

    def file_text(self) -> str:
        """The requirements file pip installs: the lock verbatim (with its hashes) when nothing is changed."""
        return self.lock_text if self.hashed else "\n".join(self.lines) + "\n"


def parse_pins(text: str) -> dict[str, list[str]]:
    """Pinned requirement lines of a lock or requirements file, by normalised name.

    Hash lines, comments and options are dropped; a name may have several
    lines (one per environment marker).
    """
    pins: dict[str, list[str]] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = re.sub(r"\s--hash=\S+", "", line.split(" #", 1)[0]).strip()
        if not line or line.startswith(("#", "-")):
            continue
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;]+)\s*(;.*)?$", line)
        if m:
            pins.setdefault(normalise(m.group(1)), []).append(line)
    return pins


def parse_packages(spec: str) -> dict[str, str]:
    """``"scipy==1.17.2 statsmodels==0.14.4"`` -> requirement by normalised name; refuses anything else."""
    from packaging.requirements import InvalidRequirement, Requirement

    out, bad = {}, []
    for item in spec.split():
        try:
            req = Requirement(item)
        except InvalidRequirement:
            bad.append(item)
            continue
        if not req.specifier:
            bad.append(item)
            continue
        out[normalise(req.name)] = str(req)
    if bad:
        raise ValueError(f"PACKAGES takes requirements such as scipy==1.17.2, separated by spaces; "
                         f"not understood: {', '.join(bad)}")
    return out


def _pin_version(line: str) -> str | None:
    m = re.search(r"==\s*([^\s;,]+)", line)
    return m.group(1) if m else None


def _applies(line: str) -> bool:
    """Whether a requirement line's environment marker holds for the running interpreter."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        return False
    return req.marker is None or req.marker.evaluate()


def _latest_range(requirement: str) -> str:
    """The declared range of a direct dependency; an exact pin ``==X.Y.Z`` is read as its patch series."""
    from packaging.requirements import Requirement

    req = Requirement(requirement)
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and re.fullmatch(r"\d+\.\d+\.\d+", specs[0].version):
        major, minor, _ = specs[0].version.split(".")
        return f"{req.name}>={specs[0].version},=={major}.{minor}.*"
    return requirement


def requirements(root: Path, packages: dict[str, str] | None = None, latest: bool = False) -> Requirements:
    """The requirement lines of the throwaway environment.

    ``requirements.lock`` (hashed, whole environment) when it exists, else the
    exact pins of ``pyproject.toml``; each named package replaces its pin. With
    ``latest``, the direct dependencies of ``pyproject.toml`` within their
    declared ranges (an exact pin stands for its patch series: ``==1.17.1``
    allows ``1.17.*`` from 1.17.1 on) and nothing else pinned. Hash checking
    needs every line hashed, so it is kept only when nothing is changed.
    """
    packages = packages or {}
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = {normalise(re.split(r"[\s=<>!~;\[]", d, maxsplit=1)[0]): d for d in project["dependencies"]}
    lock = root / "requirements.lock"
    if lock.is_file():
        text = lock.read_text(encoding="utf-8")
        pins = {k: v for k, v in parse_pins(text).items() if k not in _TOOLS}
        source = "requirements.lock"
    else:
        text = None
        pins = {k: [v] for k, v in direct.items()}
        source = "pyproject.toml pins"
    baseline: dict[str, str] = {}  # the pinned version of each package whose marker applies to this Python (3.11)
    for k, v in pins.items():
        here = {version for x in v if _applies(x) and (version := _pin_version(x)) is not None}
        if len(here) == 1:
            baseline[k] = here.pop()
    if latest:
        wanted = {k: [_latest_range(v)] for k, v in direct.items()}
        source = "newest releases within pyproject.toml's ranges (exact pins read as their patch series)"
    else:
        wanted = dict(pins)
    unknown = sorted(set(packages) - set(pins) - set(direct))
    wanted.update({k: [v] for k, v in packages.items()})
    if packages:
        source += " with " + " ".join(packages.values())
        if unknown:
            source += f" (not pinned before: {', '.join(unknown)})"
    hashed = text is not None and not packages and not latest
    lines = [line for v in wanted.values() for line in v]
    return Requirements(lines=lines, source=source, hashed=hashed, baseline=baseline,
                        lock_text=text if text is not None and hashed else "")


# --------------------------------------------------------------------------- imports

def _code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        # IPython magics and shell escapes are not Python
        return "\n".join(line for cell in cells for line in cell.splitlines()
                         if not line.lstrip().startswith(("%", "!")))
    return path.read_text(encoding="utf-8")


def collect_imports(paths, own: str = "microcalc") -> dict[tuple[str, str | None], list[str]]:
    """Every ``import X`` and ``from X import Y`` of third-party code in the files.

    Returns ``{(module, name or None): [file, ...]}``; relative imports, the
    standard library and the project's own package are left out.
    """
    found: dict[tuple[str, str | None], list[str]] = {}
    stdlib = set(sys.stdlib_module_names)
    for path in paths:
        path = Path(path)
        for node in ast.walk(ast.parse(_code_of(path))):
            if isinstance(node, ast.Import):
                pairs: list[tuple[str, str | None]] = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                pairs = [(node.module, a.name) for a in node.names if a.name != "*"]
            else:
                continue
            for module, name in pairs:
                top = module.split(".")[0]
                if top in stdlib or top == own or top == "__future__":
                    continue
                files = found.setdefault((module, name), [])
                if path.name not in files:
                    files.append(path.name)
    return found


_PROBE = r"""
import importlib, json, sys
from importlib import metadata
wanted = json.load(sys.stdin)
dists = {k: sorted(set(v)) for k, v in metadata.packages_distributions().items()}
versions = {}
for names in dists.values():
    for d in names:
        try:
            versions[d] = metadata.version(d)
        except Exception:
            pass
failures = []
for module, name in wanted:
    try:
        mod = importlib.import_module(module)
        if name is not None and not hasattr(mod, name):
            try:
                importlib.import_module(module + "." + name)
            except ModuleNotFoundError as err:
                if err.name != module + "." + name:
                    raise
                raise ImportError("cannot import name %r from %r" % (name, module)) from None
    except BaseException as err:
        failures.append({"module": module, "name": name, "ename": type(err).__name__,
                         "evalue": str(err)})
print(json.dumps({"failures": failures, "dists": dists, "versions": versions}))
"""


@dataclass
class Finding:
    """One line of the report: what kind, about which package and symbol, and what happened."""
    kind: str
    package: str
    symbol: str
    detail: str

    def line(self) -> str:
        return f"{self.kind}: {self.package}: {self.symbol} ({self.detail})"


def _env_of(python: Path, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("MICROCALC_ROOT", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"PYTHONNOUSERSITE": "1", "JUPYTER_PREFER_ENV_PATH": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    env.update(extra or {})
    return env


def _no_paths(text: str) -> str:
    """An error message without the machine's paths: ``(/x/y/_util.py)`` dropped, other paths cut to the file."""
    text = re.sub(r"\s*\((?:/|[A-Za-z]:\\)[^()]*\)\s*$", "", text)
    return re.sub(r"(?<![\w<>.])(?:/[\w.+-]+)+/([\w.+-]+)", r"\1", text)


def _first_line(text: str) -> str:
    text = str(text).strip()
    return _no_paths(text.splitlines()[0]) if text else ""


def _package(top: str, dists: dict[str, list[str]], versions: dict[str, str], ename: str = "") -> str:
    """The distribution(s) providing a top-level module, with version: ``statsmodels 0.14.4``."""
    names = dists.get(top) or ([top] if top in versions else [])
    if names:
        return ", ".join(f"{d} {versions.get(d, '?')}" for d in names)
    return f"{top} (not installed)" if ename == "ModuleNotFoundError" else top


def describe_error(ename: str, evalue: str, dists: dict[str, list[str]], versions: dict[str, str],
                   fallback_module: str | None = None) -> tuple[str, str]:
    """(package with version, symbol) named by an import or attribute error's message.

    ``cannot import name 'X' from 'a.b'`` names ``a.b.X``; ``module 'a.b' has
    no attribute 'X'`` names ``a.b.X``; ``No module named 'a.b'`` names
    ``a.b``. The package is the distribution that provides the symbol's
    top-level module in the environment.
    """
    patterns = ((r"cannot import name '([^']+)' from '([^']+)'", lambda m: f"{m.group(2)}.{m.group(1)}"),
                (r"module '([^']+)' has no attribute '([^']+)'", lambda m: f"{m.group(1)}.{m.group(2)}"),
                (r"No module named '([^']+)'", lambda m: m.group(1)))
    symbol = next((name(m) for rx, name in patterns if (m := re.search(rx, evalue))), fallback_module or "?")
    return _package(symbol.split(".")[0], dists, versions, ename), symbol


def probe_imports(python: Path, imports: dict, cwd: Path | None = None, env: dict | None = None):
    """Import every collected module and name with ``python``; one :class:`Finding` per failure.

    The finding names the package whose import fails (with its version) and
    the missing symbol, with the package that should provide it when that is
    another one (statsmodels failing on a symbol scipy removed).

    Returns ``(findings, dists, versions)``: the distributions providing each
    top-level module and their versions in that environment.
    """
    wanted = sorted(imports, key=lambda k: (k[0], k[1] or ""))
    run = subprocess.run([str(python), "-c", _PROBE], input=json.dumps(wanted), capture_output=True, text=True,
                         cwd=cwd, env=env if env is not None else _env_of(python))
    if run.returncode != 0:
        last = "".join(run.stderr.strip().splitlines()[-1:])
        raise RuntimeError(f"the import probe did not run: {_first_line(last)}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    dists, versions = result["dists"], result["versions"]
    findings = []
    for f in result["failures"]:
        provider, symbol = describe_error(f["ename"], f["evalue"], dists, versions, f["module"])
        importer = f["module"].split(".")[0]
        package = _package(importer, dists, versions, f["ename"])
        if symbol.split(".")[0] != importer:
            symbol = f"{symbol} (from {provider})"
        statement = f"import {f['module']}" if f["name"] is None else f"from {f['module']} import {f['name']}"
        used = ", ".join(imports[(f["module"], f["name"])])
        findings.append(Finding("broken import", package, symbol,
                                f"`{statement}` in {used}: {f['ename']}: {_first_line(f['evalue'])}"))
    return findings, dists, versions


def notebook_errors(path: Path, dists: dict | None = None, versions: dict | None = None) -> list[Finding]:
    """The error a failed notebook shows, as one finding per failing cell (no traceback)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    findings = []
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") != "error":
                continue
            ename, evalue = out.get("ename", "Error"), str(out.get("evalue", ""))
            first = _first_line(evalue)
            if ename in ("ImportError", "ModuleNotFoundError", "AttributeError"):
                package, symbol = describe_error(ename, evalue, dists or {}, versions or {})
            else:
                package, symbol = "-", "-"
            findings.append(Finding("notebook failed", package, symbol,
                                    f"{path.name}, code cell {number}: {ename}: {first}"))
    return findings


# --------------------------------------------------------------------------- comparison

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
        columns = [f"{h} / {s}" if header.count(h) > 1 else h
                   for h, s in zip(header, rows[0] + [""] * len(header), strict=False)]
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
        moved.append(NumberMoved(name, 0, "", "", f"table shape ({what})",
                                 f"{len(a) - 1} rows x {len(a[0]) if a else 0} columns",
                                 f"{len(b) - 1} rows x {len(b[0]) if b else 0} columns", None))
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
                    moved.append(NumberMoved(name, r, *labels[r - 1], column,
                                             repr(vx) if len(nx) > 1 else x, repr(vy) if len(nx) > 1 else y, change))
    return moved


def compare_tables(before: Path, after: Path, rtol: float = DEFAULT_RTOL, folders=TABLES):
    """Compare every CSV of ``folders`` under two roots; returns (numbers moved, files missing or new)."""
    moved, files = [], []
    for folder in folders:
        a = {p.name for p in (before / folder).glob("*.csv")}
        b = {p.name for p in (after / folder).glob("*.csv")}
        for missing in sorted(a - b):
            files.append(Finding("output not produced", "-", f"{folder}/{missing}",
                                 "committed, not written by the run"))
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
    """"no number changed" or "N numbers changed", saying first when the comparison is incomplete."""
    text = "no number changed" if not moved else f"{len(moved)} number{'s' if len(moved) != 1 else ''} changed"
    if incomplete:
        text = f"incomplete ({'; '.join(incomplete)}); {text} among the outputs produced"
    return text


# --------------------------------------------------------------------------- report

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


def write_report(out: Path, *, source: str, rtol: float, changed, findings: list[Finding], tests: list[str],
                 tests_run: str, nbval_failed: list[str] | None, moved: list[NumberMoved],
                 bytes_changed: list[Finding], verdict_text: str,
                 timings: dict[str, float]) -> str:
    """Write ``report.md`` and ``report.csv`` in ``out`` and return the Markdown."""
    md = [f"# Upgrade check: {verdict_text}", "",
          f"Environment: {source}. Tolerance: relative {rtol:g}. "
          f"Compared: every number of {', '.join(f'`{t}/*.csv`' for t in TABLES)} against the committed files.", ""]
    md += ["## Packages changed", "",
           _md_table(["package", "before", "after"], changed) if changed else "None.", ""]
    md += ["## Broken imports and failed notebooks", ""]
    md += [f"- {f.line()}" for f in findings if f.kind not in _GROUPED] or ["None."]
    md += _grouped(f for f in findings if f.kind in _GROUPED)
    md += ["", f"## Tests failed ({tests_run})", ""]
    md += [f"- {t}" for t in tests] or ["None."]
    md += ["", "## nbval over the committed notebooks: cells failed", ""]
    md += ["Not run."] if nbval_failed is None else ([f"- {c}" for c in nbval_failed] or ["None."])
    md += ["", "## Numbers moved", ""]
    md += [_md_table(["file", "row", "id", "quantity", "column", "before", "after", "relative change"],
                     [(m.file, m.row, m.id, m.quantity, m.column, m.before, m.after, _fmt_change(m.relative_change))
                      for m in moved]) if moved else "None."]
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
            w.writerow(["number moved", m.file, m.row, m.id, m.quantity, m.column, m.before, m.after,
                        "" if m.relative_change is None else repr(m.relative_change), ""])
        for f in bytes_changed:
            w.writerow(["bytes changed", f.symbol, "", "", "", "", "", "", "", f.detail])
    return text


# --------------------------------------------------------------------------- the check

class UpgradeError(RuntimeError):
    """The throwaway environment could not be built; the message says why."""


def _step(label: str, cmd, log: Path, root: Path, **kw) -> subprocess.CompletedProcess:
    run = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"$ {label}\n{run.stdout}\n{run.stderr}\n".replace(str(root), "<project>"))
    return run


def _copy_tree(root: Path, tree: Path) -> None:
    """The committed project (``git archive HEAD``), without uncommitted changes."""
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", "HEAD"], capture_output=True)
    if archive.returncode != 0:
        raise UpgradeError("git archive HEAD failed: the check needs the project's git history")
    tree.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")


def _clear_outputs(tree: Path) -> None:
    """Remove the copies of the compared outputs, so that an output not produced is seen missing."""
    for folder in TABLES:
        for p in (tree / folder).glob("*"):
            if p.is_file():
                p.unlink()
    for pattern in ("figures/*.png", "figures/*.svg", "data/results/*.html"):
        for p in tree.glob(pattern):
            p.unlink()


def _installed(python: Path, env: dict) -> dict[str, str]:
    code = ("import json; from importlib import metadata; "
            "print(json.dumps({d.metadata['Name']: d.version for d in metadata.distributions()}))")
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env)
    return json.loads(run.stdout) if run.returncode == 0 else {}


def _build_environment(base: str, out: Path, tree: Path, hashed: bool, root: Path, log: Path):
    """Create ``out/venv`` and install the requirements, the project copy and its kernel.

    Returns ``(python, env, None)``, or ``(None, None, reason)`` naming the step that failed.
    """
    venv = out / "venv"
    py = venv / "bin" / "python"
    env = _env_of(py, {"MICROCALC_ROOT": str(tree), "VIRTUAL_ENV": str(venv)})
    steps = [("venv", [base, "-m", "venv", venv]),
             ("pip", [py, "-m", "pip", "install", "--quiet", "pip==26.3"]),
             ("dependencies", [py, "-m", "pip", "install", "--quiet", "-r", out / "requirements.txt"]
              + (["--require-hashes"] if hashed else [])),
             ("project", [py, "-m", "pip", "install", "--quiet", "--no-deps", "-e", tree]),
             ("kernel", [py, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
                         "--display-name", "Python 3 (microcalc upgrade check)"])]
    for label, cmd in steps:
        run = _step(label, cmd, log, root, env=env)
        if run.returncode != 0:
            errors = [line.strip() for line in (run.stderr or run.stdout).splitlines() if line.strip()]
            return None, None, f"{label}: " + "; ".join(errors[-4:]).replace(str(root), "<project>")
    return py, env, None


def _nbval(py: Path, env: dict, tree: Path, notebooks: list[Path], out: Path, root: Path, log: Path) -> list[str]:
    """nbval over the committed notebooks of the copy (before papermill rewrites them); failed cells."""
    junit = out / "nbval.xml"
    run = _step("nbval", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "--nbval",
                          "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
                          *(nb.relative_to(tree) for nb in notebooks)], log, root, env=env, cwd=tree)
    return nbval_cells(junit) if junit.is_file() else [f"nbval did not run (exit {run.returncode})"]


def _execute(py: Path, env: dict, tree: Path, notebooks: list[Path], dists: dict, versions: dict, root: Path,
             log: Path) -> tuple[list[str], list[Finding]]:
    """Run every notebook in place in the copy with papermill; (failed notebooks, one finding per error)."""
    failed, findings = [], []
    for nb in notebooks:
        print(f"running {nb.name} ...", flush=True)
        run = _step(nb.name, [py, "-m", "microcalc.pipeline.execute", nb], log, root, env=env, cwd=tree)
        if run.returncode != 0:
            failed.append(nb.name)
            errors = notebook_errors(nb, dists, versions) or [
                Finding("notebook failed", "-", "-", f"{nb.name}: see runs/upgrade/log.txt")]
            for f in errors:
                print("  " + f.line(), flush=True)
            findings += errors
    return failed, findings


def _unit_tests(py: Path, env: dict, tree: Path, tests: str, out: Path, root: Path, log: Path) -> list[str]:
    junit = out / "tests.xml"
    run = _step("tests", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *tests.split()],
                log, root, env=env, cwd=tree)
    return failed_tests(junit) if junit.is_file() else [f"pytest did not run (exit {run.returncode})"]


def upgrade_check(packages: str = "", latest: bool = False, rtol: float = DEFAULT_RTOL, tests: str = "tests",
                  python: str | None = None, out: Path | None = None, nbval: bool = True) -> tuple[str, int]:
    """Run the whole check (see the module's docstring) and write its report.

    Parameters
    ----------
    packages : named changes, ``"scipy==1.17.0 statsmodels==0.14.4"``.
    latest : newest releases within the declared ranges instead of the pins.
    rtol : relative tolerance of the number comparison.
    tests : pytest arguments for the unit tests (``"none"`` skips them).
    python : the Python 3.11 that creates the environment (this one's base by default).
    out : the check's folder, ``runs/upgrade`` by default (emptied first).
    nbval : also run nbval over the committed notebooks in the new environment.

    Returns
    -------
    (verdict, exit status): 0 when no number changed and nothing failed, 1 otherwise,
    2 when the environment could not be built.
    """
    root = project_root()
    reqs = requirements(root, parse_packages(packages), latest)  # refuses a bad PACKAGES before anything is removed
    run_tests = tests.strip() not in ("", "none")
    out = out or project_path("runs/upgrade")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    log, tree = out / "log.txt", out / "tree"
    timings: dict[str, float] = {}
    t0 = t = time.perf_counter()

    def lap(name):
        nonlocal t
        timings[name] = time.perf_counter() - t
        t = time.perf_counter()

    print(f"upgrade check: environment from {reqs.source}", flush=True)
    _copy_tree(root, tree)
    shutil.copytree(tree, out / "committed", ignore=shutil.ignore_patterns("notebooks", "tests", "lib", "benchmarks"))
    _clear_outputs(tree)
    (out / "requirements.txt").write_text(reqs.file_text(), encoding="utf-8")
    print("building the throwaway environment in runs/upgrade/venv ...", flush=True)
    base = python or str(getattr(sys, "_base_executable", sys.executable))
    py, env, failure = _build_environment(base, out, tree, reqs.hashed, root, log)
    lap("environment")
    report: dict[str, Any] = dict(source=reqs.source, rtol=rtol, tests_run=tests if run_tests else "not run",
                                  timings=timings)
    if failure:
        text = f"environment could not be built ({failure})"
        write_report(out, changed=[], findings=[Finding("install", "-", failure.split(":")[0], failure)], tests=[],
                     nbval_failed=None, moved=[], bytes_changed=[], verdict_text=text, **report)
        print(text, file=sys.stderr)
        return text, 2

    baseline = reqs.baseline if (root / "requirements.lock").is_file() else {
        d.metadata["Name"]: d.version for d in metadata.distributions()}  # this (main) environment, read only
    changed = packages_changed(baseline, _installed(py, env))
    print(f"  {len(changed)} packages differ from the baseline", flush=True)

    notebooks = sorted((tree / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    imports = collect_imports(sorted((tree / "lib" / "microcalc").rglob("*.py")) + notebooks)
    findings, dists, versions = probe_imports(py, imports, cwd=tree, env=env)
    for f in findings:
        print("  " + f.line(), flush=True)
    lap("import probe")
    nbval_failed = None
    if nbval:
        print("running nbval over the committed notebooks ...", flush=True)
        nbval_failed = _nbval(py, env, tree, notebooks, out, root, log)
        lap("nbval")
    failed_notebooks, errors = _execute(py, env, tree, notebooks, dists, versions, root, log)
    findings += errors
    lap("notebooks")
    tests_failed = []
    if run_tests:
        print(f"running the unit tests ({tests}) ...", flush=True)
        tests_failed = _unit_tests(py, env, tree, tests, out, root, log)
        lap("tests")

    moved, files = compare_tables(out / "committed", tree, rtol)
    bytes_changed = compare_bytes(out / "committed", tree)
    findings += files
    incomplete = ([f"{len(failed_notebooks)} notebook(s) failed"] if failed_notebooks else []) + \
                 ([f"{len(files)} table(s) not produced or new"] if files else [])
    text = verdict(moved, incomplete)
    timings["total"] = time.perf_counter() - t0
    md = write_report(out, changed=changed, findings=findings, tests=tests_failed, nbval_failed=nbval_failed,
                      moved=moved, bytes_changed=bytes_changed, verdict_text=text, **report)
    print("\n" + md)
    print("report: runs/upgrade/report.md and runs/upgrade/report.csv")
    ok = not moved and not findings and not tests_failed and not nbval_failed
    return text, 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.upgrade``: does an upgrade change any number? (see the module's docstring)"""
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.upgrade", description=main.__doc__)
    ap.add_argument("--packages", default="", help='changes, e.g. "scipy==1.17.2 statsmodels==0.14.4"')
    ap.add_argument("--latest", action="store_true", help="newest releases within the declared ranges")
    ap.add_argument("--rtol", type=float, default=DEFAULT_RTOL, help="relative tolerance (default 1e-9)")
    ap.add_argument("--tests", default="tests",
                    help='pytest arguments for the unit tests (default: tests; "none" skips them)')
    ap.add_argument("--no-nbval", action="store_true", help="skip nbval over the committed notebooks")
    ap.add_argument("--python", default=None, help="the Python 3.11 that builds the environment")
    args = ap.parse_args(argv)
    try:
        _, status = upgrade_check(args.packages, args.latest, args.rtol, args.tests, args.python,
                                  nbval=not args.no_nbval)
    except (ValueError, UpgradeError) as err:
        print(f"upgrade check: {err}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
