"""Pooling a consortium's results bundles: the multi-site replication of the two findings.

From the bundles alone (see :mod:`microcalc.bundle`; no patient row is read),
each site's multivariable log OR of microcalcification, for non-pCR (NACT
cohort) and for bone metastasis, is pooled by random effects -- REML tau2 with
the Hartung-Knapp-Sidik-Jonkman CI (t, k - 1 df, untruncated) and metafor's
prediction interval -- beside the fixed-effect inverse-variance and
DerSimonian-Laird results; the univariable comparisons are pooled from the
sites' 2x2 counts by Mantel-Haenszel. The estimators are those of
:mod:`microcalc.meta` (tested against metafor and ``mantelhaen.test``); this
module only gathers the sites' numbers and writes the results.

Command line (how ``make pool`` and ``make sites`` call it)::

    python -m microcalc.consortium --bundles runs/site_a/bundle runs/site_b/bundle
    python -m microcalc.consortium --sites sites.yaml
    python -m microcalc.consortium --from-env pool    # $MICROCALC_BUNDLES, space-separated

It validates every bundle first (one line per refused bundle), then executes
``notebooks/08_consortium.ipynb`` into ``runs/pooled/`` with those bundles.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .bundle import BundleError, read_bundle, write_bundle
from .meta import (PooledOR, leave_one_centre_out, mantel_haenszel, pool_dersimonian_laird,
                   pool_reml_hksj)
from .paths import project_path, project_root
from .pvalues import Z_975

__all__ = ["EXPOSURE", "FINDINGS", "ConsortiumError", "load_bundles", "bundles_of_sites", "site_estimates",
           "pool_fixed_effect", "pool_sites", "mantel_haenszel_table", "leave_one_site_out",
           "plot_site_forest", "pool_finding", "sources_table", "site_table", "pooled_table", "listing",
           "write_pooled", "demo_bundles", "POOLED_DIR", "pool_bundles", "main"]

#: The exposure whose log OR is pooled.
EXPOSURE = "microcalcification"
#: cohort -> (outcome, the published multivariable OR's id, label).
FINDINGS = {"nact_cohort": ("non_pcr", "nact_or_calc_multi", "non-pCR"),
            "bone_cohort": ("bone_metastasis", "bone_or_calc_multi", "bone metastasis")}
#: Where the pooled results go.
POOLED_DIR = "runs/pooled"
#: The seed of the demonstration's second synthetic site (the bundled cohorts' seed + 1).
DEMO_SEED_OFFSET = 1


class ConsortiumError(ValueError):
    """Bundles that cannot be pooled; one line per problem."""


def _relative(folder: str | os.PathLike) -> str:
    path = Path(os.path.normpath(project_path(folder)))
    try:
        return path.relative_to(project_root()).as_posix()
    except ValueError:
        raise ConsortiumError(f"the bundle folder {path.name!r} lies outside the project: put received bundles "
                              "under runs/received/<site>/ (or a symlink there), so that no path of this machine "
                              "enters the pooled notebook") from None


def load_bundles(folders) -> list[dict]:
    """Validate and read every bundle (see :func:`microcalc.bundle.read_bundle`); all refusals at once.

    Two bundles of the same site are refused too.
    """
    out, problems = [], []
    for folder in folders:
        try:
            out.append(read_bundle(project_path(folder)))
        except BundleError as err:
            problems.append(f"bundle refused: {err}")
    seen = {}
    for b in out:
        if b["site"] in seen:
            problems.append(f"two bundles of site {b['site']!r}: pool each site once")
        seen[b["site"]] = True
    if problems:
        raise ConsortiumError("\n".join(problems))
    if len(out) < 2:
        raise ConsortiumError(f"pooling needs at least 2 sites' bundles, got {len(out)}")
    return out


def bundles_of_sites(sites_file: str | os.PathLike, runs_root: str | os.PathLike = "runs") -> list[str]:
    """The bundle folders (``<runs_root>/<name>/bundle``) of the sites of a sites YAML file."""
    from .run import load_sites

    return [(Path(runs_root) / site["name"] / "bundle").as_posix() for site in load_sites(sites_file)]


def _two_by_two(counts: pd.DataFrame, cohort: str, row: str, outcome: str) -> dict:
    cells = counts[(counts["cohort"] == cohort) & (counts["row_variable"] == row)
                   & (counts["column_variable"] == outcome)]
    get = cells.set_index(["row_level", "column_level"])["count"]
    try:
        return {"events_exposed": get["yes", "yes"], "n_exposed": get["yes", "yes"] + get["yes", "no"],
                "events_reference": get["no", "yes"], "n_reference": get["no", "yes"] + get["no", "no"]}
    except KeyError:
        return {k: np.nan for k in ("events_exposed", "n_exposed", "events_reference", "n_reference")}


def site_estimates(bundles: list[dict], cohort: str, model: str = "multivariable",
                   term: str = EXPOSURE) -> pd.DataFrame:
    """One row per site: its log OR of ``term`` (``model``), variance, OR with Wald 95% CI, and its 2x2 counts.

    The columns are those :func:`microcalc.meta.leave_one_centre_out` reads
    (``centre`` is the site). A fit that did not converge, or a term a site
    could not estimate, is kept with ``estimable`` False and the reason in ``note``.
    """
    outcome = FINDINGS[cohort][0]
    rows = []
    for b in bundles:
        t = b["terms"]
        hit = t[(t["cohort"] == cohort) & (t["model"] == model) & (t["term"] == term)]
        row = {"centre": b["site"]}
        if len(hit):
            h = hit.iloc[0]
            row.update(log_or=float(h["log_or"]), se=float(h["se"]), n=int(h["n"]), events=int(h["events"]),
                       converged=bool(h["converged"]))
        else:
            row.update(log_or=np.nan, se=np.nan, n=np.nan, events=np.nan, converged=False)
        row.update(_two_by_two(b["counts"], cohort, term, outcome))
        ok = np.isfinite(row["log_or"]) and np.isfinite(row["se"]) and row["converged"]
        row["estimable"] = bool(ok)
        if ok:
            row["note"] = ""
        elif not len(hit):
            row["note"] = f"not estimable: the bundle has no {model} term {term!r}"
        elif str(hit.iloc[0]["suppressed"]).lower() == "true":
            row["note"] = "not estimable: suppressed in the bundle (a group of fewer than 10 patients)"
        else:
            row["note"] = "not estimable: the site's model did not converge"
        rows.append(row)
    out = pd.DataFrame(rows)
    out["var"] = out["se"] ** 2
    out["or"] = np.exp(out["log_or"])
    out["ci_low"] = np.exp(out["log_or"] - Z_975 * out["se"])
    out["ci_high"] = np.exp(out["log_or"] + Z_975 * out["se"])
    return out


def pool_fixed_effect(log_or, var, level: float = 0.95) -> PooledOR:
    """Fixed-effect inverse-variance pooling (R ``metafor::rma(yi, vi, method = "FE")``), as a :class:`PooledOR`."""
    y, v = np.asarray(log_or, float), np.asarray(var, float)
    keep = np.isfinite(y) & np.isfinite(v)
    y, v = y[keep], v[keep]
    if len(y) < 1:
        raise ValueError("not estimable: no site with a finite estimate")
    w = 1 / v
    mu = float(np.sum(w * y) / np.sum(w))
    se = float(np.sqrt(1 / np.sum(w)))
    z = float(stats.norm.ppf(0.5 + level / 2))
    q = float(np.sum(w * (y - mu) ** 2))
    k = len(y)
    q_p = float(stats.chi2.sf(q, k - 1)) if k > 1 else np.nan
    i2 = max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0
    return PooledOR("fixed effect, inverse variance, Wald CI (normal)", k, mu, se, float(np.exp(mu)),
                    float(np.exp(mu - z * se)), float(np.exp(mu + z * se)),
                    float(2 * stats.norm.sf(abs(mu / se))), None, 0.0, i2, q, q_p)


def pool_sites(sites: pd.DataFrame) -> pd.DataFrame:
    """REML + HKSJ (with prediction interval), fixed-effect IV and DerSimonian-Laird of the estimable sites,
    and, as a check, the Hartung-Knapp variance truncated at the fixed-effect one (metafor ``test = "adhoc"``):
    with sites that agree more closely than their standard errors predict (Q < k - 1) the untruncated
    interval can be narrower than the fixed-effect one.

    Returns one row per method (the fields of :class:`microcalc.meta.PooledOR`);
    a method that cannot be had is a row of NaN with ``note`` "not estimable: <reason>".
    """
    est = sites[sites["estimable"]]
    rows = []
    def truncated(y, v):
        return pool_reml_hksj(y, v, truncate=True)

    for label, fn in (("REML + HKSJ", pool_reml_hksj), ("fixed effect (IV)", pool_fixed_effect),
                      ("DerSimonian-Laird", pool_dersimonian_laird),
                      ("REML + HKSJ truncated (check)", truncated)):
        try:
            r = asdict(fn(est["log_or"], est["var"]))
            r["note"] = ""
        except ValueError as err:
            r = {"method": label, "k": len(est), "note": f"not estimable: {err}"}
        r["label"] = label
        rows.append(r)
    return pd.DataFrame(rows).rename(columns={"or_": "or"})


def leave_one_site_out(sites: pd.DataFrame) -> pd.DataFrame:
    """REML + HKSJ of the multivariable log ORs and Mantel-Haenszel of the counts, each site left out in turn."""
    return leave_one_centre_out(sites[sites["estimable"]].reset_index(drop=True)).rename(
        columns={"left_out": "site_left_out"})


def mantel_haenszel_table(bundles: list[dict]) -> pd.DataFrame:
    """Mantel-Haenszel OR across sites of every yes/no comparison with the outcome that all sites' counts show.

    Each site is a stratum (R ``mantelhaen.test`` on the 2x2xK table; Robins-Breslow-Greenland CI).
    """
    rows = []
    for cohort, (outcome, _, label) in FINDINGS.items():
        first = bundles[0]["counts"]
        variables = first[(first["cohort"] == cohort) & (first["column_variable"] == outcome)
                          & first["row_level"].isin(["yes", "no"])]["row_variable"].unique()
        for var in variables:
            strata = pd.DataFrame([{"centre": b["site"], **_two_by_two(b["counts"], cohort, var, outcome)}
                                   for b in bundles])
            row = {"cohort": cohort, "outcome": outcome, "comparison": f"{var} yes vs no", "k": len(strata)}
            if strata.drop(columns="centre").isna().any().any():
                row["note"] = "not estimable: a site's counts are suppressed (small-group rule) or missing"
            else:
                try:
                    m = mantel_haenszel(strata)
                    row.update({"or": m.or_, "ci_low": m.ci_low, "ci_high": m.ci_high, "p": m.p,
                                "cmh_chi2": m.q, "note": ""})
                except ValueError as err:
                    row["note"] = f"not estimable: {err}"
            rows.append(row)
    return pd.DataFrame(rows)


def plot_site_forest(sites: pd.DataFrame, pooled: pd.DataFrame, published: float, label: str, ax=None):
    """Forest plot: each site's OR (95% CI), the REML + HKSJ diamond with its prediction interval, the
    fixed-effect and DL diamonds, and the published estimate as a dotted line. Returns the axes."""
    import matplotlib.pyplot as plt

    from .plots import OKABE_ITO

    est = sites[sites["estimable"]].reset_index(drop=True)
    pooled = pooled[pooled["or"].notna()].reset_index(drop=True)
    n_rows = len(est) + len(pooled)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.5 * n_rows + 1.8))
    y_sites = np.arange(len(est))[::-1] + len(pooled) + 1
    w = 1 / est["var"]
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    ax.axvline(published, color=OKABE_ITO[5], linewidth=1.2, linestyle=":", label=f"published OR {published:g}")
    ax.errorbar(est["or"], y_sites, xerr=[est["or"] - est["ci_low"], est["ci_high"] - est["or"]], fmt="none",
                ecolor=OKABE_ITO[0], capsize=2, linewidth=1)
    ax.scatter(est["or"], y_sites, s=30 + 170 * w / w.max(), marker="s", color=OKABE_ITO[0], zorder=3)
    labels = [f"{s} ({int(n)} patients in the model)" for s, n in zip(est["centre"], est["n"])]
    y_pooled = np.arange(len(pooled))[::-1] + 0.5
    for yy, (_, r) in zip(y_pooled, pooled.iterrows()):
        colour = OKABE_ITO[3] if r["label"].startswith("REML") else OKABE_ITO[2]
        if np.isfinite(r.get("pi_low", np.nan)):
            ax.plot([r["pi_low"], r["pi_high"]], [yy, yy], color=colour, linewidth=1, zorder=2)
        ax.fill([r["ci_low"], r["or"], r["ci_high"], r["or"]], [yy, yy + 0.25, yy, yy - 0.25], color=colour,
                zorder=3)
        labels.append(f"pooled, {r['label']}" + (" (line: 95% prediction interval)"
                                                 if np.isfinite(r.get("pi_low", np.nan)) else ""))
    ax.set_yticks(list(y_sites) + list(y_pooled), labels)
    ax.set_xscale("log")
    finite = pd.concat([est["ci_low"], est["ci_high"], pooled["ci_low"], pooled["ci_high"]])
    lo, hi = float(finite.min()), float(finite.max())
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo / 1.5 <= t <= hi * 1.5]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(f"multivariable OR of {label} with microcalcification (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    return ax


def pool_finding(bundles: list[dict], cohort: str) -> dict:
    """Everything the notebook shows for one finding (``cohort``'s multivariable OR of microcalcification).

    Returns
    -------
    dict
        ``sites`` (:func:`site_estimates`), ``pooled`` (:func:`pool_sites`), ``leave_one_out``
        (:func:`leave_one_site_out`), ``heterogeneity`` (a sentence that never concludes homogeneity
        from few sites; :func:`microcalc.meta.heterogeneity_sentence`), ``published`` (the paper's OR)
        and ``label``.
    """
    from .meta import heterogeneity_sentence
    from .published import load_published

    outcome, ident, label = FINDINGS[cohort]
    sites = site_estimates(bundles, cohort)
    est = sites[sites["estimable"]]
    try:
        sentence = heterogeneity_sentence(pool_reml_hksj(est["log_or"], est["var"]))
        sentence = sentence.replace("centres", "sites").replace("centre", "site")
    except ValueError as err:
        sentence = f"Heterogeneity not estimable: {err}."
    pooled = pool_sites(sites)
    by = pooled.set_index("label")
    if by.loc["REML + HKSJ", "ci_high"] / by.loc["REML + HKSJ", "ci_low"] < \
            by.loc["fixed effect (IV)", "ci_high"] / by.loc["fixed effect (IV)", "ci_low"]:
        sentence += (" The sites agree more closely than their standard errors predict (Q < k - 1), so the "
                     "untruncated Hartung-Knapp interval is narrower than the fixed-effect one; this is a known "
                     "property of the method with few sites, not extra precision: read the truncated interval "
                     "(the Hartung-Knapp variance never below the fixed-effect one) beside it.")
    return {"sites": sites, "pooled": pooled, "leave_one_out": leave_one_site_out(sites),
            "heterogeneity": sentence, "published": float(load_published().loc[ident, "value"]),
            "label": label, "outcome": outcome}


def write_pooled(findings: dict[str, dict], mh: pd.DataFrame, output_dir: str | os.PathLike) -> list[Path]:
    """Write ``<output_dir>/data/results/08_*.csv``: site estimates, pooled estimates, leave-one-site-out,
    Mantel-Haenszel; one row set per cohort."""
    from .outputs import write_csv

    folder = project_path(output_dir) / "data" / "results"
    tables = {}
    for key in ("sites", "pooled", "leave_one_out"):
        tables[key] = pd.concat([f[key].assign(cohort=c) for c, f in findings.items()], ignore_index=True)
    names = {"sites": "08_site_estimates.csv", "pooled": "08_pooled.csv",
             "leave_one_out": "08_leave_one_site_out.csv"}
    paths = [write_csv(tables[k].rename(columns={"centre": "site"}), folder / n) for k, n in names.items()]
    paths.append(write_csv(mh, folder / "08_mantel_haenszel.csv"))
    return paths


def sources_table(bundles: list[dict]) -> pd.DataFrame:
    """One row per bundle: site, synthetic or not, format, contract version, results sha256 (12 digits; the
    result tables only, so it does not change with the Python or package versions that wrote them), cohort sizes."""
    rows = []
    for b in bundles:
        sizes = b["cohorts"].set_index("cohort")["n"]
        rows.append({"site": b["site"], "synthetic": bool(b["run"].get("synthetic", False)),
                     "bundle format": b["meta"]["bundle_format"], "data contract": b["meta"]["contract_version"],
                     "results sha256": b["results_sha256"][:12],
                     "NACT patients": sizes.get("nact_cohort"), "bone patients": sizes.get("bone_cohort")})
    return pd.DataFrame(rows).set_index("site")


def site_table(finding: dict) -> pd.DataFrame:
    """The sites of a finding as shown: patients and events of the model, OR (95% CI), and the 2x2 counts."""
    s = finding["sites"]
    out = pd.DataFrame({
        "site": s["centre"], "model n (events)": [f"{n:.0f} ({e:.0f})" for n, e in zip(s["n"], s["events"])],
        "OR (95% CI)": [f"{o:.2f} ({lo:.2f}-{hi:.2f})" for o, lo, hi in zip(s["or"], s["ci_low"], s["ci_high"])],
        "log OR": s["log_or"].round(4), "SE": s["se"].round(4),
        "events / n with microcalcification": [f"{a:.0f} / {b:.0f}" for a, b in zip(s["events_exposed"],
                                                                                  s["n_exposed"])],
        "events / n without": [f"{a:.0f} / {b:.0f}" for a, b in zip(s["events_reference"], s["n_reference"])],
        "note": s["note"]})
    return out.set_index("site")


def pooled_table(finding: dict) -> pd.DataFrame:
    """The pooled ORs of a finding as shown, with the published OR for reference (rounded for the page)."""
    p = finding["pooled"]
    cols = {"label": "method", "k": "sites", "or": "OR", "ci_low": "CI low", "ci_high": "CI high", "p": "P",
            "df": "t df", "tau2": "tau2", "i2": "I2 (%)", "q": "Q", "q_p": "P(Q)", "pi_low": "PI low",
            "pi_high": "PI high", "note": "note"}
    out = p[[c for c in cols if c in p]].rename(columns=cols).set_index("method")
    out.loc["published (the paper)", "OR"] = finding["published"]
    return out.round(4)


def listing(paths, output_dir: str | os.PathLike) -> pd.DataFrame:
    """Files written, relative to ``output_dir`` (no folder of the machine)."""
    base = project_path(output_dir)
    return pd.DataFrame({"file": sorted(Path(p).relative_to(base).as_posix() for p in paths)})


def demo_bundles(folder: str | os.PathLike) -> list[str]:
    """Two bundles built deterministically for the demonstration: the bundled synthetic cohorts (cleaned
    as a site run cleans them), and a
    second synthetic site from the generator with another seed. Returns their folders (project-relative).

    ``folder`` is emptied first. Their ``run.json`` says ``synthetic`` and carries no time stamps.
    """
    from .clean import clean_cohorts
    from .contract import COHORTS
    from .outputs import sha256
    from .run import _versions
    from .synthesize import DEFAULT_SEED, generate_bone, generate_nact

    root = project_path(folder)
    if root.exists():
        shutil.rmtree(root)
    raw = {c: project_path("data/raw") / f"{c}.csv" for c in COHORTS}
    sites = {
        "bundled_synthetic": (clean_cohorts("data/raw", write=False),
                              {p.name: sha256(p) for p in raw.values()}),
        "second_synthetic": ({"nact_cohort": generate_nact(seed=DEFAULT_SEED + DEMO_SEED_OFFSET),
                              "bone_cohort": generate_bone(seed=DEFAULT_SEED + DEMO_SEED_OFFSET)},
                             {"generator seed": str(DEFAULT_SEED + DEMO_SEED_OFFSET)}),
    }
    out = []
    for name, (cohorts, inputs) in sites.items():
        record = {"name": name, "status": "complete", "synthetic": True, "started": None, "finished": None,
                  "inputs": inputs, "parameters": {}, "versions": _versions()}
        out.append(_relative(write_bundle(cohorts, root / name / "bundle", record)))
    return out


def pool_bundles(bundles: list[str], output_dir: str = POOLED_DIR, log=print) -> Path:
    """Validate ``bundles``, execute notebook 08 on them into ``output_dir`` and build its HTML edition
    (``<output_dir>/report/``); the folder is replaced as a whole at the end."""
    from .execute import run_notebook

    rel = [_relative(b) for b in bundles]
    loaded = load_bundles(rel)  # every refusal before anything runs
    final = project_path(output_dir)
    staging = final.with_name(f".{final.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    notebook = project_path("notebooks/08_consortium.ipynb")
    log(f"[pool] {len(rel)} bundles -> {output_dir}/")
    run_notebook(notebook, staging / notebook.name,
                 {"bundles": rel, "output_dir": _relative(staging)})
    from .report import build_report

    synthetic = all(b["run"].get("synthetic", False) for b in loaded)
    build_report(staging, staging, synthetic=synthetic, label="pooled")  # runs/pooled/report/
    old = final.with_name(f".{final.name}.old")
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old)
    log(f"[pool] complete: {output_dir}/08_consortium.ipynb, {output_dir}/data/results/, {output_dir}/figures/, "
        f"{output_dir}/report/index.html")
    return final


def main(argv: list[str] | None = None) -> int:
    """Command line: 0 on success, 1 with one line per problem."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.consortium",
                                 description="Pool sites' results bundles into runs/pooled/.")
    ap.add_argument("--bundles", nargs="*", default=[], help="bundle folders (inside the project)")
    ap.add_argument("--sites", help="a sites YAML: pool runs/<name>/bundle of each site")
    ap.add_argument("--from-env", choices=("pool", "sites"),
                    help="take the bundles from $MICROCALC_BUNDLES (space-separated) or the sites file from "
                         "$MICROCALC_SITES (make pool / make sites)")
    args = ap.parse_args(argv)
    if args.from_env == "pool":
        args.bundles = os.environ.get("MICROCALC_BUNDLES", "").split()
        if not args.bundles:
            print('usage: make pool BUNDLES="runs/site_a/bundle runs/site_b/bundle"', file=sys.stderr)
            return 2
    elif args.from_env == "sites":
        args.sites = os.environ.get("MICROCALC_SITES")
    try:
        bundles = args.bundles + (bundles_of_sites(args.sites) if args.sites else [])
        if not bundles:
            ap.error("give --bundles DIR ... or --sites FILE")
        pool_bundles(bundles)
    except ConsortiumError as err:
        print(f"pooling failed: {err}" if "\n" not in str(err) else str(err), file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - e.g. RunError from the sites file: one line, no traceback
        print(f"pooling failed: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
