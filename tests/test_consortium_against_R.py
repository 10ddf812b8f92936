r"""Pooling across sites against base R, which reads the same bundle files itself.

Three bundles (the bundled synthetic cohorts as a site run cleans them, and two
further synthetic sites from the generator with other seeds, the second with a
bone cohort of 600) are written; R reads each bundle's ``terms.csv`` and
``counts.csv`` and computes, in base R (R 4.x, no package):

    args <- commandArgs(TRUE); cohort <- args[1]; outcome <- args[2]; dirs <- args[-(1:2)]
    term <- function(d) { t <- read.csv(file.path(d, "terms.csv"))
      r <- t[t$cohort == cohort & t$model == "multivariable" & t$term == "microcalcification", ]
      c(r$log_or, r$se) }
    m <- sapply(dirs, term); yi <- m[1, ]; vi <- m[2, ]^2; k <- length(yi)
    nll <- function(t2) { w <- 1 / (vi + t2); mu <- sum(w * yi) / sum(w)     # minus REML log-likelihood
      0.5 * (sum(log(vi + t2)) + log(sum(w)) + sum(w * (yi - mu)^2)) }
    tau2 <- optimize(nll, c(0, 10), tol = 1e-12)$minimum
    if (nll(0) <= nll(tau2)) tau2 <- 0
    w <- 1 / (vi + tau2); mu <- sum(w * yi) / sum(w)
    se <- sqrt(sum(w * (yi - mu)^2) / ((k - 1) * sum(w)))                    # Hartung-Knapp, untruncated
    crit <- qt(0.975, k - 1)
    st <- max(se, sqrt(1 / sum(w)))                                          # truncated (metafor "adhoc")
    wf <- 1 / vi; fe <- sum(wf * yi) / sum(wf); fe_se <- sqrt(1 / sum(wf))    # fixed effect
    q <- sum(wf * (yi - fe)^2)
    tdl <- max(0, (q - (k - 1)) / (sum(wf) - sum(wf^2) / sum(wf)))            # DerSimonian-Laird
    wd <- 1 / (vi + tdl); dl <- sum(wd * yi) / sum(wd); dl_se <- sqrt(1 / sum(wd))
    x <- array(0, c(2, 2, k))
    for (i in seq_along(dirs)) {
      n <- read.csv(file.path(dirs[i], "counts.csv"), colClasses = "character")
      n <- n[n$cohort == cohort & n$row_variable == "microcalcification" & n$column_variable == outcome, ]
      cell <- function(r, c) as.numeric(n$count[n$row_level == r & n$column_level == c])
      x[, , i] <- matrix(c(cell("yes", "yes"), cell("no", "yes"), cell("yes", "no"), cell("no", "no")), 2)
    }
    mh <- mantelhaen.test(x)
    v <- c(tau2 = tau2, mu = mu, se = se, ci_lb = mu - crit * se, ci_ub = mu + crit * se,
           p = 2 * pt(abs(mu / se), k - 1, lower.tail = FALSE),
           pi_lb = mu - crit * sqrt(se^2 + tau2), pi_ub = mu + crit * sqrt(se^2 + tau2), q = q,
           tr_lb = mu - crit * st, tr_ub = mu + crit * st,
           fe = fe, fe_lb = fe - qnorm(0.975) * fe_se, fe_ub = fe + qnorm(0.975) * fe_se,
           dl = dl, dl_tau2 = tdl, dl_lb = dl - qnorm(0.975) * dl_se, dl_ub = dl + qnorm(0.975) * dl_se,
           mh = unname(mh$estimate), mh_lb = mh$conf.int[1], mh_ub = mh$conf.int[2], mh_p = mh$p.value)
    cat(sprintf("%s = %.15g\n", names(v), v), sep = "")

The script above is :data:`R_CODE`, run as is with ``Rscript``.
"""

import shutil
import subprocess

import numpy as np
import pytest

from microcalc.cohorts.clean import clean_cohorts
from microcalc.cohorts.synthesize import DEFAULT_SEED, generate_bone, generate_nact
from microcalc.pipeline import consortium
from microcalc.pipeline.bundle import write_bundle

R_CODE = __doc__.split("``counts.csv`` and computes, in base R (R 4.x, no package):\n\n")[1].split(
    "\n\nThe script above"
)[0]
pytestmark = pytest.mark.skipif(shutil.which("Rscript") is None, reason="base R (Rscript) is not installed")


@pytest.fixture(scope="module")
def three_bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundles")
    sites = {
        "bundled": clean_cohorts("data/raw", write=False),
        "seed_plus_1": {
            "nact_cohort": generate_nact(seed=DEFAULT_SEED + 1),
            "bone_cohort": generate_bone(seed=DEFAULT_SEED + 1),
        },
        "seed_plus_3": {
            "nact_cohort": generate_nact(seed=DEFAULT_SEED + 3),
            "bone_cohort": generate_bone(seed=DEFAULT_SEED + 3, n=600),
        },
    }
    folders = []
    for name, cohorts in sites.items():
        folders.append(write_bundle(cohorts, root / name / "bundle", {"name": name, "status": "complete"}))
    return folders


def _r(cohort, outcome, folders, tmp_path):
    script = tmp_path / "pool.R"
    script.write_text(R_CODE.replace("\n    ", "\n").strip() + "\n")
    out = subprocess.run(
        ["Rscript", str(script), cohort, outcome, *map(str, folders)], capture_output=True, text=True, check=True
    ).stdout
    return {k.strip(): float(v) for k, v in (line.split("=") for line in out.strip().splitlines())}


@pytest.mark.parametrize("cohort", list(consortium.FINDINGS))
def test_pooled_values_agree_with_base_R(three_bundles, cohort, tmp_path):
    r = _r(cohort, consortium.FINDINGS[cohort][0], three_bundles, tmp_path)
    loaded = [consortium.read_bundle(f) for f in three_bundles]
    pooled = consortium.pool_finding(loaded, cohort).pooled.set_index("label")
    reml, fe, dl = pooled.loc["REML + HKSJ"], pooled.loc["fixed effect (IV)"], pooled.loc["DerSimonian-Laird"]
    assert reml["k"] == 3 and reml["df"] == 2
    assert reml["tau2"] == pytest.approx(r["tau2"], abs=1e-7)
    assert reml["log_or"] == pytest.approx(r["mu"], rel=1e-6)
    assert reml["se"] == pytest.approx(r["se"], rel=1e-6)
    assert np.log([reml["ci_low"], reml["ci_high"]]) == pytest.approx([r["ci_lb"], r["ci_ub"]], rel=1e-6)
    assert np.log([reml["pi_low"], reml["pi_high"]]) == pytest.approx([r["pi_lb"], r["pi_ub"]], rel=1e-6)
    assert reml["p"] == pytest.approx(r["p"], rel=1e-5)
    assert reml["q"] == pytest.approx(r["q"], rel=1e-9)
    tr = pooled.loc["REML + HKSJ truncated (check)"]
    assert np.log([tr["ci_low"], tr["ci_high"]]) == pytest.approx([r["tr_lb"], r["tr_ub"]], rel=1e-6)
    assert np.log([fe["or"], fe["ci_low"], fe["ci_high"]]) == pytest.approx([r["fe"], r["fe_lb"], r["fe_ub"]], rel=1e-9)
    assert dl["tau2"] == pytest.approx(r["dl_tau2"], abs=1e-12)
    assert np.log([dl["or"], dl["ci_low"], dl["ci_high"]]) == pytest.approx([r["dl"], r["dl_lb"], r["dl_ub"]], rel=1e-9)
    mh = consortium.mantel_haenszel_table(loaded)
    row = mh[(mh.cohort == cohort) & (mh.comparison == "microcalcification yes vs no")].iloc[0]
    assert [row["or"], row["ci_low"], row["ci_high"]] == pytest.approx([r["mh"], r["mh_lb"], r["mh_ub"]], rel=1e-9)
    assert row["p"] == pytest.approx(r["mh_p"], rel=1e-7)


def test_leave_one_site_out_is_the_pooling_of_the_others(three_bundles):
    loaded = [consortium.read_bundle(f) for f in three_bundles]
    finding = consortium.pool_finding(loaded, "bone_cohort")
    loo = finding.leave_one_out.set_index("site_left_out")
    two = consortium.pool_finding(loaded[1:], "bone_cohort").pooled.set_index("label").loc["REML + HKSJ"]
    assert loo.loc["bundled", "or"] == pytest.approx(two["or"], rel=1e-12)
    assert loo.loc["bundled", "ci_high"] == pytest.approx(two["ci_high"], rel=1e-12)


def test_refused_bundles_are_all_named_and_a_site_is_pooled_once(three_bundles):
    (three_bundles[1] / "terms.csv").write_text("x\n")
    with pytest.raises(consortium.ConsortiumError) as err:
        consortium.load_bundles([three_bundles[0], three_bundles[1], three_bundles[0]])
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("bundle refused:") and "terms.csv does not match its sha256" in lines[0]
    assert lines[1] == "two bundles of site 'bundled': pool each site once"
