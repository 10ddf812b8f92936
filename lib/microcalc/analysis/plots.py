"""One figure style, one way to save figures, and the figures more than one notebook needs.

:func:`use_style` is called explicitly by each notebook (nothing happens at
import). :func:`save_figure` writes PNG and SVG under
``<output_dir>/figures/`` with fixed metadata, so rerunning gives the same
bytes. Colours are the Okabe-Ito palette, safe for colour-blind readers, and
one of them, :data:`MICROCALCIFICATION`, means "with microcalcification" on
every figure and is used for nothing else (:data:`OTHER_COLOURS` holds the
rest, the style's colour cycle among them).

Every plotting function takes ``synthetic``: when true (the bundled synthetic
cohorts, :func:`microcalc.study.is_bundled`), the figure carries a small
"synthetic data" label (:func:`mark_synthetic`); on a site's data it never does.
Values chosen among the possibilities the abstract leaves open (listed in
``data/synthetic/assumptions.yaml``, read by :func:`chosen_values`) are hatched
(:data:`CHOSEN_HATCH`) or marked with :data:`CHOSEN_MARK`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from microcalc.core.paths import project_path

if TYPE_CHECKING:
    from microcalc.analysis.pooling import RandomEffectsPooled

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
    "forest_plot",
    "forest_rows",
    "level_label",
    "mark_synthetic",
    "plot_centre_forest",
    "plot_flow",
    "plot_or_comparison",
    "plot_published_vs_reproduced",
    "plot_rates",
    "plot_stacked_shares",
    "published_vs_reproduced",
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

    mpl.rcParams.update({
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
    })


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
        fig.text(0.995, 1.0, SYNTHETIC_LABEL, ha="right", va="bottom", fontsize=9, style="italic",
                 color="#5A4300", gid=_SYNTHETIC_GID,
                 bbox={"boxstyle": "round,pad=0.3", "facecolor": "#FFF4D6", "edgecolor": "#B08A2E", "linewidth": 0.6})
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
    return re.sub(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", lambda m: names.get(m.group(0), m.group(0).replace("_", " ")),
                  str(text))


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

    return tidy.assign(label=[term_label(v, lev, reference(v)) for v, lev in zip(tidy["variable"], tidy["level"])])


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


# ----------------------------------------------------------------------------- participant flow
_STEPS = (  # (pattern of participant_flow's step, how the step is shown, what the patients left out are)
    (r"^records in the file$", "records in the file", "excluded"),
    (r"^microcalcification and (.+) known \(univariable analyses\)$",
     "in the univariable analyses\n(microcalcification and {0} known)", "excluded from every analysis"),
    (r"^every covariate known \(multivariable model\)$", "in the multivariable model\n(every covariate known)",
     "not in the multivariable model"),
    (r"^with bone metastasis$", "with bone metastasis\n(type and extent)", "without bone metastasis"),
    (r"^bone metastasis type and extent known$", "type and extent known",
     "not in the type and extent comparison"),
)
_MISSING = {"mri_necrosis": "necrosis on MRI not assessed"}


def _step_text(step: str) -> tuple[str, str]:
    for pattern, shown, left_out in _STEPS:
        m = re.match(pattern, str(step))
        if m:
            return shown.format(*m.groups()), left_out
    return str(step), "not in this step"


def _reason_text(reason: str, left_out: str) -> str:
    if left_out == "without bone metastasis":
        return "(in the main analyses)"
    parts = []
    for part in str(reason).split("; "):
        m = re.match(r"^(\w+) missing: (\d+)$", part)
        parts.append(f"{_MISSING.get(m.group(1), clinical_label(m.group(1)) + ' not recorded')}: {m.group(2)}"
                     if m else part.replace("_", " "))
    return "\n".join(f"({p})" for p in parts if p)


def plot_flow(flow: pd.DataFrame, cohort: str, title: str | None = None, ax=None, by_group: pd.DataFrame | None = None,
              synthetic: bool = False):
    """A participant-flow diagram of one cohort from :func:`microcalc.cohorts.clean.participant_flow`.

    Steps run top to bottom. With ``by_group`` (the same flow computed within
    each microcalcification group, with a ``group`` column named as in
    :data:`GROUP_LABELS`), the records split into the two groups and each step
    shows both. Patients left out of a step are counted beside its arrow with the
    reason, and called "excluded" only when they are in no analysis: those
    not in the multivariable model (for example, necrosis not assessed on
    MRI) remain in the univariable ones. Returns the axes.
    """
    import matplotlib.pyplot as plt

    steps = flow[flow["cohort"] == cohort].reset_index(drop=True)
    n = len(steps)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.25 * (n + 1) + 0.5))
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    grey = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": NEUTRAL, "linewidth": 1.2}
    arrow = {"arrowstyle": "->", "color": "#444444"}
    ax.text(5, 0, f"records in the file\nn = {steps.loc[0, 'n']}", ha="center", va="center", bbox=grey)
    if by_group is None:
        ax.set_ylim(-n + 0.4, 0.6)
        for i, row in steps.iloc[1:].iterrows():
            shown, left_out = _step_text(row["step"])
            ax.annotate("", xy=(5, -i + 0.3), xytext=(5, -i + 0.7), arrowprops=arrow)
            ax.text(5, -i, f"{shown}\nn = {row['n']}", ha="center", va="center", bbox=grey)
            if row["excluded"]:
                ax.text(5.25, -i + 0.5, f"{left_out}: {row['excluded']}\n{_reason_text(row['reason for exclusion'], left_out)}",
                        ha="left", va="center", fontsize=9.5, color="#333333")
    else:
        groups = list(GROUP_LABELS.values())
        xs = {groups[0]: 2.6, groups[1]: 7.4}
        colours = {groups[0]: MICROCALCIFICATION, groups[1]: NO_MICROCALCIFICATION}
        sub = {g: by_group[(by_group["cohort"] == cohort) & (by_group["group"] == g)].reset_index(drop=True)
               for g in groups}
        ax.set_ylim(-n - 0.45, 0.6)
        unsplit = int(steps.loc[0, "n"]) - sum(int(s.loc[0, "n"]) for s in sub.values() if len(s))
        for g, x in xs.items():
            box = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": colours[g], "linewidth": 1.6}
            ax.annotate("", xy=(x, -0.72), xytext=(5 + (x - 5) * 0.15, -0.3), arrowprops=arrow)
            rows = sub[g]
            ax.text(x, -1, f"{g}\nn = {rows.loc[0, 'n'] if len(rows) else 0}", ha="center", va="center", bbox=box,
                    fontweight="bold", color=colours[g] if g == groups[0] else "#333333")
            for i in range(1, n):
                y = -i - 1
                ax.annotate("", xy=(x, y + 0.3), xytext=(x, y + 0.7), arrowprops=arrow)
                row = rows.loc[i] if i < len(rows) else None
                ax.text(x, y, f"n = {row['n'] if row is not None else 0}", ha="center", va="center", bbox=box)
                if row is not None and row["excluded"]:
                    _, left_out = _step_text(row["step"])
                    left = x < 5
                    ax.text(x - 0.2 if left else x + 0.2, y + 0.5,
                            f"{left_out}: {row['excluded']}\n{_reason_text(row['reason for exclusion'], left_out)}",
                            ha="right" if left else "left", va="center", fontsize=9, color="#333333")
        for i in range(1, n):
            ax.text(5, -i - 1, _wrap(_step_text(steps.loc[i, "step"])[0], 26), ha="center", va="center", fontsize=9.5,
                    style="italic", color="#333333")
        if unsplit:
            ax.text(5.2, -0.5, f"microcalcification not recorded: {unsplit}", ha="left", va="center", fontsize=9)
    if title:
        ax.set_title(title, loc="left")
    mark_synthetic(ax, synthetic)
    return ax


# ----------------------------------------------------------------------------- rates
def plot_rates(rates: pd.DataFrame, label: str, group_labels=_GROUPS, ax=None,
               colours: Sequence[str] = (MICROCALCIFICATION, NO_MICROCALCIFICATION), synthetic: bool = False,
               chosen_note: str | None = None, chosen_part: str = "counts"):
    """Bar chart of rates (%) with 95% Wilson CIs, from :func:`microcalc.analysis.stats.group_rates`. Returns the axes.

    ``colours`` default to :data:`MICROCALCIFICATION` and
    :data:`NO_MICROCALCIFICATION`; groups that are not the microcalcification
    groups pass others. ``chosen_note`` (from :func:`chosen_values`) marks what was
    chosen, not fixed by the abstract, and says so under the axes: with
    ``chosen_part="counts"`` the counts carry :data:`CHOSEN_MARK` (the rates are
    fixed), with ``"rates"`` the bars are hatched and the rates marked too.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.4, 3.8))
    x = range(len(rates))
    hatched = chosen_note is not None and chosen_part == "rates"
    ax.bar(x, rates["rate %"].fillna(0), color=list(colours)[: len(rates)], width=0.6,
           hatch=CHOSEN_HATCH if hatched else None, edgecolor="white" if hatched else None)
    err = [rates["rate %"] - rates["ci low %"], rates["ci high %"] - rates["rate %"]]
    ax.errorbar(x, rates["rate %"], yerr=err, fmt="none", ecolor="black", capsize=5, linewidth=1)
    top = float(rates["ci high %"].max()) if rates["ci high %"].notna().any() else 0.0
    mark = CHOSEN_MARK if chosen_note is not None else ""
    for xi, (_, r) in zip(x, rates.iterrows()):
        text = (f"{r['rate %']:.1f}%{mark if hatched else ''}\n{r['events']}/{r['n']}{mark}" if r["n"]
                else "no patients:\nnot estimable")
        ax.text(xi, (r["ci high %"] if r["n"] else 0) + 1.5, text, ha="center", va="bottom", fontsize=10)
    ax.set_xticks(list(x), list(group_labels)[: len(rates)])
    ax.set_ylabel(f"{label} (%, 95% Wilson CI)")
    ax.set_ylim(0, max(100, top + 15) if top > 80 else top + 17)
    if chosen_note is not None:
        ax.set_xlabel(_chosen_footnote(chosen_note, hatched, 48), fontsize=9, loc="left")
    mark_synthetic(ax, synthetic)
    return ax


# ----------------------------------------------------------------------------- forest plots
def _or_ci(or_, lo, hi, decimals: int = 2) -> str:
    import numpy as np

    if not np.isfinite([or_, lo, hi]).all():
        return "not estimable"
    return f"{or_:.{decimals}f} ({lo:.{decimals}f}–{hi:.{decimals}f})"


def _direction(ax, outcome: str | None) -> None:
    """Label the two sides of the null line above the axes: "← lower odds of X | higher odds of X →"."""
    if not outcome:
        return
    from matplotlib.transforms import blended_transform_factory

    t = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(1, 1.01, f"← lower odds of {outcome} ", ha="right", va="bottom", transform=t, fontsize=9.5,
            color="#333333")
    ax.text(1, 1.01, f"| higher odds of {outcome} →", ha="left", va="bottom", transform=t, fontsize=9.5,
            color="#333333")


def _or_column(ax, y, texts, header: str = "OR (95% CI)") -> None:
    from matplotlib.transforms import blended_transform_factory

    t = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, text in zip(y, texts):
        ax.text(1.03, yi, text, ha="left", va="center", transform=t, fontsize=10)
    ax.text(1.03, 1.01, header, ha="left", va="bottom", transform=ax.transAxes, fontsize=10, fontweight="bold")


def _log_ticks(ax, lo: float, hi: float, candidates=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100),
               slack: float = 1.5) -> None:
    ticks = [t for t in candidates if lo / slack <= t <= hi * slack]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()


def forest_plot(tidy: pd.DataFrame, title: str | None = None, ax=None, outcome: str | None = None,
                highlight=None, synthetic: bool = False):
    """Forest plot of odds ratios (log scale) with 95% CIs; ``tidy`` has ``label``, ``or``, ``ci_low``, ``ci_high``.

    Rows are drawn top to bottom in the order given, with "OR (95% CI)"
    printed beside each; a row without an estimate (or with an infinite
    limit) is labelled "not estimable". Code names in the labels are shown
    clinically (:func:`clinical_text`). ``outcome`` ("non-pCR") labels the two
    sides of the null line. Rows of microcalcification are drawn in
    :data:`MICROCALCIFICATION`, the others in :data:`NEUTRAL`: ``highlight``
    (True, or one bool per row) says which; by default those whose
    ``variable`` is ``microcalcification``. Returns the axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.42 * len(tidy) + 1.5))
    if highlight is None:
        highlight = (tidy["variable"] == "microcalcification").to_numpy() if "variable" in tidy else False
    highlight = np.broadcast_to(np.asarray(highlight, dtype=bool), (len(tidy),))
    y = np.arange(len(tidy))[::-1]
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    values = tidy[["or", "ci_low", "ci_high"]].to_numpy(dtype=float)
    shown = np.isfinite(values).all(axis=1)
    for mask, colour in ((shown & highlight, MICROCALCIFICATION), (shown & ~highlight, NEUTRAL)):
        est = values[mask]
        if len(est):
            ax.errorbar(est[:, 0], y[mask], xerr=[est[:, 0] - est[:, 1], est[:, 2] - est[:, 0]], fmt="s",
                        color=colour, ecolor=colour, markersize=6, capsize=2, linewidth=1.2)
    _or_column(ax, y, [_or_ci(*v) for v in values])
    ax.set_yticks(y, [clinical_text(label) for label in tidy["label"]])
    for tick, hi in zip(ax.get_yticklabels(), highlight):
        tick.set_color(MICROCALCIFICATION if hi else "#222222")
    ax.set_ylim(-0.8, len(tidy) - 0.2)
    ax.set_xscale("log")
    lo, hi = (float(values[shown, 1].min()), float(values[shown, 2].max())) if shown.any() else (0.5, 2.0)
    _log_ticks(ax, lo, hi)
    ax.set_xlabel("odds ratio (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    _direction(ax, outcome)
    if title:
        ax.set_title(title, loc="left", pad=22 if outcome else 6)
    mark_synthetic(ax, synthetic)
    return ax


def plot_stacked_shares(counts: pd.DataFrame, title: str | None = None, ax=None, synthetic: bool = False,
                        chosen: Mapping[str, str] | None = None):
    """Horizontal stacked bars of category shares (%) per group; ``counts`` rows = groups, columns = categories.

    Each segment is labelled with its percentage and count; categories are
    named clinically (:data:`LEVEL_LABELS`) and coloured from
    :data:`OTHER_COLOURS`. ``chosen`` (category -> note, from
    :func:`chosen_values`) hatches the categories whose shares were chosen, not
    fixed by the abstract, and says so under the axes. Returns the axes.
    """
    import matplotlib.pyplot as plt

    chosen = {str(c): (chosen or {})[str(c)] for c in counts.columns if str(c) in (chosen or {})}
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.9 * len(counts) + 1.5))
    shares = (counts.div(counts.sum(axis=1).where(counts.sum(axis=1) > 0), axis=0) * 100).fillna(0.0)
    left = pd.Series(0.0, index=counts.index)
    for i, cat in enumerate(counts.columns):
        colour = OTHER_COLOURS[i % len(OTHER_COLOURS)]
        marked = str(cat) in chosen
        ax.barh(range(len(counts)), shares[cat], left=left, color=colour, height=0.6,
                label=level_label(cat) + (f" {CHOSEN_MARK}" if marked else ""),
                hatch=CHOSEN_HATCH if marked else None, edgecolor="white", linewidth=0.5)
        for y, (g, v) in enumerate(shares[cat].items()):
            if v >= 7:
                ax.text(left[g] + v / 2, y, f"{v:.0f}%\n({counts.loc[g, cat]})", ha="center", va="center",
                        fontsize=9.5, color="black",
                        bbox={"boxstyle": "round,pad=0.1", "facecolor": colour, "edgecolor": "none"} if marked else None)
        left += shares[cat]
    ax.set_yticks(range(len(counts)), [f"{g}\n(n = {int(n)})" for g, n in counts.sum(axis=1).items()])
    for tick, g in zip(ax.get_yticklabels(), counts.index):
        tick.set_color(MICROCALCIFICATION if str(g) == GROUP_LABELS[True] else "#222222")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    xlabel = "share of patients with bone metastasis (%)"
    if chosen:
        notes = list(dict.fromkeys(chosen.values()))
        xlabel += "\n" + _chosen_footnote("; ".join(notes), True, 90)
    ax.set_xlabel(xlabel)
    ax.legend(ncol=len(counts.columns), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    if title:
        ax.set_title(title, loc="left", pad=28)
    mark_synthetic(ax, synthetic)
    return ax


def plot_centre_forest(centres: pd.DataFrame, pooled: RandomEffectsPooled, ax=None, outcome: str = "bone metastasis",
                       synthetic: bool = False):
    """Forest plot of per-centre odds ratios and the random-effects pooled OR (diamond). Returns the axes.

    Each row prints its OR (95% CI); the two sides of the null line are
    labelled with ``outcome``. When the pooled OR is not estimable (fewer than
    two centres with an OR) its row says so instead of a diamond.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    est = centres[centres["estimable"]].reset_index(drop=True)
    pooled_ok = bool(np.isfinite(pooled.or_))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.5 * len(est) + 1.9))
    y = np.arange(len(est))[::-1] + 1
    w = 1 / est["var"]
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    ax.errorbar(est["or"], y, xerr=[est["or"] - est["ci_low"], est["ci_high"] - est["or"]], fmt="none",
                ecolor=MICROCALCIFICATION, capsize=2, linewidth=1)
    ax.scatter(est["or"], y, s=30 + 170 * w / w.max(), marker="s", color=MICROCALCIFICATION, zorder=3)
    lo, mid, hi = pooled.ci_low, pooled.or_, pooled.ci_high
    if pooled_ok:
        ax.fill([lo, mid, hi, mid], [0, 0.25, 0, -0.25], color=NEUTRAL, zorder=3)
        pooled_label = f"pooled, DerSimonian-Laird\n(tau² = {pooled.tau2:.3f}, I² = {pooled.i2:.0f}%)"
    else:
        pooled_label = "pooled, DerSimonian-Laird"
    _or_column(ax, list(y) + [0], [_or_ci(*r) for r in est[["or", "ci_low", "ci_high"]].to_numpy(dtype=float)]
               + [_or_ci(mid, lo, hi)])
    labels = [f"centre {c} ({int(n)} patients)" for c, n in zip(est["centre"], est["n"])]
    ax.set_yticks(list(y) + [0], labels + [pooled_label])
    ax.set_xscale("log")
    low, high = (float(est["ci_low"].min()), float(est["ci_high"].max())) if len(est) else (0.5, 2.0)
    _log_ticks(ax, low, high, (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50))
    ax.set_xlabel("odds ratio of bone metastasis with microcalcification (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    _direction(ax, outcome)
    mark_synthetic(ax, synthetic)
    return ax


def plot_or_comparison(comparison: pd.DataFrame, ax=None):
    """Published and reproduced ORs with 95% CIs side by side (from :func:`microcalc.replicate.or_comparison`).

    Superseded by :func:`plot_published_vs_reproduced` (one outcome per panel,
    clinical labels); kept while :func:`microcalc.replicate.report_figure` calls it.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    labels = list(dict.fromkeys(comparison["label"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.8 * len(labels) + 1.2))
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    for offset, (source, colour, marker) in zip((0.15, -0.15), (("published", OTHER_COLOURS[0], "D"),
                                                                ("reproduced", NEUTRAL, "s"))):
        sub = comparison[comparison["source"] == source]
        y = np.array([len(labels) - 1 - labels.index(lab) for lab in sub["label"]]) + offset
        ax.errorbar(sub["or"], y, xerr=[sub["or"] - sub["ci_low"], sub["ci_high"] - sub["or"]], fmt=marker,
                    color=colour, ecolor=colour, capsize=2, linewidth=1, markersize=5, label=source)
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xscale("log")
    lo, hi = float(comparison["ci_low"].min()), float(comparison["ci_high"].max())
    _log_ticks(ax, lo, hi, (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10), 1.2)
    ax.set_xlabel("odds ratio (95% CI, log scale)")
    ax.legend(frameon=False, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax


# ----------------------------------------------------------------------------- published against reproduced
def published_vs_reproduced(comparison: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """The tidy frame of :func:`plot_published_vs_reproduced` from published and reproduced ORs.

    ``comparison`` has ``id``, ``source`` ("published" or "reproduced"),
    ``or``, ``ci_low``, ``ci_high`` (as :func:`microcalc.replicate.or_comparison`);
    ``published`` is :func:`microcalc.abstract.published.load_published`, whose
    ``measure`` ("OR of non-pCR, microcalcification vs none") and ``analysis``
    name each row. Returns one row per OR: ``outcome``, ``measure``,
    ``published``, ``published_ci_low``, ``published_ci_high``, ``reproduced``,
    ``reproduced_ci_low``, ``reproduced_ci_high`` (NaN when not reproduced).
    """
    rows = []
    for ident, group in comparison.groupby("id", sort=False):
        outcome, _, exposure = str(published.loc[ident, "measure"]).removeprefix("OR of ").partition(", ")
        exposure = exposure.replace("MRI tumour necrosis", "necrosis on MRI")
        row = {"outcome": outcome, "measure": f"{exposure[:1].upper()}{exposure[1:]}, {published.loc[ident, 'analysis']}"}
        for source in ("published", "reproduced"):
            got = group[group["source"] == source]
            for col, key in (("or", source), ("ci_low", f"{source}_ci_low"), ("ci_high", f"{source}_ci_high")):
                row[key] = float(got[col].iloc[0]) if len(got) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=["outcome", "measure", "published", "published_ci_low", "published_ci_high",
                                       "reproduced", "reproduced_ci_low", "reproduced_ci_high"])


def plot_published_vs_reproduced(tidy: pd.DataFrame, axes=None, synthetic: bool = False, log_scale: bool = True):
    """Published against reproduced values with their 95% CIs, one outcome per panel.

    ``tidy`` has one row per measure: ``outcome`` (the panel), ``measure``
    (a clinical label of the row), ``published`` and ``reproduced``, and
    optionally ``published_ci_low``/``_ci_high`` and ``reproduced_ci_low``/``_ci_high``
    (:func:`published_vs_reproduced` makes it from ORs). Each row prints both, to three decimals as the abstract prints ORs,
    beside it; the two sides of the null line name the panel's outcome
    (on the log scale, for ratios). Returns the axes, one per outcome.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    outcomes = list(dict.fromkeys(tidy["outcome"]))
    sizes = [int((tidy["outcome"] == o).sum()) for o in outcomes]
    if axes is None:
        _, axes = plt.subplots(len(outcomes), 1, figsize=(7.5, 0.95 * sum(sizes) + 1.5 * len(outcomes)),
                               gridspec_kw={"height_ratios": sizes, "hspace": 0.8}, squeeze=False)
        axes = axes[:, 0]
    finite = tidy.filter(regex="published|reproduced").to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.5, 2.0)
    styles = (("published", "published", OTHER_COLOURS[0], "D", 0.17), ("reproduced", "this run", NEUTRAL, "s", -0.17))
    for ax, outcome in zip(axes, outcomes):
        rows = tidy[tidy["outcome"] == outcome].reset_index(drop=True)
        y = np.arange(len(rows))[::-1].astype(float)
        ax.axvline(1 if log_scale else 0, color="#888888", linewidth=0.8, linestyle="--")
        texts = []
        for source, label, colour, marker, offset in styles:
            est = rows[source].to_numpy(dtype=float)
            low = rows.get(f"{source}_ci_low", pd.Series(np.nan, index=rows.index)).to_numpy(dtype=float)
            high = rows.get(f"{source}_ci_high", pd.Series(np.nan, index=rows.index)).to_numpy(dtype=float)
            ok = np.isfinite(est)
            err = np.nan_to_num(np.vstack([est - low, high - est]), nan=0.0)
            ax.errorbar(est[ok], y[ok] + offset, xerr=err[:, ok], fmt=marker, color=colour, ecolor=colour,
                        markerfacecolor="white" if source == "published" else colour, capsize=2, linewidth=1.2,
                        markersize=6, label=f"{label} (95% CI)")
            texts.append((y + offset, [f"{label} " + (_or_ci(e, a, b, 3) if np.isfinite([a, b]).all()
                                                       else (f"{e:.3f}" if np.isfinite(e) else "not reproduced"))
                                       for e, a, b in zip(est, low, high)]))
        from matplotlib.transforms import blended_transform_factory

        t = blended_transform_factory(ax.transAxes, ax.transData)
        for ys, labels in texts:
            for yi, text in zip(ys, labels):
                ax.text(1.03, yi, text, ha="left", va="center", transform=t, fontsize=9.5)
        ax.set_yticks(y, rows["measure"])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        if log_scale:
            ax.set_xscale("log")
            _log_ticks(ax, lo, hi, (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10), 1.2)
            ax.set_xlim(min(lo / 1.2, 0.9), hi * 1.2)
        ax.set_xlabel("odds ratio (95% CI, log scale)" if log_scale else "value (95% CI)")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_title(f"Outcome: {outcome}", loc="left", pad=22)
        if log_scale:
            _direction(ax, outcome)
    axes[0].legend(frameon=False, ncol=2, loc="lower left", bbox_to_anchor=(0.0, 1.3))
    mark_synthetic(axes[0], synthetic)
    return axes
