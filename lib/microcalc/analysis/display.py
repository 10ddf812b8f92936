"""Tables for reading: labels instead of code names, no row numbers, formatted numbers, no NaN.

Generic: the labels come in as a mapping (a study passes its own, e.g.
:data:`microcalc.labels.ALL`); nothing here knows the study. The result,
:class:`Shown`, renders as an HTML table without the index in a notebook or
the HTML edition, and as plain text otherwise; the numbers it holds are the
library's own, only formatted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from microcalc.analysis.figure_style import CHOSEN_MARK
from microcalc.analysis.tables import fmt_p
from microcalc.core.paths import project_path

__all__ = ["MISSING", "Shown", "relabel", "show", "show_table_one", "written_files"]

#: What a cell without a value shows.
MISSING = "–"

_TERM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(.+)\]$")


@dataclass(frozen=True)
class Shown:
    """A table formatted for reading: every cell a string, no index.

    Attributes
    ----------
    frame : DataFrame of strings (a ``RangeIndex`` that is never shown).
    caption : optional line shown under the table.
    """

    frame: pd.DataFrame
    caption: str = ""

    def _repr_html_(self) -> str:
        body = self.frame.to_html(index=False, border=0, escape=True, classes="mc-shown")
        caption = f'<p class="mc-caption">{html.escape(self.caption)}</p>' if self.caption else ""
        return f'<div class="mc-table-scroll">{body}</div>{caption}'

    def __repr__(self) -> str:
        return self.frame.to_string(index=False) + (f"\n{self.caption}" if self.caption else "")


def _inline(label: str) -> str:
    """A label as it reads inside a sentence: "Necrosis on MRI" -> "necrosis on MRI", "pCR" stays."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def relabel(text: Any, labels: Mapping[str, str]) -> Any:
    """The label of a code name, a coefficient, or code names inside a text.

    ``labels[text]`` when ``text`` is a key; ``"Label: level"`` for a
    coefficient ``name[level]``; otherwise every key with an underscore
    (a code name, never an ordinary word) found as a whole word inside the
    text is replaced by its label as it reads inside a sentence. Anything
    else is returned unchanged.

    >>> relabel("breast_density[b]", {"breast_density": "Breast density (BI-RADS)"})
    'Breast density (BI-RADS): b'
    >>> relabel("without mri_necrosis", {"mri_necrosis": "Necrosis on MRI"})
    'without necrosis on MRI'
    """
    if not isinstance(text, str):
        return text
    if text in labels:
        return labels[text]
    term = _TERM.match(text)
    if term:
        name, level = term.groups()
        return f"{labels.get(name, name)}: {labels.get(level, level)}"
    for key in sorted((k for k in labels if "_" in k), key=len, reverse=True):
        text = re.sub(rf"(?<![\w\[]){re.escape(key)}(?![\w\]])", _inline(labels[key]), text)
    return text


def _is_p(column: str) -> bool:
    name = str(column).lower()
    return name in ("p", "q_p", "p-value") or name.startswith(("p_", "p "))


class _Percent(float):
    """A proportion already multiplied by 100, shown with one decimal whatever its column."""


def _cell(value: Any, kind: str, decimals: int, groups: Mapping[Any, str], labels: Mapping[str, str]) -> str:
    if isinstance(value, _Percent):
        return f"{round(float(value), 1) + 0.0:.1f}"
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return groups.get(bool(value), "yes" if value else "no")
    if kind == "p":
        return fmt_p(float(value)) if isinstance(value, (int, float, np.number)) else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and kind == "count":
            return str(int(value))
        places = 1 if kind == "percent" else decimals
        return f"{round(float(value), places) + 0.0:.{places}f}"  # + 0.0: never "-0.00"
    text = str(value)
    if text in ("nan", "None", "<NA>", "NaN"):
        return MISSING
    return str(relabel(text, labels))


def show(
    table: pd.DataFrame | pd.Series,
    labels: Mapping[str, str] | None = None,
    *,
    groups: Mapping[Any, str] | None = None,
    event: str | None = None,
    percent: Sequence[str] = (),
    counts: Sequence[str] = (),
    decimals: int = 2,
    drop: Sequence[str] = (),
    index: str | bool | None = None,
    percent_rows: Sequence[Any] = (),
    headers: Mapping[str, str] | None = None,
    caption: str = "",
    zeros: Sequence[str] = (),
    chosen: Mapping[str, str] | None = None,
) -> Shown:
    """``table`` for reading: labelled, formatted, without row numbers or missing-value markers.

    Parameters
    ----------
    table : the library's DataFrame (or Series, shown as one column).
    labels : code name -> label, for column names, index values and cells (:func:`relabel`).
    groups : names of the True and False groups, for yes/no cells (default "yes"/"no"); a yes/no
        column is then headed "Group".
    event : what the outcome's event is, e.g. "non-pCR": "n (events)" becomes "n (non-pCR)",
        "events" becomes the event, "rate_pct" "<event> (%)".
    percent : further columns shown with one decimal; columns whose name has "%", starts with "pct" or
        ends with "_pct" always are.
    counts : float columns shown as whole numbers when they are.
    decimals : decimals of other floats. P columns ("p", "p_*", "P ...") use :func:`fmt_p`.
    drop : columns left out.
    index : header of the index when it carries information (a non-default index is kept as the
        first column, headed ``index`` or its name); ``False`` drops it; a ``RangeIndex`` is never shown.
    percent_rows : index values of rows holding proportions, shown as percentages with one decimal.
    headers : column name -> header, taking precedence over ``labels`` (a name that means something
        else in this table).
    caption : a line shown under the table.
    zeros : columns in which an exact zero (e.g. a between-centre variance estimated at its
        boundary) shows "0", not "0.000", which would suggest a rounded small value.
    chosen : column -> note, for columns whose values were chosen among those the abstract allows
        (:func:`microcalc.analysis.plots.chosen_values`; empty on a site's data): their header is
        marked "†" and the caption ends with "† chosen, not fixed by the abstract: <note>".

    Returns
    -------
    Shown
        Every cell a string; a missing value shows :data:`MISSING`.
    """
    labels = dict(labels or {})
    groups = dict(groups or {})
    frame = table.to_frame() if isinstance(table, pd.Series) else table.copy()
    scaled = frame.index.isin(list(percent_rows))
    if scaled.any():
        frame = frame.astype(object)
        for column in frame.columns:
            frame.loc[scaled, column] = [
                _Percent(100 * v) if isinstance(v, (int, float, np.number)) and not pd.isna(v) else v
                for v in frame.loc[scaled, column]
            ]
    if index is False:
        frame = frame.reset_index(drop=True)
    elif not isinstance(frame.index, pd.RangeIndex):
        name = index or frame.index.name or ""
        frame = frame.reset_index(names=name if name else "_index_").rename(columns={"_index_": ""})
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    percent_columns = set(percent) | {
        c for c in frame.columns if "%" in str(c) or str(c).startswith("pct") or str(c).endswith("_pct")
    }
    out = {}
    for column in frame.columns:
        kind = "p" if _is_p(column) else "percent" if column in percent_columns else "count" if column in counts else ""
        values = frame[column]
        yes_no = isinstance(values.dtype, pd.BooleanDtype) or values.dtype == bool
        if yes_no:
            values = values.astype(object)
        head = (headers or {}).get(str(column)) or ("Group" if yes_no and groups else _header(column, labels, event))
        if chosen and str(column) in chosen:
            head = f"{head} {CHOSEN_MARK}"
        out[head] = [
            "0" if column in zeros and _is_zero(v) else _cell(v, kind, decimals, groups, labels) for v in values
        ]
    return Shown(pd.DataFrame(out), _with_chosen_note(caption, chosen))


def _with_chosen_note(caption: str, chosen: Mapping[str, str] | None) -> str:
    """``caption`` followed by the footnote of the chosen values (each note once)."""
    notes = list(dict.fromkeys((chosen or {}).values()))
    if not notes:
        return caption
    note = f"{CHOSEN_MARK} Chosen, not fixed by the abstract: " + "; ".join(notes) + "."
    return f"{caption} {note}" if caption else note


def _is_zero(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and float(value) == 0.0


def _header(column: Any, labels: Mapping[str, str], event: str | None) -> str:
    name = str(column)
    if event is not None:
        special = {"n (events)": f"n ({event})", "events": event, "rate_pct": f"{event} (%)"}
        if name in special:
            return special[name]
    return str(relabel(name, labels))


#: tableone's test names as Table 1 shows them, with the footnote each needs.
_TABLE_ONE_TESTS = {
    "Chi-squared": ("χ²", "χ², Pearson's chi-squared test (with Yates' continuity correction on 2 × 2 tables)"),
    "Fisher's exact": ("Fisher's exact", ""),
    "Kruskal-Wallis": ("Kruskal–Wallis", "Kruskal–Wallis, the rank test of the groups"),
    "One-way ANOVA": ("ANOVA", "ANOVA, one-way analysis of variance"),
}
#: With two groups the Kruskal–Wallis P is the Mann–Whitney U P (normal approximation with tie
#: correction, no continuity correction): R's kruskal.test and wilcox.test(correct = FALSE, exact = FALSE).
_TWO_GROUP_RANK = (
    "Mann–Whitney U",
    "Mann–Whitney U, the rank test of two groups (normal approximation, no continuity correction; computed "
    "as the Kruskal–Wallis test, which gives the same P for two groups)",
)
_WARNING = re.compile(r"^(.*?)\s*\(warning: (.*)\)$")
_RANGE = re.compile(r"\[([^\],\[]+),(\S[^\]]*)\]")


def _test_name(name: str, two_groups: bool, notes: list[str]) -> str:
    """A tableone test name as Table 1 shows it; its footnote (and a warning's) appended to ``notes``."""
    if not name:
        return ""
    match = _WARNING.match(name)
    base, warning = (match.group(1), match.group(2)) if match else (name, "")
    shown, note = _TWO_GROUP_RANK if base == "Kruskal-Wallis" and two_groups else _TABLE_ONE_TESTS.get(base, (base, ""))
    if note and note not in notes:
        notes.append(note)
    if warning:
        note = f"* {warning.replace('expected count < 5', 'an expected count below 5')}: the approximation may be poor"
        if note not in notes:
            notes.append(note)
        shown += " *"
    return shown


def show_table_one(
    table: pd.DataFrame, labels: Mapping[str, str] | None = None, groups: Mapping[str, str] | None = None
) -> Shown:
    """A tableone Table 1 for reading: one Variable and one Level column, groups named.

    Parameters
    ----------
    table : output of :func:`microcalc.analysis.tables.table_one` (rows ``(variable, level)``,
        columns ``(Grouped by <group>, ...)``).
    labels : code name -> label, for the variables and levels.
    groups : the group columns' names ("yes", "no") -> the groups' names.

    Returns
    -------
    Shown
        Variable (labelled, said once per variable), Level (a continuous variable's summary kind,
        e.g. "median [Q1, Q3]"; categories' n (%) is said in the caption), the group columns, then P
        and the test (so that they stay on a laptop's screen), Overall, SMD and Missing; empty cells
        stay empty. Tests are named in words ("χ²"; with two groups
        tableone's Kruskal–Wallis is named "Mann–Whitney U", which gives the same P; a warning
        becomes a "*"), explained with SMD in the caption.
    """
    labels = dict(labels or {})
    groups = dict(groups or {})
    heads = [column[-1] if isinstance(column, tuple) else column for column in table.columns]
    fixed = {"Missing", "Overall", "P-Value", "Test", "P-Value (adjusted)"}
    two_groups = sum(1 for h in heads if h not in fixed and not str(h).startswith("SMD")) == 2
    notes: list[str] = []
    rows = []
    previous = None
    counted = False
    for (variable, level), values in table.iterrows():
        name, _, kind = str(variable).partition(", ")
        kind = _RANGE.sub(r"[\1, \2]", kind)
        text = "Patients" if name == "n" else relabel(name, labels)
        level = "" if level is None or pd.isna(level) or level == "" else str(relabel(str(level), labels))
        if kind and kind != "n (%)":  # a summary other than the categories' n (%): said in the Level column
            level = f"{level}, {kind}" if level else kind
        elif kind:
            counted = True
        row = {"Variable": "" if variable == previous else text, "Level": level}
        previous = variable
        for head, value in zip(heads, values, strict=True):
            head = {"P-Value": "P", "Missing": "Missing"}.get(head, groups.get(head, head))
            if str(head).startswith("SMD"):
                head = "SMD"
            cell = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            row[head] = _test_name(cell, two_groups, notes) if head == "Test" else _RANGE.sub(r"[\1, \2]", cell)
        rows.append(row)
    frame = pd.DataFrame(rows)
    last = ("P", "Test", "Overall", "SMD", "Missing")
    frame = frame[[c for c in frame.columns if c not in last] + [c for c in last if c in frame.columns]]
    if counted:
        notes.insert(0, "categories as n (%)")
    if "SMD" in frame.columns:
        notes.append("SMD, standardised mean difference: the difference between the groups in standard deviations")
    caption = ("; ".join(notes) + ".") if notes else ""
    return Shown(frame, caption[:1].upper() + caption[1:] if caption[:1].isascii() else caption)


def written_files(paths: Sequence[Any], output_dir: Any = ".", caption: str = "") -> Shown:
    """The files a notebook wrote, one per row under "File", relative to ``output_dir`` (no folder of the machine).

    >>> root = project_path(".")
    >>> written_files([root / "data/results/b.csv", root / "data/results/a.csv"]).frame["File"].tolist()
    ['data/results/a.csv', 'data/results/b.csv']
    """
    base = project_path(output_dir)
    return Shown(pd.DataFrame({"File": sorted(Path(p).relative_to(base).as_posix() for p in paths)}), caption)
