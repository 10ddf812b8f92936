"""Logistic regression as the paper used it: odds ratios with Wald CIs, and global P values.

Design matrices are built here (treatment coding, the contract's first
category as reference, yes/no as 0/1) rather than through formulas, so the
same model can be refitted thousands of times during calibration. The fits
are statsmodels' ``Logit``; ORs and Wald CIs match R's
``glm(..., family = binomial)`` with ``confint.default`` (see
``tests/test_models_against_R.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from microcalc.abstract.pvalues import Z_975

__all__ = [
    "design_matrix",
    "absent_levels",
    "aliased_columns",
    "drop_aliased",
    "LogisticFit",
    "fit_logistic",
    "global_p_values",
]


def design_matrix(df: pd.DataFrame, terms: Sequence[str]) -> tuple[np.ndarray, list[str], dict[str, list[int]]]:
    """Intercept plus the columns for ``terms``.

    Categorical terms get one indicator per non-reference level (named
    ``term[level]``), text columns are factors with their sorted first value
    as reference, booleans and numbers enter as they are. A category level
    that no row of ``df`` has is dropped (no column; see
    :func:`absent_levels`), so the reference is the first level present.

    Returns
    -------
    X : ndarray (n, p)
    names : list of column names (``"const"`` first)
    columns_of : term -> indices of its columns in ``X``
    """
    cols: list[np.ndarray] = [np.ones(len(df))]
    names = ["const"]
    columns_of: dict[str, list[int]] = {}
    for term in terms:
        s = df[term]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):  # text (e.g. a centre code): a factor
            s = pd.Series(pd.Categorical(s.astype(str)), index=s.index)
        start = len(names)
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy()
            present = [i for i in range(len(s.cat.categories)) if (codes == i).any()]
            for i in present[1:]:
                cols.append((codes == i).astype(float))
                names.append(f"{term}[{s.cat.categories[i]}]")
        else:
            cols.append(s.astype(float).to_numpy())
            names.append(term)
        columns_of[term] = list(range(start, len(names)))
    return np.column_stack(cols), names, columns_of


def absent_levels(df: pd.DataFrame, terms: Sequence[str]) -> dict[str, list[str]]:
    """Category levels of ``terms`` that no row of ``df`` has (dropped by :func:`design_matrix`)."""
    out = {}
    for term in terms:
        s = df[term]
        if isinstance(s.dtype, pd.CategoricalDtype):
            counts = s.value_counts()
            missing = [str(c) for c in s.cat.categories if counts.get(c, 0) == 0]
            if missing:
                out[term] = missing
    return out


def aliased_columns(X: np.ndarray, tol: float = 1e-7) -> dict[int, list[int]]:
    """Columns of ``X`` that are linear combinations of earlier columns (a rank-deficient design).

    Columns are taken in order and a column is aliased when its part not
    explained by the earlier kept columns is below ``tol`` of its norm; this
    is how R's ``glm`` chooses the coefficients it reports as ``NA``
    ("not defined because of singularities"). Returns aliased column ->
    the kept columns it is a combination of.
    """
    norms = np.sqrt(np.einsum("ij,ij->j", X, X))
    # |R_jj| of a QR decomposition is the norm of column j's part outside the span of columns 0..j-1
    r = np.abs(np.diag(np.linalg.qr(X, mode="r"))) if X.shape[0] >= X.shape[1] else None
    kept: list[int] = []
    out: dict[int, list[int]] = {}
    for j in range(X.shape[1]):
        if norms[j] == 0:
            out[j] = []
            continue
        if r is not None and r[j] >= tol * norms[j]:
            kept.append(j)
            continue
        if kept:
            basis = X[:, kept] / norms[kept]
            coef, *_ = np.linalg.lstsq(basis, X[:, j] / norms[j], rcond=None)
            residual = X[:, j] / norms[j] - basis @ coef
            if np.sqrt(residual @ residual) < tol:
                out[j] = [k for k, c in zip(kept, coef, strict=True) if abs(c) > 1e-6]
                continue
        kept.append(j)
    return out


def drop_aliased(X: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``X`` without its aliased columns (:func:`aliased_columns`), and the indices of the columns kept.

    What R's ``glm`` fits when some coefficients are ``NA`` (a rank-deficient design).
    """
    aliased = aliased_columns(X) if len(X) else {}
    keep = [j for j in range(X.shape[1]) if j not in aliased]
    return (X[:, keep] if aliased else X), keep  # X itself when nothing is aliased: the same bytes, the same fit


@dataclass
class LogisticFit:
    """A fitted logistic regression, with what reporting needs."""

    names: list[str]
    params: np.ndarray
    bse: np.ndarray
    llf: float
    nobs: int
    events: int
    columns_of: dict[str, list[int]]
    converged: bool
    aliased: dict[str, list[str]] = field(default_factory=dict)

    def table(self, z: float = Z_975) -> pd.DataFrame:
        """Odds ratios with Wald CIs and P, one row per coefficient except the intercept.

        Matches R ``exp(cbind(coef(fit), confint.default(fit)))`` and
        ``summary(fit)$coefficients[, 4]``.
        """
        b, se = self.params[1:], self.bse[1:]
        with np.errstate(over="ignore", invalid="ignore"):  # a separated fit: inf, not a warning
            return pd.DataFrame(
                {
                    "term": self.names[1:],
                    "or": np.exp(b),
                    "ci_low": np.exp(b - z * se),
                    "ci_high": np.exp(b + z * se),
                    "p": 2 * stats.norm.sf(np.abs(b / se)),
                }
            ).set_index("term")


def _fit(X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None):
    """Newton fit; a failure to converge is recorded in ``mle_retvals``, not printed.

    statsmodels' rank check (a QR decomposition per fit) is skipped: it only sets the degrees of
    freedom, which nothing here reads (the callers leave aliased columns out first with
    :func:`aliased_columns`, or, as a bootstrap replicate does, read only the estimates); the
    estimates are the same bit for bit.
    """
    import warnings

    from statsmodels.discrete.discrete_model import Logit  # not statsmodels.api: 0.4 s less to import
    from statsmodels.tools import sm_exceptions
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", sm_exceptions.PerfectSeparationWarning)
        kw = {} if groups is None else {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
        res = Logit(y, X, check_rank=False).fit(disp=0, method="newton", maxiter=100, tol=1e-10, **kw)
    return res


def fit_logistic(df: pd.DataFrame, outcome: str, terms: Sequence[str], cluster: str | None = None) -> LogisticFit:
    """Fit ``outcome ~ terms`` by maximum likelihood on the complete cases of those columns.

    Parameters
    ----------
    df : DataFrame (typed as the contract's harmonised cohorts)
    outcome : a yes/no column (True = event)
    terms : covariates; categories use their first level as reference
    cluster : optional column of cluster labels (e.g. the centre): standard
        errors are then cluster-robust (sandwich; statsmodels ``cov_type="cluster"``,
        with its small-sample correction), as R ``sandwich::vcovCL``.

    Columns that are linear combinations of earlier ones (:func:`aliased_columns`)
    are left out of the fit; their coefficients are NaN and ``aliased`` names
    the columns each is a combination of, as R's ``glm`` reports ``NA``.
    """
    cols = [outcome, *terms] + ([cluster] if cluster else [])
    data = df[cols].dropna()
    X, names, columns_of = design_matrix(data, terms)
    y = data[outcome].astype(float).to_numpy()
    groups = pd.factorize(data[cluster].astype(str), sort=True)[0] if cluster else None
    aliased = aliased_columns(X) if len(y) else {}
    keep = [j for j in range(X.shape[1]) if j not in aliased]
    alias_names = {names[j]: [names[k] for k in of] for j, of in aliased.items()}
    params, bse = np.full(X.shape[1], np.nan), np.full(X.shape[1], np.nan)
    try:
        res = _fit(X[:, keep] if aliased else X, y, groups)
    except (np.linalg.LinAlgError, ValueError):  # singular design or separated data: no MLE
        return LogisticFit(names, params, bse, np.nan, len(y), int(y.sum()), columns_of, False, alias_names)
    params[keep], bse[keep] = np.asarray(res.params), np.asarray(res.bse)
    return LogisticFit(
        names,
        params,
        bse,
        float(res.llf),
        len(y),
        int(y.sum()),
        columns_of,
        bool(res.mle_retvals.get("converged", True)),
        alias_names,
    )


def global_p_values(df: pd.DataFrame, outcome: str, terms: Sequence[str]) -> pd.Series:
    """Likelihood-ratio P of each term (all its levels at once) in the model ``outcome ~ terms``.

    Matches R ``drop1(fit, test = "LRT")`` (same complete cases for every
    reduced model). Aliased columns (:func:`aliased_columns`) are left out
    first; a term with none of its columns left has P NaN.
    """
    data = df[[outcome, *terms]].dropna()
    X, _, columns_of = design_matrix(data, terms)
    return _lr_p_values(X, data[outcome].astype(float).to_numpy(), columns_of, aliased_columns(X))


def _lr_p_values(
    X: np.ndarray,
    y: np.ndarray,
    columns_of: dict[str, list[int]],
    aliased: dict[int, list[int]],
    full_llf: float | None = None,
) -> pd.Series:
    """:func:`global_p_values` on a design already built, with its :func:`aliased_columns`; ``full_llf``:
    the log-likelihood of the full model on this design when it has already been fitted (not refitted)."""
    if aliased:
        kept = [j for j in range(X.shape[1]) if j not in aliased]
        position = {j: i for i, j in enumerate(kept)}
        X = X[:, kept]
        columns_of = {t: [position[j] for j in idx if j in position] for t, idx in columns_of.items()}
    full = _fit(X, y).llf if full_llf is None else full_llf
    out = {}
    for term, idx in columns_of.items():
        if not idx:
            out[term] = np.nan
            continue
        keep = [i for i in range(X.shape[1]) if i not in idx]
        reduced = _fit(X[:, keep], y).llf
        out[term] = float(stats.chi2.sf(2 * (full - reduced), len(idx)))
    return pd.Series(out, name="global_p")
