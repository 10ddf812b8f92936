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

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from microcalc.analysis.figure_style import (
    _GROUPS,
    CHOSEN_HATCH,
    CHOSEN_MARK,
    GROUP_LABELS,
    LEVEL_LABELS,
    MICROCALCIFICATION,
    NEUTRAL,
    NO_MICROCALCIFICATION,
    OKABE_ITO,
    OTHER_COLOURS,
    SYNTHETIC_LABEL,
    VARIABLE_LABELS,
    _chosen_footnote,
    _wrap,
    chosen_values,
    clinical_label,
    clinical_text,
    fixed_and_chosen_table,
    forest_rows,
    level_label,
    mark_synthetic,
    save_figure,
    term_label,
    use_style,
)
from microcalc.analysis.forest import (
    forest_plot,
    plot_centre_forest,
    plot_published_vs_reproduced,
    published_vs_reproduced,
)

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
    "plot_published_vs_reproduced",
    "plot_rates",
    "plot_stacked_shares",
    "published_vs_reproduced",
    "save_figure",
    "term_label",
    "use_style",
]


# ----------------------------------------------------------------------------- participant flow
_STEPS = (  # (pattern of participant_flow's step, how the step is shown, what the patients left out are)
    (r"^records in the file$", "records in the file", "excluded"),
    (
        r"^microcalcification and (.+) known \(univariable analyses\)$",
        "in the univariable analyses\n(microcalcification and {0} known)",
        "excluded from every analysis",
    ),
    (
        r"^every covariate known \(multivariable model\)$",
        "in the multivariable model\n(every covariate known)",
        "not in the multivariable model",
    ),
    (r"^with bone metastasis$", "with bone metastasis\n(type and extent)", "without bone metastasis"),
    (r"^bone metastasis type and extent known$", "type and extent known", "not in the type and extent comparison"),
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
        parts.append(
            f"{_MISSING.get(m.group(1), clinical_label(m.group(1)) + ' not recorded')}: {m.group(2)}"
            if m
            else part.replace("_", " ")
        )
    return "\n".join(f"({p})" for p in parts if p)


def plot_flow(
    flow: pd.DataFrame,
    cohort: str,
    title: str | None = None,
    ax=None,
    by_group: pd.DataFrame | None = None,
    synthetic: bool = False,
):
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
                ax.text(
                    5.25,
                    -i + 0.5,
                    f"{left_out}: {row['excluded']}\n{_reason_text(row['reason for exclusion'], left_out)}",
                    ha="left",
                    va="center",
                    fontsize=9.5,
                    color="#333333",
                )
    else:
        groups = list(GROUP_LABELS.values())
        xs = {groups[0]: 2.6, groups[1]: 7.4}
        colours = {groups[0]: MICROCALCIFICATION, groups[1]: NO_MICROCALCIFICATION}
        sub = {
            g: by_group[(by_group["cohort"] == cohort) & (by_group["group"] == g)].reset_index(drop=True)
            for g in groups
        }
        ax.set_ylim(-n - 0.45, 0.6)
        unsplit = int(steps.loc[0, "n"]) - sum(int(s.loc[0, "n"]) for s in sub.values() if len(s))
        for g, x in xs.items():
            box = {"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": colours[g], "linewidth": 1.6}
            ax.annotate("", xy=(x, -0.72), xytext=(5 + (x - 5) * 0.15, -0.3), arrowprops=arrow)
            rows = sub[g]
            ax.text(
                x,
                -1,
                f"{g}\nn = {rows.loc[0, 'n'] if len(rows) else 0}",
                ha="center",
                va="center",
                bbox=box,
                fontweight="bold",
                color=colours[g] if g == groups[0] else "#333333",
            )
            for i in range(1, n):
                y = -i - 1
                ax.annotate("", xy=(x, y + 0.3), xytext=(x, y + 0.7), arrowprops=arrow)
                row = rows.loc[i] if i < len(rows) else None
                ax.text(x, y, f"n = {row['n'] if row is not None else 0}", ha="center", va="center", bbox=box)
                if row is not None and row["excluded"]:
                    _, left_out = _step_text(row["step"])
                    left = x < 5
                    ax.text(
                        x - 0.2 if left else x + 0.2,
                        y + 0.5,
                        f"{left_out}: {row['excluded']}\n{_reason_text(row['reason for exclusion'], left_out)}",
                        ha="right" if left else "left",
                        va="center",
                        fontsize=9,
                        color="#333333",
                    )
        for i in range(1, n):
            ax.text(
                5,
                -i - 1,
                _wrap(_step_text(steps.loc[i, "step"])[0], 26),
                ha="center",
                va="center",
                fontsize=9.5,
                style="italic",
                color="#333333",
            )
        if unsplit:
            ax.text(5.2, -0.5, f"microcalcification not recorded: {unsplit}", ha="left", va="center", fontsize=9)
    if title:
        ax.set_title(title, loc="left")
    mark_synthetic(ax, synthetic)
    return ax


# ----------------------------------------------------------------------------- rates
def plot_rates(
    rates: pd.DataFrame,
    label: str,
    group_labels=_GROUPS,
    ax=None,
    colours: Sequence[str] = (MICROCALCIFICATION, NO_MICROCALCIFICATION),
    synthetic: bool = False,
    chosen_note: str | None = None,
    chosen_part: str = "counts",
):
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
    ax.bar(
        x,
        rates["rate_pct"].fillna(0),
        color=list(colours)[: len(rates)],
        width=0.6,
        hatch=CHOSEN_HATCH if hatched else None,
        edgecolor="white" if hatched else None,
    )
    err = [rates["rate_pct"] - rates["ci_low_pct"], rates["ci_high_pct"] - rates["rate_pct"]]
    ax.errorbar(x, rates["rate_pct"], yerr=err, fmt="none", ecolor="black", capsize=5, linewidth=1)
    top = float(rates["ci_high_pct"].max()) if rates["ci_high_pct"].notna().any() else 0.0
    mark = CHOSEN_MARK if chosen_note is not None else ""
    for xi, (_, r) in zip(x, rates.iterrows(), strict=True):
        text = (
            f"{r['rate_pct']:.1f}%{mark if hatched else ''}\n{r['events']}/{r['n']}{mark}"
            if r["n"]
            else "no patients:\nnot estimable"
        )
        ax.text(xi, (r["ci_high_pct"] if r["n"] else 0) + 1.5, text, ha="center", va="bottom", fontsize=10)
    ax.set_xticks(list(x), list(group_labels)[: len(rates)])
    ax.set_ylabel(f"{label} (%, 95% Wilson CI)")
    ax.set_ylim(0, max(100, top + 15) if top > 80 else top + 17)
    if chosen_note is not None:
        ax.set_xlabel(_chosen_footnote(chosen_note, hatched, 48), fontsize=9, loc="left")
    mark_synthetic(ax, synthetic)
    return ax


def plot_stacked_shares(
    counts: pd.DataFrame,
    title: str | None = None,
    ax=None,
    synthetic: bool = False,
    chosen: Mapping[str, str] | None = None,
):
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
        ax.barh(
            range(len(counts)),
            shares[cat],
            left=left,
            color=colour,
            height=0.6,
            label=level_label(cat) + (f" {CHOSEN_MARK}" if marked else ""),
            hatch=CHOSEN_HATCH if marked else None,
            edgecolor="white",
            linewidth=0.5,
        )
        for y, (g, v) in enumerate(shares[cat].items()):
            if v >= 7:
                ax.text(
                    left[g] + v / 2,
                    y,
                    f"{v:.1f}%\n({counts.loc[g, cat]})",
                    ha="center",
                    va="center",
                    fontsize=9.5,
                    color="black",
                    bbox={"boxstyle": "round,pad=0.1", "facecolor": colour, "edgecolor": "none"} if marked else None,
                )
        left += shares[cat]
    ax.set_yticks(range(len(counts)), [f"{g}\n(n = {int(n)})" for g, n in counts.sum(axis=1).items()])
    for tick, g in zip(ax.get_yticklabels(), counts.index, strict=True):
        tick.set_color(MICROCALCIFICATION if str(g) == GROUP_LABELS[True] else "#222222")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    xlabel = "share of patients with a recorded bone metastasis (%)"
    if chosen:
        notes = list(dict.fromkeys(chosen.values()))
        xlabel += "\n" + _chosen_footnote("; ".join(notes), True, 90)
    ax.set_xlabel(xlabel)
    ax.legend(ncol=len(counts.columns), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    if title:
        ax.set_title(title, loc="left", pad=28)
    mark_synthetic(ax, synthetic)
    return ax
