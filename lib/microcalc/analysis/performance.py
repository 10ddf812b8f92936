"""How well a fitted logistic model discriminates and calibrates, and whether its terms interact.

* :func:`c_statistic`: the C-statistic (area under the ROC curve) with DeLong's
  95% CI (DeLong et al., Biometrics 1988;44:837-45), as R ``pROC::ci.auc``.
* :func:`calibration`: calibration intercept (calibration-in-the-large) and
  slope of predicted risks (Van Calster et al., BMC Med 2019;17:230).
* :func:`bootstrap_validation`: Harrell's bootstrap optimism correction of
  the C-statistic, calibration intercept and slope (Harrell, *Regression
  Modeling Strategies*, 2nd ed., 2015, section 5.3.5; R ``rms::validate``).
* :func:`hosmer_lemeshow`: the Hosmer-Lemeshow test with its number of groups
  stated (as R ``ResourceSelection::hoslem.test``).
* :func:`vif`: (generalised) variance inflation factors (Fox & Monette, JASA
  1992;87:178-83; as R ``car::vif``).
* :func:`interaction_lr_test`: likelihood-ratio test of exposure x modifier.
* :func:`plot_calibration`: a calibration plot (returns the axes).

Discrimination, calibration, bootstrap validation and the Hosmer-Lemeshow test
sit in :mod:`microcalc.analysis.validation`; this module re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.analysis.effects import fit_estimable
from microcalc.analysis.models import design_matrix, drop_aliased
from microcalc.analysis.results import is_not_estimable, not_estimable
from microcalc.analysis.stats import model_estimates, unfittable_reason
from microcalc.analysis.tables import p_phrase
from microcalc.analysis.validation import (
    Calibration,
    CStatistic,
    HosmerLemeshow,
    Validation,
    _design,
    bootstrap_validation,
    c_statistic,
    calibration,
    hosmer_lemeshow,
    model_predictions,
)

__all__ = [
    "CStatistic",
    "c_statistic",
    "Calibration",
    "calibration",
    "Validation",
    "bootstrap_validation",
    "HosmerLemeshow",
    "hosmer_lemeshow",
    "vif",
    "InteractionTest",
    "interaction_lr_test",
    "plot_calibration",
    "model_predictions",
    "ModelChecks",
    "model_checks",
    "checks_sentence",
]


def vif(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> pd.DataFrame:
    """Generalised variance inflation factors of each term of a logistic model, as R ``car::vif``.

    From the correlation matrix R of the coefficients (without the
    intercept): GVIF = det(R_tt) det(R_oo) / det(R) for the term's block t and
    the others o (Fox & Monette 1992); for a one-column term this is the usual
    VIF. GVIF^(1/(2 df)) makes terms with different numbers of columns
    comparable (its square is on the VIF scale).

    Returns
    -------
    DataFrame indexed by term: ``gvif``, ``df``, ``gvif_adjusted`` (GVIF^(1/(2 df))); aliased columns
    (a rank-deficient design) are left out first, and a term left with none has NaN and ``df`` 0.
    """
    X, y, columns_of = _design(df, outcome, terms)
    V = np.asarray(fit_estimable(X, y).cov_params())[1:, 1:]
    d = np.sqrt(np.diag(V))
    R = V / np.outer(d, d)
    det_all = np.linalg.det(R)
    rows = {}
    for term, cols in columns_of.items():
        if not cols:  # every column of the term aliased (or an absent variable): nothing to inflate
            rows[term] = {"gvif": np.nan, "df": 0, "gvif_adjusted": np.nan}
            continue
        idx = [c - 1 for c in cols]
        rest = [i for i in range(R.shape[0]) if i not in idx]
        gv = np.linalg.det(R[np.ix_(idx, idx)]) * (np.linalg.det(R[np.ix_(rest, rest)]) if rest else 1.0) / det_all
        rows[term] = {"gvif": float(gv), "df": len(idx), "gvif_adjusted": float(gv ** (1 / (2 * len(idx))))}
    out = pd.DataFrame(rows).T
    out["df"] = out["df"].astype(int)
    out.index.name = "term"
    return out


@dataclass(frozen=True)
class InteractionTest:
    """Likelihood-ratio test of an exposure x modifier interaction.

    Attributes
    ----------
    exposure, modifier : the two terms.
    statistic, df, p : LR chi-squared, its df (number of product terms), P.
    n : patients (complete cases of the model).
    table : ORs of the product terms in the model with interaction (ratio of ORs), Wald CI and P.
    sentence : the result in words.
    """

    exposure: str
    modifier: str
    statistic: float
    df: int
    p: float
    n: int
    table: pd.DataFrame
    sentence: str


def interaction_lr_test(
    df: pd.DataFrame, outcome: str, terms: Sequence[str], exposure: str, modifier: str
) -> InteractionTest:
    """Likelihood-ratio test of exposure x modifier in ``outcome ~ terms``.

    Adds the products of the exposure's column with each of the modifier's
    columns to the main-effects model and compares the two by a likelihood
    ratio on the same patients, as R
    ``anova(glm(y ~ terms), glm(y ~ terms + exposure:modifier), test = "LRT")``.
    Aliased columns are left out of both models (as R's ``glm``); when no
    product column is left, or a model cannot be fitted (separation), the
    test is not estimable: NaN, and the sentence says ``not estimable: <reason>``.
    """
    for t in (exposure, modifier):
        if t not in terms:
            raise ValueError(f"'{t}' is not a term of the model; terms are {list(terms)}")
    data = df[[outcome, *terms]].dropna()
    X, names, columns_of = design_matrix(data, terms)
    y = data[outcome].astype(float).to_numpy()
    e_cols, m_cols = columns_of[exposure], columns_of[modifier]
    products = [X[:, i] * X[:, j] for i in e_cols for j in m_cols]
    product_names = [f"{names[i]}:{names[j]}" for i in e_cols for j in m_cols]
    X, _ = drop_aliased(X)
    Xi, keep_i = drop_aliased(np.column_stack([X] + products) if products else X)
    keep = [k - X.shape[1] for k in keep_i if k >= X.shape[1]]
    reason = "" if keep else f"no product of {exposure} and {modifier} varies apart from the main effects"
    if not reason:
        try:
            base, inter = fit_estimable(X, y), fit_estimable(Xi, y, "the model with interaction")
        except ValueError as err:
            reason = str(err).removeprefix(not_estimable(""))
    if reason:
        return InteractionTest(
            exposure,
            modifier,
            np.nan,
            0,
            np.nan,
            len(y),
            pd.DataFrame(columns=["or", "ci_low", "ci_high", "p"]),
            f"Interaction {exposure} x {modifier}: {not_estimable(reason)}.",
        )
    stat = float(max(0.0, 2 * (inter.llf - base.llf)))
    dof = len(keep)
    p = float(stats.chi2.sf(stat, dof))
    b, se = np.asarray(inter.params)[X.shape[1] :], np.asarray(inter.bse)[X.shape[1] :]
    z = float(stats.norm.ppf(0.975))
    table = pd.DataFrame(
        {
            "or": np.exp(b),
            "ci_low": np.exp(b - z * se),
            "ci_high": np.exp(b + z * se),
            "p": 2 * stats.norm.sf(np.abs(b / se)),
        },
        index=pd.Index([product_names[k] for k in keep], name="term"),
    )
    sentence = (
        f"Interaction {exposure} x {modifier}: likelihood-ratio chi-squared {stat:.2f} on {dof} df, "
        f"{p_phrase(p)} ({len(y)} patients); a test of interaction has little power, so a large P does "
        "not show that the association is the same in every subgroup."
    )
    return InteractionTest(exposure, modifier, stat, dof, p, len(y), table, sentence)


def plot_calibration(y, p, groups: int = 10, ax=None, label: str | None = None):
    """Calibration plot: observed against mean predicted risk in groups of predicted risk.

    Groups as :func:`hosmer_lemeshow`; each point is a group with its 95%
    Wilson CI of the observed proportion; the diagonal is perfect calibration.
    Without fitted risks (a model not estimable: NaN ``p``) or with an outcome
    that does not vary, the axes say "not estimable". Returns the axes.
    """
    import matplotlib.pyplot as plt

    from microcalc.analysis.stats import wilson_ci

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.plot([0, 1], [0, 1], color="#888888", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean predicted risk")
    ax.set_ylabel("observed proportion (95% CI)")
    if not np.isfinite(np.asarray(p, dtype=float)).all() or len(np.unique(y)) < 2:
        ax.text(0.5, 0.5, "not estimable", ha="center", va="center", fontsize=9, color="#555555")
        return ax
    hl = hosmer_lemeshow(y, p, groups)
    t = hl.table
    mean_p = t["expected"] / t["n"]
    obs = t["observed"] / t["n"]
    lo, hi = wilson_ci(t["observed"].to_numpy(), t["n"].to_numpy())
    ax.errorbar(
        mean_p,
        obs,
        yerr=[obs - lo, hi - obs],
        fmt="o",
        markersize=4,
        capsize=2,
        linewidth=1,
        label=label or f"{hl.groups} groups of predicted risk",
    )
    ax.legend(loc="upper left", frameon=False)
    return ax


@dataclass(frozen=True)
class ModelChecks:
    """Everything a reader needs to judge one fitted multivariable logistic model.

    Attributes
    ----------
    c : :class:`CStatistic` (apparent, DeLong CI).
    validation : :class:`Validation` (optimism-corrected C, calibration intercept and slope).
    hosmer_lemeshow : :class:`HosmerLemeshow`.
    vif : DataFrame of :func:`vif`.
    interactions : list of :class:`InteractionTest`, one per (exposure, modifier) asked for.
    y, p : outcomes (0/1) and fitted risks of the model's sample, for :func:`plot_calibration`.
    note : ``""``, or ``not estimable: <reason>`` when the model itself cannot be fitted (separation,
        an outcome that does not vary): every number is then NaN and every sentence says so.
    """

    c: CStatistic
    validation: Validation
    hosmer_lemeshow: HosmerLemeshow
    vif: pd.DataFrame
    interactions: list
    y: np.ndarray
    p: np.ndarray
    note: str = ""


def model_checks(
    df: pd.DataFrame,
    outcome: str,
    terms: Sequence[str],
    interactions: Sequence[tuple[str, str]] = (),
    n_boot: int = 200,
    seed: int = 20230314,
    groups: int = 10,
) -> ModelChecks:
    """Discrimination, calibration, fit, collinearity and interaction tests of ``outcome ~ terms`` in one call.

    Runs :func:`c_statistic`, :func:`bootstrap_validation` (``n_boot``
    replicates, ``seed``), :func:`hosmer_lemeshow` (``groups``), :func:`vif`
    and :func:`interaction_lr_test` for each (exposure, modifier) pair.
    When the maximum-likelihood model cannot be fitted
    (:func:`microcalc.analysis.stats.unfittable_reason`: separation, an outcome that
    does not vary) none of them can: every number is NaN and ``note`` says
    ``not estimable: <reason>``.
    """
    data = df[[outcome, *terms]].dropna()
    reason = unfittable_reason(model_estimates(data, outcome, terms))
    if reason:
        note = not_estimable(reason)
        y = data[outcome].astype(float).to_numpy()
        nan3 = pd.DataFrame(
            np.nan,
            columns=["apparent", "optimism", "corrected"],
            index=pd.Index(["c_statistic", "calibration_intercept", "calibration_slope"], name="measure"),
        )
        vifs = pd.DataFrame({"gvif": np.nan, "df": 0, "gvif_adjusted": np.nan}, index=pd.Index(terms, name="term"))
        return ModelChecks(
            CStatistic(np.nan, np.nan, np.nan, np.nan, int(y.sum()), int(len(y) - y.sum())),
            Validation(nan3, 0, 0, seed, note),
            HosmerLemeshow(np.nan, 0, np.nan, 0, pd.DataFrame(), f"Hosmer-Lemeshow test: {note}."),
            vifs,
            [
                InteractionTest(e, m, np.nan, 0, np.nan, len(y), pd.DataFrame(), f"Interaction {e} x {m}: {note}.")
                for e, m in interactions
            ],
            y,
            np.full(len(y), np.nan),
            note,
        )
    y, p = model_predictions(df, outcome, terms)
    return ModelChecks(
        c_statistic(y, p),
        bootstrap_validation(df, outcome, terms, n_boot=n_boot, seed=seed),
        hosmer_lemeshow(y, p, groups),
        vif(df, outcome, terms),
        [interaction_lr_test(df, outcome, terms, e, m) for e, m in interactions],
        y,
        p,
    )


def checks_sentence(checks: ModelChecks, vif_threshold: float = 5.0) -> str:
    """Discrimination, calibration after optimism correction, skipped resamples and collinearity, in words.

    Parameters
    ----------
    checks : output of :func:`model_checks`.
    vif_threshold : GVIF^(1/df) (the VIF scale) above which collinearity is called troubling (5).

    Returns
    -------
    str
        The apparent C with its DeLong CI, the optimism-corrected C and
        calibration slope and intercept with the number of replicates and the
        seed; when bootstrap samples could not be fitted (separation), that
        they were skipped and that the optimism may then be understated; the
        largest generalised VIF.
    """
    c, v = checks.c, checks.validation
    if checks.note:
        return f"Discrimination, calibration and collinearity of the model: {checks.note}."
    if is_not_estimable(v.method):
        text = (
            f"C-statistic {c.c:.2f} (DeLong 95% CI {c.ci_low:.2f} to {c.ci_high:.2f}) on the model's own "
            f"patients; the optimism-corrected C, calibration slope and intercept: {v.method}. "
        )
        return text + _vif_sentence(checks.vif, vif_threshold)
    t = v.table["corrected"]
    slope = t["calibration_slope"]
    text = (
        f"C-statistic {c.c:.2f} (DeLong 95% CI {c.ci_low:.2f} to {c.ci_high:.2f}) on the model's own patients; "
        f"corrected for optimism by {v.n_used} bootstrap replicates (seed {v.seed}), {t['c_statistic']:.2f}. "
        f"Optimism-corrected calibration slope {slope:.2f} and intercept "
        f"{round(t['calibration_intercept'], 2) + 0.0:.2f}"
    )
    if slope < 0.9:
        text += (
            " (a slope below 1: the model's predictions are too extreme for new patients, a sign of "
            "overfitting; its ORs would shrink towards 1 on new data)"
        )
    text += ". "
    skipped = v.n_boot - v.n_used
    if skipped:
        text += (
            f"{skipped} of {v.n_boot} bootstrap samples could not be fitted (separation or a singular design: "
            "no maximum-likelihood estimate) and were skipped; the replicates kept are the better-behaved "
            "samples, so the optimism may be understated and the corrected C and slope too favourable. "
        )
    return text + _vif_sentence(checks.vif, vif_threshold)


def _vif_sentence(vifs: pd.DataFrame, vif_threshold: float) -> str:
    """The largest generalised VIF on the VIF scale, in words."""
    scaled = (vifs["gvif"] ** (1 / vifs["df"].where(vifs["df"] > 0))).dropna()
    if scaled.empty:
        return "No VIF could be computed."
    worst = scaled.idxmax()
    scale = "Largest generalised variance inflation factor (VIF), on the VIF scale"
    return f"{scale}: {scaled[worst]:.2f}, for {worst}" + (
        f"; all below {vif_threshold:g}, so collinearity does not inflate the standard errors much."
        if scaled.max() < vif_threshold
        else f"; above {vif_threshold:g}: collinearity inflates its standard error."
    )
