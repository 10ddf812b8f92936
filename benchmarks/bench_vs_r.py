"""Benchmark: the core bone-cohort analyses at 10^6 patients, this library against base R, on the same file.

One synthetic bone cohort of 10^6 patients is written once as the contract's
canonical CSV. Python reads it with the library's cleaning
(``clean_cohorts``, which also validates it) and R with ``read.csv``; then
both run the same analyses, timed apart from reading:

- a univariable logistic model of bone metastasis for each of the 7 terms
  (``microcalc.analysis.models.fit_logistic(...).table()``: ORs, Wald CIs, P;
  R: ``glm(..., family = binomial)``, ``summary``, ``confint.default``);
- the multivariable model of all 7 terms (the same calls);
- Pearson's chi-squared test of bone metastasis by microcalcification
  (``microcalc.analysis.stats.compare_groups(..., ("pearson_chi2",))`` on
  ``stats.crosstab``; R: ``chisq.test(table(...), correct = FALSE)``).

Factor reference levels are the contract's in both. The multivariable ORs
of both are printed side by side, to show that the same model was fitted.
The ratio is Python's analysis time over R's (goal: at most 1.0). Run with
``make bench`` or ``.venv/bin/python benchmarks/bench_vs_r.py [N]``;
prints figures, asserts nothing.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
d <- read.csv(args[1], colClasses = "character", na.strings = "")
d$age <- as.integer(d$age)
d$bone_metastasis <- d$bone_metastasis == "yes"
d$microcalcification <- d$microcalcification == "yes"
LEVELS
t_read <- proc.time()[["elapsed"]] - t0
terms <- c(TERMS)
fit <- function(f) {
  m <- glm(f, family = binomial, data = d)
  s <- coef(summary(m))
  ci <- confint.default(m)
  cbind(or = exp(s[, 1]), lo = exp(ci[, 1]), hi = exp(ci[, 2]), p = s[, 4])
}
w <- d; d <- d[1:2000, ]; invisible(fit(reformulate(terms, "bone_metastasis"))); d <- w  # warm up
t1 <- proc.time()[["elapsed"]]
for (t in terms) uni <- fit(reformulate(t, "bone_metastasis"))
t_uni <- proc.time()[["elapsed"]] - t1
t2 <- proc.time()[["elapsed"]]
multi <- fit(reformulate(terms, "bone_metastasis"))
t_multi <- proc.time()[["elapsed"]] - t2
t3 <- proc.time()[["elapsed"]]
chi <- chisq.test(table(d$microcalcification, d$bone_metastasis), correct = FALSE)
t_chi <- proc.time()[["elapsed"]] - t3
cat(sprintf("read %.3f uni %.3f multi %.3f chi2 %.3f\n", t_read, t_uni, t_multi, t_chi))
cat(sprintf("chi2_p %.10g\n", chi$p.value))
cat(sprintf("or_microcalcification %.10g\n", multi["microcalcificationTRUE", "or"]))
"""


def _python(folder: Path) -> dict:
    from microcalc.analysis import stats
    from microcalc.analysis.models import fit_logistic
    from microcalc.cohorts.clean import clean_cohorts
    from microcalc.study import BONE_TERMS

    t0 = time.perf_counter()
    bone = clean_cohorts(folder, folder / "out")["bone_cohort"]
    t_read = time.perf_counter() - t0
    fit_logistic(bone.head(2000), "bone_metastasis", list(BONE_TERMS)).table()  # warm up, as R's glm is
    t1 = time.perf_counter()
    for term in BONE_TERMS:
        fit_logistic(bone, "bone_metastasis", [term]).table()
    t_uni = time.perf_counter() - t1
    t2 = time.perf_counter()
    multi = fit_logistic(bone, "bone_metastasis", list(BONE_TERMS)).table()
    t_multi = time.perf_counter() - t2
    t3 = time.perf_counter()
    tests = stats.compare_groups(
        stats.crosstab(bone, "microcalcification", "bone_metastasis").to_numpy(), ("pearson_chi2",)
    )
    t_chi = time.perf_counter() - t3
    return {
        "read": t_read,
        "uni": t_uni,
        "multi": t_multi,
        "chi2": t_chi,
        "chi2_p": float(tests["p"].iloc[0]),
        "or_microcalcification": float(multi.loc["microcalcification", "or"]),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10**6
    if len(sys.argv) > 2 and sys.argv[2] == "--python":
        print(json.dumps(_python(Path(sys.argv[3]))))
        return
    from microcalc.cohorts import synthesize
    from microcalc.cohorts.contract import categories, to_canonical_csv
    from microcalc.core.outputs import write_csv
    from microcalc.study import BONE_TERMS

    rscript = shutil.which("Rscript")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_csv(to_canonical_csv(synthesize.generate_bone(n=n), "bone_cohort"), tmp / "bone_cohort.csv")
        write_csv(to_canonical_csv(synthesize.generate_nact(), "nact_cohort"), tmp / "nact_cohort.csv")
        levels = "\n".join(
            f"d${t} <- factor(d${t}, levels = c({', '.join(repr(str(c)) for c in categories('bone_cohort', t))}))"
            for t in BONE_TERMS
            if t not in ("microcalcification", "age")
        )
        script = R_SCRIPT.replace("LEVELS", levels).replace("TERMS", ", ".join(f'"{t}"' for t in BONE_TERMS))
        (tmp / "bench.R").write_text(script)
        py_run = subprocess.run(
            [sys.executable, __file__, str(n), "--python", str(tmp)], capture_output=True, text=True, check=True
        )
        py = json.loads(py_run.stdout.strip().splitlines()[-1])
        if rscript is None:
            print("Rscript not found: install base R (r-base-core) for the comparison")
            return
        r_run = subprocess.run(
            [rscript, "--vanilla", str(tmp / "bench.R"), str(tmp / "bone_cohort.csv")], capture_output=True, text=True
        )
        if r_run.returncode != 0:
            print("R failed:", r_run.stderr[-1500:])
            return
    r = {}
    for line in r_run.stdout.splitlines():
        parts = line.split()
        for key, value in zip(parts[::2], parts[1::2], strict=False):
            r[key] = float(value) if value != "NA" else None
    print(f"bone cohort of {n:,} patients, the same canonical CSV; seconds (Python / R):")
    for key, what in (
        ("uni", "univariable logistic models (7 terms)"),
        ("multi", "multivariable logistic model"),
        ("chi2", "Pearson chi-squared test"),
    ):
        print(f"  {what:40s} {py[key]:7.2f} / {r[key]:7.2f}")
    py_total = py["uni"] + py["multi"] + py["chi2"]
    r_total = r["uni"] + r["multi"] + r["chi2"]
    print(f"  {'analyses':40s} {py_total:7.2f} / {r_total:7.2f}: ratio {py_total / r_total:.2f} (goal <= 1.0)")
    print(f"  {'reading (Python: cleaning + validation)':40s} {py['read']:7.2f} / {r['read']:7.2f}")
    print(
        f"  same results: multivariable OR of microcalcification {py['or_microcalcification']:.6f} / "
        f"{r['or_microcalcification']:.6f}; chi-squared P {py['chi2_p']:.6g} / {r['chi2_p']:.6g}"
    )


if __name__ == "__main__":
    main()
