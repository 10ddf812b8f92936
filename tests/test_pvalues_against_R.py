r"""Reference P values for ``microcalc.abstract.pvalues``, computed in R.

Table orientation
-----------------
Every table has shape (2, k); a stack of tables has shape (m, 2, k).
Row 0 is the exposed group and row 1 the reference group; columns are
outcome categories. For a 2x2 table column 0 is "event" and column 1
"no event", so the odds ratio is that of the event in row 0 versus row 1.

Provenance
----------
All reference values were computed with
R version 4.2.2 Patched (2022-11-10 r83330), base R (stats) only, and printed
to full precision with ``sprintf("%.15g", ...)`` through ``show()`` below.
Each test's docstring holds the R code that printed its values; run it after
this shared preamble:

    # Rows: exposed group, reference group. Columns: event, no event (2x2).
    tables_2x2 <- list(
      moderate   = rbind(c(45, 129), c(44, 95)),
      large      = rbind(c(71, 540), c(28, 543)),
      small_cell = rbind(c(3, 25), c(12, 20)),
      yates_cap  = rbind(c(10, 20), c(10, 21)),
      strong     = rbind(c(18, 7), c(9, 16)),
      protective = rbind(c(22, 78), c(30, 70))
    )
    tables_2x3 <- list(
      moderate_2x3 = rbind(c(56, 5, 10), c(17, 4, 7)),
      sparse_2x3   = rbind(c(40, 7, 24), c(22, 3, 3)),
      shifted_2x3  = rbind(c(12, 30, 8), c(20, 15, 5))
    )
    # Patient-level data from a 2x2 table: g is a factor whose reference
    # (first) level is row 2; y = 1 for column 1 (event), 0 for column 2.
    expand <- function(tab) {
      g <- factor(rep(c("exposed", "reference"), times = rowSums(tab)),
                  levels = c("reference", "exposed"))
      y <- c(rep(c(1, 0), times = tab[1, ]), rep(c(1, 0), times = tab[2, ]))
      data.frame(y = y, g = g)
    }
    show <- function(p) cat(sprintf("%-12s %.15g\n", names(p), p), sep = "")

Tolerances are relative (``abs=0``, so that small P values such as 3e-5 are
held to the same relative precision as large ones).
"""

import numpy as np
import pytest

from microcalc.abstract.pvalues import fisher_exact, mann_whitney, odds_ratio_wald, pearson_chi2, yates_chi2

REL = 1e-9

TABLES_2X2 = {
    "moderate": [[45, 129], [44, 95]],
    "large": [[71, 540], [28, 543]],
    "small_cell": [[3, 25], [12, 20]],
    # |O - E| = 0.164 < 0.5 in every cell: R caps the Yates correction at
    # |O - E|, so the statistic is 0 and P = 1 (uncapped it would be 0.8545).
    "yates_cap": [[10, 20], [10, 21]],
    "strong": [[18, 7], [9, 16]],
    "protective": [[22, 78], [30, 70]],
}
TABLES_2X3 = {
    "moderate_2x3": [[56, 5, 10], [17, 4, 7]],
    "sparse_2x3": [[40, 7, 24], [22, 3, 3]],
    "shifted_2x3": [[12, 30, 8], [20, 15, 5]],
}
ALL_TABLES = {**TABLES_2X2, **TABLES_2X3}


def _scalar(result):
    """The single value of a per-table result (0-d or length-1 array)."""
    return np.asarray(result).item()


# --- Pearson chi-squared ---------------------------------------------------

PEARSON_P = {
    "moderate": 0.258990693919871,
    "large": 3.10683892686031e-05,
    "small_cell": 0.0168274094827568,
    "yates_cap": 0.928734735096138,
    "strong": 0.0106563747212914,
    "protective": 0.19717159560015,
    "moderate_2x3": 0.178147942858001,
    "sparse_2x3": 0.0631459284866227,
    "shifted_2x3": 0.0357312090420499,
}


@pytest.mark.parametrize("name", ALL_TABLES)
def test_pearson_chi2_against_R(name):
    r"""Pearson chi-squared without continuity correction, 2x2 and 2x3.

    R (R warns "Chi-squared approximation may be incorrect" for the two 2x3
    tables with expected counts below 5; the P values are unaffected):

        show(sapply(c(tables_2x2, tables_2x3),
                    function(tab) chisq.test(tab, correct = FALSE)$p.value))
    """
    p = pearson_chi2(np.array(ALL_TABLES[name]))
    assert _scalar(p) == pytest.approx(PEARSON_P[name], rel=REL, abs=0)


# --- Yates-corrected chi-squared -------------------------------------------

YATES_P = {
    "moderate": 0.316011181378155,
    "large": 4.89817294834347e-05,
    "small_cell": 0.0364698303560265,
    "yates_cap": 1,
    "strong": 0.0232065264067631,
    "protective": 0.259131909715112,
}


@pytest.mark.parametrize("name", TABLES_2X2)
def test_yates_chi2_against_R(name):
    r"""Chi-squared with Yates' continuity correction, 2x2 only.

    R uses sum((|O - E| - min(0.5, |O - E|))^2 / E), i.e. the correction is
    capped at |O - E|; "yates_cap" exercises the cap (P = 1).

    R:

        show(sapply(tables_2x2,
                    function(tab) chisq.test(tab, correct = TRUE)$p.value))
    """
    p = yates_chi2(np.array(TABLES_2X2[name]))
    assert _scalar(p) == pytest.approx(YATES_P[name], rel=REL, abs=0)


# --- Fisher's exact test ---------------------------------------------------

FISHER_P = {
    "moderate": 0.313099557939948,
    "large": 3.40219226634826e-05,
    "small_cell": 0.0198434617398142,
    "yates_cap": 1,
    "strong": 0.0222412956917225,
    "protective": 0.259029819010281,
    "moderate_2x3": 0.173961914523782,
    "sparse_2x3": 0.0506200333850749,
    "shifted_2x3": 0.0369926522147876,
}


@pytest.mark.parametrize("name", ALL_TABLES)
def test_fisher_exact_against_R(name):
    r"""Two-sided Fisher exact test, 2x2 and 2x3.

    The two-sided P is the total probability of all tables (with the observed
    margins) no more probable than the observed one; R counts a table as
    "no more probable" when its probability is <= (1 + 1e-7) times the
    observed table's.

    R:

        show(sapply(c(tables_2x2, tables_2x3),
                    function(tab) fisher.test(tab)$p.value))
    """
    p = fisher_exact(np.array(ALL_TABLES[name]))
    assert _scalar(p) == pytest.approx(FISHER_P[name], rel=REL, abs=0)


REGISTRY_2X2 = {  # tables of 10^4 to 10^6 patients: the tails are summed, not the whole support
    "n_1e5": ([[5100, 44900], [5000, 45000]], 0.29882771890235971),
    "n_2e4": ([[812, 9188], [760, 9240]], 0.18021469705074225),
    "n_1e6": ([[20100, 479900], [19800, 480200]], 0.12659617803771392),
}


@pytest.mark.parametrize("name", REGISTRY_2X2)
def test_fisher_exact_of_registry_sized_tables_against_R(name):
    r"""Fisher's test of tables above ``FISHER_TAILS_ABOVE`` events (two tails by recurrence).

    R (summing over the whole support; the tolerance covers both sums' rounding at 10^6):

        options(digits = 17)
        fisher.test(matrix(c(5100, 44900, 5000, 45000), 2, byrow = TRUE))$p.value
        fisher.test(matrix(c(812, 9188, 760, 9240), 2, byrow = TRUE))$p.value
        fisher.test(matrix(c(20100, 479900, 19800, 480200), 2, byrow = TRUE))$p.value
    """
    table, want = REGISTRY_2X2[name]
    assert _scalar(fisher_exact(np.array(table))) == pytest.approx(want, rel=1e-8)


def test_fisher_tails_agree_with_the_full_enumeration_on_many_tables():
    """The tail sums give the enumeration's P (R's definition, checked above) on random tables."""
    from microcalc.abstract.pvalues import _fisher_2x2_tails

    rng = np.random.default_rng(7)
    n1, n0 = rng.integers(1, 300, 400), rng.integers(1, 300, 400)
    a, b = rng.integers(0, n1 + 1), rng.integers(0, n0 + 1)
    tables = np.stack([np.stack([a, n1 - a], -1), np.stack([b, n0 - b], -1)], 1)
    tables = np.concatenate([tables, [[[0, 10], [0, 10]], [[3, 0], [0, 3]], [[5, 5], [5, 5]]]])
    assert np.allclose(_fisher_2x2_tails(tables), fisher_exact(tables), rtol=1e-10, atol=0)


# --- Mann-Whitney (Wilcoxon rank-sum) --------------------------------------

MANN_WHITNEY_P = {
    True: {
        "moderate": 0.260093193960487,
        "large": 3.13336867773126e-05,
        "small_cell": 0.0182465715802513,
        "yates_cap": 0.936371936884712,
        "strong": 0.0118403548401988,
        "protective": 0.198856743194611,
    },
    False: {
        "moderate": 0.259752926650228,
        "large": 3.13093000493344e-05,
        "small_cell": 0.0177663006413292,
        "yates_cap": 0.929319747390118,
        "strong": 0.0114680730222376,
        "protective": 0.198295269649313,
    },
}


@pytest.mark.parametrize("correct", [True, False])
@pytest.mark.parametrize("name", TABLES_2X2)
def test_mann_whitney_against_R(name, correct):
    r"""Mann-Whitney test of the binary outcome between the two groups.

    Normal approximation with tie correction, with and without continuity
    correction, on the patient-level data expanded from the 2x2 table
    (event = 1, no event = 0). The two-sided P does not depend on which group
    R treats as "x" (the first factor level, here the reference group).

    R:

        for (correct in c(TRUE, FALSE)) {
          cat("correct =", correct, "\n")
          show(sapply(tables_2x2, function(tab)
            wilcox.test(y ~ g, data = expand(tab), exact = FALSE,
                        correct = correct)$p.value))
        }
    """
    p = mann_whitney(np.array(TABLES_2X2[name]), correct=correct)
    expected = MANN_WHITNEY_P[correct][name]
    assert _scalar(p) == pytest.approx(expected, rel=REL, abs=0)


# --- Odds ratio with Wald CI and P -----------------------------------------

WALD = {
    "moderate": {"or": 0.753171247357296, "low": 0.460106120504297, "high": 1.23290454650765, "p": 0.259612933791171},
    "large": {"or": 2.54980158730177, "low": 1.62045558704967, "high": 4.01213596137104, "p": 5.18692339664318e-05},
    "small_cell": {"or": 0.2, "low": 0.0495610269358307, "high": 0.807085778343338, "p": 0.0237552279749185},
    "yates_cap": {"or": 1.05, "low": 0.360429879589749, "high": 3.05884739981851, "p": 0.928737124274185},
    "strong": {"or": 4.57142857142857, "low": 1.38315916325052, "high": 15.1088607435183, "p": 0.0127107334237783},
    "protective": {"or": 0.658119658119656, "low": 0.347786068266889, "high": 1.24536755184557, "p": 0.198564883527907},
}


@pytest.mark.parametrize("name", TABLES_2X2)
def test_odds_ratio_wald_against_R(name):
    r"""Odds ratio of the event, row 0 vs row 1, with 95% Wald CI and Wald P.

    Logistic regression of the event on group (reference level = row 1).
    With glm()'s default epsilon = 1e-8 the fit stops early and summary()
    computes the standard error from the weights of the previous IRLS
    iterate, so for these tables the CI limits are then off by 2e-7 to 4e-5
    and the P by 2e-8 to 7e-4 relative (e.g. Wald P for "large":
    5.18313070456837e-05 with the default control, 5.18692339664318e-05
    converged); even rel = 1e-7 would fail against them. The references
    therefore come from a fit run to convergence with epsilon = 1e-16; they
    agree with the closed-form Woolf values (log OR = log(ad / bc),
    SE = sqrt(1/a + 1/b + 1/c + 1/d)) to a relative 2e-12, so the full
    rel = 1e-9 tolerance is used.

    R:

        wald <- function(tab) {
          fit <- glm(y ~ g, family = binomial, data = expand(tab),
                     control = glm.control(epsilon = 1e-16, maxit = 100))
          stopifnot(fit$converged)
          ci <- exp(confint.default(fit))
          c(or = exp(coef(fit))[[2]], low = ci[2, 1], high = ci[2, 2],
            p = summary(fit)$coefficients[2, 4])
        }
        w <- t(sapply(tables_2x2, wald))
        for (stat in colnames(w)) {
          cat(stat, "\n")
          show(w[, stat])
        }
    """
    result = odds_ratio_wald(np.array(TABLES_2X2[name]))
    got = {key: _scalar(result[key]) for key in ("or", "low", "high", "p")}
    assert got == pytest.approx(WALD[name], rel=REL, abs=0)


# --- Vectorisation over a stack of tables ----------------------------------


def _by_key(result):
    """A result as {key: array}; a plain array of P values gets the key "p"."""
    if isinstance(result, dict):
        keys = ("or", "low", "high", "p")
        return {key: np.asarray(result[key]) for key in keys}
    return {"p": np.asarray(result)}


@pytest.mark.parametrize(
    "func, tables",
    [
        pytest.param(pearson_chi2, TABLES_2X2, id="pearson_chi2-2x2"),
        pytest.param(pearson_chi2, TABLES_2X3, id="pearson_chi2-2x3"),
        pytest.param(yates_chi2, TABLES_2X2, id="yates_chi2-2x2"),
        pytest.param(fisher_exact, TABLES_2X2, id="fisher_exact-2x2"),
        pytest.param(fisher_exact, TABLES_2X3, id="fisher_exact-2x3"),
        pytest.param(mann_whitney, TABLES_2X2, id="mann_whitney-2x2"),
        pytest.param(lambda t: mann_whitney(t, correct=False), TABLES_2X2, id="mann_whitney_uncorrected-2x2"),
        pytest.param(odds_ratio_wald, TABLES_2X2, id="odds_ratio_wald-2x2"),
    ],
)
def test_vectorised_equals_per_table(func, tables):
    """All tables of one shape as one (m, 2, k) array give, element by
    element, the same results as the tables passed one at a time."""
    stack = np.array(list(tables.values()))
    together = _by_key(func(stack))
    one_by_one = [_by_key(func(np.array(table))) for table in tables.values()]
    for key, values in together.items():
        assert values.shape == (len(tables),), key
        expected = [_scalar(result[key]) for result in one_by_one]
        assert values.tolist() == pytest.approx(expected, rel=1e-12, abs=0), key
