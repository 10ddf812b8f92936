"""Results bundles: what a site shares with a consortium, and how a received bundle is checked.

A site run (:func:`microcalc.pipeline.run.run_pipeline`) writes ``runs/<name>/bundle/``,
aggregate results only, never a patient row:

- ``terms.csv`` -- the log OR and its standard error of every model term, for
  the univariable model of each covariate and the paper's multivariable model,
  in both cohorts (non-pCR in the NACT cohort, bone metastasis in the bone
  cohort), with the number of patients and events each fit used;
- ``counts.csv`` -- the cells of the cross-tables behind every comparison
  (2x2 and 2xk): the outcome by each categorical covariate, MRI necrosis by
  microcalcification, and the type and extent of bone metastases by
  microcalcification. Under the small-group rule (:data:`microcalc.analysis.stats.MIN_GROUP_SIZE`) the
  cells of a group (a row) of fewer than 10 patients are left empty and marked
  ``suppressed``; the univariable log OR and SE of a variable with such a group are suppressed too
  (with its counts they would give the cells back); the multivariable model's terms are kept;
- ``cohorts.csv`` -- cohort sizes, events, and the complete cases of each multivariable model;
- ``bundle.json`` -- the bundle format, the data-contract version
  (:data:`microcalc.cohorts.contract.CONTRACT_VERSION`), the site's name and the software versions;
- ``run.json`` -- the run's record (inputs' sha256, parameters, versions);
- ``manifest.json`` -- the sha256 of every other file, written last.

The tables are computed in :mod:`microcalc.pipeline.bundle_aggregates` (re-exported here).
:func:`validate_bundle` checks a received bundle: the manifest lists exactly the
files present and their checksums agree, the format and contract version are
ones this compendium reads, and every table has its schema and respects the
small-group rule. A refused bundle gets one line saying why
(``python -m microcalc.pipeline.bundle validate DIR ...``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.analysis.stats import MIN_GROUP_SIZE
from microcalc.cohorts.contract import COHORTS, CONTRACT_VERSION
from microcalc.core.outputs import sha256, write_csv
from microcalc.core.paths import project_path, project_root
from microcalc.pipeline.bundle_aggregates import COMPARISONS, MODELS, SCHEMAS, bundle_tables

__all__ = [
    "BUNDLE_FORMAT",
    "results_sha256",
    "MODELS",
    "COMPARISONS",
    "SCHEMAS",
    "BundleError",
    "bundle_tables",
    "write_bundle",
    "write_run_bundle",
    "validate_bundle",
    "Bundle",
    "read_bundle",
    "main",
]

#: Version of the bundle layout (files and columns); a reader refuses any other.
BUNDLE_FORMAT = 1

_JSON_FILES = ("bundle.json", "run.json")
MANIFEST = "manifest.json"


class BundleError(ValueError):
    """A bundle that cannot be written or is refused; the message is one line."""


def _dump_json(content: dict, path: Path) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def write_bundle(cohorts: dict[str, pd.DataFrame], folder: str | os.PathLike, record: dict) -> Path:
    """Write a bundle into ``folder`` (which must not exist yet) from harmonised cohorts and a run record.

    The manifest (sha256 of every other file) is written last. ``record`` is
    the run's ``run.json`` content; its ``name`` is the site's name and its
    ``versions`` the software versions.
    """
    folder = Path(folder)
    if folder.exists():
        raise BundleError(f"{folder.name}/ exists already: a bundle is written once, into a new folder")
    if record.get("status") != "complete":
        raise BundleError("a bundle is written only for a complete run")
    folder.mkdir(parents=True)
    for name, table in bundle_tables(cohorts).items():
        write_csv(table, folder / name)
    _dump_json(
        {
            "bundle_format": BUNDLE_FORMAT,
            "contract_version": CONTRACT_VERSION,
            "site": record.get("name"),
            "software": record.get("versions", {}),
            "small_group_min": MIN_GROUP_SIZE,
        },
        folder / "bundle.json",
    )
    _dump_json(record, folder / "run.json")
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    _dump_json({"files": {f: sha256(folder / f) for f in files}}, folder / MANIFEST)
    return folder


def write_run_bundle(run_dir: str | os.PathLike, record: dict) -> Path:
    """Write ``<run_dir>/bundle/`` from the run's harmonised cohorts (``data/processed/``)."""
    from microcalc.cohorts.clean import processed_path

    run_dir = Path(run_dir)
    missing = [c for c in COHORTS if not processed_path(run_dir, c).is_file()]
    if missing:
        raise BundleError(
            f"no bundle: the run has no harmonised {' or '.join(missing)} (run the cleaning "
            "notebook 03 in the same run)"
        )
    cohorts = {c: pd.read_parquet(processed_path(run_dir, c)) for c in COHORTS}
    return write_bundle(cohorts, run_dir / "bundle", record)


def _shown(folder: Path) -> str:
    try:
        return Path(os.path.normpath(folder)).relative_to(project_root()).as_posix()
    except ValueError:
        return folder.name


def _major(version) -> str:
    return str(version).split(".", 1)[0]


def _check_table(name: str, frame: pd.DataFrame) -> list[str]:
    problems = []
    if list(frame.columns) != SCHEMAS[name]:
        return [f"{name}: columns {list(frame.columns)}, expected {SCHEMAS[name]}"]
    bad_cohort = sorted(set(frame["cohort"].astype(str)) - set(COHORTS))
    if bad_cohort:
        problems.append(f"{name}: unknown cohort(s) {bad_cohort}; allowed {list(COHORTS)}")
    if name == "terms.csv":
        bad = sorted(set(frame["model"].astype(str)) - {"univariable", "multivariable"})
        if bad:
            problems.append(f"{name}: model {bad}; allowed univariable, multivariable")
        for col in ("log_or", "se"):
            if not pd.api.types.is_numeric_dtype(frame[col]):
                problems.append(f"{name}: column {col} is not numeric")
        supp = frame["suppressed"].astype(str).str.lower() == "true"
        if frame.loc[supp, ["log_or", "se"]].notna().any().any():
            problems.append(f"{name}: a suppressed term carries an estimate")
        if pd.api.types.is_numeric_dtype(frame["se"]) and (frame["se"] <= 0).any():
            problems.append(f"{name}: a standard error is not positive (row {int(np.argmax(frame['se'] <= 0)) + 2})")
    if name == "counts.csv":
        if not pd.api.types.is_numeric_dtype(frame["count"]):
            return problems + [f"{name}: column count is not numeric"]
        supp = frame["suppressed"].astype(str).str.lower() == "true"
        if frame.loc[supp, "count"].notna().any():
            problems.append(f"{name}: a suppressed cell carries a count")
        if (frame.loc[~supp, "count"] < 0).any() or frame.loc[~supp, "count"].isna().any():
            problems.append(f"{name}: a count that is not suppressed is missing or negative")
        keys = ["cohort", "row_variable", "row_level", "column_variable"]
        totals = frame.loc[~supp].groupby(keys)["count"].sum()
        small = totals[(totals > 0) & (totals < MIN_GROUP_SIZE)]
        if len(small):
            where = ", ".join(f"{k[1]}={k[2]} by {k[3]}" for k in small.index[:3])
            problems.append(
                f"{name}: groups of fewer than {MIN_GROUP_SIZE} patients are shown ({where}): "
                "the small-group rule suppresses them"
            )
    return problems


def validate_bundle(folder: str | os.PathLike) -> dict:
    """Check a bundle folder; return its ``bundle.json`` or raise :class:`BundleError` (one line, all problems).

    Refused: a missing folder or manifest; a file missing, added or changed
    since the manifest was written (checksum); another bundle format; a
    data-contract version of another major number; a table without its
    columns, with an unknown cohort or model, a non-positive standard error,
    or counts that break the small-group rule; a run that was not complete.
    """
    folder = Path(folder)
    shown = _shown(folder)
    if not folder.is_dir():
        raise BundleError(f"{shown}: no such bundle folder")
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BundleError(f"{shown}: no readable {MANIFEST} (every bundle lists its files' sha256 there)") from None
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
    problems = []
    expected = set(SCHEMAS) | set(_JSON_FILES)
    for f in sorted(expected - set(manifest)):
        problems.append(f"{f} is not in the manifest")
    for f in sorted(set(manifest) - present):
        problems.append(f"{f} is listed in the manifest but missing")
    for f in sorted(present - set(manifest)):
        problems.append(f"{f} is not listed in the manifest (added after the bundle was written)")
    for f in sorted(set(manifest) & present):
        if sha256(folder / f) != manifest[f]:
            problems.append(f"{f} does not match its sha256 in the manifest (changed after the bundle was written)")
    if problems:
        raise BundleError(f"{shown}: " + "; ".join(problems))
    try:
        meta = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except ValueError:
        raise BundleError(f"{shown}: bundle.json or run.json is not valid JSON") from None
    if meta.get("bundle_format") != BUNDLE_FORMAT:
        raise BundleError(
            f"{shown}: bundle format {meta.get('bundle_format')!r}; this compendium reads format {BUNDLE_FORMAT} only"
        )
    if _major(meta.get("contract_version")) != _major(CONTRACT_VERSION):
        raise BundleError(
            f"{shown}: written under data-contract version {meta.get('contract_version')}; this "
            f"compendium reads version {_major(CONTRACT_VERSION)}.x only (the meaning of the "
            "data differs): rerun the site with this version"
        )
    if record.get("status") != "complete":
        problems.append(f"run.json says the run is {record.get('status')!r}, not complete")
    for name in SCHEMAS:
        try:
            frame = pd.read_csv(folder / name, dtype={"row_level": str, "column_level": str})
        except (ValueError, pd.errors.ParserError):
            problems.append(f"{name} is not a readable CSV")
            continue
        problems += _check_table(name, frame)
    if problems:
        raise BundleError(f"{shown}: " + "; ".join(problems))
    return meta


def results_sha256(folder: str | os.PathLike) -> str:
    """SHA-256 of a bundle's result tables (each table's sha256, in name order).

    Unlike the manifest's hash it leaves out ``bundle.json`` and ``run.json``,
    which record the Python and package versions and the run's times, so two
    runs with identical results have the same value whatever wrote them.
    """
    h = hashlib.sha256()
    for name in sorted(SCHEMAS):
        h.update(f"{name} {sha256(Path(folder) / name)}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Bundle:
    """A validated results bundle (:func:`read_bundle`).

    Attributes
    ----------
    site : the site's name (``bundle.json``'s, else the run folder's).
    meta : ``bundle.json``; run : ``run.json`` (JSON documents, as written).
    manifest_sha256, results_sha256 : the manifest's checksum and :func:`results_sha256`.
    terms, counts, cohorts : the three tables, with the columns of :data:`SCHEMAS`.
    """

    site: str
    meta: dict
    run: dict
    manifest_sha256: str
    results_sha256: str
    terms: pd.DataFrame
    counts: pd.DataFrame
    cohorts: pd.DataFrame


def read_bundle(folder: str | os.PathLike) -> Bundle:
    """A validated bundle: ``site``, ``meta`` (bundle.json), ``run`` (run.json) and the three tables."""
    folder = Path(folder)
    meta = validate_bundle(folder)
    tables = {
        name.removesuffix(".csv"): pd.read_csv(folder / name, dtype={"row_level": str, "column_level": str})
        for name in SCHEMAS
    }
    return Bundle(
        site=meta.get("site") or folder.parent.name,
        meta=meta,
        run=json.loads((folder / "run.json").read_text(encoding="utf-8")),
        manifest_sha256=sha256(folder / MANIFEST),
        results_sha256=results_sha256(folder),
        **tables,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.bundle validate DIR ...``.

    Exits 0 if every bundle is valid, else 1 with one line per refusal."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.bundle", description="Check results bundles.")
    sub = ap.add_subparsers(dest="command", required=True)
    val = sub.add_parser("validate", help="validate bundle folders (schema, contract version, checksums)")
    val.add_argument("folders", nargs="+")
    args = ap.parse_args(argv)
    status = 0
    for folder in args.folders:
        path = project_path(folder)
        try:
            meta = validate_bundle(path)
        except BundleError as err:
            print(f"bundle refused: {err}", file=sys.stderr)
            status = 1
            continue
        print(
            f"{_shown(path)}: valid bundle of site {meta.get('site')!r} (format {meta['bundle_format']}, "
            f"data contract {meta['contract_version']})"
        )
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
