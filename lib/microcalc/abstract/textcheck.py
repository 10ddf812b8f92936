"""Check the statistics of any clinical abstract or results paragraph, statcheck-style.

:func:`extract` finds, in free text, the statements whose form it supports:

* a ratio estimate (OR, RR, HR, IRR, spelled out or abbreviated) with its
  95% CI and, when printed, its P: ``OR = 1.79, 95% CI: 1.20–2.67, P = 0.004``,
  ``(OR 1.50; 95% CI 1.10-2.05; P = 0.011)``, ``HR 0.62 (0.45 to 0.85)``;
* a percentage with its count or denominator: ``96 of 200 (48.0%)``,
  ``48.0% (96/200)``, ``45.3% of the 32 patients``;
* a two-group comparison of percentages followed by a P:
  ``(20.6% vs 31.6%, P = 0.029)``, ``32 of 155 (20.6%) vs 50 of 158 (31.6%), P = 0.029``.

:func:`check_text` runs every check that applies to each statement and
returns one row per (statement, check): ``statement`` as written, ``check``,
``consistent`` (True, False, or None when the check cannot be made),
``verdict`` and ``detail`` (by how much). Every printed number is read at
its printed precision (:func:`microcalc.abstract.published.parse_reported`), so a
verdict of "inconsistent" means no value that prints as reported fits.

The checks:

``estimate inside CI``
    The estimate lies between its CI bounds.
``P from estimate and CI``
    On the log scale a Wald CI is ``log R +/- z SE``; the P that follows
    (Altman & Bland 2011, :func:`microcalc.abstract.consistency.or_ci_p_coherence`)
    must be reachable from numbers that print as reported.
``estimate at CI's log-midpoint``
    A Wald CI is symmetric around log R (a profile-likelihood or exact CI
    need not be: read a failure as a hint, see the detail).
``possible percentage``
    Between 0% and 100%, and a count no larger than its denominator.
``count gives percentage``
    ``100 k / n`` prints as the reported percentage.
``GRIM``
    Some count out of the denominator prints as the percentage.
``P from a 2x2 test``
    With both group sizes known, some 2 x 2 table that prints as the two
    percentages gives the reported P under at least one of the usual tests
    (Pearson, Yates, Fisher, Mann-Whitney, logistic Wald;
    :func:`microcalc.abstract.consistency.p_test_verdicts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from microcalc.abstract.consistency import or_ci_p_coherence, p_test_verdicts
from microcalc.abstract.published import parse_reported
from microcalc.abstract.reconstruct import SearchTooLarge, count_range, parse_share, reconstruct_2x2

__all__ = ["Share", "Statement", "extract", "check_statement", "check_text", "COLUMNS"]

#: Columns of :func:`check_text`'s table.
COLUMNS = ["statement", "check", "consistent", "verdict", "detail", "kind", "start"]

# Same-length replacements, so that offsets in the normalised text are offsets in the original.
_NORMALISE = str.maketrans(
    {"–": "-", "—": "-", "−": "-", "‒": "-", "·": ".", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "≤": "<", "≥": ">"}
)

_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)"
_COUNT = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
_P = rf"\b[Pp](?:\s*-?\s*value)?\s*(?P<prel>[=<>])\s*(?P<p>{_NUM})"
_RATIO_KIND = (
    r"(?P<kind>\b(?:a|adj\.?\s*|adjusted\s+)?(?:OR|RR|HR|IRR)s?\b"
    r"|(?i:\b(?:adjusted\s+)?(?:odds|hazard|risk|rate)\s+ratios?\b|\brelative\s+risks?\b))"
)
_CI_LABEL = r"(?:95\s*%\s*(?:CI|(?i:confidence\s+interval))|\bCI\b)"
_RATIO = re.compile(
    _RATIO_KIND
    + rf"\s*(?:\([^()]{{0,40}}\)\s*)?(?:[=:,]|\bof\b|\bwas\b)?\s*(?P<est>{_NUM})"
    + rf"\s*[,;]?\s*(?:(?:[\(\[]\s*)?{_CI_LABEL}\s*[:=,]?\s*[\(\[]?|[\(\[])"
    + rf"\s*(?P<lo>{_NUM})\s*(?:-|\bto\b|,)\s*(?P<hi>{_NUM})\s*[\)\]]?"
    + rf"(?:\s*[,;\)\]]*\s*{_P})?"
)


def _side(tag: str) -> str:
    """One group's share: ``k of n (p%)``, ``p% (k/n)``, ``p% of [the] n``, or a bare ``p%``."""
    return (
        rf"(?:(?P<k{tag}a>{_COUNT})\s*(?:of|/|out\s+of)\s*(?P<n{tag}a>{_COUNT})"
        rf"(?:\s+[A-Za-z]+){{0,2}}\s*\(\s*(?P<p{tag}a>{_NUM})\s*%\s*\)"
        rf"|(?P<p{tag}b>{_NUM})\s*%"
        rf"(?:\s*\(\s*(?:n\s*=\s*)?(?P<k{tag}b>{_COUNT})\s*(?:/|of)\s*(?P<n{tag}b>{_COUNT})\s*\)"
        rf"|\s+of\s+(?:the\s+|all\s+)?(?P<n{tag}c>{_COUNT})\b(?!\s*%))?)"
    )


_SHARE = re.compile(_side("1"))
_COMPARISON = re.compile(
    _side("1")
    + r"(?:\s+[A-Za-z]+){0,2}?\s*(?:vs\.?|versus|compared\s+(?:with|to)|and)\s*"
    + _side("0")
    + r"(?:\s+[A-Za-z]+){0,2}?\s*[,;]?\s*[\(\[]?\s*"
    + _P
)


@dataclass
class Share:
    """A printed percentage with, when printed, its count and denominator."""

    percent: str
    count: int | None = None
    n: int | None = None


@dataclass
class Statement:
    """A statement found in the text, its numbers as printed."""

    kind: str  # "ratio", "percentage" or "comparison"
    text: str
    start: int
    numbers: dict = field(default_factory=dict)


def _as_written(text: str) -> str:
    """The statement as printed, its line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


def _int(text: str | None) -> int | None:
    return None if text is None else int(text.replace(",", ""))


def _share(m: re.Match, tag: str) -> Share:
    g = m.groupdict()
    if g.get(f"p{tag}a") is not None:
        return Share(g[f"p{tag}a"] + "%", _int(g[f"k{tag}a"]), _int(g[f"n{tag}a"]))
    return Share(g[f"p{tag}b"] + "%", _int(g.get(f"k{tag}b")), _int(g.get(f"n{tag}b")) or _int(g.get(f"n{tag}c")))


def _p_text(m: re.Match) -> str | None:
    return None if m.group("p") is None else f"P {m.group('prel')} {m.group('p')}"


def extract(text: str) -> list[Statement]:
    """Every supported statement in ``text``, in the order they appear.

    Percentages that are part of a comparison are reported with it, not again
    on their own.
    """
    norm = text.translate(_NORMALISE)
    found: list[Statement] = []
    taken: list[tuple[int, int]] = []
    for m in _RATIO.finditer(norm):
        kind = re.sub(r"[^A-Za-z ]", "", m.group("kind")).strip()
        found.append(
            Statement(
                "ratio",
                _as_written(text[m.start() : m.end()]),
                m.start(),
                {
                    "measure": kind,
                    "estimate": m.group("est"),
                    "ci_low": m.group("lo"),
                    "ci_high": m.group("hi"),
                    "p": _p_text(m),
                },
            )
        )
    for m in _COMPARISON.finditer(norm):
        found.append(
            Statement(
                "comparison",
                _as_written(text[m.start() : m.end()]),
                m.start(),
                {"exposed": _share(m, "1"), "reference": _share(m, "0"), "p": _p_text(m)},
            )
        )
        taken.append((m.start(), m.end()))
    for m in _SHARE.finditer(norm):
        share = _share(m, "1")
        inside = any(a <= m.start() < b for a, b in taken)
        if inside or (share.count is None and share.n is None):
            continue  # a bare percentage may be a change ("a 150% increase"), not a share
        found.append(Statement("percentage", _as_written(text[m.start() : m.end()]), m.start(), {"share": share}))
    return sorted(found, key=lambda s: s.start)


def _row(check: str, consistent, verdict_detail: str) -> dict:
    verdict = {True: "consistent", False: "INCONSISTENT", None: "not applicable"}[consistent]
    return {"check": check, "consistent": consistent, "verdict": verdict, "detail": verdict_detail}


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _share_checks(s: Share, label: str = "") -> tuple[list[dict], bool]:
    """Rows for one share, and whether it can be used further (a possible percentage)."""
    rows = []
    name = f"{label}: " if label else ""
    try:
        rep = parse_share(s.percent, "percentage")
    except ValueError as err:
        rows.append(_row(f"{name}possible percentage", False, str(err)))
        return rows, False
    if s.n == 0:
        rows.append(_row(f"{name}possible percentage", False, "a denominator of 0"))
        return rows, False
    if s.count is not None and s.n is not None and s.count > s.n:
        rows.append(
            _row(
                f"{name}possible percentage",
                False,
                f"count {s.count} out of {s.n}: a count cannot exceed its denominator",
            )
        )
        return rows, False
    rows.append(_row(f"{name}possible percentage", True, f"{rep.text} lies in 0-100%"))
    if s.n is None:
        rows.append(_row(f"{name}GRIM", None, "denominator not given"))
        return rows, True
    frac = rep.fraction
    if s.count is not None:
        exact = 100 * s.count / s.n
        ok = bool(frac.matches(s.count / s.n))
        rows.append(
            _row(
                f"{name}count gives percentage",
                ok,
                f"{s.count}/{s.n} = {exact:.{rep.decimals + 2}f}%, reported {rep.text}",
            )
        )
        return rows, ok
    lo, hi = (int(x[0]) for x in count_range(rep, [s.n]))
    if lo <= hi:
        rows.append(_row(f"{name}GRIM", True, f"{rep.text} = {lo}/{s.n}"))
        return rows, True
    near = int(round(frac.value * s.n))
    rows.append(
        _row(
            f"{name}GRIM",
            False,
            f"no count out of {s.n} gives {rep.text}; nearest {near}/{s.n} = {100 * near / s.n:.{rep.decimals + 1}f}%",
        )
    )
    return rows, False


def _ratio_checks(nums: dict) -> list[dict]:
    est, lo, hi, p = nums["estimate"], nums["ci_low"], nums["ci_high"], nums["p"]
    try:
        e, a, b = (parse_reported(x) for x in (est, lo, hi))
        if min(e.value, a.value, b.value) <= 0:
            raise ValueError("a ratio and its CI bounds are positive")
        if a.value >= b.value:
            raise ValueError(f"CI {lo} to {hi}: the lower bound is not below the upper bound")
    except ValueError as err:
        return [_row("valid ratio and CI", False, str(err))]
    rows = []
    if e.high < a.low:
        rows.append(_row("estimate inside CI", False, f"{est} is below the CI's lower bound {lo}"))
    elif e.low > b.high:
        rows.append(_row("estimate inside CI", False, f"{est} is above the CI's upper bound {hi}"))
    else:
        rows.append(_row("estimate inside CI", True, f"{lo} <= {est} <= {hi}"))
    if p is None:
        rows.append(_row("P from estimate and CI", None, "no P printed"))
        return rows
    try:
        co = or_ci_p_coherence(est, lo, hi, p)
    except ValueError as err:
        return rows + [_row("P from estimate and CI", False, str(err))]
    span = (
        f"P from the CI {_fmt(co.p_recomputed)} (range over rounding {_fmt(co.p_min)} to "
        f"{_fmt(co.p_max)}), reported {co.p_reported.text}"
    )
    rows.append(_row("P from estimate and CI", co.p_consistent, span))
    rows.append(
        _row(
            "estimate at CI's log-midpoint",
            co.or_consistent,
            f"sqrt(low x high) = {co.or_from_ci:.4f} (range {co.or_from_ci_min:.4f} to "
            f"{co.or_from_ci_max:.4f}), reported {est}"
            + ("" if co.or_consistent else "; a Wald CI is symmetric on the log scale"),
        )
    )
    return rows


def _comparison_checks(nums: dict) -> list[dict]:
    s1, s0, p = nums["exposed"], nums["reference"], nums["p"]
    rows1, ok1 = _share_checks(s1, "group 1")
    rows0, ok0 = _share_checks(s0, "group 2")
    rows = rows1 + rows0
    check = "P from a 2x2 test"
    if not (ok1 and ok0):
        return rows + [_row(check, None, "a percentage is impossible: no table to test")]
    if s1.n is None or s0.n is None:
        return rows + [_row(check, None, "group sizes not given")]
    rep = parse_reported(p)
    if s1.count is not None and s0.count is not None:
        tables = np.array([[s1.count, s1.n - s1.count], [s0.count, s0.n - s0.count]])
        basis = f"{s1.count}/{s1.n} vs {s0.count}/{s0.n}"
    else:
        try:
            r = reconstruct_2x2(
                s1.percent, s0.percent, n_exposed=s1.n, n_reference=s0.n, orientation="event", p_tests=()
            )
        except SearchTooLarge as err:
            return rows + [_row(check, None, str(err))]
        tables = r.arrays()
        basis = f"{len(tables)} table(s) with {s1.percent} of {s1.n} and {s0.percent} of {s0.n}"
    try:
        v = p_test_verdicts(tables, rep)
    except SearchTooLarge as err:
        return rows + [_row(check, None, str(err))]
    v = v[v["reproduces"].isin(["yes", "in some tables", "no"])]
    if v.empty:
        return rows + [_row(check, None, f"{basis}: no test computable")]
    hit = v[v["reproduces"] != "no"]
    if len(hit):
        return rows + [_row(check, True, f"{basis}: {rep.text} from {', '.join(hit['test'])}")]

    def dist(row):
        return min(abs(row["p_min"] - rep.value), abs(row["p_max"] - rep.value))

    closest = min(v.to_dict("records"), key=dist)
    span = (
        _fmt(closest["p_min"])
        if _fmt(closest["p_min"]) == _fmt(closest["p_max"])
        else f"{_fmt(closest['p_min'])} to {_fmt(closest['p_max'])}"
    )
    return rows + [_row(check, False, f"{basis}: no test gives {rep.text}; closest {closest['test']} P = {span}")]


def check_statement(s: Statement) -> list[dict]:
    """Every applicable check of one statement, as rows (see :data:`COLUMNS`)."""
    if s.kind == "ratio":
        rows = _ratio_checks(s.numbers)
    elif s.kind == "percentage":
        rows = _share_checks(s.numbers["share"])[0]
    else:
        rows = _comparison_checks(s.numbers)
    return [dict(statement=s.text, kind=s.kind, start=s.start, **r) for r in rows]


def check_text(text: str) -> pd.DataFrame:
    """Extract every supported statement of ``text`` and check it.

    Returns
    -------
    DataFrame
        One row per (statement, check) with :data:`COLUMNS`; ``consistent``
        is True, False, or None where the check does not apply.
    """
    rows = [r for s in extract(text) for r in check_statement(s)]
    return pd.DataFrame(rows, columns=COLUMNS).astype({"consistent": object})
