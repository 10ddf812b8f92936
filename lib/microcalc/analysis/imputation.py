"""Missing covariates: multiple imputation by chained equations, Rubin's rules, and the exposure's OR three ways.

* :func:`rubin_pool`: pool estimates from m completed data sets by Rubin's
  rules, with the Barnard-Rubin degrees of freedom (as R ``mice::pool``).
* :func:`impute_and_pool`: impute one incomplete yes/no covariate with
  statsmodels' ``MICEData`` (chained equations; logistic imputation model,
  predictive mean matching), fit the logistic model on each completed data
  set, pool.
* :func:`exposure_or_sensitivity`: the exposure's OR under complete case,
  without the incomplete covariate, and imputed, in one table.

The association of missingness with other variables sits in
:mod:`microcalc.analysis.missingness`, Rubin's rules in :mod:`microcalc.analysis.rubin`;
this module re-exports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from microcalc.analysis.effects import fit_estimable, model_without
from microcalc.analysis.missingness import Missingness, missingness_association
from microcalc.analysis.models import aliased_columns, design_matrix, drop_aliased
from microcalc.analysis.results import is_not_estimable, not_estimable
from microcalc.analysis.rubin import RubinPooled, rubin_pool
from microcalc.analysis.stats import model_estimates, unfittable_reason
from microcalc.analysis.tables import p_phrase
from microcalc.core.cache import reusable

__all__ = [
    "RubinPooled",
    "rubin_pool",
    "MultipleImputation",
    "impute_and_pool",
    "exposure_or_sensitivity",
    "Missingness",
    "missingness_association",
]


@dataclass(frozen=True)
class MultipleImputation:
    """A logistic model fitted on m imputed data sets and pooled.

    Attributes
    ----------
    table : DataFrame indexed by term: ``or``, ``ci_low``, ``ci_high``, ``p``
        (t with Barnard-Rubin df), ``df``, ``fmi``.
    pooled : the :class:`RubinPooled` on the log-OR scale (intercept first, aliased columns left out);
        None when not estimable.
    n : patients in the analysis (complete in every variable but the imputed one).
    n_missing : of them, patients whose ``incomplete`` value was imputed.
    events : events among the ``n``.
    m, seed : imputations and seed.
    method : what was done, in words; ``not estimable: <reason>`` (every number NaN) when the analysis
        model cannot be fitted on the completed data sets. A coefficient aliased in every completed data
        set (a rank-deficient design) is NaN, the others are pooled, as R's ``glm`` and ``mice::pool``.
    """

    table: pd.DataFrame
    pooled: RubinPooled | None
    n: int
    n_missing: int
    events: int
    m: int
    seed: int
    method: str


@reusable
def impute_and_pool(
    df: pd.DataFrame,
    outcome: str,
    terms: Sequence[str],
    incomplete: str,
    m: int = 20,
    seed: int = 20230314,
    donors: int = 5,
    burn_in: int = 10,
    level: float = 0.95,
) -> MultipleImputation:
    """Multiple imputation of one incomplete yes/no covariate by chained equations, pooled by Rubin's rules.

    Imputation: statsmodels ``MICEData`` (van Buuren & Groothuis-Oudshoorn,
    J Stat Softw 2011;45(3)) with a logistic (binomial GLM) imputation model
    of ``incomplete`` on the outcome and every other term (their design
    columns), Gaussian perturbation of its coefficients (a draw from their
    approximate posterior) and predictive mean matching among ``donors``
    nearest observed patients, so imputed values are observed values (yes/no).
    The outcome is in the imputation model, as it must be (Moons et al., J
    Clin Epidemiol 2006;59:1092-101). After ``burn_in`` cycles, each of the m
    completed data sets is taken one cycle apart; the analysis model is fitted
    on each and pooled by :func:`rubin_pool` (dfcom = n - coefficients).
    Aliased columns (a rank-deficient design) are left out of the imputation
    model (as ``mice``'s ``remove.collinear``) and of the analysis model (as
    R's ``glm``; their ORs are NaN).

    When ``MICROCALC_RESULT_CACHE`` is set (``make all``), the result is kept under a key of the
    data, the arguments, the code and the package versions and read back on a rerun
    (:func:`microcalc.core.cache.reusable`).

    Parameters
    ----------
    df : the cohort (not modified).
    outcome, terms : the analysis model (``incomplete`` must be a yes/no term).
    incomplete : the covariate to impute; the only one allowed to be missing
        (patients missing another variable are left out, as in the complete-case model).
    m : imputations (at least 20 recommended when the fraction missing is up to 20%).
    seed : seed of the random generator passed to ``MICEData`` (reproducible).
    donors : predictive-mean-matching donors (``mice``'s default 5).
    burn_in : chained-equation cycles before the first imputation.
    level : CI coverage.

    Returns
    -------
    MultipleImputation
    """
    import warnings

    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.imputation.mice import MICEData

    if incomplete not in terms:
        raise ValueError(f"'{incomplete}' is not a term of the model; terms are {list(terms)}")
    if m < 2:
        raise ValueError(f"need at least 2 imputations, got {m}")
    others = [t for t in terms if t != incomplete]
    data = df[[outcome, *terms]].dropna(subset=[outcome, *others]).copy()
    values = data[incomplete]
    observed = values.dropna()
    if not (pd.api.types.is_bool_dtype(observed) or set(pd.unique(observed)) <= {0, 1}):
        raise ValueError(f"'{incomplete}' must be yes/no to be imputed here")
    missing = values.isna().to_numpy()
    if not missing.any():
        raise ValueError(f"'{incomplete}' has no missing values among the model's patients: nothing to impute")
    n = len(data)
    _, all_names, _ = design_matrix(data, terms)

    def unestimable(reason: str) -> MultipleImputation:
        table = pd.DataFrame(
            np.nan, index=pd.Index(all_names[1:], name="term"), columns=["or", "ci_low", "ci_high", "p", "df", "fmi"]
        )
        return MultipleImputation(
            table, None, n, int(missing.sum()), int(data[outcome].astype(bool).sum()), m, seed, not_estimable(reason)
        )

    reason = unfittable_reason(model_estimates(data, outcome, others))
    if reason:
        return unestimable(f"the model without {incomplete} cannot be fitted ({reason}), nor the imputation model")
    X_other, _ = drop_aliased(design_matrix(data, others)[0])  # as mice's remove.collinear
    frame = pd.DataFrame(X_other[:, 1:], columns=[f"x{i}" for i in range(X_other.shape[1] - 1)])
    frame["outcome"] = data[outcome].astype(float).to_numpy()
    frame["target"] = values.astype("Float64").astype(float).to_numpy()
    rng = np.random.default_rng(seed)
    est: list[np.ndarray] = []
    var: list[np.ndarray] = []
    kept: list[int] | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            imp = MICEData(frame, k_pmm=donors, rng=rng)
            imp.set_imputer("target", model_class=GLM, init_kwds={"family": Binomial()}, k_pmm=donors)
            imp.update_all(burn_in)
        except (np.linalg.LinAlgError, ValueError) as err:
            return unestimable(f"the imputation model of {incomplete} could not be fitted ({err})")
        for i in range(m):
            try:
                imp.update_all(1)
            except (np.linalg.LinAlgError, ValueError) as err:
                return unestimable(f"the imputation model of {incomplete} could not be fitted ({err})")
            completed = data.copy()
            completed[incomplete] = pd.array(imp.data["target"].to_numpy() > 0.5, dtype="boolean")
            X, names, _ = design_matrix(completed, terms)
            keep = [j for j in range(X.shape[1]) if j not in aliased_columns(X)]
            if kept is None:
                kept = keep
            elif keep != kept:
                return unestimable("the analysis model's aliased columns differ between imputed data sets")
            try:
                res = fit_estimable(
                    X[:, keep] if len(keep) < X.shape[1] else X,
                    frame["outcome"].to_numpy(),
                    f"the analysis model on imputed data set {i + 1}",
                )
            except ValueError as err:
                return unestimable(str(err).removeprefix(not_estimable("")))
            est.append(np.asarray(res.params))
            var.append(np.asarray(res.bse) ** 2)
    if kept is None:
        return unestimable(f"no imputed data set was drawn (m = {m})")
    pooled = rubin_pool(np.array(est), np.array(var), dfcom=n - len(kept), level=level)
    columns = {
        "or": np.exp(pooled.estimate),
        "ci_low": np.exp(pooled.ci_low),
        "ci_high": np.exp(pooled.ci_high),
        "p": pooled.p,
        "df": pooled.df,
        "fmi": pooled.fmi,
    }
    table = pd.DataFrame(np.nan, index=pd.Index(names, name="term"), columns=list(columns))
    table.iloc[kept] = np.column_stack(list(columns.values()))
    table = table.iloc[1:]
    method = (
        f"multiple imputation of {incomplete} by chained equations (statsmodels MICEData: logistic "
        f"imputation model with the outcome, predictive mean matching, {donors} donors), m = {m}, "
        f"seed {seed}; pooled by Rubin's rules, t with Barnard-Rubin df"
    )
    return MultipleImputation(table, pooled, n, int(missing.sum()), int(frame["outcome"].sum()), m, seed, method)


def exposure_or_sensitivity(
    df: pd.DataFrame,
    outcome: str,
    terms: Sequence[str],
    exposure: str,
    incomplete: str,
    m: int = 20,
    seed: int = 20230314,
) -> pd.DataFrame:
    """The exposure's adjusted OR three ways: complete case, without the incomplete covariate, imputed.

    Parameters
    ----------
    df : the cohort (not modified).
    outcome, terms : the multivariable model.
    exposure : the term whose OR is compared.
    incomplete : the covariate with missing values.
    m, seed : passed to :func:`impute_and_pool`.

    Returns
    -------
    DataFrame
        One row per analysis: ``analysis``, ``label`` (for
        :func:`microcalc.analysis.plots.forest_plot`), ``n``, ``events``, ``or``,
        ``ci_low``, ``ci_high``, ``p``, ``method`` (``not estimable: <reason>``
        where the analysis cannot give the OR: separation, an exposure that
        does not vary, nothing to impute).
    """
    rows = []
    cc = model_estimates(df, outcome, terms)
    e = cc.table.loc[exposure]
    rows.append(
        {
            "analysis": "complete case",
            "n": cc.n,
            "events": cc.events,
            **e[["or", "ci_low", "ci_high", "p"]].to_dict(),
            "method": e["note"] or "logistic regression on complete cases, Wald 95% CI",
        }
    )
    wo = model_without(df, outcome, terms, incomplete)
    e = wo.table.loc[exposure]
    rows.append(
        {
            "analysis": f"without {incomplete}",
            "n": wo.n,
            "events": wo.events,
            **e[["or", "ci_low", "ci_high", "p"]].to_dict(),
            "method": e["note"]
            or f"logistic regression without {incomplete}, every patient with the other covariates, Wald 95% CI",
        }
    )
    analysis = f"{incomplete} imputed (m = {m})"
    others = [t for t in terms if t != incomplete]
    model_data = df[[outcome, *terms]].dropna(subset=[outcome, *others])
    if model_data[incomplete].notna().all():
        rows.append(
            {
                "analysis": analysis,
                "n": len(model_data),
                "events": int(model_data[outcome].astype(bool).sum()),
                "or": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "p": np.nan,
                "method": not_estimable(f"no patient of the model lacks {incomplete}: there is nothing to impute"),
            }
        )
    else:
        mi = impute_and_pool(df, outcome, terms, incomplete, m=m, seed=seed)
        e = mi.table.loc[exposure]
        method = mi.method
        if np.isfinite(e["or"]) or is_not_estimable(method):
            pass
        elif is_not_estimable(cc.table.loc[exposure, "note"]):
            method = str(cc.table["note"][exposure])
        else:
            method = not_estimable(f"the coefficient of {exposure} is aliased in the imputed data sets")
        rows.append(
            {
                "analysis": analysis,
                "n": mi.n,
                "events": mi.events,
                "or": e["or"],
                "ci_low": e["ci_low"],
                "ci_high": e["ci_high"],
                "p": e["p"],
                "method": method,
            }
        )
    out = pd.DataFrame(rows)
    out.insert(1, "label", [f"{r['analysis']} (n = {r['n']})" for r in rows])
    return out


__all__ += ["sensitivity_sentence"]


def sensitivity_sentence(table: pd.DataFrame, exposure: str) -> str:
    """The exposure's OR under each analysis of :func:`exposure_or_sensitivity`, and whether the conclusion holds.

    Says each OR with its CI and patients, and then whether every CI
    excludes 1, none does, or only some do (the association then depends on
    how the missing covariate is handled). An analysis without an estimate
    is said with its ``not estimable: <reason>`` and left out of that verdict.
    """
    parts = [
        f"{r['analysis']}: {r['or']:.2f} ({r['ci_low']:.2f}-{r['ci_high']:.2f}, {p_phrase(r['p'])}; "
        f"{int(r['n'])} patients)"
        if np.isfinite(r["or"])
        else f"{r['analysis']}: {r['method']}"
        for _, r in table.iterrows()
    ]
    table = table[np.isfinite(table["or"].astype(float))]
    excludes = [(r["ci_low"] > 1) or (r["ci_high"] < 1) for _, r in table.iterrows()]
    if table.empty:
        tail = "none gives an estimate."
    elif all(excludes):
        tail = "every analysis' CI excludes 1."
    elif not any(excludes):
        tail = "no analysis' CI excludes 1."
    else:
        which = ", ".join(a for a, e in zip(table["analysis"], excludes, strict=True) if not e)
        tail = (
            f"the CI includes 1 under {which}: whether the data show an association depends on how the "
            "missing values are handled, and the complete-case result alone overstates the certainty."
        )
    return f"Adjusted OR of {exposure}, " + "; ".join(parts) + ". Across these analyses " + tail
