"""The paper's reported numbers, read exactly as printed.

A printed number carries its precision: "20.6%" means any value that rounds
to 20.6, that is the closed interval [20.55, 20.65] (closed, so that both
round-half-up and round-half-to-even readings are admitted); "P < 0.001"
means [0, 0.001); "313" means exactly 313. :func:`parse_reported` turns such
a string into a :class:`Reported` that can test computed values against it,
and :func:`load_published` reads ``data/published/abstract_statistics.csv``
without letting pandas turn "1.780" into 1.78.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.core.paths import project_path

__all__ = [
    "PUBLISHED_FILE",
    "Reported",
    "format_fixed",
    "format_p",
    "format_percent",
    "load_published",
    "parse_reported",
]

#: The machine-readable copy of every statistic in the abstract.
PUBLISHED_FILE = "data/published/abstract_statistics.csv"

_NUMBER = r"(?P<number>[0-9]*\.?[0-9]+)"
_PATTERN = re.compile(
    r"^\s*(?:(?P<p>p)\s*(?P<rel>=|<|>|≤|≥|<=|>=)?\s*)?" + _NUMBER + r"\s*(?P<pct>%)?\s*$", re.IGNORECASE
)

# Relative slack for floating-point noise at a rounding boundary.
_EPS = 1e-9


@dataclass(frozen=True)
class Reported:
    """A number as a paper printed it, with the interval its printing allows.

    Attributes
    ----------
    text : str
        The string as printed, e.g. ``"P < 0.001"``.
    value : float
        The printed number (``0.001``; a percentage stays in percent).
    decimals : int
        Digits after the decimal point, the printing precision.
    relation : str
        ``"="``, ``"<"`` or ``">"``.
    low, high : float
        The values the printing admits (``low <= x <= high`` for ``"="``,
        ``low <= x < high`` for ``"<"``, ``low < x <= high`` for ``">"``).
    is_percent, is_p : bool
        Whether it was printed with ``%`` or as a P value.
    """

    text: str
    value: float
    decimals: int
    relation: str
    low: float
    high: float
    is_percent: bool = False
    is_p: bool = False

    def matches(self, x) -> np.ndarray:
        """Whether each computed value ``x`` prints as this number (vectorised; nan never matches)."""
        x = np.asarray(x, dtype=float)
        slack = _EPS * max(1.0, abs(self.value))
        with np.errstate(invalid="ignore"):
            if self.relation == "<":
                ok = (x >= self.low - slack) & (x < self.high)
            elif self.relation == ">":
                ok = (x > self.low) & (x <= self.high + slack)
            else:
                ok = (x >= self.low - slack) & (x <= self.high + slack)
        return ok & ~np.isnan(x)

    @property
    def fraction(self) -> Reported:
        """The same reported value on the 0-1 scale (a percentage divided by 100)."""
        if not self.is_percent:
            return self
        return Reported(
            self.text,
            self.value / 100,
            self.decimals + 2,
            self.relation,
            self.low / 100,
            self.high / 100,
            False,
            self.is_p,
        )

    def __str__(self) -> str:
        return self.text


def parse_reported(text) -> Reported:
    """Parse a printed number: ``"20.6%"``, ``"1.780"``, ``"P = 0.029"``, ``"P < 0.001"``, ``"313"``.

    Parameters
    ----------
    text : str or Reported
        The number exactly as printed. A bare number with no decimal point is
        an exact integer; otherwise the printed digits give the precision.

    Returns
    -------
    Reported

    Raises
    ------
    ValueError
        If the text is not a number in one of these forms.
    """
    if isinstance(text, Reported):
        return text
    raw = str(text)
    m = _PATTERN.match(raw.replace("·", "."))
    if not m and re.match(r"^\s*(?:p\s*[=<>]?\s*)?[-\u2212]\s*[0-9.]", raw, re.IGNORECASE):
        raise ValueError(f"{raw!r} is negative: counts, percentages, ratios and P values are not")
    if not m:
        raise ValueError(
            f"cannot read {raw!r} as a reported number; expected forms like '20.6%', '1.780', "
            "'P = 0.029', 'P < 0.001' or '313'"
        )
    number = m.group("number")
    value = float(number)
    decimals = len(number.split(".")[1]) if "." in number else 0
    rel = {"≤": "<", "<=": "<", "≥": ">", ">=": ">", None: "="}.get(m.group("rel"), m.group("rel"))
    is_p = m.group("p") is not None
    is_percent = m.group("pct") is not None
    if not np.isfinite(value):
        raise ValueError(f"cannot read {raw!r} as a reported number: too large")
    if is_p and value > 1:
        raise ValueError(f"{raw!r} is not a possible P value: a P lies between 0 and 1")
    upper_bound = 100.0 if is_percent else (1.0 if is_p else np.inf)
    if rel == "<":
        low, high = 0.0, value
    elif rel == ">":
        low, high = value, upper_bound
    elif decimals == 0 and not (is_percent or is_p):
        low = high = value  # a count such as "313" is exact
    else:
        half = 0.5 * 10.0 ** (-decimals)
        low, high = max(0.0, value - half), min(upper_bound, value + half)
    return Reported(raw, value, decimals, rel, low, high, is_percent, is_p)


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """Read the table of published statistics, every field as text.

    Parameters
    ----------
    path : str or Path, optional
        The CSV; by default :data:`PUBLISHED_FILE` in the project.

    Returns
    -------
    DataFrame
        One row per reported statistic, indexed by its stable ``id``; empty
        fields are empty strings, never NaN, and "1.780" stays "1.780".
    """
    path = Path(path) if path is not None else project_path(PUBLISHED_FILE)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if table["id"].duplicated().any():
        dupes = sorted(table.loc[table["id"].duplicated(), "id"])
        raise ValueError(f"{path}: duplicate ids {dupes}")
    return table.set_index("id", drop=False)


def format_fixed(x: float, decimals: int) -> str:
    """``x`` printed with ``decimals`` digits, as a paper would (``1.7795 -> "1.780"`` for 3)."""
    return f"{x:.{decimals}f}"


def format_percent(fraction: float, decimals: int = 1) -> str:
    """A proportion printed as a percentage: ``format_percent(32/155) == "20.6%"``."""
    return f"{100 * fraction:.{decimals}f}%"


def format_p(p: float | None, decimals: int = 3, label: bool = True) -> str:
    """A P value printed as clinical papers do; the one P formatter of the library.

    With ``label`` (running text): ``"P = 0.029"``, ``"P < 0.001"`` below the
    precision (never ``"P = 0.000"``), ``"P not estimable"`` for a missing P.
    Without (a table cell): ``"0.029"``, ``"<0.001"``, ``"-"``.

    >>> format_p(0.0293), format_p(0.00004), format_p(0.0293, label=False), format_p(float("nan"), label=False)
    ('P = 0.029', 'P < 0.001', '0.029', '-')
    """
    if p is None or pd.isna(p):
        return "P not estimable" if label else "-"
    floor = 10.0 ** (-decimals)
    if p < floor:
        return f"P < {floor:.{decimals}f}" if label else f"<{floor:.{decimals}f}"
    return f"P = {p:.{decimals}f}" if label else f"{p:.{decimals}f}"
