"""Planning a confirmatory study: power and sample size by simulation from the synthetic generator.

For a cohort (NACT: non-pCR; bone: bone metastasis), a cohort size ``n`` and an
assumed odds ratio of microcalcification, each replicate draws ``n`` patients'
covariates from a large pool made by the synthetic generator (complete cases
of the model's covariates), draws the outcome from a logistic model whose
other coefficients are those of the paper's multivariable model fitted to the
bundled synthetic cohort, with the microcalcification coefficient set to
log(OR) and the intercept set so that the event rate is the cohort's, then
fits the paper's model and rejects when the two-sided Wald P < 0.05. Power is
the share of replicates that reject. A replicate where another term is
separated (a small category with only events) still has its
microcalcification Wald test, as R's ``glm`` would report it; one whose
microcalcification estimate itself is infinite counts as not rejecting; both
are counted.

The replicates are fitted all at once (Newton-Raphson on stacked design
matrices, NumPy ``einsum``), in chunks, so 500 replicates of a grid point take
seconds. Grid points run on :func:`microcalc.core.parallel.parallel_map` (a local
process pool or a Dask cluster). Each grid point has its own seed, spawned
from one base seed by its position in the grid, so results do not depend on
the number of workers.

With ``cache`` (notebook 09 passes :data:`CACHE_FOLDER`, git-ignored) a grid's
result is kept under a key of everything it depends on: the grid (cohort,
model, sizes, ORs, replicates, seed), the generator's inputs (calibration,
assumptions, reconstructed tables), the bundled cohort files the outcome
model is fitted to, the library's source and the numerical packages'
versions (:func:`microcalc.cohorts.synthesize.cached_frame`, the mechanism of notebook
02's cache). A rerun with unchanged inputs reads the same numbers back; any
change recomputes.

The univariable case (microcalcification alone) has closed forms to check the
simulation against, in :mod:`microcalc.planning_checks`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from microcalc.analysis.models import design_matrix, fit_logistic
from microcalc.study import BONE_TERMS, NACT_TERMS

__all__ = [
    "CACHE_FOLDER",
    "PLAN_SEED",
    "simulation_inputs",
    "POOL_SEED",
    "COHORTS",
    "covariate_pool",
    "outcome_model",
    "simulate_power",
    "PowerSimulation",
    "power_point",
    "assumed_ors",
    "power_grid",
    "size_for_power",
]

#: Where notebook 09 keeps its simulated grids (git-ignored; see :func:`power_grid`).
CACHE_FOLDER = ".cache/planning"
#: Base seed of the simulations.
PLAN_SEED = 20230315
#: Seed of the covariate pool (generator seeds from here upward).
POOL_SEED = 1_000_000
#: cohort -> (outcome, multivariable terms, published multivariable OR id, published univariable OR id)
COHORTS = {
    "nact_cohort": ("non_pcr", NACT_TERMS, "nact_or_calc_multi", "nact_or_calc_uni"),
    "bone_cohort": ("bone_metastasis", BONE_TERMS, "bone_or_calc_multi", "bone_or_calc_uni"),
}
EXPOSURE = "microcalcification"
#: Patients drawn by the generator for each cohort's covariate pool.
POOL_SIZES = {"nact_cohort": 20_000, "bone_cohort": 100_000}
_ALPHA = 0.05


def _with_outcome(cohort: str, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(non_pcr=~frame["pcr"].astype("boolean")) if cohort == "nact_cohort" else frame


@functools.lru_cache(maxsize=8)
def covariate_pool(cohort: str, model: str = "multivariable", size: int | None = None) -> tuple[np.ndarray, tuple]:
    """Design matrix (intercept first) of about ``size`` (default :data:`POOL_SIZES`) synthetic patients with
    complete covariates.

    Bone: one generator cohort of ``size``. NACT (the generator makes cohorts of the published
    313): generator cohorts with seeds from :data:`POOL_SEED` upward, stacked. Cached per process.
    """
    from microcalc.cohorts.synthesize import generate_bone, generate_nact

    outcome, terms, _, _ = COHORTS[cohort]
    terms = terms if model == "multivariable" else (EXPOSURE,)
    size = size or POOL_SIZES[cohort]
    if cohort == "bone_cohort":
        frame = generate_bone(seed=POOL_SEED, n=size)
    else:
        frames, total, seed = [], 0, POOL_SEED
        while total < size:
            f = generate_nact(seed=seed)
            frames.append(f)
            total += len(f)
            seed += 1
        frame = pd.concat(frames, ignore_index=True)
    frame = _with_outcome(cohort, frame)[list(terms)].dropna()
    X, names, _ = design_matrix(frame, terms)
    return X, tuple(names)


def outcome_model(cohort: str, log_or: float, model: str = "multivariable") -> np.ndarray:
    """Coefficients of the simulated outcome: the bundled synthetic cohort's fit, microcalcification set to
    ``log_or``, intercept solved so that the pool's mean risk equals that cohort's event rate."""
    outcome, terms, _, _ = COHORTS[cohort]
    terms = terms if model == "multivariable" else (EXPOSURE,)
    data = _with_outcome(cohort, _bundled(cohort))
    fit = fit_logistic(data, outcome, terms)
    beta = fit.params.copy()
    beta[fit.names.index(EXPOSURE)] = log_or
    rate = fit.events / fit.nobs
    X, _ = covariate_pool(cohort, model)
    rest = X[:, 1:] @ beta[1:]
    beta[0] = optimize.brentq(lambda b0: special.expit(b0 + rest).mean() - rate, -30, 30, xtol=1e-12)
    return beta


@functools.lru_cache(maxsize=2)
def _bundled(cohort: str) -> pd.DataFrame:
    from microcalc.cohorts.clean import clean_cohorts

    return clean_cohorts("data/raw", write=False)[cohort]


def _fit_batch(X: np.ndarray, y: np.ndarray, iters: int = 30, tol: float = 1e-8):
    """Newton-Raphson on R stacked logistic problems: X (R, n, p), y (R, n).

    Returns the coefficients (R, p), their Wald standard errors (R, p) and whether each fit converged
    (every step below ``tol``). A singular information matrix (a category absent from a replicate) is
    handled by its pseudo-inverse, as R's ``glm`` drops an aliased column; a separated category's
    coefficient keeps growing and the fit is marked as not converged, as R's ``glm`` warns but still
    reports the other terms' Wald tests.
    """
    R, n, p = X.shape
    Xt = X.transpose(0, 2, 1)
    b = np.zeros((R, p))
    converged = np.zeros(R, dtype=bool)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(iters):
            mu = special.expit(np.matmul(X, b[..., None])[..., 0])
            grad = np.matmul(Xt, (y - mu)[..., None])[..., 0]
            info = np.matmul(Xt * (mu * (1 - mu))[:, None, :], X)
            step = np.matmul(np.linalg.pinv(info, hermitian=True), grad[..., None])[..., 0]
            step[converged] = 0.0
            b = b + step
            converged |= np.all(np.abs(step) < tol, axis=1)
            if converged.all():
                break
        mu = special.expit(np.matmul(X, b[..., None])[..., 0])
        cov = np.linalg.pinv(np.matmul(Xt * (mu * (1 - mu))[:, None, :], X), hermitian=True)
        se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    return b, se, converged


@dataclass(frozen=True)
class PowerSimulation:
    """Simulated power of one design (:func:`simulate_power`).

    ``reps`` replicates, ``rejections`` of the null, ``power`` and its binomial
    ``mc_se``, ``nonconverged`` fits, ``exposure_not_estimable`` replicates and
    the ``mean_log_or`` of the others (4 decimals).
    """

    reps: int
    rejections: int
    power: float
    mc_se: float
    nonconverged: int
    exposure_not_estimable: int
    mean_log_or: float


def simulate_power(
    X_pool: np.ndarray, beta: np.ndarray, n: int, reps: int, seed, exposure_col: int = 1, chunk_cells: int = 4_000_000
) -> PowerSimulation:
    """Power of the two-sided Wald test of ``beta[exposure_col]`` at level 0.05, by ``reps`` replicates.

    Returns ``reps``, ``rejections``, ``power``, its binomial ``mc_se``, ``nonconverged`` (fits with a
    separated or aliased term: their microcalcification Wald test is still used, as R's ``glm`` reports it),
    ``exposure_not_estimable`` (replicates whose microcalcification estimate is infinite or has no SE:
    counted as not rejecting) and the mean estimated log OR of the others.
    """
    rng = np.random.default_rng(seed)
    crit = stats.norm.ppf(1 - _ALPHA / 2)
    rejections, nonconverged, unusable, est = 0, 0, 0, []
    per_chunk = max(1, chunk_cells // (n * X_pool.shape[1]))
    done = 0
    while done < reps:
        r = min(per_chunk, reps - done)
        idx = rng.integers(0, len(X_pool), size=(r, n))
        X = X_pool[idx]
        y = (rng.random((r, n)) < special.expit(X @ beta)).astype(float)
        b, se, converged = _fit_batch(X, y)
        be, se_e = b[:, exposure_col], se[:, exposure_col]
        ok = np.isfinite(be) & np.isfinite(se_e) & (se_e > 0) & (np.abs(be) < 20)
        with np.errstate(invalid="ignore", divide="ignore"):
            rejections += int(np.sum(ok & (np.abs(be / se_e) > crit)))
        nonconverged += int(np.sum(~converged))
        unusable += int(np.sum(~ok))
        est.append(be[ok])
        done += r
    power = rejections / reps
    pooled = np.concatenate(est)
    return PowerSimulation(
        reps=reps,
        rejections=rejections,
        power=power,
        mc_se=float(np.sqrt(power * (1 - power) / reps)),
        nonconverged=nonconverged,
        exposure_not_estimable=unusable,
        mean_log_or=round(float(pooled.mean()), 4) if len(pooled) else np.nan,
    )  # 4 decimals: BLAS-order proof


def power_point(task: dict) -> dict:
    """One grid point (for :func:`microcalc.core.parallel.parallel_map`): ``task`` has cohort, model, n, or,
    reps and seed (a ``SeedSequence`` entropy/spawn key pair). Returns the grid's row: those keys and the
    fields of :class:`PowerSimulation` (a row of :func:`power_grid`'s DataFrame, hence a dict)."""
    X, names = covariate_pool(task["cohort"], task["model"])
    beta = outcome_model(task["cohort"], float(np.log(task["or"])), task["model"])
    seed = np.random.SeedSequence(task["seed"][0], spawn_key=tuple(task["seed"][1]))
    out = simulate_power(X, beta, int(task["n"]), int(task["reps"]), seed, names.index(EXPOSURE))
    return {k: task[k] for k in ("cohort", "model", "or_label", "or", "n")} | asdict(out)


def simulation_inputs() -> dict:
    """What the simulations read besides their arguments: the generator's calibration, assumptions and
    reconstructed tables, and the SHA-256 of the bundled cohort files (the outcome model is fitted to them)."""
    from microcalc.cohorts.contract import COHORTS as CANONICAL
    from microcalc.cohorts.synthesize import load_assumptions, load_calibration, load_reconstructed
    from microcalc.core.outputs import sha256
    from microcalc.core.paths import project_path

    return {
        "calibration": load_calibration(),
        "assumptions": load_assumptions(),
        "reconstructed": load_reconstructed(),
        "bundled": {c: sha256(project_path("data/raw") / f"{c}.csv") for c in CANONICAL},
    }


def assumed_ors(published: pd.DataFrame, cohort: str) -> dict[str, float]:
    """The odds ratios of microcalcification a cohort's power grid assumes: the published multivariable OR
    (:data:`COHORTS`) and the two limits of its 95% CI.

    Parameters
    ----------
    published : the published statistics, indexed by id (:func:`microcalc.abstract.published.load_published`).
    cohort : ``"nact_cohort"`` or ``"bone_cohort"``.

    Returns
    -------
    ``{"published": OR, "CI lower limit": low, "CI upper limit": high}``, in that order (the ``ors`` of
    :func:`power_grid`; the order is that of the grid's seeds).
    """
    row = published.loc[COHORTS[cohort][2]]
    return {
        "published": float(row["value"]),
        "CI lower limit": float(row["ci_low"]),
        "CI upper limit": float(row["ci_high"]),
    }


def power_grid(
    cohort: str,
    sizes,
    ors: dict[str, float],
    reps: int = 500,
    model: str = "multivariable",
    seed: int = PLAN_SEED,
    workers: int | None = 1,
    scheduler=None,
    cache=None,
) -> pd.DataFrame:
    """Power at every (assumed OR, size) of a grid; one row each (see :func:`simulate_power`).

    ``ors`` maps a label ("published", "CI lower", ...) to an OR. Grid point i gets the seed
    ``SeedSequence(seed, spawn_key=(i,))``, whatever the backend. ``cache``: a folder (relative to
    the project root) where the grid is kept (see the module's docstring); workers and scheduler do
    not enter its key, since they do not change the result.
    """
    if cache is not None:
        from microcalc.cohorts.synthesize import cached_frame

        return cached_frame(
            "power_grid",
            cache,
            lambda: power_grid(cohort, sizes, ors, reps, model, seed, workers, scheduler),
            modules=("microcalc.planning",),
            cohort=cohort,
            sizes=[int(n) for n in sizes],
            ors={k: float(v) for k, v in ors.items()},
            reps=int(reps),
            model=model,
            seed=int(seed),
            inputs=simulation_inputs(),
        )
    from microcalc.core.parallel import parallel_map

    tasks: list[dict[str, Any]] = []
    for label, value in ors.items():
        for n in sizes:
            tasks.append(
                {
                    "cohort": cohort,
                    "model": model,
                    "or_label": label,
                    "or": float(value),
                    "n": int(n),
                    "reps": int(reps),
                    "seed": (int(seed), [len(tasks)]),
                }
            )
    return pd.DataFrame(parallel_map(power_point, tasks, workers=workers, scheduler=scheduler))


def size_for_power(grid: pd.DataFrame, target: float) -> pd.DataFrame:
    """Smallest cohort size reaching ``target`` power for each assumed OR, by linear interpolation between
    grid sizes; "more than <largest size>" when the grid never reaches it."""
    rows = []
    for (label, value), g in grid.groupby(["or_label", "or"], sort=False):
        g = g.sort_values("n")
        n, p = g["n"].to_numpy(float), g["power"].to_numpy(float)
        above = np.nonzero(p >= target)[0]
        if not len(above):
            rows.append({"assumed OR": label, "OR": value, f"n for {target:.0%} power": f"more than {int(n[-1])}"})
            continue
        i = above[0]
        need = n[0] if i == 0 else n[i - 1] + (target - p[i - 1]) * (n[i] - n[i - 1]) / (p[i] - p[i - 1])
        shown = f"at most {int(n[0])}" if i == 0 else f"{int(np.ceil(round(need, 6)))}"
        rows.append({"assumed OR": label, "OR": value, f"n for {target:.0%} power": shown})
    return pd.DataFrame(rows)
