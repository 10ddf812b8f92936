"""The data contract: the two cohort files every notebook reads, and a site brings.

One definition, :data:`CONTRACT`, drives everything else: the pandera schemas
that validate harmonised cohorts (:func:`schema`), the data dictionary in
``data/README.md`` (:func:`dictionary_markdown`, kept in sync by a test), the
canonical reader of the bundled files (:func:`read_canonical`) and the
category order used as reference level in models (the first listed).

Reading rules (the cleaning notebook enforces them on messy site files):
values are case-insensitive and surrounding spaces are ignored; in category
labels a space or a hyphen reads as an underscore ("Luminal A",
"HER2-enriched"); yes/no columns also accept y/n, true/false and 1/0; empty,
NA, N/A and unknown mean missing; ``patient_id`` and ``center`` are text
without invisible characters; ``age`` is digits, optionally padded with spaces
or followed by ``.0``; each contract column appears once; extra columns are
allowed and kept, under distinct names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = [
    "CONTRACT_VERSION",
    "Column",
    "CONTRACT",
    "COHORTS",
    "MISSING_TOKENS",
    "YES_TOKENS",
    "NO_TOKENS",
    "categories",
    "schema",
    "read_canonical",
    "to_canonical_csv",
    "dictionary_markdown",
]

#: Version of the data contract ("major.minor"). A change that alters what a column means or
#: which values it allows raises the major number; results bundles (``microcalc.pipeline.bundle``) from
#: another major version are refused when pooled.
CONTRACT_VERSION = "1.0"

#: Text read as a missing value (after lower-casing and stripping).
MISSING_TOKENS = ("", "na", "n/a", "unknown")
#: Text read as yes / no in a yes/no column.
YES_TOKENS = ("yes", "y", "true", "1")
NO_TOKENS = ("no", "n", "false", "0")


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    Attributes
    ----------
    name : str
    kind : str
        ``"id"`` (unique non-empty text), ``"text"``, ``"integer"``,
        ``"category"`` or ``"yesno"``.
    meaning : str
    allowed : tuple
        Category labels in order (first = reference level), or ``(min, max)``
        for an integer.
    nullable : bool
        Whether a missing value is allowed.
    missing_means : str
        What a missing value means, where it may be missing.
    """

    name: str
    kind: str
    meaning: str
    allowed: tuple = ()
    nullable: bool = False
    missing_means: str = ""


_AGE = Column("age", "integer", "years at diagnosis", (18, 100))
_MENO = Column("menopausal_status", "category", "", ("premenopausal", "postmenopausal"))
_CALC = Column("microcalcification", "yesno", "mammographic microcalcification: the exposure")
_SUBTYPE = Column("molecular_subtype", "category", "", ("luminal_a", "luminal_b", "her2_enriched", "triple_negative"))
_PATH = Column(
    "pathology_type", "category", "invasive ductal (NST), invasive lobular, other", ("ductal", "lobular", "other")
)

#: The contract: cohort name -> its columns, in file order.
CONTRACT: dict[str, tuple[Column, ...]] = {
    "nact_cohort": (
        Column("patient_id", "id", "a study code, never a name or record number"),
        _AGE,
        _MENO,
        Column("breast_density", "category", "BI-RADS (5th edition) density", ("a", "b", "c", "d")),
        Column("mass", "yesno", "mass on mammography"),
        _CALC,
        _SUBTYPE,
        _PATH,
        Column(
            "mri_necrosis",
            "yesno",
            "tumour necrosis on MRI",
            nullable=True,
            missing_means="no MRI, or necrosis not assessable",
        ),
        Column("pcr", "yesno", "pathological complete response after NACT: the outcome"),
    ),
    "bone_cohort": (
        Column("patient_id", "id", "a study code, never a name or record number"),
        Column("center", "text", 'site code, kept as text ("007" stays "007")'),
        _AGE,
        _MENO,
        _SUBTYPE,
        _PATH,
        _CALC,
        Column("t_stage", "category", "", ("T1", "T2", "T3", "T4")),
        Column("n_stage", "category", "", ("N0", "N1", "N2", "N3")),
        Column("bone_metastasis", "yesno", "bone metastasis: the outcome"),
        Column(
            "bone_metastasis_type",
            "category",
            "",
            ("osteolytic", "osteoblastic", "mixed"),
            nullable=True,
            missing_means="no bone metastasis",
        ),
        Column(
            "bone_metastasis_extent",
            "category",
            "axial skeleton only, limbs only, or both",
            ("axial", "appendicular", "whole_body"),
            nullable=True,
            missing_means="no bone metastasis",
        ),
    ),
}

#: The cohort names.
COHORTS = tuple(CONTRACT)


def categories(cohort: str, column: str) -> tuple[str, ...]:
    """The allowed labels of a category column, reference level first."""
    col = {c.name: c for c in CONTRACT[cohort]}[column]
    return col.allowed


def _dtype(col: Column):
    if col.kind in ("id", "text"):
        return pd.StringDtype()
    if col.kind == "integer":
        return pd.Int64Dtype()
    if col.kind == "yesno":
        return pd.BooleanDtype()
    return pd.CategoricalDtype(list(col.allowed), ordered=False)


def schema(cohort: str, complete: bool = False):
    """The pandera schema of a harmonised cohort (typed as :func:`read_canonical` returns it).

    Checks types, allowed values and ranges, unique non-empty ids and, for
    the bone cohort, that type and extent are given only for patients with
    bone metastasis (and, with ``complete``, exactly for them). Missing values
    are allowed in every column but ``patient_id`` (a patient missing what an
    analysis needs is left out of that analysis); ``complete=True`` allows
    them only where the contract expects them (``nullable``), as in the
    bundled synthetic cohorts. Extra columns are allowed.
    """
    import pandera.pandas as pa

    cols = {}
    for col in CONTRACT[cohort]:
        checks = []
        if col.kind == "integer":
            checks.append(pa.Check.in_range(*col.allowed))
        if col.kind == "category":
            checks.append(pa.Check.isin(list(col.allowed)))
        if col.kind in ("id", "text"):
            checks.append(pa.Check.str_length(min_value=1))
        nullable = col.nullable if complete else col.kind != "id"
        cols[col.name] = pa.Column(
            _dtype(col), checks=checks, nullable=nullable, unique=col.kind == "id", coerce=False, required=True
        )
    frame_checks = []
    if cohort == "bone_cohort":
        for field in ("bone_metastasis_type", "bone_metastasis_extent"):
            if complete:
                frame_checks.append(
                    pa.Check(
                        lambda df, f=field: df[f].notna() == df["bone_metastasis"].fillna(False).astype(bool),
                        element_wise=False,
                        error=f"{field} must be given exactly when bone_metastasis is yes",
                    )
                )
            else:
                frame_checks.append(
                    pa.Check(
                        lambda df, f=field: df[f].isna() | df["bone_metastasis"].fillna(False).astype(bool),
                        element_wise=False,
                        error=f"{field} may be given only when bone_metastasis is yes",
                    )
                )
    return pa.DataFrameSchema(cols, checks=frame_checks, strict=False, name=cohort)


def read_canonical(path: str | Path, cohort: str) -> pd.DataFrame:
    """Read a cohort file written in the contract's canonical form and type it.

    Canonical form: UTF-8 comma-separated, yes/no as ``yes``/``no``, missing
    as an empty field, category labels exactly as listed. Files from a site
    go through the cleaning step instead, which applies the reading rules.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    out = raw.copy()
    for col in CONTRACT[cohort]:
        s = raw[col.name]
        if col.kind == "yesno":
            out[col.name] = s.map({"yes": True, "no": False, "": pd.NA}).astype("boolean")
        elif col.kind == "integer":
            out[col.name] = pd.to_numeric(s.replace("", pd.NA)).astype("Int64")
        elif col.kind == "category":
            out[col.name] = pd.Categorical(s.replace("", pd.NA), categories=list(col.allowed))
        else:
            out[col.name] = s.astype("string")
    return out


def to_canonical_csv(frame: pd.DataFrame, cohort: str) -> pd.DataFrame:
    """The text form of a typed cohort as the canonical file holds it (yes/no, empty for missing)."""
    out = pd.DataFrame(index=frame.index)
    for col in CONTRACT[cohort]:
        s = frame[col.name]
        if col.kind == "yesno":
            out[col.name] = s.map({True: "yes", False: "no"}).fillna("")
        else:
            out[col.name] = s.astype("string").fillna("")
    return out


def dictionary_markdown(cohort: str) -> str:
    """The data dictionary of one cohort as a Markdown table (for ``data/README.md``)."""
    kinds = {"id": "text", "text": "text", "integer": "integer", "category": "category", "yesno": "yes/no"}
    lines = ["| column | type | allowed values | meaning | missing |", "|---|---|---|---|---|"]
    for col in CONTRACT[cohort]:
        if col.kind == "integer":
            allowed = f"{col.allowed[0]}–{col.allowed[1]}"
        elif col.kind == "category":
            allowed = ", ".join(col.allowed) + f" (reference: {col.allowed[0]})"
        elif col.kind == "yesno":
            allowed = "yes, no"
        elif col.kind == "id":
            allowed = "unique, non-empty"
        else:
            allowed = "non-empty"
        if col.kind == "id":
            missing = "not allowed"
        elif col.nullable:
            missing = f"expected when {col.missing_means}"
        else:
            missing = "allowed; the patient is left out of analyses that need it"
        lines.append(f"| `{col.name}` | {kinds[col.kind]} | {allowed} | {col.meaning} | {missing} |")
    return "\n".join(lines)
