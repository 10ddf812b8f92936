r"""Multiplicity-adjusted P values and expected counts against R.

R 4.2.2 (base stats), printed with ``sprintf("%.15g")``:

    out <- function(v) cat(sprintf("%s = %.15g\n", names(v), v), sep = "")
    p <- c(0.010, 0.040, 0.030, 0.200, NA, 0.005, 0.040)
    out(c(holm = p.adjust(p, "holm"), bh = p.adjust(p, "BH")))
    tab <- matrix(c(20, 12, 6, 30, 9, 2), nrow = 2, byrow = TRUE)
    out(c(expected = suppressWarnings(chisq.test(tab))$expected))
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.multiplicity import adjust_p, sparse_cells

P = [0.010, 0.040, 0.030, 0.200, np.nan, 0.005, 0.040]
R_HOLM = [0.05, 0.12, 0.12, 0.2, np.nan, 0.03, 0.12]
R_BH = [0.03, 0.048, 0.048, 0.2, np.nan, 0.03, 0.048]
R_EXPECTED = [
    24.0506329113924,
    25.9493670886076,
    10.1012658227848,
    10.8987341772152,
    3.84810126582278,
    4.15189873417722,
]  # column-major, as R prints a matrix


def test_holm_and_benjamini_hochberg_against_R_p_adjust():
    adj = adjust_p(P, labels=list("abcdefg"))
    assert adj.table["p_holm"].to_numpy() == pytest.approx(R_HOLM, rel=1e-12, nan_ok=True)
    assert adj.table["p_bh"].to_numpy() == pytest.approx(R_BH, rel=1e-12, nan_ok=True)
    assert adj.family_size == 6 and list(adj.table.index) == list("abcdefg")


def test_adjust_p_refuses_values_outside_0_1():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p([0.2, 1.3])


def test_expected_counts_against_R_and_sparse_cells_said_in_words():
    tab = pd.DataFrame([[20, 12, 6], [30, 9, 2]], index=[True, False], columns=["a", "b", "c"])
    s = sparse_cells(tab)
    assert s.expected.to_numpy().ravel(order="F") == pytest.approx(R_EXPECTED, rel=1e-12)
    assert (s.n_below, s.n_cells) == (2, 6)
    assert "2 of 6 cells" in s.sentence and "Fisher-Freeman-Halton" in s.sentence
    fine = sparse_cells([[20, 30], [25, 28]])
    assert fine.n_below == 0 and "adequate" in fine.sentence


def test_a_single_category_contrast_is_never_passed_off_as_the_overall_p():
    from microcalc.analysis.multiplicity import category_contrast_sentence

    counts = pd.DataFrame([[10, 20, 30], [25, 15, 10]], index=[True, False], columns=["whole_body", "axial", "limb"])
    text = category_contrast_sentence("whole_body", counts, 0.012, "Pearson chi-squared", 0.2, "Fisher-Freeman-Halton")
    assert "whole body share (16.7% vs 50.0%)" in text and "against the other 2 categories" in text
    assert "P = 0.012" in text and "overall 2 x 3" in text and "P = 0.200" in text
    with pytest.raises(ValueError, match="not a category"):
        category_contrast_sentence("skull", counts, 0.1, "x", 0.2, "y")


def test_secondary_comparisons_give_chi_squared_beside_exact_p_and_holm_and_bh_against_R():
    """The bone cohort's type and extent tables (synthetic counts), in R 4.2.2::

    ty <- matrix(c(56, 7, 8, 17, 3, 8), nrow = 2, byrow = TRUE)
    ex <- matrix(c(37, 10, 24, 23, 2, 3), nrow = 2, byrow = TRUE)
    tyo <- cbind(ty[, 1], ty[, 2] + ty[, 3]); exw <- cbind(ex[, 3], ex[, 1] + ex[, 2])
    tabs <- list(ty, tyo, ex, exw)
    pc <- sapply(tabs, function(x) chisq.test(x, correct = FALSE)$p.value)
    pf <- sapply(tabs, function(x) fisher.test(x)$p.value)
    p.adjust(pf, "holm"); p.adjust(pf, "BH")
    sapply(tabs, function(x) min(chisq.test(x)$expected))
    """
    from microcalc.analysis.multiplicity import secondary_comparisons

    types = pd.DataFrame([[56, 7, 8], [17, 3, 8]], index=[True, False], columns=["osteolytic", "osteoblastic", "mixed"])
    extents = pd.DataFrame(
        [[37, 10, 24], [23, 2, 3]], index=[True, False], columns=["axial", "appendicular", "whole_body"]
    )
    sc = secondary_comparisons({"type": types, "extent": extents}, {"type": "osteolytic", "extent": "whole_body"})
    t = sc.table
    assert list(t.index) == ["type", "type_osteolytic", "extent", "extent_whole_body"]
    assert t["p_chi2"].to_numpy() == pytest.approx(
        [0.09862521058, 0.06443839155, 0.02115938939, 0.02017204071], rel=1e-9
    )
    assert t["p_exact"].to_numpy() == pytest.approx(
        [0.1137630852, 0.07871364773, 0.01884814637, 0.02398079081], rel=1e-7
    )
    assert t["p_holm"].to_numpy() == pytest.approx([0.1574272955, 0.1574272955, 0.07539258547, 0.07539258547], rel=1e-7)
    assert t["p_bh"].to_numpy() == pytest.approx([0.1137630852, 0.1049515303, 0.04796158162, 0.04796158162], rel=1e-7)
    assert t["min_expected"].to_numpy() == pytest.approx([2.828282828, 7.353535354, 3.393939394, 7.636363636], rel=1e-9)
    assert t["cells_below_5"].tolist() == [2, 0, 1, 0] and sc.adjusted.family_size == 4
    with pytest.raises(ValueError, match="not a category"):
        secondary_comparisons({"type": types}, {"type": "skull"})
