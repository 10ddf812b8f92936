"""Closed forms that check the power simulation of :mod:`microcalc.planning`, the power-curve figure, and
the simulation's tables for reading.

The univariable case (microcalcification alone) has closed forms: the
asymptotic power of the Wald test for a binary covariate (Demidenko, Stat Med
2007;26:3385-97) and the sample size of Hsieh, Bloch & Larsen (Stat Med
1998;17:1623-34); :func:`closed_form_comparison` sets the simulation beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from microcalc import planning as _planning
from microcalc.labels import COHORT_NAMES
from microcalc.planning import _ALPHA, EXPOSURE, PLAN_SEED, covariate_pool, outcome_model, power_grid

__all__ = [
    "wald_power_binary",
    "hsieh_sample_size",
    "hsieh_power",
    "UnivariableInputs",
    "univariable_inputs",
    "closed_form_comparison",
    "plot_power_curves",
    "closed_form_display",
    "ASSUMED",
    "power_table",
    "sample_size_table",
    "SIZE_CAPTION",
    "fit_problems",
]


def wald_power_binary(n, p_exposed: float, p0: float, odds_ratio: float, alpha: float = _ALPHA):
    """Asymptotic power of the two-sided Wald test of a binary covariate in univariable logistic regression.

    var(b1) = [1 / ((1 - B) p0 (1 - p0)) + 1 / (B p1 (1 - p1))] / n with B the share exposed and p0, p1
    the event rates of the unexposed and exposed; power = Phi(|b1| / sd - z) + Phi(-|b1| / sd - z)
    (Demidenko 2007, the Wald test's power with the variance at the alternative).
    """
    b1 = np.log(odds_ratio)
    p1 = special.expit(special.logit(p0) + b1)
    sd = np.sqrt((1 / ((1 - p_exposed) * p0 * (1 - p0)) + 1 / (p_exposed * p1 * (1 - p1))) / np.asarray(n, float))
    z = stats.norm.ppf(1 - alpha / 2)
    return stats.norm.cdf(abs(b1) / sd - z) + stats.norm.cdf(-abs(b1) / sd - z)


def hsieh_sample_size(
    p_exposed: float, p0: float, odds_ratio: float, power: float = 0.8, alpha: float = _ALPHA
) -> float:
    """Hsieh, Bloch & Larsen (1998), formula for a binary covariate:
    n = (z_a sqrt(P(1-P)/B) + z_b sqrt(p0(1-p0) + p1(1-p1)(1-B)/B))^2 / ((p0 - p1)^2 (1 - B))."""
    p1 = special.expit(special.logit(p0) + np.log(odds_ratio))
    B = p_exposed
    P = (1 - B) * p0 + B * p1
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return float(
        (za * np.sqrt(P * (1 - P) / B) + zb * np.sqrt(p0 * (1 - p0) + p1 * (1 - p1) * (1 - B) / B)) ** 2
        / ((p0 - p1) ** 2 * (1 - B))
    )


def hsieh_power(n, p_exposed: float, p0: float, odds_ratio: float, alpha: float = _ALPHA):
    """The power at size ``n`` implied by :func:`hsieh_sample_size` (its formula solved for z_b)."""
    p1 = special.expit(special.logit(p0) + np.log(odds_ratio))
    B = p_exposed
    P = (1 - B) * p0 + B * p1
    za = stats.norm.ppf(1 - alpha / 2)
    zb = (np.sqrt(np.asarray(n, float) * (p0 - p1) ** 2 * (1 - B)) - za * np.sqrt(P * (1 - P) / B)) / np.sqrt(
        p0 * (1 - p0) + p1 * (1 - p1) * (1 - B) / B
    )
    return stats.norm.cdf(zb)


@dataclass(frozen=True)
class UnivariableInputs:
    """The closed forms' inputs (:func:`univariable_inputs`): share exposed and the unexposed event rate."""

    p_exposed: float
    p0: float


def univariable_inputs(cohort: str, odds_ratio: float) -> UnivariableInputs:
    """Share exposed (the pool's) and the unexposed event rate (from :func:`outcome_model`'s intercept) of the
    univariable simulation, the inputs of the closed forms."""
    X, names = covariate_pool(cohort, "univariable")
    beta = outcome_model(cohort, float(np.log(odds_ratio)), "univariable")
    return UnivariableInputs(p_exposed=float(X[:, names.index(EXPOSURE)].mean()), p0=float(special.expit(beta[0])))


def closed_form_comparison(
    cohort: str,
    odds_ratio: float,
    sizes,
    reps: int = 500,
    seed: int = PLAN_SEED + 1,
    workers: int | None = 1,
    scheduler=None,
    cache=None,
) -> pd.DataFrame:
    """Univariable power by simulation beside the closed forms, at each size.

    Columns: ``n``, simulated ``power`` with its ``mc_se``, ``demidenko`` (:func:`wald_power_binary`),
    ``hsieh`` (:func:`hsieh_power`) and ``z`` = (simulated - Demidenko) / mc_se. ``cache``: as for
    :func:`power_grid`.
    """
    if cache is not None:
        from microcalc.cohorts.synthesize import cached_frame

        return cached_frame(
            "closed_form_comparison",
            cache,
            lambda: closed_form_comparison(cohort, odds_ratio, sizes, reps, seed, workers, scheduler),
            modules=("microcalc.planning_checks",),
            cohort=cohort,
            odds_ratio=float(odds_ratio),
            sizes=[int(n) for n in sizes],
            reps=int(reps),
            seed=int(seed),
            inputs=_planning.simulation_inputs(),  # looked up at call time (tests replace it)
        )
    grid = power_grid(
        cohort,
        sizes,
        {"univariable": odds_ratio},
        reps=reps,
        model="univariable",
        seed=seed,
        workers=workers,
        scheduler=scheduler,
    )
    inputs = univariable_inputs(cohort, odds_ratio)
    grid["demidenko"] = wald_power_binary(grid["n"], inputs.p_exposed, inputs.p0, odds_ratio)
    grid["hsieh"] = hsieh_power(grid["n"], inputs.p_exposed, inputs.p0, odds_ratio)
    grid["z"] = (grid["power"] - grid["demidenko"]) / np.sqrt(grid["demidenko"] * (1 - grid["demidenko"]) / reps)
    return grid[["n", "reps", "power", "mc_se", "demidenko", "hsieh", "z", "nonconverged"]]


def plot_power_curves(grid: pd.DataFrame, label: str, ax=None):
    """Power (%) against cohort size (log scale), one curve per assumed OR, with 80% and 90% marked.

    The bars are 95% Monte Carlo intervals (power ± 1.96 Monte Carlo standard errors): how far the
    simulated power could be from the true one by chance alone with this many simulated studies.
    Returns the axes.
    """
    import matplotlib.pyplot as plt

    from microcalc.analysis.plots import OTHER_COLOURS

    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 4.2))
    for colour, ((name, value), g) in zip(OTHER_COLOURS, grid.groupby(["or_label", "or"], sort=False), strict=False):
        g = g.sort_values("n")
        assumed = ASSUMED.get(name, name)
        ax.errorbar(
            g["n"],
            100 * g["power"],
            yerr=100 * 1.96 * g["mc_se"],
            color=colour,
            marker="o",
            markersize=3,
            capsize=2,
            linewidth=1.2,
            label=f"OR {value:g} ({assumed[0].lower() + assumed[1:]})",
        )
    for level in (80, 90):
        ax.axhline(level, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    ticks = sorted(grid["n"].unique())
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks], rotation=45)
    ax.minorticks_off()
    ax.set_ylim(0, 102)
    ax.set_yticks(range(0, 101, 20), [f"{t}%" for t in range(0, 101, 20)])
    ax.set_xlabel("patients in the study (with complete covariates)")
    ax.set_ylabel(f"power (share of {int(grid['reps'].iloc[0])} simulated\nstudies with P < 0.05)")
    ax.set_title(label)
    ax.legend(
        frameon=False,
        fontsize=8.5,
        title="assumed OR\n(bars: 95% Monte Carlo interval)",
        title_fontsize=8.5,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        alignment="left",
    )
    return ax


def closed_form_display(closed: pd.DataFrame) -> pd.DataFrame:
    """:func:`closed_form_comparison`'s rows (with ``cohort`` and ``OR`` columns added) for reading: powers
    in percent, the Monte Carlo standard error in percentage points, the difference between the simulated
    and Demidenko's power in Monte Carlo standard errors (``z``), the columns named in words."""
    return pd.DataFrame(
        {
            "Cohort": [COHORT_NAMES.get(c, c) for c in closed["cohort"]],
            "OR": closed["OR"],
            "Patients": closed["n"],
            "Simulated studies": closed["reps"],
            "Simulated power (%)": 100 * closed["power"],
            "Monte Carlo standard error (percentage points)": 100 * closed["mc_se"],
            "Demidenko, Wald test (%)": 100 * closed["demidenko"],
            "Hsieh, Bloch & Larsen (%)": 100 * closed["hsieh"],
            "Simulated − Demidenko (Monte Carlo standard errors)": closed["z"],
            "Studies whose fit did not converge": closed["nonconverged"],
        }
    )


#: The assumed ORs' labels (:func:`microcalc.planning.assumed_ors`) -> their names on the page.
ASSUMED: dict[str, str] = {
    "published": "Published",
    "CI lower limit": "Lower 95% CI limit",
    "CI upper limit": "Upper 95% CI limit",
}


def power_table(grid: pd.DataFrame) -> pd.DataFrame:
    """A power grid (:func:`microcalc.planning.power_grid`) for reading: one row per cohort size, one column
    per assumed OR (in the grid's order) headed by its value and name, power in percent (the simulated share x 100).

    >>> grid = pd.DataFrame({"or_label": ["published"] * 2, "or": 2.352, "n": [100, 200], "power": [0.318, 0.594]})
    >>> power_table(grid).to_dict("list")
    {'Patients': [100, 200], 'Power (%), OR 2.352 (published)': [31.8, 59.4]}
    """
    out = pd.DataFrame({"Patients": sorted(grid["n"].unique())})
    for (label, value), g in grid.groupby(["or_label", "or"], sort=False):
        name = ASSUMED.get(label, label)
        power = g.set_index("n")["power"].reindex(out["Patients"]).to_numpy()
        out[f"Power (%), OR {value:g} ({name[0].lower() + name[1:]})"] = 100 * power
    return out


#: What :func:`sample_size_table`'s sizes are.
SIZE_CAPTION = (
    "Patients with complete covariates, interpolated linearly between the simulated sizes; "
    '"more than" the largest size when even it does not reach the power.'
)


def sample_size_table(grid: pd.DataFrame, targets=(0.8, 0.9)) -> pd.DataFrame:
    """The cohort size reaching each target power (:func:`microcalc.planning.size_for_power`), one row per
    assumed OR (in the grid's order), named (:data:`ASSUMED`)."""
    out = None
    for target in targets:
        sizes = _planning.size_for_power(grid, target)
        out = sizes if out is None else out.merge(sizes, on=["assumed OR", "OR"], how="left")
    assert out is not None, "at least one target power"
    out["assumed OR"] = out["assumed OR"].map(lambda label: ASSUMED.get(label, label))
    return out.rename(
        columns={**{c: c.replace("n for", "Patients for") for c in out.columns}, "assumed OR": "Assumed OR"}
    )


def fit_problems(grid: pd.DataFrame) -> pd.DataFrame:
    """Per cohort: studies simulated, fits that did not converge because a covariate was perfectly separated
    (a small category in which every patient, or none, had the event; their microcalcification Wald test
    is still used) and studies whose microcalcification estimate was not finite (counted as not
    significant), with the columns named in words."""
    sums = grid.groupby("cohort", sort=False)[["reps", "nonconverged", "exposure_not_estimable"]].sum()
    return pd.DataFrame(
        {
            "Cohort": [COHORT_NAMES.get(c, c) for c in sums.index],
            "Simulated studies (all sizes and ORs)": sums["reps"].to_numpy(),
            "Studies whose fit did not converge (a covariate perfectly separated)": sums["nonconverged"].to_numpy(),
            "Studies without a finite microcalcification estimate (counted as not significant)": sums[
                "exposure_not_estimable"
            ].to_numpy(),
        }
    )
