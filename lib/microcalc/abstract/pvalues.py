"""P values of 2 x k contingency tables, vectorised over many tables at once.

Every function takes ``tables``: integer counts of shape ``(2, k)`` or
``(m, 2, k)``. Rows are groups (row 0 the exposed group, row 1 the reference
group); columns are outcome categories, and for a 2 x 2 table column 0 is the
event and column 1 its absence. Each returns an array of P values with the
leading shape of ``tables`` (a 0-d array for a single table), ``nan`` where the
test is undefined (an empty row or column, a zero cell for the Wald test).

The definitions follow R's ``stats`` package, against which
``tests/test_pvalues_against_R.py`` checks them:

==================  ====================================================
``pearson_chi2``    ``chisq.test(x, correct = FALSE)``
``yates_chi2``      ``chisq.test(x, correct = TRUE)`` (2 x 2 only)
``fisher_exact``    ``fisher.test(x)`` (exact, two-sided, any 2 x k)
``mann_whitney``    ``wilcox.test(y ~ g, exact = FALSE, correct = TRUE)``
``logistic_wald``   ``summary(glm(y ~ g, binomial))`` Wald P (2 x 2 only)
==================  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special, stats

__all__ = [
    "Z_975",
    "TESTS",
    "as_tables",
    "pearson_chi2",
    "yates_chi2",
    "fisher_exact",
    "fisher_enumerates",
    "mann_whitney",
    "logistic_wald",
    "odds_ratio_wald",
]

#: Two-sided 95% normal quantile, ``qnorm(0.975)`` in R.
Z_975 = float(stats.norm.ppf(0.975))

# R's fisher.test counts tables whose probability is within this relative
# tolerance of the observed one as "as extreme" (relErr <- 1 + 10^(-7)).
_FISHER_REL_ERR = 1 + 1e-7


def as_tables(tables) -> np.ndarray:
    """Return ``tables`` as a float array of shape ``(m, 2, k)``.

    Raises
    ------
    ValueError
        If the counts are not a 2 x k layout of non-negative integers.
    """
    t = np.asarray(tables, dtype=float)
    if t.ndim == 2:
        t = t[np.newaxis]
    if t.ndim != 3 or t.shape[1] != 2 or t.shape[2] < 2:
        raise ValueError(f"expected counts of shape (2, k) or (m, 2, k) with k >= 2, got shape {np.shape(tables)}")
    if np.any(t < 0) or np.any(t != np.round(t)):
        raise ValueError("counts must be non-negative integers")
    return t


def _shape_out(tables, values: np.ndarray) -> np.ndarray:
    return values.reshape(np.shape(tables)[:-2])


def _expected(t: np.ndarray) -> np.ndarray:
    rows = t.sum(axis=2, keepdims=True)
    cols = t.sum(axis=1, keepdims=True)
    total = t.sum(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return rows * cols / total


def pearson_chi2(tables) -> np.ndarray:
    """Pearson's chi-squared test of independence, no continuity correction.

    Matches R ``chisq.test(x, correct = FALSE)$p.value``; df = k - 1.
    """
    t = as_tables(tables)
    e = _expected(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.sum((t - e) ** 2 / e, axis=(1, 2))
    df = t.shape[2] - 1
    return _shape_out(tables, stats.chi2.sf(stat, df))


def yates_chi2(tables) -> np.ndarray:
    """Chi-squared test with Yates' continuity correction (2 x 2 tables only).

    Matches R ``chisq.test(x, correct = TRUE)$p.value``, including R's cap of
    the correction at ``|O - E|`` (``YATES <- min(0.5, abs(x - E))``).
    """
    t = as_tables(tables)
    if t.shape[2] != 2:
        raise ValueError("Yates' correction is defined for 2 x 2 tables only")
    e = _expected(t)
    dev = np.abs(t - e)
    yates = np.minimum(0.5, dev.min(axis=(1, 2), keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.sum((dev - yates) ** 2 / e, axis=(1, 2))
    return _shape_out(tables, stats.chi2.sf(stat, 1))


#: Above this many candidate first rows per table, :func:`fisher_exact` samples instead of enumerating.
FISHER_EXACT_LIMIT = 5_000_000
FISHER_RESAMPLES = 100_000


def fisher_enumerates(table) -> bool:
    """Whether :func:`fisher_exact` enumerates ``table`` exactly (False: Monte Carlo, seeded)."""
    t = as_tables(table)[0]
    cols = t.sum(axis=0)
    return t.shape[1] == 2 or float(np.prod(cols[:-1] + 1)) <= FISHER_EXACT_LIMIT


def _fisher_monte_carlo(table: np.ndarray) -> float:
    """R ``fisher.test(x, simulate.p.value = TRUE, B = 1e5)``-style P, seeded for reproducibility."""
    res = stats.fisher_exact(
        table.astype(np.int64),
        method=stats.MonteCarloMethod(n_resamples=FISHER_RESAMPLES, rng=np.random.default_rng(20230314)),
    )
    return float(res.pvalue)


#: Above this many patients with the event, :func:`fisher_exact` sums the two tails of a 2 x 2 table.
FISHER_TAILS_ABOVE = 5_000
#: Above this many grid cells for a batch of 2 x 2 tables, every table's tails are summed instead.
FISHER_GRID_WORK = 10_000_000


def _hypergeom_tail(start, step, lo, hi, n, c, r) -> np.ndarray:
    """``sum p(x) / p(start)`` over ``x = start, start + step, ...`` within ``[lo, hi]``.

    Summed by the ratio of neighbouring hypergeometric probabilities, until a
    term is below 1e-17 of the sum (0 where ``start`` is outside the support).
    """
    start, lo, hi, n, c, r = (np.asarray(v, dtype=float) for v in (start, lo, hi, n, c, r))
    total = np.where((start >= lo) & (start <= hi), 1.0, 0.0)
    idx = np.flatnonzero(total)
    x, term = start[idx], np.ones(len(idx))
    while len(idx):
        nn, cc, rr = n[idx], c[idx], r[idx]
        if step < 0:  # p(x - 1) / p(x)
            ratio = x * (nn - cc - rr + x) / ((cc - x + 1) * (rr - x + 1))
        else:  # p(x + 1) / p(x)
            ratio = (cc - x) * (rr - x) / ((x + 1) * (nn - cc - rr + x + 1))
        x = x + step
        term = term * ratio
        inside = (x >= lo[idx]) & (x <= hi[idx])
        term = np.where(inside, term, 0.0)
        total[idx] += term
        keep = inside & (term > 1e-17 * total[idx])
        idx, x, term = idx[keep], x[keep], term[keep]
    return total


def _fisher_2x2_tails(t: np.ndarray) -> np.ndarray:
    """R's two-sided ``fisher.test`` P of 2 x 2 tables from the hypergeometric's two tails.

    The hypergeometric probability of the first cell rises up to its mode
    and falls after it, so the tables no more probable than the observed one
    (with R's relative tolerance) are a left tail ``x <= xl`` and a right
    tail ``x >= xr``; both ends are found by bisection on the log
    probability and each tail is summed outwards by the ratio of neighbouring
    probabilities until its terms are negligible, so the cost grows with the
    spread of the distribution, not with the table's size.
    """
    x = t[:, 0, 0]
    r = t[:, 0, :].sum(axis=1)  # exposed group
    c = t[:, :, 0].sum(axis=1)  # patients with the event
    n = t.sum(axis=(1, 2))
    lo, hi = np.maximum(0, r + c - n), np.minimum(r, c)
    mode = np.clip(((r + 1) * (c + 1)) // (n + 2), lo, hi)

    def lchoose(a, b):
        return special.gammaln(a + 1.0) - special.gammaln(b + 1.0) - special.gammaln(a - b + 1.0)

    norm = lchoose(n, r)

    def logp(k):
        return lchoose(c, k) + lchoose(n - c, r - k) - norm

    threshold = logp(x) + np.log(_FISHER_REL_ERR)

    def last_at_or_below(a, b, rising):
        # The extreme k in [a, b] with logp(k) <= threshold, logp monotone on [a, b];
        # returns a - 1 (rising) or b + 1 (falling) when there is none.
        left, right = a - 1, b + 1  # sentinels: just outside [a, b]
        while np.any(right - left > 1):
            mid = (left + right) // 2
            below = logp(np.clip(mid, a, b)) <= threshold
            below = np.where(right - left > 1, below, rising)  # settled ends stay put
            if rising:
                left, right = np.where(below, mid, left), np.where(below, right, mid)
            else:
                left, right = np.where(below, left, mid), np.where(below, mid, right)
        return left if rising else right

    xl = last_at_or_below(lo, mode, rising=True)
    xr = last_at_or_below(mode + 1, np.maximum(hi, mode + 1), rising=False)
    xr = np.where(mode + 1 > hi, hi + 1, xr)
    left = _hypergeom_tail(xl, -1, lo, hi, n, c, r)
    right = _hypergeom_tail(xr, +1, lo, hi, n, c, r)
    p = np.exp(logp(np.clip(xl, lo, hi))) * left + np.exp(logp(np.clip(xr, lo, hi))) * right
    return np.minimum(1.0, p)


def fisher_exact(tables, max_grid: int = 2_000_000) -> np.ndarray:
    """Fisher's exact test for 2 x k tables, two-sided, by full enumeration.

    Conditional on both margins, the first row follows a multivariate
    hypergeometric distribution. The P value sums the probabilities of all
    tables no more probable than the observed one (with R's relative
    tolerance of 1e-7), as R ``fisher.test(x)$p.value`` does.

    All tables are enumerated on one padded grid of first-row values, in
    chunks of at most ``max_grid`` grid cells, so many candidate tables are
    tested in a handful of array operations.
    """
    t = as_tables(tables).astype(np.int64)
    m, _, k = t.shape
    out = np.full(m, np.nan)
    if m == 0:
        return _shape_out(tables, out)
    if k == 2:  # large 2 x 2 tables: the two tails of the hypergeometric, not the whole grid
        events = t[:, :, 0].sum(axis=1)
        big = events > FISHER_TAILS_ABOVE
        if m * (float(events.max()) + 1) > FISHER_GRID_WORK:  # too many tables to enumerate
            big[:] = True
        if big.any():
            out[big] = _fisher_2x2_tails(t[big])
            rest = np.flatnonzero(~big)
            if len(rest):
                out[rest] = fisher_exact(t[rest], max_grid)
            return _shape_out(tables, out)
    if k > 2:  # very large 2 x k tables cannot be enumerated: sample them (seeded)
        big = np.prod(t.sum(axis=1)[:, : k - 1] + 1, axis=1, dtype=float) > FISHER_EXACT_LIMIT
        if big.any():
            for i in np.flatnonzero(big):
                out[i] = _fisher_monte_carlo(t[i])
            rest = np.flatnonzero(~big)
            if len(rest):
                out[rest] = fisher_exact(t[rest], max_grid)
            return _shape_out(tables, out)
    cols = t.sum(axis=1)  # (m, k)
    row0 = t[:, 0, :].sum(axis=1)  # (m,)
    total = cols.sum(axis=1)
    log_fact = special.gammaln(np.arange(total.max() + 1) + 1.0)

    def log_choose(n, x):
        return log_fact[n] - log_fact[x] - log_fact[n - x]

    # Grid over the first k - 1 entries of row 0; the last is implied.
    cmax = cols[:, : k - 1].max(axis=0)
    axes = [np.arange(c + 1) for c in cmax]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, k - 1)
    per_chunk = max(1, max_grid // max(1, len(grid)))
    for start in range(0, m, per_chunk):
        sl = slice(start, start + per_chunk)
        c = cols[sl][:, np.newaxis, :]  # (b, 1, k)
        x_first = np.broadcast_to(grid, (c.shape[0],) + grid.shape)
        x_last = row0[sl][:, np.newaxis] - x_first.sum(axis=2)
        x = np.concatenate([x_first, x_last[..., np.newaxis]], axis=2)  # (b, g, k)
        valid = np.all((x >= 0) & (x <= c), axis=2)
        xs = np.where(valid[..., np.newaxis], x, 0)
        norm = log_choose(total[sl], row0[sl])
        logp = np.sum(log_choose(c, xs), axis=2) - norm[:, np.newaxis]
        logp = np.where(valid, logp, -np.inf)
        obs = np.sum(log_choose(cols[sl], t[sl, 0, :]), axis=1) - norm
        as_extreme = logp <= obs[:, np.newaxis] + np.log(_FISHER_REL_ERR)
        p = np.where(as_extreme, np.exp(logp), 0.0).sum(axis=1)
        out[sl] = np.minimum(1.0, p)
    return _shape_out(tables, out)


def mann_whitney(tables, correct: bool = True) -> np.ndarray:
    """Mann-Whitney U (Wilcoxon rank-sum) test, normal approximation.

    The columns are read as ordered categories (for a 2 x 2 table: event
    versus no event); the two rows are the two samples. Ties get mid-ranks and
    the variance its tie correction. Matches R
    ``wilcox.test(y ~ g, exact = FALSE, correct = correct)$p.value``.
    """
    t = as_tables(tables)
    n_x = t[:, 0, :].sum(axis=1)
    n_y = t[:, 1, :].sum(axis=1)
    n = n_x + n_y
    ties = t.sum(axis=1)  # patients per category
    # mid-rank of each category, ordered from the last column to the first so
    # that column 0 (the event) ranks highest; two-sided P does not depend on it.
    ties_rev = ties[:, ::-1]
    upper = np.cumsum(ties_rev, axis=1)
    midrank_rev = upper - (ties_rev - 1) / 2
    midrank = midrank_rev[:, ::-1]
    w = np.sum(t[:, 0, :] * midrank, axis=1) - n_x * (n_x + 1) / 2
    z = w - n_x * n_y / 2
    corr = np.sign(z) * 0.5 if correct else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(n_x * n_y / 12 * ((n + 1) - np.sum(ties**3 - ties, axis=1) / (n * (n - 1))))
        z = (z - corr) / sigma
    p = 2 * np.minimum(stats.norm.cdf(z), stats.norm.sf(z))
    p = np.where(sigma > 0, p, np.nan)
    return _shape_out(tables, p)


def odds_ratio_wald(tables, z: float = Z_975) -> dict[str, np.ndarray]:
    """Odds ratio of the event (column 0) in row 0 versus row 1, Wald CI and P.

    For a 2 x 2 table this is exactly the univariable logistic regression of
    the event on the group: R ``fit <- glm(y ~ g, family = binomial)`` with
    row 1 as reference, ``exp(coef(fit))[2]``, ``exp(confint.default(fit))[2, ]``
    and ``summary(fit)$coefficients[2, 4]``. ``z`` is the CI's normal quantile
    (``qnorm(0.975)`` by default; SPSS prints CIs with 1.96). Tables with a
    zero cell give ``nan``: the maximum-likelihood OR does not exist there.
    """
    t = as_tables(tables)
    if t.shape[2] != 2:
        raise ValueError("the odds ratio is defined here for 2 x 2 tables only")
    a, b = t[:, 0, 0], t[:, 0, 1]
    c, d = t[:, 1, 0], t[:, 1, 1]
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_or = np.log(a) + np.log(d) - np.log(b) - np.log(c)
        se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    log_or = np.where(zero, np.nan, log_or)
    se = np.where(zero, np.nan, se)
    p = 2 * stats.norm.sf(np.abs(log_or / se))
    shape = np.shape(tables)[:-2]
    return {
        "or": np.exp(log_or).reshape(shape),
        "low": np.exp(log_or - z * se).reshape(shape),
        "high": np.exp(log_or + z * se).reshape(shape),
        "p": p.reshape(shape),
    }


def logistic_wald(tables) -> np.ndarray:
    """Wald P of the group coefficient in a univariable logistic regression.

    Same as ``odds_ratio_wald(tables)["p"]``: R
    ``summary(glm(y ~ g, family = binomial))$coefficients[2, 4]``.
    """
    return odds_ratio_wald(tables)["p"]


#: The tests a reported P is checked against, by id: (label, function, 2x2 only).
TESTS: dict[str, tuple[str, Callable[..., np.ndarray], bool]] = {
    "pearson_chi2": ("Pearson chi-squared", pearson_chi2, False),
    "yates_chi2": ("Yates-corrected chi-squared", yates_chi2, True),
    "fisher_exact": ("Fisher's exact test", fisher_exact, False),
    "mann_whitney": ("Mann-Whitney U (asymptotic, continuity-corrected)", mann_whitney, False),
    "logistic_wald": ("Logistic regression Wald test", logistic_wald, True),
}
