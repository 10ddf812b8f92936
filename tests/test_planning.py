r"""Planning by simulation: the batched fits, the closed forms, and the simulated power against them.

The closed forms in base R (R 4.x), for the bone cohort's univariable case at the published
OR 2.55 (share exposed B and unexposed rate p0 as :func:`microcalc.planning_checks.univariable_inputs`
gives them):

    demidenko <- function(n, B, p0, or, a = 0.05) {     # asymptotic Wald power, binary covariate
      b1 <- log(or); p1 <- plogis(qlogis(p0) + b1)
      sd <- sqrt((1 / ((1 - B) * p0 * (1 - p0)) + 1 / (B * p1 * (1 - p1))) / n); z <- qnorm(1 - a / 2)
      pnorm(abs(b1) / sd - z) + pnorm(-abs(b1) / sd - z) }
    hsieh <- function(B, p0, or, pw = 0.8, a = 0.05) {  # Hsieh, Bloch & Larsen 1998, binary covariate
      p1 <- plogis(qlogis(p0) + log(or)); P <- (1 - B) * p0 + B * p1
      (qnorm(1 - a / 2) * sqrt(P * (1 - P) / B) + qnorm(pw) * sqrt(p0 * (1 - p0) + p1 * (1 - p1) * (1 - B) / B))^2 /
        ((p0 - p1)^2 * (1 - B)) }
    cat(sprintf("%.15g\n", c(demidenko(600, 0.5, 0.05, 2.55), hsieh(0.5, 0.05, 2.55))))

run by :func:`test_closed_forms_agree_with_base_R` through ``Rscript``.
"""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from microcalc import planning, planning_checks
from microcalc.analysis.models import design_matrix, fit_logistic

R_CODE = __doc__.split("gives them):\n\n")[1].split("\n\nrun by")[0]


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="base R (Rscript) is not installed")
def test_closed_forms_agree_with_base_R(tmp_path):
    script = tmp_path / "closed.R"
    script.write_text(R_CODE.replace("\n    ", "\n").strip() + "\n")
    out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=True).stdout.split()
    r_power, r_n = float(out[0]), float(out[1])
    assert planning_checks.wald_power_binary(600, 0.5, 0.05, 2.55) == pytest.approx(r_power, rel=1e-12)
    assert planning_checks.hsieh_sample_size(0.5, 0.05, 2.55) == pytest.approx(r_n, rel=1e-12)
    assert planning_checks.hsieh_power(r_n, 0.5, 0.05, 2.55) == pytest.approx(0.8, rel=1e-9)


def test_the_batched_fit_is_the_libraries_fit(glm_data):
    """Two stacked data sets fitted at once give statsmodels' (R glm's, see test_models_against_R) estimates."""
    frames = [glm_data, glm_data.iloc[::-1].assign(y=lambda d: d["y"].to_numpy()[::-1] ^ (np.arange(80) % 9 == 0))]
    X = np.stack([design_matrix(f, ["f", "x", "b"])[0] for f in frames])
    y = np.stack([f["y"].astype(float).to_numpy() for f in frames])
    b, se, converged = planning._fit_batch(X, y)
    assert converged.all()
    for i, f in enumerate(frames):
        ref = fit_logistic(f, "y", ["f", "x", "b"])
        assert b[i] == pytest.approx(ref.params, rel=1e-7)
        assert se[i] == pytest.approx(ref.bse, rel=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("cohort, n", [("bone_cohort", 600), ("nact_cohort", 450)])
def test_simulated_power_at_the_published_or_agrees_with_the_closed_form(cohort, n):
    """Univariable case at the published univariable OR: within 3 Monte Carlo SE of Demidenko's Wald power."""
    from microcalc.abstract.published import load_published

    odds = float(load_published().loc[planning.COHORTS[cohort][3], "value"])
    table = planning_checks.closed_form_comparison(cohort, odds, [n], reps=1000)
    row = table.iloc[0]
    assert 0.5 < row["demidenko"] < 0.95  # a size where power is informative
    assert abs(row["z"]) < 3, table
    assert row["nonconverged"] == 0


def test_the_same_seed_gives_the_same_power_and_a_null_or_gives_the_level():
    grid = planning.power_grid("bone_cohort", [400], {"null": 1.0}, reps=1000, model="univariable", seed=7)
    again = planning.power_grid("bone_cohort", [400], {"null": 1.0}, reps=1000, model="univariable", seed=7)
    pd.testing.assert_frame_equal(grid, again)
    assert abs(grid["power"].iloc[0] - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 1000)


def test_size_for_power_interpolates_and_says_when_the_grid_is_too_small():
    grid = pd.DataFrame(
        {
            "or_label": ["a"] * 3 + ["b"] * 3,
            "or": [2.0] * 3 + [1.2] * 3,
            "n": [100, 200, 400] * 2,
            "power": [0.5, 0.7, 0.9, 0.1, 0.2, 0.3],
        }
    )
    out = planning.size_for_power(grid, 0.8).set_index("assumed OR")["n for 80% power"]
    assert out["a"] == "300" and out["b"] == "more than 400"


@pytest.mark.slow
def test_the_grid_does_not_depend_on_the_number_of_workers():
    args = ("bone_cohort", [300, 600], {"published": 2.268}, 500)
    one = planning.power_grid(*args, workers=1)
    two = planning.power_grid(*args, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_the_assumed_ors_are_the_abstracts_multivariable_estimates_and_ci_limits():
    """The abstract: non-pCR OR = 2.352, 95%CI (1.186-4.667); bone metastasis OR = 2.268 (1.263-4.071)."""
    from microcalc.abstract.published import load_published

    published = load_published()
    nact = planning.assumed_ors(published, "nact_cohort")
    assert list(nact) == ["published", "CI lower limit", "CI upper limit"]
    assert nact == {"published": 2.352, "CI lower limit": 1.186, "CI upper limit": 4.667}
    assert planning.assumed_ors(published, "bone_cohort") == {
        "published": 2.268,
        "CI lower limit": 1.263,
        "CI upper limit": 4.071,
    }
