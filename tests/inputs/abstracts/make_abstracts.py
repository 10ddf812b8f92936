"""Write the constructed abstracts and the key of their planted errors (run once; output committed).

Every correct number is computed here from a table or a (log ratio, SE) pair
and printed as a paper would; every planted error is made far from any
rounding boundary and verified independently below (the CI's Wald P,
direct comparison of the estimate with its bounds, counts that cannot give a
percentage, and every test's P on the printed table), so that the key does
not depend on the checker it tests.

    python tests/inputs/abstracts/make_abstracts.py
"""

import csv
from pathlib import Path

import numpy as np
from scipy import stats

from microcalc.abstract.published import format_p
from microcalc.abstract.pvalues import TESTS

HERE = Path(__file__).parent
Z = stats.norm.ppf(0.975)

RATIO_FORMS = [
    "(OR {e}; 95% CI {l}-{h}; {p})",
    "OR = {e}, 95% CI: {l}\u2013{h}, {p}",
    "HR {e} (95% CI {l} to {h}, {p})",
    "odds ratio {e} (95% confidence interval {l}, {h}; {p})",
    "RR = {e} [95%CI ({l}\u2013{h})], {p}",
    "aOR {e}, 95% CI {l} to {h}, {p}",
]


def ratio(rng, form, error=None):
    """A ratio statement from log ratio and SE; ``error`` plants one mistake."""
    log_r = rng.choice([-1, 1]) * rng.uniform(0.25, 1.2)
    se = rng.uniform(0.12, 0.3)
    e, lo, h = np.exp([log_r, log_r - Z * se, log_r + Z * se])
    p = 2 * stats.norm.sf(abs(log_r) / se)
    p_text = format_p(p)
    if error == "P does not follow from the CI":
        wrong = min(0.9, max(p * 8, 0.2))  # far from any P the CI allows
        assert abs(np.log(wrong) - np.log(p)) > 1
        p_text = f"P = {wrong:.3f}"
    if error == "CI excludes the estimate":
        e = h * 1.25  # estimate well above the upper bound
    text = form.format(e=f"{e:.2f}", l=f"{lo:.2f}", h=f"{h:.2f}", p=p_text)
    if error == "CI excludes the estimate":
        assert round(e, 2) > round(h, 2) + 0.01
    return text


def share(rng, form, error=None):
    n = int(rng.integers(20, 400))
    k = int(rng.integers(1, n))
    pct = 100 * k / n
    if error == "impossible percentage":
        # a percentage no count out of n can give (GRIM), for n below 1000
        for shift in np.arange(0.1, 5, 0.1):
            cand = round(pct + shift, 1)
            if not any(abs(100 * j / n - cand) <= 0.05 for j in range(n + 1)):
                pct = cand
                break
        else:
            raise AssertionError("no impossible percentage found")
        assert not any(abs(100 * j / n - pct) <= 0.05 for j in range(n + 1))
        return form.format(k=k, n=n, pct=f"{pct:.1f}").replace(f"{k} of {n} ", "")
    if error == "count does not give the percentage":
        pct = pct + 6
        return form.format(k=k, n=n, pct=f"{pct:.1f}")
    return form.format(k=k, n=n, pct=f"{pct:.1f}")


def comparison(rng, error=None):
    n1, n0 = (int(x) for x in rng.integers(60, 400, 2))
    p1, p0 = rng.uniform(0.1, 0.6, 2)
    k1, k0 = int(round(p1 * n1)), int(round(p0 * n0))
    table = np.array([[k1, n1 - k1], [k0, n0 - k0]])
    p = float(TESTS["pearson_chi2"][1](table))
    p_text = format_p(p)
    if error == "no test reproduces the P":
        ps = [float(TESTS[t][1](table)) for t in TESTS]
        wrong = min(0.9, max(max(ps) * 6, 0.3)) if max(ps) < 0.1 else min(ps) / 8
        p_text = format_p(wrong)
        lo, hi = (0, 0.001) if p_text.startswith("P <") else (float(p_text[4:]) - 5e-4, float(p_text[4:]) + 5e-4)
        assert not any(lo <= q <= hi for q in ps), (ps, p_text)
    return f"{k1} of {n1} ({100 * k1 / n1:.1f}%) vs {k0} of {n0} ({100 * k0 / n0:.1f}%), {p_text}"


PLANS = [  # (errors planted, in order) per abstract
    ["P does not follow from the CI"],
    ["CI excludes the estimate"],
    ["impossible percentage"],
    ["no test reproduces the P"],
    ["P does not follow from the CI", "impossible percentage"],
    ["CI excludes the estimate", "no test reproduces the P"],
    ["count does not give the percentage"],
    ["P does not follow from the CI", "CI excludes the estimate"],
    ["impossible percentage", "no test reproduces the P"],
    [],
    ["P does not follow from the CI", "count does not give the percentage", "no test reproduces the P"],
    ["CI excludes the estimate", "impossible percentage"],
    ["over 100 percent"],
]


def abstract(i, plan, rng):
    sentences, key = [], []
    errors = list(plan)

    def take(kinds):
        for e in errors:
            if e in kinds:
                errors.remove(e)
                return e
        return None

    n_total = int(rng.integers(150, 900))
    sentences.append(f"Objectives: We studied {n_total} patients with early breast cancer.")
    for j in range(3):
        err = take({"P does not follow from the CI", "CI excludes the estimate"})
        text = ratio(rng, RATIO_FORMS[(i + j) % len(RATIO_FORMS)], err)
        sentences.append(f"Factor {j + 1} was associated with the outcome {text}.")
        if err:
            key.append((text, err))
    err = take({"impossible percentage", "count does not give the percentage"})
    text = share(rng, "{k} of {n} ({pct}%)" if err != "impossible percentage" else "{pct}% of the {n} patients", err)
    sentences.append(f"Overall, {text} relapsed.")
    if err:
        key.append((text.split(" patients")[0], err))
    text = share(rng, "{pct}% of the {n} patients")
    sentences.append(f"Among those treated, {text} had a response.")
    err = take({"no test reproduces the P"})
    text = comparison(rng, err)
    sentences.append(f"Response differed by subtype: {text}.")
    if err:
        key.append((text, err))
    if take({"over 100 percent"}):
        text = "112.5% vs 40.0%, P = 0.020"
        sentences.append(f"The recurrence rate was higher with calcification ({text}).")
        key.append((text, "impossible percentage"))
    assert not errors, errors
    return " ".join(sentences) + "\n", key


def main():
    rng = np.random.default_rng(20261130)
    rows = []
    for i, plan in enumerate(PLANS, start=1):
        text, key = abstract(i, plan, rng)
        name = f"abstract_{i:02d}.txt"
        (HERE / name).write_text(text, encoding="utf-8")
        rows += [(name, statement, error) for statement, error in key]
    with open(HERE / "planted_errors.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "statement", "planted_error"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
