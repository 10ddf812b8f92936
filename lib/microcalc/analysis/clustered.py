"""Patients clustered in a few centres: cluster-robust inference that admits its limits.

* :func:`cluster_robust_table`: a logistic model's ORs with cluster-robust
  (CR1) standard errors and a t reference with G - 1 degrees of freedom
  (Cameron & Miller, J Hum Resour 2015;50:317-72), beside the model-based ones.
* :func:`few_clusters_note`: says in words when there are too few clusters
  (G < 10) for cluster-robust inference to be trusted.
* :func:`leave_one_centre_out_models`: the exposure's adjusted OR refitted
  with each centre left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.analysis.models import design_matrix, drop_aliased, fit_logistic
from microcalc.analysis.results import is_not_estimable, not_estimable
from microcalc.analysis.stats import model_estimates, unfittable_reason

__all__ = ["ClusterRobust", "cluster_robust_table", "few_clusters_note", "leave_one_centre_out_models"]

#: Below this many clusters, cluster-robust standard errors are said to be unreliable.
FEW_CLUSTERS = 10


def few_clusters_note(n_clusters: int, threshold: int = FEW_CLUSTERS, brief: bool = False) -> str:
    """A sentence on whether ``n_clusters`` clusters support cluster-robust inference.

    Below ``threshold`` (10; Cameron & Miller 2015, section VI) the sandwich
    variance is itself estimated from a handful of cluster sums: it is biased
    downwards and very variable, even with the CR1 correction and a t(G - 1)
    reference, so the sentence says the result is unreliable. ``brief`` gives
    only the verdict (one short sentence).
    """
    if n_clusters < 2:
        return f"Cluster-robust standard errors are not estimable with {n_clusters} cluster."
    if brief:
        return f"With {'only ' * (n_clusters < threshold)}{n_clusters} centres, cluster-robust standard errors are " + (
            "unreliable." if n_clusters < threshold else "usable, though still approximate."
        )
    if n_clusters < threshold:
        return (
            f"With only {n_clusters} centres, cluster-robust standard errors are unreliable: the variance is "
            f"estimated from {n_clusters} centre sums, so even with the small-sample correction and a t "
            f"reference on {n_clusters - 1} degrees of freedom its CI and P are rough guides, not "
            "trustworthy inference."
        )
    return (
        f"With {n_clusters} centres, cluster-robust standard errors (CR1, t on {n_clusters - 1} degrees of "
        "freedom) are usable, though still approximate."
    )


@dataclass(frozen=True)
class ClusterRobust:
    """A logistic model with cluster-robust inference.

    Attributes
    ----------
    table : DataFrame indexed by term: ``or``, ``se`` (log-OR scale), ``ci_low``,
        ``ci_high``, ``p`` (t with ``df`` degrees of freedom, cluster-robust),
        and the model-based ``se_model``, ``ci_low_model``, ``ci_high_model``, ``p_model`` (Wald, normal).
    n_clusters : G, the number of clusters in the model's sample.
    df : G - 1.
    nobs : patients in the model.
    note : :func:`few_clusters_note` for G.
    method : what was computed, in words; ``not estimable: <reason>`` (every number NaN) with fewer
        than 2 clusters or a model that cannot be fitted (separation, an outcome that does not vary).
    """

    table: pd.DataFrame
    n_clusters: int
    df: int
    nobs: int
    note: str
    method: str

    @property
    def label(self) -> str:
        """A short column label: the SEs and their reference, or that they are not estimable."""
        if is_not_estimable(self.method):
            return "cluster-robust SE by centre (not estimable)"
        return f"cluster-robust SE by centre (CR1, t on {self.df} df)"


def cluster_robust_table(
    df: pd.DataFrame, outcome: str, terms: Sequence[str], cluster: str, level: float = 0.95
) -> ClusterRobust:
    """Logistic regression with CR1 cluster-robust SEs and a t(G - 1) reference.

    The variance is statsmodels' ``cov_type="cluster"`` with its default
    small-sample correction (``use_correction=True``, ``df_correction=True``):
    G / (G - 1) x (N - 1) / (N - K) times the Liang-Zeger sandwich, as Stata's
    and R ``sandwich::vcovCL(fit, cluster, type = "HC1")``. CIs and P use a t
    distribution with G - 1 degrees of freedom instead of the normal.

    Parameters
    ----------
    df : the cohort (not modified).
    outcome : yes/no outcome column.
    terms : covariates, as :func:`microcalc.analysis.models.fit_logistic`.
    cluster : column of cluster labels (e.g. the centre).
    level : CI coverage.

    Returns
    -------
    ClusterRobust
        ``table`` also has ``note`` (``not estimable: <reason>`` for an aliased
        coefficient, which is NaN: aliased columns are left out of the fit as
        R's ``glm`` does). With fewer than 2 clusters, or a model that cannot
        be fitted, every number is NaN and ``method`` says ``not estimable: <reason>``.
    """
    import warnings

    from statsmodels.discrete.discrete_model import Logit

    data = df[[outcome, *terms, cluster]].dropna()
    X, names, _ = design_matrix(data, terms)
    y = data[outcome].astype(float).to_numpy()
    groups = pd.factorize(data[cluster].astype(str), sort=True)[0]
    g = int(groups.max()) + 1 if len(groups) else 0
    columns = ["or", "se", "ci_low", "ci_high", "p", "se_model", "ci_low_model", "ci_high_model", "p_model"]
    estimates = model_estimates(data, outcome, terms)
    notes = estimates.table["note"].reindex(names[1:]).fillna("")
    reason = (
        f"cluster-robust standard errors need at least 2 clusters ({cluster}); the model's data have {g}"
        if g < 2
        else unfittable_reason(estimates)
    )
    if reason:
        table = pd.DataFrame(np.nan, index=pd.Index(names[1:], name="term"), columns=columns).assign(
            note=not_estimable(reason)
        )
        return ClusterRobust(table, g, max(g - 1, 0), len(y), few_clusters_note(g), not_estimable(reason))
    model_based = fit_logistic(df, outcome, terms, cluster=None)
    X, keep = drop_aliased(X)  # aliased columns are left out, as R's glm does
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = Logit(y, X).fit(
                disp=0,
                method="newton",
                maxiter=100,
                tol=1e-10,
                cov_type="cluster",
                cov_kwds={"groups": groups, "use_correction": True, "df_correction": True},
            )
        except (np.linalg.LinAlgError, ValueError) as err:
            raise ValueError(f"not estimable: {err}") from err
    b, se = np.full(len(names), np.nan), np.full(len(names), np.nan)
    b[keep], se[keep] = np.asarray(res.params), np.asarray(res.bse)
    if not res.mle_retvals.get("converged", True) or not (np.isfinite(b[keep]).all() and np.isfinite(se[keep]).all()):
        raise ValueError("not estimable: the model did not converge (separation or a singular design)")
    crit = stats.t.ppf(0.5 + level / 2, g - 1)
    z = stats.norm.ppf(0.5 + level / 2)
    se_m = model_based.bse
    table = pd.DataFrame(
        {
            "or": np.exp(b),
            "se": se,
            "ci_low": np.exp(b - crit * se),
            "ci_high": np.exp(b + crit * se),
            "p": 2 * stats.t.sf(np.abs(b / se), g - 1),
            "se_model": se_m,
            "ci_low_model": np.exp(b - z * se_m),
            "ci_high_model": np.exp(b + z * se_m),
            "p_model": 2 * stats.norm.sf(np.abs(b / se_m)),
        },
        index=pd.Index(names, name="term"),
    ).iloc[1:]
    table["note"] = notes
    method = f"logistic regression, cluster-robust CR1 SE by {cluster} (G = {g}), t reference with {g - 1} df"
    return ClusterRobust(table, g, g - 1, len(y), few_clusters_note(g), method)


def leave_one_centre_out_models(
    df: pd.DataFrame, outcome: str, terms: Sequence[str], centre: str, exposure: str
) -> pd.DataFrame:
    """The exposure's adjusted OR with each centre left out in turn.

    Parameters
    ----------
    df : the cohort (not modified).
    outcome, terms : the multivariable model, as :func:`microcalc.analysis.models.fit_logistic`.
    centre : column of centre labels.
    exposure : the term whose OR is reported (a yes/no column, one coefficient).

    Returns
    -------
    DataFrame
        ``left_out``, ``n``, ``events``, ``or``, ``ci_low``, ``ci_high``, ``p``
        (model-based Wald), and ``note`` (``not estimable: <reason>`` when the
        reduced model cannot give the OR, as :func:`microcalc.analysis.stats.model_estimates`
        says: no patient left, separation, an exposure that no longer varies).
    """
    rows = []
    labels = df[centre].dropna().astype(str)
    for name in sorted(labels.unique()):
        rest = df[df[centre].astype(str) != name]
        fit = model_estimates(rest, outcome, terms)
        est = cast(pd.Series, fit.table.loc[exposure])
        row = {
            "left_out": name,
            "n": fit.n,
            "events": fit.events,
            **{k: float(est[k]) for k in ("or", "ci_low", "ci_high", "p")},
            "note": est["note"],
        }
        if not np.isfinite(row["or"]) and not row["note"]:
            row["note"] = not_estimable("the model without this centre did not converge")
        rows.append(row)
    return pd.DataFrame(rows)


__all__ += ["cluster_sentence"]


def cluster_sentence(cr: ClusterRobust, term: str) -> str:
    """The cluster-robust OR of ``term`` beside its model-based CI and P, followed by :attr:`ClusterRobust.note`."""
    from microcalc.analysis.tables import p_phrase

    if is_not_estimable(cr.method):
        return f"Cluster-robust SEs by centre for the OR of {term}: {cr.method}. " + cr.note
    r = cast(pd.Series, cr.table.loc[term])
    if is_not_estimable(r.get("note")):
        return f"Cluster-robust SEs by centre for the OR of {term}: {r['note']}. " + cr.note
    return (
        f"With cluster-robust SEs by centre (CR1, t on {cr.df} df), the OR of {term} is {r['or']:.2f} "
        f"({r['ci_low']:.2f}-{r['ci_high']:.2f}, {p_phrase(r['p'])}), against the model-based "
        f"{r['ci_low_model']:.2f}-{r['ci_high_model']:.2f} ({p_phrase(r['p_model'])}). " + cr.note
    )
