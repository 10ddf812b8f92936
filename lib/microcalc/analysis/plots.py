"""One figure style, one way to save figures, and the figures more than one notebook needs.

:func:`use_style` is called explicitly by each notebook (nothing happens at
import). :func:`save_figure` writes PNG and SVG under
``<output_dir>/figures/`` with fixed metadata, so rerunning gives the same
bytes. Colours are the Okabe-Ito palette, safe for colour-blind readers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from microcalc.core.paths import project_path

__all__ = ["OKABE_ITO", "use_style", "save_figure", "plot_flow", "plot_rates", "forest_plot",
           "plot_stacked_shares", "plot_centre_forest", "plot_or_comparison"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")


def use_style() -> None:
    """Apply the compendium's matplotlib style (legible in print, deterministic SVG ids)."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "savefig.bbox": "tight",
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": cycler(color=OKABE_ITO),
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


def plot_flow(flow: pd.DataFrame, cohort: str, title: str | None = None, ax=None):
    """A participant-flow diagram of one cohort from :func:`microcalc.cohorts.clean.participant_flow`.

    Steps run top to bottom; each exclusion is a box to the right with its
    count and reason. Returns the axes.
    """
    import matplotlib.pyplot as plt

    steps = flow[flow["cohort"] == cohort].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.25 * len(steps) + 0.5))
    ax.set_axis_off()
    n = len(steps)
    ax.set_xlim(0, 10)
    ax.set_ylim(-n + 0.3, 1)
    box = dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor=OKABE_ITO[0], linewidth=1.2)
    side = dict(boxstyle="round,pad=0.3", facecolor="#f4f4f4", edgecolor="#888888", linewidth=0.8)
    for i, (_, row) in enumerate(steps.iterrows()):
        y = -i
        ax.text(3.2, y, f"{row['step']}\nn = {row['n']}", ha="center", va="center", bbox=box,
                fontsize=9, wrap=True)
        if i:
            ax.annotate("", xy=(3.2, y + 0.28), xytext=(3.2, y + 0.72),
                        arrowprops=dict(arrowstyle="->", color="#444444"))
        if row["excluded"]:
            reason = "\n".join(str(row["reason for exclusion"]).split("; "))
            ax.text(7.6, y + 0.5, f"excluded: {row['excluded']}\n{reason}", ha="center", va="center",
                    bbox=side, fontsize=8)
            ax.annotate("", xy=(6.0, y + 0.5), xytext=(3.2, y + 0.5),
                        arrowprops=dict(arrowstyle="->", color="#888888"))
    if title:
        ax.set_title(title, loc="left")
    return ax


def plot_rates(rates: pd.DataFrame, label: str, group_labels=("with microcalcification",
                                                               "without microcalcification"), ax=None):
    """Bar chart of rates (%) with 95% Wilson CIs, from :func:`microcalc.analysis.stats.group_rates`. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    x = range(len(rates))
    ax.bar(x, rates["rate %"].fillna(0), color=[OKABE_ITO[0], OKABE_ITO[1]][: len(rates)], width=0.6)
    err = [rates["rate %"] - rates["ci low %"], rates["ci high %"] - rates["rate %"]]
    ax.errorbar(x, rates["rate %"], yerr=err, fmt="none", ecolor="black", capsize=5, linewidth=1)
    top = float(rates["ci high %"].max()) if rates["ci high %"].notna().any() else 0.0
    for xi, (_, r) in zip(x, rates.iterrows(), strict=True):
        text = f"{r['rate %']:.1f}%\n{r['events']}/{r['n']}" if r["n"] else "no patients:\nnot estimable"
        ax.text(xi, (r["ci high %"] if r["n"] else 0) + 1.5, text, ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x), list(group_labels)[: len(rates)])
    ax.set_ylabel(f"{label} (%, 95% Wilson CI)")
    ax.set_ylim(0, max(100, top + 15) if top > 80 else top + 15)
    return ax


def forest_plot(tidy: pd.DataFrame, title: str | None = None, ax=None):
    """Forest plot of odds ratios (log scale) with 95% CIs; ``tidy`` has ``label``, ``or``, ``ci_low``, ``ci_high``.

    Rows are drawn top to bottom in the order given; a row without an
    estimate (or with an infinite limit) is labelled "not estimable" at the
    null line. Returns the axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.38 * len(tidy) + 1.2))
    y = np.arange(len(tidy))[::-1]
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    shown = np.isfinite(tidy[["or", "ci_low", "ci_high"]].to_numpy(dtype=float)).all(axis=1)
    est = tidy[shown]
    ax.errorbar(est["or"], y[shown], xerr=[est["or"] - est["ci_low"], est["ci_high"] - est["or"]],
                fmt="s", color=OKABE_ITO[0], ecolor=OKABE_ITO[0], markersize=5, capsize=2, linewidth=1)
    for yi in y[~shown]:
        ax.text(1, yi, " not estimable", va="center", ha="left", fontsize=8, color="#555555")
    ax.set_yticks(y, tidy["label"])
    ax.set_ylim(-0.8, len(tidy) - 0.2)
    ax.set_xscale("log")
    lo, hi = (float(est["ci_low"].min()), float(est["ci_high"].max())) if len(est) else (0.5, 2.0)
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo / 1.5 <= t <= hi * 1.5]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("odds ratio (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if title:
        ax.set_title(title, loc="left")
    return ax


def plot_stacked_shares(counts: pd.DataFrame, title: str | None = None, ax=None):
    """Horizontal stacked bars of category shares (%) per group; ``counts`` rows = groups, columns = categories.

    Each segment is labelled with its percentage and count. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.9 * len(counts) + 1.3))
    shares = (counts.div(counts.sum(axis=1).where(counts.sum(axis=1) > 0), axis=0) * 100).fillna(0.0)
    left = pd.Series(0.0, index=counts.index)
    for i, cat in enumerate(counts.columns):
        ax.barh(range(len(counts)), shares[cat], left=left, color=OKABE_ITO[i % len(OKABE_ITO)],
                label=str(cat).replace("_", " "), height=0.6)
        for y, (g, v) in enumerate(zip(shares.index, shares[cat], strict=True)):
            if v >= 7:
                ax.text(left[g] + v / 2, y, f"{v:.0f}%\n({counts.loc[g, cat]})", ha="center", va="center",
                        fontsize=8, color="white" if i in (0, 3, 7) else "black")
        left += shares[cat]
    ax.set_yticks(range(len(counts)), [f"{g}\n(n = {int(n)})" for g, n in counts.sum(axis=1).items()])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of patients with bone metastasis (%)")
    ax.legend(ncol=len(counts.columns), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False,
              fontsize=9)
    if title:
        ax.set_title(title, loc="left", pad=28)
    return ax


def plot_centre_forest(centres: pd.DataFrame, pooled: dict, ax=None):
    """Forest plot of per-centre odds ratios and the random-effects pooled OR (diamond). Returns the axes.

    When the pooled OR is not estimable (fewer than two centres with an OR)
    its row says so instead of a diamond.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    est = centres[centres["estimable"]].reset_index(drop=True)
    pooled_ok = bool(np.isfinite(pooled["or"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(est) + 1.6))
    y = np.arange(len(est))[::-1] + 1
    w = 1 / est["var"]
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    ax.errorbar(est["or"], y, xerr=[est["or"] - est["ci_low"], est["ci_high"] - est["or"]], fmt="none",
                ecolor=OKABE_ITO[0], capsize=2, linewidth=1)
    ax.scatter(est["or"], y, s=30 + 170 * w / w.max(), marker="s", color=OKABE_ITO[0], zorder=3)
    lo, mid, hi = pooled["ci_low"], pooled["or"], pooled["ci_high"]
    if pooled_ok:
        ax.fill([lo, mid, hi, mid], [0, 0.25, 0, -0.25], color=OKABE_ITO[3], zorder=3)
        pooled_label = f"pooled, DerSimonian-Laird\n(tau² = {pooled['tau2']:.3f}, I² = {pooled['i2']:.0f}%)"
    else:
        ax.text(1, 0, " not estimable", va="center", ha="left", fontsize=8, color="#555555")
        pooled_label = "pooled, DerSimonian-Laird"
    labels = [f"centre {c} ({int(n)} patients)" for c, n in zip(est["centre"], est["n"], strict=True)]
    ax.set_yticks(list(y) + [0], labels + [pooled_label])
    ax.set_xscale("log")
    low, high = (float(est["ci_low"].min()), float(est["ci_high"].max())) if len(est) else (0.5, 2.0)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if low / 1.5 <= t <= high * 1.5]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("odds ratio of bone metastasis with microcalcification (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax


def plot_or_comparison(comparison: pd.DataFrame, ax=None):
    """Published and reproduced ORs with 95% CIs side by side (from :func:`microcalc.replicate.or_comparison`)."""
    import matplotlib.pyplot as plt
    import numpy as np

    labels = list(dict.fromkeys(comparison["label"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.8 * len(labels) + 1.2))
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    for offset, (source, colour, marker) in zip((0.15, -0.15), (("published", OKABE_ITO[1], "D"),
                                                                ("reproduced", OKABE_ITO[0], "s")), strict=True):
        sub = comparison[comparison["source"] == source]
        y = np.array([len(labels) - 1 - labels.index(lab) for lab in sub["label"]]) + offset
        ax.errorbar(sub["or"], y, xerr=[sub["or"] - sub["ci_low"], sub["ci_high"] - sub["or"]], fmt=marker,
                    color=colour, ecolor=colour, capsize=2, linewidth=1, markersize=5, label=source)
    ax.set_yticks(range(len(labels)), labels[::-1])
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xscale("log")
    lo, hi = float(comparison["ci_low"].min()), float(comparison["ci_high"].max())
    ticks = [t for t in (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10) if lo / 1.2 <= t <= hi * 1.2]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("odds ratio (95% CI, log scale)")
    ax.legend(frameon=False, ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax
