"""Notebook conveniences: one setup call, and the versions cell."""

from __future__ import annotations

import re
from importlib import metadata

import pandas as pd

__all__ = ["setup", "versions", "supported_pythons"]

_PACKAGES = (
    "microcalc",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "papermill",
    "nbval",
    "tableone",
    "pandera",
    "firthmodels",
)


def setup() -> None:
    """Display options shared by every notebook (explicit, never at import time)."""
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.width", 160)
    pd.set_option("display.precision", 4)


def supported_pythons() -> str:
    """The Python versions the compendium supports, from its ``Requires-Python`` (``">=3.11,<3.14"``).

    Printed as ``"3.11-3.13"``. Every supported Python gives the same outputs
    (the CI runs the whole pipeline under two of them), so the versions cell
    shows this range rather than the running interpreter, which would make the
    committed notebooks differ by Python alone; the exact interpreter of each
    ``make all`` is in its receipt, ``run_info.json`` (:mod:`microcalc.pipeline.receipt`).
    """
    spec = metadata.metadata("microcalc")["Requires-Python"] or ""
    lo = re.search(r">=\s*3\.(\d+)", spec)
    hi = re.search(r"<\s*3\.(\d+)", spec)
    if not (lo and hi):
        return spec or "unknown"
    return f"3.{lo.group(1)}-3.{int(hi.group(1)) - 1}"


def versions(packages=_PACKAGES) -> pd.DataFrame:
    """Package versions of the running kernel, and the supported Pythons (for the closing versions cell).

    The package versions come from the universal lock and are the same under
    every supported Python; the Python row gives the supported range (see
    :func:`supported_pythons`).
    """
    rows = [("python", supported_pythons())]
    for name in packages:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"]).set_index("package")
