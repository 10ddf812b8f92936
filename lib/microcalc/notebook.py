"""Notebook conveniences: one setup call, and the versions cell."""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

__all__ = ["setup", "versions"]

_PACKAGES = ("microcalc", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn",
             "papermill", "nbval", "tableone", "pandera", "firthmodels")


def setup() -> None:
    """Display options shared by every notebook (explicit, never at import time)."""
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.width", 160)
    pd.set_option("display.precision", 4)


def versions(packages=_PACKAGES) -> pd.DataFrame:
    """Python and package versions of the running kernel (for the closing versions cell)."""
    rows = [("python", platform.python_version().rsplit(".", 1)[0] + ".x")]
    for name in packages:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"]).set_index("package")
