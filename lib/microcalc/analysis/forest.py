"""Forest plots (odds ratios with their CIs printed and the direction labelled) and published against reproduced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from microcalc.analysis.figure_style import MICROCALCIFICATION, NEUTRAL, OTHER_COLOURS, clinical_text, mark_synthetic
from microcalc.analysis.tables import zero_or

if TYPE_CHECKING:
    from microcalc.analysis.pooling import RandomEffectsPooled

__all__ = [
    "forest_plot",
    "label_direction",
    "log_ticks",
    "or_ci_text",
    "or_column",
    "plot_centre_forest",
    "plot_published_vs_reproduced",
    "published_vs_reproduced",
]


# ----------------------------------------------------------------------------- forest plots
def or_ci_text(or_, lo, hi, decimals: int = 2) -> str:
    """An OR and its CI as printed beside a forest plot's row: "2.40 (1.20–4.80)"; "not estimable" when not finite."""
    import numpy as np

    if not np.isfinite([or_, lo, hi]).all():
        return "not estimable"
    return f"{or_:.{decimals}f} ({lo:.{decimals}f}–{hi:.{decimals}f})"


def label_direction(ax, outcome: str | None) -> None:
    """Label the two sides of the null line above the axes: "← lower odds of X | higher odds of X →"."""
    if not outcome:
        return
    from matplotlib.transforms import blended_transform_factory

    t = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(1, 1.01, f"← lower odds of {outcome} ", ha="right", va="bottom", transform=t, fontsize=9.5, color="#333333")
    ax.text(
        1, 1.01, f"| higher odds of {outcome} →", ha="left", va="bottom", transform=t, fontsize=9.5, color="#333333"
    )


def or_column(ax, y, texts, header: str = "OR (95% CI)") -> None:
    """Print ``texts`` (one per row at heights ``y``) in a column right of the axes, under ``header``."""
    from matplotlib.transforms import blended_transform_factory

    t = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, text in zip(y, texts, strict=True):
        ax.text(1.03, yi, text, ha="left", va="center", transform=t, fontsize=10)
    ax.text(1.03, 1.01, header, ha="left", va="bottom", transform=ax.transAxes, fontsize=10, fontweight="bold")


def log_ticks(
    ax, lo: float, hi: float, candidates=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100), slack: float = 1.5
) -> None:
    """Ticks at the round ``candidates`` between ``lo / slack`` and ``hi * slack`` on a log-scale x axis."""
    ticks = [t for t in candidates if lo / slack <= t <= hi * slack]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()


def forest_plot(
    tidy: pd.DataFrame,
    title: str | None = None,
    ax=None,
    outcome: str | None = None,
    highlight=None,
    synthetic: bool = False,
):
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
            ax.errorbar(
                est[:, 0],
                y[mask],
                xerr=[est[:, 0] - est[:, 1], est[:, 2] - est[:, 0]],
                fmt="s",
                color=colour,
                ecolor=colour,
                markersize=6,
                capsize=2,
                linewidth=1.2,
            )
    or_column(ax, y, [or_ci_text(*v) for v in values])
    ax.set_yticks(y, [clinical_text(label) for label in tidy["label"]])
    for tick, hi in zip(ax.get_yticklabels(), highlight, strict=True):
        tick.set_color(MICROCALCIFICATION if hi else "#222222")
    ax.set_ylim(-0.8, len(tidy) - 0.2)
    ax.set_xscale("log")
    lo, hi = (float(values[shown, 1].min()), float(values[shown, 2].max())) if shown.any() else (0.5, 2.0)
    log_ticks(ax, lo, hi)
    ax.set_xlabel("odds ratio (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    label_direction(ax, outcome)
    if title:
        ax.set_title(title, loc="left", pad=22 if outcome else 6)
    mark_synthetic(ax, synthetic)
    return ax


def plot_centre_forest(
    centres: pd.DataFrame,
    pooled: RandomEffectsPooled,
    ax=None,
    outcome: str = "recorded bone metastasis",
    synthetic: bool = False,
):
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
    ax.errorbar(
        est["or"],
        y,
        xerr=[est["or"] - est["ci_low"], est["ci_high"] - est["or"]],
        fmt="none",
        ecolor=MICROCALCIFICATION,
        capsize=2,
        linewidth=1,
    )
    ax.scatter(est["or"], y, s=30 + 170 * w / w.max(), marker="s", color=MICROCALCIFICATION, zorder=3)
    lo, mid, hi = pooled.ci_low, pooled.or_, pooled.ci_high
    if pooled_ok:
        ax.fill([lo, mid, hi, mid], [0, 0.25, 0, -0.25], color=NEUTRAL, zorder=3)
        pooled_label = f"pooled, DerSimonian-Laird\n(τ² = {zero_or(pooled.tau2, 3)}, I² = {zero_or(pooled.i2, 1)}%)"
    else:
        pooled_label = "pooled, DerSimonian-Laird"
    or_column(
        ax,
        list(y) + [0],
        [or_ci_text(*r) for r in est[["or", "ci_low", "ci_high"]].to_numpy(dtype=float)] + [or_ci_text(mid, lo, hi)],
    )
    labels = [f"centre {c} ({int(n)} patients)" for c, n in zip(est["centre"], est["n"], strict=True)]
    ax.set_yticks(list(y) + [0], labels + [pooled_label])
    ax.set_xscale("log")
    low, high = (float(est["ci_low"].min()), float(est["ci_high"].max())) if len(est) else (0.5, 2.0)
    log_ticks(ax, low, high, (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50))
    ax.set_xlabel(f"odds ratio of {outcome} with microcalcification (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    label_direction(ax, outcome)
    mark_synthetic(ax, synthetic)
    return ax


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
        row: dict[str, Any] = {
            "outcome": outcome,
            "measure": f"{exposure[:1].upper()}{exposure[1:]}, {published.loc[ident, 'analysis']}",
        }
        for source in ("published", "reproduced"):
            got = group[group["source"] == source]
            for col, key in (("or", source), ("ci_low", f"{source}_ci_low"), ("ci_high", f"{source}_ci_high")):
                row[key] = float(got[col].iloc[0]) if len(got) else float("nan")
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "outcome",
            "measure",
            "published",
            "published_ci_low",
            "published_ci_high",
            "reproduced",
            "reproduced_ci_low",
            "reproduced_ci_high",
        ],
    )


def plot_published_vs_reproduced(tidy: pd.DataFrame, axes=None, synthetic: bool = False, log_scale: bool = True):
    """Published against reproduced values with their 95% CIs, one outcome per panel.

    ``tidy`` has one row per measure: ``outcome`` (the panel), ``measure``
    (a clinical label of the row), ``published`` and ``reproduced``, and
    optionally ``published_ci_low``/``_ci_high`` and ``reproduced_ci_low``/``_ci_high``
    (:func:`published_vs_reproduced` makes it from ORs). Each row prints both, to three decimals as the abstract
    prints ORs,
    beside it; the two sides of the null line name the panel's outcome
    (on the log scale, for ratios). Returns the axes, one per outcome.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    outcomes = list(dict.fromkeys(tidy["outcome"]))
    sizes = [int((tidy["outcome"] == o).sum()) for o in outcomes]
    if axes is None:
        _, axes = plt.subplots(
            len(outcomes),
            1,
            figsize=(7.5, 0.95 * sum(sizes) + 1.5 * len(outcomes)),
            gridspec_kw={"height_ratios": sizes, "hspace": 0.8},
            squeeze=False,
        )
        axes = axes[:, 0]
    finite = tidy.filter(regex="published|reproduced").to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.5, 2.0)
    styles = (("published", "published", OTHER_COLOURS[0], "D", 0.17), ("reproduced", "this run", NEUTRAL, "s", -0.17))
    for ax, outcome in zip(axes, outcomes, strict=True):
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
            ax.errorbar(
                est[ok],
                y[ok] + offset,
                xerr=err[:, ok],
                fmt=marker,
                color=colour,
                ecolor=colour,
                markerfacecolor="white" if source == "published" else colour,
                capsize=2,
                linewidth=1.2,
                markersize=6,
                label=f"{label} (95% CI)",
            )
            texts.append(
                (
                    y + offset,
                    [
                        f"{label} "
                        + (
                            or_ci_text(e, a, b, 3)
                            if np.isfinite([a, b]).all()
                            else (f"{e:.3f}" if np.isfinite(e) else "not reproduced")
                        )
                        for e, a, b in zip(est, low, high, strict=True)
                    ],
                )
            )
        from matplotlib.transforms import blended_transform_factory

        t = blended_transform_factory(ax.transAxes, ax.transData)
        for ys, labels in texts:
            for yi, text in zip(ys, labels, strict=True):
                ax.text(1.03, yi, text, ha="left", va="center", transform=t, fontsize=9.5)
        ax.set_yticks(y, rows["measure"])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        if log_scale:
            ax.set_xscale("log")
            log_ticks(ax, lo, hi, (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10), 1.2)
            ax.set_xlim(min(lo / 1.2, 0.9), hi * 1.2)
        ax.set_xlabel("odds ratio (95% CI, log scale)" if log_scale else "value (95% CI)")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_title(f"Outcome: {outcome}", loc="left", pad=22)
        if log_scale:
            label_direction(ax, outcome)
    axes[0].legend(frameon=False, ncol=2, loc="lower left", bbox_to_anchor=(0.0, 1.3))
    mark_synthetic(axes[0], synthetic)
    return axes
