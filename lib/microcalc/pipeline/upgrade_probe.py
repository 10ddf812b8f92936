"""Every import of the library and the notebooks, probed in another environment, and a failure in one
line naming the package and the symbol (part of :mod:`microcalc.pipeline.upgrade`).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["collect_imports", "Finding", "describe_error", "probe_imports", "notebook_errors"]


def _code_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        # IPython magics and shell escapes are not Python
        return "\n".join(
            line for cell in cells for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
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
            pairs: list[tuple[str, str | None]]
            if isinstance(node, ast.Import):
                pairs = [(a.name, None) for a in node.names]
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
    env.update(
        {
            "PYTHONNOUSERSITE": "1",
            "JUPYTER_PREFER_ENV_PATH": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "PATH": f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
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


def describe_error(
    ename: str, evalue: str, dists: dict[str, list[str]], versions: dict[str, str], fallback_module: str | None = None
) -> tuple[str, str]:
    """(package with version, symbol) named by an import or attribute error's message.

    ``cannot import name 'X' from 'a.b'`` names ``a.b.X``; ``module 'a.b' has
    no attribute 'X'`` names ``a.b.X``; ``No module named 'a.b'`` names
    ``a.b``. The package is the distribution that provides the symbol's
    top-level module in the environment.
    """
    patterns = (
        (r"cannot import name '([^']+)' from '([^']+)'", lambda m: f"{m.group(2)}.{m.group(1)}"),
        (r"module '([^']+)' has no attribute '([^']+)'", lambda m: f"{m.group(1)}.{m.group(2)}"),
        (r"No module named '([^']+)'", lambda m: m.group(1)),
    )
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
    run = subprocess.run(
        [str(python), "-c", _PROBE],
        input=json.dumps(wanted),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env if env is not None else _env_of(python),
    )
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or [""])[-1]
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
        findings.append(
            Finding(
                "broken import", package, symbol, f"`{statement}` in {used}: {f['ename']}: {_first_line(f['evalue'])}"
            )
        )
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
            findings.append(
                Finding("notebook failed", package, symbol, f"{path.name}, code cell {number}: {ename}: {first}")
            )
    return findings
