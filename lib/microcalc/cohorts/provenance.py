"""Provenance of the synthetic cohorts: the cache key of expensive steps, summaries and the README block
(part of :mod:`microcalc.cohorts.synthesize`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import yaml

from microcalc.cohorts.contract import CONTRACT
from microcalc.cohorts.generate import CALIBRATION_FILE, load_assumptions
from microcalc.core.cache import cache_key
from microcalc.core.outputs import sha256
from microcalc.core.paths import project_path

__all__ = [
    "cached_frame",
    "CACHE_FOLDER",
    "cache_key",
    "assumptions_table",
    "covariate_summary",
    "age_summary",
    "write_provenance",
    "write_calibration",
]


#: Where notebook 02 keeps the results of its expensive steps (git-ignored; see :func:`cache_key`).
CACHE_FOLDER = ".cache/synthesize"


def cached_frame(
    step: str, cache: str | Path, compute: Callable[[], pd.DataFrame], modules: Sequence[str] | None = None, **inputs
) -> pd.DataFrame:
    """``compute()``, kept in the folder ``cache`` (relative to the project root) under its :func:`cache_key`.

    The frame is stored as exact JSON records (``<step>-<key>.json``, written
    atomically); a later call with the same ``step``, ``inputs``, library
    source (of ``modules`` and what they import, see :func:`cache_key`) and
    package versions reads it back (the same values, bit for bit; numbers,
    text and NaN columns) instead of computing. Any change gives a new key, so a
    stale result is never read.
    """
    path = project_path(cache) / f"{step}-{cache_key(step, modules, **inputs)}.json"
    if path.is_file():
        return pd.DataFrame(json.loads(path.read_text()))
    frame = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(frame.to_dict(orient="records")))
    os.replace(tmp, path)
    return frame


# --------------------------------------------------------------------------- summaries
def assumptions_table(assumptions: dict | None = None) -> pd.DataFrame:
    """The assumptions file as a table: cohort, item, values, source."""
    a = assumptions or load_assumptions()
    rows = []
    for cohort, items in a.items():
        for item, spec in items.items():
            values = {k: v for k, v in spec.items() if k != "source"}
            text = "; ".join(f"{k}: {v}" for k, v in values.items()) or "-"
            rows.append({"cohort": cohort, "item": item, "values": text, "source": spec["source"]})
    return pd.DataFrame(rows)


def covariate_summary(frame: pd.DataFrame, cohort: str, assumptions: dict | None = None) -> pd.DataFrame:
    """Share of each category level by microcalcification group, next to the assumed share.

    Summaries only (counts and percentages), for the plausibility check of
    the synthetic covariates.
    """
    a = (assumptions or load_assumptions())["nact" if cohort == "nact_cohort" else "bone"]
    calc = frame["microcalcification"].astype(bool)
    rows = []
    for col in CONTRACT[cohort]:
        if col.kind != "category" or col.name.startswith("bone_metastasis"):
            continue
        spec = a.get(col.name, {})
        for level in col.allowed:
            row = {"variable": col.name, "level": level}
            for label, mask in (
                ("with microcalcification %", calc),
                ("without %", ~calc),
                ("all %", pd.Series(True, index=frame.index)),
            ):
                row[label] = round(100 * float((frame.loc[mask, col.name] == level).mean()), 1)
            assumed = spec.get("probabilities", {}).get(level)
            if assumed is None and "with_calcification" in spec:
                assumed = f"{spec['with_calcification'][level]:.2f} / {spec['without_calcification'][level]:.2f}"
            row["assumed"] = "-" if assumed is None else str(assumed)
            rows.append(row)
    return pd.DataFrame(rows)


def age_summary(frame: pd.DataFrame) -> pd.Series:
    """Median, quartiles and range of age (years)."""
    age = frame["age"].astype(float)
    return pd.Series(
        {"median": age.median(), "q1": age.quantile(0.25), "q3": age.quantile(0.75), "min": age.min(), "max": age.max()}
    )


def write_provenance(readme: str | Path, files: dict[str, Path], calibration: dict, root: str | Path = ".") -> Path:
    """Rewrite the provenance block of ``readme`` (between its two markers) for ``files``.

    The block names the generator, the seeds and each file's size and
    SHA-256; everything outside the markers is left as it is.
    """
    readme = Path(readme)
    start, end = "<!-- provenance:start -->", "<!-- provenance:end -->"
    text = readme.read_text(encoding="utf-8") if readme.exists() else f"# data/\n\n{start}\n{end}\n"
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    lines = [start, "", "| file | synthetic patients | generator | seed | sha256 |", "|---|---|---|---|---|"]
    for cohort, path in files.items():
        rows = sum(1 for _ in open(path, encoding="utf-8")) - 1
        seed = calibration["nact" if cohort == "nact_cohort" else "bone"]["seed"]
        rel = Path(path).resolve().relative_to(project_path(root).resolve()).as_posix()
        lines.append(f"| `{rel}` | {rows} | `microcalc.cohorts.synthesize` (notebook 02) | {seed} | `{sha256(path)}` |")
    lines += ["", end]
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(before + "\n".join(lines) + after, encoding="utf-8")
    return readme


def write_calibration(calibration: dict, path: str | Path | None = None) -> Path:
    """Write ``calibration.yaml`` with its explanatory header."""
    path = project_path(path or CALIBRATION_FILE)
    header = (
        "# Choices within feasible sets and calibrated parameters of the synthetic cohorts.\n"
        "# Written by notebooks/02_synthetic_cohorts.ipynb (microcalc.cohorts.synthesize.calibrate);\n"
        "# read by the generator. Do not edit by hand.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(calibration, sort_keys=False, width=100), encoding="utf-8")
    return path
