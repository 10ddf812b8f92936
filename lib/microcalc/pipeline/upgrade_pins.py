"""The project's pins and the requested changes to them (part of :mod:`microcalc.pipeline.upgrade`)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["normalise", "Requirements", "parse_pins", "parse_packages", "requirements"]


#: Packaging tools of the environment itself, not dependencies of the project.
_TOOLS = {"pip", "setuptools", "wheel", "microcalc"}


def normalise(name: str) -> str:
    """A distribution name in PEP 503 form (``Foo_Bar`` -> ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


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
        raise ValueError(
            f"PACKAGES takes requirements such as scipy==1.17.2, separated by spaces; not understood: {', '.join(bad)}"
        )
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
        here = {p for p in (_pin_version(x) for x in v if _applies(x)) if p is not None}
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
    return Requirements(
        lines=lines,
        source=source,
        hashed=hashed,
        baseline=baseline,
        lock_text=text if hashed and text is not None else "",
    )
