"""The figure style: colours, saving, the synthetic-data label, clinical names and chosen values."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from microcalc.core.paths import project_path

__all__ = [
    "CHOSEN_HATCH",
    "CHOSEN_MARK",
    "GROUP_LABELS",
    "LEVEL_LABELS",
    "MICROCALCIFICATION",
    "NEUTRAL",
    "NO_MICROCALCIFICATION",
    "OKABE_ITO",
    "OTHER_COLOURS",
    "SYNTHETIC_LABEL",
    "VARIABLE_LABELS",
    "chosen_values",
    "clinical_label",
    "clinical_text",
    "fixed_and_chosen_table",
    "forest_rows",
    "level_label",
    "mark_synthetic",
    "save_figure",
    "term_label",
    "use_style",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
#: The one colour of "with microcalcification" on every figure (blue; also the exposure's colour in the DAG).
MICROCALCIFICATION = OKABE_ITO[0]
#: The comparison group, without microcalcification (grey).
NO_MICROCALCIFICATION = "#9A9A9A"
#: Estimates that are not of microcalcification (other covariates, necrosis).
NEUTRAL = "#333333"
#: Every other colour a figure may use: the palette without the blues, so nothing else looks like microcalcification.
OTHER_COLOURS = (OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[5], OKABE_ITO[3], OKABE_ITO[6], OKABE_ITO[7])
#: The two groups, in the order the cohorts' tables give them (True first).
GROUP_LABELS = {True: "with microcalcification", False: "without microcalcification"}
#: Hatching of a bar or segment whose value was chosen, not fixed by the abstract.
CHOSEN_HATCH = "///"
#: The mark beside a number that was chosen, not fixed by the abstract.
CHOSEN_MARK = "†"
#: The label of a figure made from the bundled synthetic data.
SYNTHETIC_LABEL = "synthetic data"
_SYNTHETIC_GID = "mc-synthetic-label"
_GROUPS = tuple(GROUP_LABELS.values())

#: The clinical names figures use for variables and category levels: set by :func:`use_style` from
#: the study's display labels (``microcalc.labels``); empty until then, when code names are shown
#: with spaces for underscores. This module holds no study's names itself.
VARIABLE_LABELS: dict[str, str] = {}
LEVEL_LABELS: dict[str, str] = {}


def use_style(variables: Mapping[str, str] | None = None, levels: Mapping[str, str] | None = None) -> None:
    """Apply the compendium's matplotlib style (legible on the page and in print, deterministic SVG ids).

    The colour cycle is :data:`OTHER_COLOURS`: a figure that does not choose
    its colours never draws in the colour of microcalcification. ``variables``
    and ``levels`` (code name -> clinical name, e.g. ``microcalc.labels.VARIABLES``
    and ``LEVELS``) become the names every figure shows (:data:`VARIABLE_LABELS`,
    :data:`LEVEL_LABELS`), so tables and figures use the same words.
    """
    VARIABLE_LABELS.clear()
    VARIABLE_LABELS.update(variables or {})
    LEVEL_LABELS.clear()
    LEVEL_LABELS.update(levels or {})
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "font.size": 10.5,
            "axes.titlesize": 11.5,
            "axes.labelsize": 10.5,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "legend.fontsize": 9.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": cycler(color=OTHER_COLOURS),
            "hatch.linewidth": 0.8,
            "svg.hashsalt": "microcalc",
            "svg.fonttype": "none",
        }
    )


def save_figure(fig, name: str, output_dir: str | os.PathLike = ".") -> list[Path]:
    """Write ``fig`` as ``<output_dir>/figures/<name>.png`` and ``.svg``; return the paths.

    ``name`` starts with the number of the notebook that made it
    (``"03_participant_flow"``). Metadata that would change between runs
    (software version, date) is left out.
    """
    folder = project_path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        path = folder / f"{name}.{ext}"
        fig.savefig(path, format=ext, metadata=meta)
        paths.append(path)
    return paths


def mark_synthetic(fig, synthetic: bool):
    """Put the small "synthetic data" label above the top right corner of ``fig`` (a figure or axes) when ``synthetic``.

    Call it with :func:`microcalc.study.is_bundled` of the run's data folder:
    a figure of a site's data never carries the label. Marking twice leaves
    one label. Returns the figure.
    """
    fig = fig.get_figure() if hasattr(fig, "get_figure") and fig.get_figure() is not None else fig
    if synthetic and not any(t.get_gid() == _SYNTHETIC_GID for t in fig.texts):
        fig.text(
            0.995,
            1.0,
            SYNTHETIC_LABEL,
            ha="right",
            va="bottom",
            fontsize=9,
            style="italic",
            color="#5A4300",
            gid=_SYNTHETIC_GID,
            bbox={"boxstyle": "round,pad=0.3", "facecolor": "#FFF4D6", "edgecolor": "#B08A2E", "linewidth": 0.6},
        )
    return fig


# ----------------------------------------------------------------------------- clinical labels
def clinical_label(variable: str) -> str:
    """The clinical name of a contract variable ("Breast density (BI-RADS)" for ``breast_density``)."""
    return VARIABLE_LABELS.get(variable, str(variable).replace("_", " ").capitalize())


def level_label(level) -> str:
    """The clinical name of a category level ("HER2-enriched" for ``her2_enriched``)."""
    return LEVEL_LABELS.get(str(level), str(level).replace("_", " "))


def clinical_text(text: str) -> str:
    """``text`` with every snake_case code name of a contract variable or level replaced by its clinical name.

    "without mri_necrosis (n = 313)" becomes "without necrosis on MRI (n = 313)".
    """
    names = {k: v[:1].lower() + v[1:] if not v[:2].isupper() else v for k, v in VARIABLE_LABELS.items()}
    names.update(LEVEL_LABELS)
    return re.sub(
        r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", lambda m: names.get(m.group(0), m.group(0).replace("_", " ")), str(text)
    )


def term_label(variable: str, level: str, reference: str | None = None) -> str:
    """A regression row as a clinician reads it.

    "Microcalcification (present vs absent)", "Age (per year)",
    "Breast density (BI-RADS): b vs a" (with the ``reference`` level), or
    "Molecular subtype: HER2-enriched" (without).
    """
    name = clinical_label(variable)
    if level == "yes":
        return f"{name} (present vs absent)" if variable not in ("menopausal_status",) else name
    if level == "per unit":
        name = re.sub(r" \(.*\)$", "", name)  # "Age (years)" -> "Age (per year)"
        return f"{name} (per year)" if variable == "age" else f"{name} (per unit)"
    return f"{name}: {level_label(level)}" + (f" vs {level_label(reference)}" if reference is not None else "")


def forest_rows(tidy: pd.DataFrame, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """``tidy`` rows of :func:`microcalc.analysis.tables.regression_table` with a clinical ``label`` column.

    With ``data`` (the analysed cohort), each category level is named against
    its reference, the first level of the column's categories.
    """

    def reference(variable):
        if data is None or variable not in data or not isinstance(data[variable].dtype, pd.CategoricalDtype):
            return None
        return str(data[variable].cat.categories[0])

    return tidy.assign(
        label=[term_label(v, lev, reference(v)) for v, lev in zip(tidy["variable"], tidy["level"], strict=True)]
    )


# ----------------------------------------------------------------------------- fixed by the abstract, or chosen
def chosen_values(assumptions: Mapping, cohort: str) -> dict[str, str]:
    """The values of ``cohort`` chosen among those the abstract allows: key -> the short note a figure prints.

    Read from the ``fixed_and_chosen`` item of ``data/synthetic/assumptions.yaml``
    (:func:`microcalc.cohorts.synthesize.load_assumptions`). Pass ``{}`` instead on a
    site's data, where nothing was chosen.
    """
    chosen = assumptions.get(cohort, {}).get("fixed_and_chosen", {}).get("chosen", {})
    return {key: spec["note"] for key, spec in chosen.items()}


def fixed_and_chosen_table(assumptions: Mapping) -> pd.DataFrame:
    """Every value the synthetic cohorts show, fixed by the abstract or chosen, with how: one row each.

    Columns: ``cohort``, ``value``, ``fixed or chosen``, ``how``, from the
    ``fixed_and_chosen`` items of the assumptions.
    """
    rows = []
    for cohort, items in assumptions.items():
        spec = items.get("fixed_and_chosen", {})
        for kind, label in (("fixed", "fixed by the abstract"), ("chosen", f"chosen {CHOSEN_MARK}")):
            for entry in spec.get(kind, {}).values():
                rows.append({"cohort": cohort, "value": entry["what"], "fixed or chosen": label, "how": entry["how"]})
    return pd.DataFrame(rows, columns=["cohort", "value", "fixed or chosen", "how"])


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.fill(part, width) for part in str(text).split("\n"))


def _chosen_footnote(note: str, hatched: bool, width: int = 60) -> str:
    return _wrap(f"{'hatched, ' if hatched else ''}{CHOSEN_MARK} chosen, not fixed by the abstract: {note}", width)
