"""The environment of a site run: the package versions ``run.json`` records, the variables the kernels inherit,
and the command line's values taken from ``$MICROCALC_*`` (part of :mod:`microcalc.pipeline.run`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
from importlib import metadata
from pathlib import Path

from microcalc.core.cache import ENV as RESULT_CACHE
from microcalc.core.paths import RUN_DIR_ENV, STAGING_DIR_ENV

__all__ = ["KEY_PACKAGES"]

#: Packages whose versions ``run.json`` records.
KEY_PACKAGES = (
    "microcalc",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "firthmodels",
    "tableone",
    "matplotlib",
    "openpyxl",
    "pyarrow",
    "papermill",
    "nbconvert",
)


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in KEY_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


class _StagingEnvironment(contextlib.AbstractContextManager):
    """Set ``$MICROCALC_RUN_DIR`` and ``$MICROCALC_STAGING_DIR`` (inherited by the kernels) for a while.

    ``$MICROCALC_RESULT_CACHE`` is removed meanwhile: a site's run computes every result and keeps none.
    """

    def __init__(self, final: Path, staging: Path):
        self.values = {RUN_DIR_ENV: str(final), STAGING_DIR_ENV: str(staging)}
        self.saved: dict[str, str | None] = {}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in (*self.values, RESULT_CACHE)}
        os.environ.update(self.values)
        os.environ.pop(RESULT_CACHE, None)  # a site's run keeps no result of its data outside its run folder
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return False


def _args_from_env(args: argparse.Namespace) -> str | None:
    """Fill the command line's values from ``$MICROCALC_*`` (``--from-env``); the usage line when one is missing."""
    env = os.environ
    usage = {
        "run": "make run DATA=<folder> NAME=<run name>",
        "sites": "make sites SITES=<sites.yaml>",
        "check-run": "make check-run NAME=<run name>",
    }[args.from_env]
    needed = {
        "run": ("MICROCALC_DATA", "MICROCALC_NAME"),
        "sites": ("MICROCALC_SITES",),
        "check-run": ("MICROCALC_NAME",),
    }[args.from_env]
    if not all(env.get(k) for k in needed):
        return usage
    args.data_dir, args.name = env.get("MICROCALC_DATA"), env.get("MICROCALC_NAME")
    args.sites = env.get("MICROCALC_SITES") if args.from_env == "sites" else None
    args.check_run = args.name if args.from_env == "check-run" else None
    args.workers = int(env["MICROCALC_WORKERS"]) if env.get("MICROCALC_WORKERS", "").isdigit() else None
    args.scheduler = env.get("MICROCALC_SCHEDULER") or None
    return None
