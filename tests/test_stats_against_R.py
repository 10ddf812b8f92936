r"""Rates, regression tables, Firth, separation and E-values against R and published worked examples.

R 4.2.2 (base stats) references, with the data of ``tests/test_models_against_R.py``:

    prop.test(32, 155, correct = FALSE)$conf.int   # and (50, 158), (0, 20), (7, 7)
    ctl <- glm.control(epsilon = 1e-14, maxit = 100)
    for (v in c("f", "x", "b")) {
      fit <- glm(as.formula(paste("y ~", v)), family = binomial, data = d, control = ctl)
      exp(cbind(coef(fit), confint.default(fit))); summary(fit)$coefficients[, 4]
    }
"""

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis.stats import evalue, events_per_variable, firth_table, group_rates, separation_report, wilson_ci
from microcalc.analysis.tables import regression_table

R_WILSON = {
    (32, 155): (0.150206666659239, 0.276895044218876),
    (50, 158): (0.249025552712633, 0.392599032096264),
    (0, 20): (0.0, 0.161125158052819),
    (7, 7): (0.645669564933313, 1.0),
}
R_UNI = {
    "f[b]": (0.638392857142858, 0.217520190772272, 1.87359820991373, 0.413927567407576),
    "f[c]": (0.687499999999999, 0.231977840612732, 2.03750603398822, 0.499060654196976),
    "x": (1.03171654231044, 0.25817330305654, 4.12296318432236, 0.964764861399199),
    "b": (0.669421487603306, 0.242062016465454, 1.85128230611505, 0.43934572762117),
}
R_MULTI_F_LRT = 0.673480569329537  # drop1(fit, test = "LRT") of the model y ~ f + x + b


@pytest.mark.parametrize("k, n", list(R_WILSON))
def test_wilson_ci_against_R_prop_test(k, n):
    lo, hi = wilson_ci(k, n)
    assert (float(lo), float(hi)) == pytest.approx(R_WILSON[(k, n)], rel=1e-9, abs=1e-12)


def test_group_rates_use_wilson_intervals_in_percent():
    df = pd.DataFrame(
        {"g": [True] * 155 + [False] * 158, "y": [True] * 32 + [False] * 123 + [True] * 50 + [False] * 108}
    )
    r = group_rates(df, "g", "y").set_index("g")
    assert r.loc[True, "ci_low_pct"] == pytest.approx(100 * R_WILSON[(32, 155)][0], rel=1e-9)
    assert (r.loc[True, "events"], r.loc[True, "n"]) == (32, 155)


def test_regression_table_univariable_ors_against_R_glm(glm_data):
    reg = regression_table(glm_data, "y", ["f", "x", "b"])
    uni = reg.tidy[reg.tidy["model"] == "univariable"].set_index("term")
    for term, ref in R_UNI.items():
        got = uni.loc[term, ["or", "ci_low", "ci_high", "p"]].to_numpy(dtype=float)
        assert got == pytest.approx(ref, rel=1e-6), term
    first_f = reg.display[reg.display["variable"] == "f"].iloc[0]
    assert first_f["global P (LR)"] == f"{R_MULTI_F_LRT:.3f}"
    assert first_f["OR univariable (95% CI)"] == "Ref"
    assert (
        reg.display.loc[reg.display["level"] == "b", "n (events)"].iloc[0]
        == f"{int((glm_data['f'] == 'b').sum())} ({int(glm_data.loc[glm_data['f'] == 'b', 'y'].sum())})"
    )


def test_firth_on_a_2x2_table_adds_a_half_to_every_cell():
    """Firth (1993): with one binary covariate the penalised log OR is log((a+.5)(d+.5)/((b+.5)(c+.5)))."""
    a, b, c, d = 12, 3, 5, 0  # a zero cell: the ML estimate is infinite
    df = pd.DataFrame(
        {"x": [True] * (a + b) + [False] * (c + d), "y": [True] * a + [False] * b + [True] * c + [False] * d}
    )
    t = firth_table(df, "y", ["x"])
    assert t.loc["x", "or"] == pytest.approx((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)), rel=1e-5)
    assert np.isfinite(t.loc["x", "ci_high"])


def test_separation_is_reported_in_words_and_not_estimated():
    df = pd.DataFrame(
        {
            "x": pd.array([True] * 10 + [False] * 20, dtype="boolean"),
            "z": np.tile([0.0, 1.0], 15),
            "y": pd.array([True] * 10 + [True] * 8 + [False] * 12, dtype="boolean"),
        }
    )
    messages = separation_report(df, "y", ["x", "z"])
    assert messages and "all 10 patients with x had the outcome" in messages[0]
    reg = regression_table(df, "y", ["x", "z"])
    assert (reg.display["OR multivariable (95% CI)"] == "not estimable (separation)").any()
    assert separation_report(df.assign(y=np.tile([True, False, False], 10)), "y", ["x", "z"]) == []


def test_events_per_variable_counts_the_rarer_outcome_and_every_coefficient(glm_data):
    epv = events_per_variable(glm_data, "y", ["f", "x", "b"])
    y = glm_data["y"].astype(bool)
    assert epv.limiting_events == min(y.sum(), (~y).sum()) and epv.parameters == 4
    assert epv.epv == pytest.approx(epv.limiting_events / 4)


def test_evalue_worked_example_of_vanderweele_and_ding():
    """Ann Intern Med 2017;167:268-74: RR 3.9 (1.8 to 8.7) -> E-values 7.26 and 3.0."""
    ev = evalue(3.9, 1.8, 8.7, rare=True)
    assert round(ev.evalue_estimate, 2) == 7.26 and round(ev.evalue_ci, 1) == 3.0


def test_evalue_of_a_common_outcome_uses_the_square_root_and_inverts_protective_ors():
    assert evalue(3.9**2).evalue_estimate == pytest.approx(evalue(3.9, rare=True).evalue_estimate)
    assert evalue(1 / 2.0).evalue_estimate == pytest.approx(evalue(2.0).evalue_estimate)
    assert evalue(2.0, 0.9, 4.0).evalue_ci == 1.0
