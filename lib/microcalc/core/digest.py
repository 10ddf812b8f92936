"""Content digests that let a build step skip a rerun whose inputs are byte for byte unchanged.

A step (the HTML edition, the causal diagram) names its input files, each by a
name relative to the project (``"notebooks/03_x.ipynb"``), so the digest does
not depend on where the project lies. :func:`inputs_sha256` hashes, in the order
of those names, each name and the file's bytes, together with the step's
settings, the exact Python (``sys.version``) and the installed package set
(:func:`package_set_sha256`, every distribution's ``name==version``).
Modification times never enter: touching a file changes nothing, changing one
byte of one input changes the digest.

After a complete build the step writes a record (:func:`write_record`,
atomically, last of all): the inputs' digest and the SHA-256 of every file it
wrote. :func:`is_up_to_date` says whether a record matches the inputs' digest
and every recorded output still exists with the recorded bytes; a step deletes
its record before it starts rebuilding, so an interrupted build is never taken
as up to date.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

__all__ = ["package_set", "package_set_sha256", "inputs_sha256", "write_record", "read_record", "is_up_to_date"]


def package_set() -> list[str]:
    """Every installed distribution as ``name==version`` (name normalised as PEP 503), sorted."""
    pins = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            normal = "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))
            pins.add(f"{normal}=={dist.version}")
    return sorted(pins)


def package_set_sha256(pins: list[str] | None = None) -> str:
    """SHA-256 of the package set, one ``name==version`` per line with a final newline."""
    pins = package_set() if pins is None else pins
    return hashlib.sha256("".join(p + "\n" for p in pins).encode()).hexdigest()


def inputs_sha256(files: Mapping[str, Path], settings: Mapping[str, object]) -> str:
    """SHA-256 of named input files' bytes, a step's ``settings`` (JSON), the Python and the package set.

    Each file enters as its name, its length and its bytes, in the order of the
    names, so that no two different sets of inputs give the same stream.

    >>> import tempfile; folder = Path(tempfile.mkdtemp()); (folder / "a").write_bytes(b"x")
    1
    >>> one = inputs_sha256({"a": folder / "a"}, {"pdf": True})
    >>> one == inputs_sha256({"a": folder / "a"}, {"pdf": True}), one == inputs_sha256({"a": folder / "a"}, {})
    (True, False)
    >>> one == inputs_sha256({"b": folder / "a"}, {"pdf": True})
    False
    """
    h = hashlib.sha256()
    context = {"settings": settings, "python": sys.version, "packages": package_set_sha256()}
    h.update(json.dumps(context, sort_keys=True).encode() + b"\0")
    for name in sorted(files):
        data = files[name].read_bytes()
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_record(record: Path, digest: str, n_inputs: int, outputs: Mapping[str, Path]) -> None:
    """Write (atomically: a temporary file renamed) the inputs' digest and the SHA-256 of each output."""
    body = {
        "inputs_sha256": digest,
        "input_files": n_inputs,
        "outputs": {name: _sha256(path) for name, path in sorted(outputs.items())},
    }
    record.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=record.parent, prefix=f".{record.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(body, indent=1) + "\n")
        os.replace(tmp, record)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_record(record: Path) -> dict | None:
    """The record written by :func:`write_record`, or None if it is missing or unreadable."""
    try:
        body = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("outputs"), dict):
        return None
    return body


def is_up_to_date(record: Path, digest: str, outputs: Mapping[str, Path]) -> bool:
    """Whether ``record`` holds ``digest`` and names exactly ``outputs``, each a file with the recorded bytes."""
    body = read_record(record)
    if body is None or body.get("inputs_sha256") != digest or set(body["outputs"]) != set(outputs):
        return False
    return all(path.is_file() and _sha256(path) == body["outputs"][name] for name, path in outputs.items())
