"""Validating and harmonising a read cohort file against the contract: headers, identifiers, values
(part of :mod:`microcalc.cohorts.clean`).
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from microcalc.cohorts.contract import CONTRACT, MISSING_TOKENS, NO_TOKENS, YES_TOKENS, Column
from microcalc.cohorts.problems import Problem

__all__ = ["harmonise"]


# ------------------------------------------------------------------------- rules
def _norm_header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def _norm_token(value: str) -> str:
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def _is_missing(s: pd.Series) -> pd.Series:
    return s.str.strip().str.lower().isin(MISSING_TOKENS)


#: Unicode categories of characters that do not show: controls (NUL, tab, ...), format characters
#: (zero-width space and joiners, BOM, direction marks), separators, private-use, unassigned, surrogates.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}


#: Characters of other categories that render as blank (fillers, blank braille, variation selectors).
_INVISIBLE_OTHERS = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10)}


_CATEGORY_NAMES = {
    "Cc": "a control character",
    "Cf": "a format character",
    "Zs": "a space",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Cs": "a surrogate",
}


def _first_invisible(text: str) -> str | None:
    """The first character of ``text`` that does not show (the ASCII space aside), if any."""
    for ch in text:
        if ch != " " and (unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ord(ch) in _INVISIBLE_OTHERS):
            return ch
    return None


def _describe_char(ch: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``; a control character by its category."""
    name = unicodedata.name(ch, "") or _CATEGORY_NAMES.get(unicodedata.category(ch), "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def _invisible_problems(s: pd.Series, column: str, name: str, quote: bool) -> tuple[pd.Series, list[Problem]]:
    """Rows whose text holds an invisible character: (mask, problems); ids are never quoted."""
    suspect = s[~s.str.fullmatch(r"[\x20-\x7e]*")]  # printable ASCII needs no closer look
    found = suspect.map(_first_invisible).dropna()
    problems = [
        Problem(
            name,
            int(row),
            column,
            s[row] if quote else None,
            f"{column} contains an invisible character {_describe_char(ch)}",
            "visible characters only (no control, zero-width or non-ASCII space characters)",
        )
        for row, ch in found.items()
    ]
    return s.index.isin(found.index), problems


def _id_problems(s: pd.Series, col: Column, name: str) -> tuple[pd.Series, list[Problem]]:
    """The id column: empty, invisible characters, duplicates; reported by row, never quoting an id."""
    stripped = s.str.strip(" ")
    invisible, problems = _invisible_problems(stripped, col.name, name, quote=False)
    missing = _is_missing(s) & ~invisible
    for row in s.index[missing]:
        how = "" if stripped[row] == "" else " (a missing-value word: NA, N/A or unknown)"
        problems.append(
            Problem(name, int(row), col.name, None, "patient_id is empty" + how, "a unique, non-empty study code")
        )
    key = stripped.mask(missing | invisible)
    composed = key.notna() & ~key.fillna("").str.isascii()  # é and e + ◌́ are one id
    key[composed] = key[composed].map(lambda v: unicodedata.normalize("NFC", v))
    dup = key.duplicated(keep=False) & key.notna()
    first: dict[str, int] = {}
    for row in s.index[dup]:
        if first.setdefault(key[row], row) != row:
            problems.append(
                Problem(
                    name,
                    int(row),
                    col.name,
                    None,
                    f"duplicate patient_id: same id as row {first[key[row]]}",
                    "each patient_id once",
                )
            )
    return stripped.mask(missing | invisible).astype("string"), problems


#: An age as the contract takes it: digits, optionally padded with spaces or followed by ".0"
#: (as Excel writes a whole number); ASCII digits only, no sign but "-" (read, then out of range).
_WHOLE_NUMBER = r" *(-?[0-9]+)(?:\.0+)? *"


def _harmonise_column(col: Column, s: pd.Series, name: str) -> tuple[pd.Series, list[Problem]]:
    if col.kind == "id":
        return _id_problems(s, col, name)
    problems: list[Problem] = []
    missing = _is_missing(s)
    stripped = s.str.strip()
    if col.kind == "text":
        invisible, problems = _invisible_problems(s, col.name, name, quote=True)
        return stripped.mask(missing | invisible).astype("string"), problems
    if col.kind == "integer":
        digits = s.str.extract(f"^{_WHOLE_NUMBER}$", expand=False)
        num = pd.to_numeric(digits, errors="coerce")
        bad_type = ~missing & num.isna()
        lo, hi = col.allowed
        allowed = f"a whole number of years, {lo}-{hi} (digits, optionally followed by .0)"
        for row in s.index[bad_type]:
            problems.append(Problem(name, int(row), col.name, s[row], "not a whole number", allowed))
        out_range = ~missing & ~bad_type & ((num < lo) | (num > hi))
        for row in s.index[out_range]:
            problems.append(Problem(name, int(row), col.name, s[row], f"outside {lo}-{hi}", allowed))
        return num.where(~(bad_type | out_range)).astype("Int64"), problems
    if col.kind == "yesno":
        token = stripped.str.lower()
        yes, no = token.isin(YES_TOKENS), token.isin(NO_TOKENS)
        for row in s.index[~(yes | no | missing)]:
            problems.append(
                Problem(
                    name,
                    int(row),
                    col.name,
                    s[row],
                    "not a yes/no value",
                    "yes/no, y/n, true/false, 1/0, or empty for missing",
                )
            )
        out = pd.Series(pd.NA, index=s.index, dtype="boolean")
        out[yes] = True
        out[no] = False
        return out, problems
    # category
    lookup = {_norm_token(level): level for level in col.allowed}
    token = s.map({value: _norm_token(value) for value in s.unique()})  # normalise each distinct text once
    known = token.isin(lookup)
    for row in s.index[~(known | missing)]:
        problems.append(
            Problem(
                name,
                int(row),
                col.name,
                s[row],
                "not an allowed category",
                ", ".join(col.allowed) + " (any case; spaces or hyphens for _)",
            )
        )
    values = token.map(lookup).where(known)
    return pd.Series(pd.Categorical(values, categories=list(col.allowed)), index=s.index), problems


def _header_problems(raw: pd.DataFrame, cohort: str, name: str) -> tuple[dict[str, int], dict[str, int], list[Problem]]:
    """Map the header to column positions: (contract name -> position, extra name -> position, problems).

    Refused: two columns read as the same contract column (``age`` and
    ``AGE``), two extra columns of the same name, a column without a name
    that holds values, a name with an invisible character. A column without
    a name and without values (a trailing delimiter) is ignored.
    """
    contract = [c.name for c in CONTRACT[cohort]]
    positions: dict[str, list[int]] = {}
    problems = []
    for i, header in enumerate(raw.columns):
        header = str(header)
        if not header.strip():
            if raw.iloc[:, i].str.strip().ne("").any():
                problems.append(
                    Problem(
                        name,
                        1,
                        None,
                        None,
                        f"column {i + 1} has no name but holds values",
                        "a name in the header for every column",
                    )
                )
            continue
        ch = _first_invisible(header)
        if ch is not None:
            problems.append(
                Problem(
                    name,
                    1,
                    None,
                    None,
                    f"the name of column {i + 1} contains an invisible character {_describe_char(ch)}",
                    "column names of visible characters",
                )
            )
            continue
        norm = _norm_header(header)
        positions.setdefault(norm if norm in contract else f"extra:{header}", []).append(i)
    columns = list(map(str, raw.columns))
    for key, where in positions.items():
        if len(where) < 2:
            continue
        written = " and ".join(f"'{columns[i]}' (column {i + 1})" for i in where)
        if key.startswith("extra:"):
            problems.append(
                Problem(name, 1, key[6:], None, f"{len(where)} columns named {written}", "distinct column names")
            )
        else:
            problems.append(
                Problem(
                    name,
                    1,
                    key,
                    None,
                    f"{len(where)} columns read as {key}: {written}",
                    "each column of the contract once",
                )
            )
    ok = {k: v[0] for k, v in positions.items() if len(v) == 1}
    return (
        {k: i for k, i in ok.items() if not k.startswith("extra:")},
        {k[6:]: i for k, i in ok.items() if k.startswith("extra:")},
        problems,
    )


def harmonise(raw: pd.DataFrame, cohort: str, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Apply the contract's reading rules to a text table; return it typed, with every problem.

    Parameters
    ----------
    raw : DataFrame of strings indexed by file row number (from :func:`read_table`)
    cohort : ``"nact_cohort"`` or ``"bone_cohort"``
    name : the file name used in problem reports

    Returns
    -------
    (DataFrame, problems): the contract's columns first, typed, then any
    extra columns as text; the index keeps the file row numbers. A problem
    with ``patient_id`` never quotes the id.
    """
    contract_at, extra_at, problems = _header_problems(raw, cohort, name)
    out = {}
    for col in CONTRACT[cohort]:
        if col.name not in contract_at:
            if not any(p.column == col.name for p in problems):  # not already reported as duplicated
                problems.append(
                    Problem(
                        name,
                        1,
                        col.name,
                        None,
                        "required column missing",
                        "the columns " + ", ".join(c.name for c in CONTRACT[cohort]),
                    )
                )
            continue
        series, found = _harmonise_column(col, raw.iloc[:, contract_at[col.name]].astype(str), name)
        out[col.name] = series
        problems += found
    frame = pd.DataFrame(out, index=raw.index)
    if cohort == "bone_cohort" and {"bone_metastasis", "bone_metastasis_type", "bone_metastasis_extent"} <= set(frame):
        without = frame["bone_metastasis"].eq(False).fillna(False).astype(bool)
        for field in ("bone_metastasis_type", "bone_metastasis_extent"):
            for row in frame.index[without & frame[field].notna()]:
                problems.append(
                    Problem(
                        name,
                        int(row),
                        field,
                        raw.iloc[:, contract_at[field]][row],
                        f"{field} given for a patient without bone metastasis",
                        "empty when bone_metastasis is no",
                    )
                )
    for original, i in extra_at.items():
        frame[original] = raw.iloc[:, i].astype("string")
    return frame, problems
