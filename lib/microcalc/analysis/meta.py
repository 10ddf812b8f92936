"""Centres of a multicentre cohort: one odds ratio per centre, pooled by random-effects meta-analysis.

:func:`centre_odds_ratios` gives each centre's 2 x 2 odds ratio (with 0.5
added to every cell of a centre that has a zero cell, and a flag saying so);
:func:`pool_random_effects` pools log odds ratios with the DerSimonian-Laird
estimator of the between-centre variance, reporting tau-squared, I-squared and Cochran's Q
(DerSimonian & Laird, Control Clin Trials 1986;7:177-88; Higgins &
Thompson, Stat Med 2002;21:1539-58).

The estimators sit in :mod:`microcalc.analysis.pooling`, whose public names
this module re-exports; the sentences that report them are here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from microcalc.abstract.pvalues import Z_975
from microcalc.analysis.pooling import (
    PooledOR,
    RandomEffectsPooled,
    leave_one_centre_out,
    mantel_haenszel,
    pool_dersimonian_laird,
    pool_random_effects,
    pool_reml_hksj,
    reml_tau2,
)
from microcalc.analysis.tables import p_phrase, zero_or

__all__ = ["centre_odds_ratios", "pool_random_effects", "RandomEffectsPooled"]


def centre_odds_ratios(df: pd.DataFrame, exposure: str, outcome: str, centre: str) -> pd.DataFrame:
    """Per-centre 2 x 2 counts, log OR and its variance (Woolf), OR with Wald 95% CI.

    Rows with the exposure, outcome or centre missing are left out. A centre
    with a zero cell gets 0.5 added to each of its cells (``corrected``); a
    centre where the exposure or the outcome does not vary is not estimable
    and is left out of pooling (``estimable`` False).
    """
    data = df[[exposure, outcome, centre]].dropna()
    rows = []
    for name, sub in data.groupby(centre, sort=True, observed=True):
        x = sub[exposure].astype(bool)
        y = sub[outcome].astype(bool)
        a, b = int((x & y).sum()), int((x & ~y).sum())
        c, d = int((~x & y).sum()), int((~x & ~y).sum())
        estimable = (a + b) > 0 and (c + d) > 0 and (a + c) > 0 and (b + d) > 0
        corrected = estimable and min(a, b, c, d) == 0
        aa, bb, cc, dd = (v + 0.5 if corrected else v for v in (a, b, c, d))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_or = np.log(aa * dd / (bb * cc)) if estimable else np.nan
            var = 1 / aa + 1 / bb + 1 / cc + 1 / dd if estimable else np.nan
        se = np.sqrt(var)
        rows.append(
            {
                "centre": str(name),
                "n": len(sub),
                "events_exposed": a,
                "n_exposed": a + b,
                "events_reference": c,
                "n_reference": c + d,
                "log_or": log_or,
                "var": var,
                "or": np.exp(log_or),
                "ci_low": np.exp(log_or - Z_975 * se),
                "ci_high": np.exp(log_or + Z_975 * se),
                "corrected": corrected,
                "estimable": estimable,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Few centres: REML with Hartung-Knapp-Sidik-Jonkman, prediction interval,
# Mantel-Haenszel, leave one centre out (issue 13): the estimators are in
# microcalc.analysis.pooling; what they say, in words, is here.
# ---------------------------------------------------------------------------


__all__ += [
    "PooledOR",
    "reml_tau2",
    "pool_reml_hksj",
    "pool_dersimonian_laird",
    "mantel_haenszel",
    "leave_one_centre_out",
    "heterogeneity_sentence",
]


def heterogeneity_sentence(pooled: PooledOR) -> str:
    """What tau-squared, I-squared and Q say with ``pooled.k`` centres, in words that never conclude homogeneity.

    With fewer than about 10 centres the Q test has little power and I^2 is
    very imprecise (von Hippel, BMC Med Res Methodol 2015;15:35), so I^2 = 0
    is reported as "no heterogeneity detected", never as "homogeneous".
    """
    if not np.isfinite(pooled.or_):
        return f"Between-centre heterogeneity: {pooled.method}."
    few = pooled.k < 10
    text = (
        f"Between-centre variance τ² = {zero_or(pooled.tau2, 3)}, I² = {zero_or(pooled.i2, 1)}%, "
        f"Cochran's Q = {pooled.q:.2f} "
        f"on {pooled.k - 1} df ({p_phrase(pooled.q_p)}) over {pooled.k} centres"
    )
    if few:
        text += (
            f": with only {pooled.k} centres these cannot show that the centres agree; no heterogeneity was "
            "detected, which is not evidence of none"
        )
    if np.isfinite(pooled.pi_low):
        text += f". The 95% prediction interval for a new centre's OR is {pooled.pi_low:.2f} to {pooled.pi_high:.2f}"
    return text + "."


__all__ += ["PoolingFits", "pooling_fits", "pooling_comparison", "pooling_sentence"]


@dataclass(frozen=True)
class PoolingFits:
    """The pooled OR four ways (:func:`pooling_fits`), each a :class:`PooledOR`.

    ``reml_hksj`` (REML + Hartung-Knapp-Sidik-Jonkman, untruncated),
    ``reml_hksj_truncated`` (its SE never below the standard one),
    ``dersimonian_laird`` and ``mantel_haenszel``. :meth:`items` gives
    (name, fit) pairs in that order.
    """

    reml_hksj: PooledOR
    reml_hksj_truncated: PooledOR
    dersimonian_laird: PooledOR
    mantel_haenszel: PooledOR

    def items(self) -> list[tuple[str, PooledOR]]:
        """(name, fit) pairs, in the order of the fields."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]


def pooling_fits(centres: pd.DataFrame) -> PoolingFits:
    """The pooled OR four ways: REML + HKSJ (untruncated, then truncated), DerSimonian-Laird, Mantel-Haenszel.

    Parameters
    ----------
    centres : output of :func:`centre_odds_ratios`.

    Returns
    -------
    :class:`PoolingFits`, of :class:`PooledOR` named ``reml_hksj``, ``reml_hksj_truncated``,
    ``dersimonian_laird``, ``mantel_haenszel``; a fit the centres cannot give
    (fewer than 2 estimable centres; for Mantel-Haenszel a zero sum of cross
    products or a centre of 1 patient) is :meth:`PooledOR.unestimable`.
    """
    k = int(np.isfinite(np.asarray(centres["log_or"], dtype=float)).sum()) if len(centres) else 0
    fits = {
        "reml_hksj": lambda: pool_reml_hksj(centres["log_or"], centres["var"]),
        "reml_hksj_truncated": lambda: pool_reml_hksj(centres["log_or"], centres["var"], truncate=True),
        "dersimonian_laird": lambda: pool_dersimonian_laird(centres["log_or"], centres["var"]),
        "mantel_haenszel": lambda: mantel_haenszel(centres),
    }
    out = {}
    for name, fit in fits.items():
        try:
            out[name] = fit()
        except ValueError as err:  # too few centres, a zero sum of cross products, a 1-patient centre
            attempted = _ESTIMATOR[name]
            out[name] = PooledOR.unestimable(len(centres) if name == "mantel_haenszel" else k, str(err), attempted)
    return PoolingFits(**out)


#: The estimator (a key of ``tidy.ESTIMATORS``) of each fit of :func:`pooling_fits`.
_ESTIMATOR = {
    "reml_hksj": "random_effects_reml",
    "reml_hksj_truncated": "random_effects_reml",
    "dersimonian_laird": "random_effects_dl",
    "mantel_haenszel": "mantel_haenszel",
}


def pooling_comparison(fits: PoolingFits) -> pd.DataFrame:
    """The fits of :func:`pooling_fits` side by side.

    Returns
    -------
    DataFrame indexed by ``method`` (the field names of ``fits``), the :meth:`PooledOR.as_row`
    fields (``description`` for the method in words).
    """
    out = pd.DataFrame({k: f.as_row() for k, f in fits.items()}).T.rename(columns={"method": "description"})
    out.index.name = "method"
    return out


def pooling_sentence(table: pd.DataFrame) -> str:
    """What :func:`pooling_comparison` shows, in words: tau2, the HKSJ CI against DerSimonian-Laird's, and why.

    The untruncated Hartung-Knapp SE is smaller than the standard one when the
    centres agree more than their sampling variances predict (Q < k - 1); the
    sentence then says so, and whether the t reference still makes the CI
    wider or, despite it, narrower than the DerSimonian-Laird CI. A pooled OR
    that is not estimable is said with its ``not estimable: <reason>``.
    """

    def ci(r):
        if not np.isfinite(float(r["or"])):
            return r["description"]
        return f"{r['or']:.2f} (95% CI {r['ci_low']:.2f} to {r['ci_high']:.2f})"

    h, tr, dl, mh = (table.loc[m] for m in ("reml_hksj", "reml_hksj_truncated", "dersimonian_laird", "mantel_haenszel"))
    if not np.isfinite(float(h["or"])):
        return (
            f"Pooling over centres by REML with the Hartung-Knapp-Sidik-Jonkman CI: {h['description']}. "
            f"Mantel-Haenszel: {ci(mh)}."
        )
    width = {k: np.log(r["ci_high"]) - np.log(r["ci_low"]) for k, r in (("h", h), ("dl", dl))}
    k = int(h["k"])
    text = (
        f"Over {k} centres, REML gives τ² = {float(h['tau2']):.3g}. The Hartung-Knapp-Sidik-Jonkman CI "
        f"(t on {k - 1} df, untruncated) is {ci(h)}, {'narrower' if width['h'] < width['dl'] else 'wider'} "
        f"than the DerSimonian-Laird CI {ci(dl)}"
    )
    if h["se"] < tr["se"]:
        text += (
            f": the centres agree more closely than their sampling variances predict (Q = {float(h['q']):.2f} "
            f"below its {k - 1} df), so the untruncated Hartung-Knapp SE ({float(h['se']):.3f}) is smaller than "
            f"the standard one ({float(tr['se']):.3f})"
            + (
                ", enough to outweigh the wider t reference"
                if width["h"] < width["dl"]
                else ", though the t reference still makes the CI wider"
            )
        )
    text += (
        f". Truncated at the standard SE (a check), the CI is {tr['ci_low']:.2f} to {tr['ci_high']:.2f}. "
        f"Mantel-Haenszel: {ci(mh)}."
    )
    return text
