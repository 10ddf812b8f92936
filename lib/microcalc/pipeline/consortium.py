"""Pooling a consortium's results bundles: the multi-site replication of the two findings.

From the bundles alone (see :mod:`microcalc.pipeline.bundle`; no patient row is read),
each site's multivariable log OR of microcalcification, for non-pCR (NACT
cohort) and for bone metastasis, is pooled by random effects -- REML tau2 with
the Hartung-Knapp-Sidik-Jonkman CI (t, k - 1 df, untruncated) and metafor's
prediction interval -- beside the fixed-effect inverse-variance and
DerSimonian-Laird results; the univariable comparisons are pooled from the
sites' 2x2 counts by Mantel-Haenszel. The estimators are those of
:mod:`microcalc.analysis.meta` (tested against metafor and ``mantelhaen.test``); this
module only gathers the sites' numbers and writes the results.

Command line (how ``make pool`` and ``make sites`` call it)::

    python -m microcalc.pipeline.consortium --bundles runs/site_a/bundle runs/site_b/bundle
    python -m microcalc.pipeline.consortium --sites sites.yaml
    python -m microcalc.pipeline.consortium --from-env pool    # $MICROCALC_BUNDLES, space-separated

It validates every bundle first (one line per refused bundle), then executes
``notebooks/08_consortium.ipynb`` into ``runs/pooled/`` with those bundles.

The pooling itself is in :mod:`~microcalc.pipeline.consortium_pool`, and the page's tables in
:mod:`~microcalc.pipeline.consortium_display`; this module re-exports their public names.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from microcalc.core.paths import project_path, project_root
from microcalc.pipeline.bundle import Bundle, BundleError, read_bundle, write_bundle
from microcalc.pipeline.consortium_display import (
    POOLED_CAPTION,
    leave_one_out_note,
    leave_one_out_table,
    mantel_haenszel_display,
    pooled_table,
    site_table,
    sources_table,
)
from microcalc.pipeline.consortium_pool import (
    EXPOSURE,
    FINDINGS,
    ConsortiumError,
    PooledFinding,
    leave_one_site_out,
    mantel_haenszel_table,
    pool_finding,
    pool_fixed_effect,
    pool_sites,
    site_estimates,
)

__all__ = [
    "EXPOSURE",
    "FINDINGS",
    "ConsortiumError",
    "load_bundles",
    "bundles_of_sites",
    "site_estimates",
    "pool_fixed_effect",
    "pool_sites",
    "mantel_haenszel_table",
    "leave_one_site_out",
    "FOREST_METHODS",
    "plot_site_forest",
    "PooledFinding",
    "pool_finding",
    "sources_table",
    "site_table",
    "pooled_table",
    "POOLED_CAPTION",
    "leave_one_out_note",
    "leave_one_out_table",
    "mantel_haenszel_display",
    "write_pooled",
    "demo_bundles",
    "POOLED_DIR",
    "pool_bundles",
    "main",
]

#: Where the pooled results go.
POOLED_DIR = "runs/pooled"
#: The seed of the demonstration's second synthetic site (the bundled cohorts' seed + 1).
DEMO_SEED_OFFSET = 1


def _relative(folder: str | os.PathLike) -> str:
    path = Path(os.path.normpath(project_path(folder)))
    try:
        return path.relative_to(project_root()).as_posix()
    except ValueError:
        raise ConsortiumError(
            f"the bundle folder {path.name!r} lies outside the project: put received bundles "
            "under runs/received/<site>/ (or a symlink there), so that no path of this machine "
            "enters the pooled notebook"
        ) from None


def load_bundles(folders) -> list[Bundle]:
    """Validate and read every bundle (see :func:`microcalc.pipeline.bundle.read_bundle`); all refusals at once.

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
        if b.site in seen:
            problems.append(f"two bundles of site {b.site!r}: pool each site once")
        seen[b.site] = True
    if problems:
        raise ConsortiumError("\n".join(problems))
    if len(out) < 2:
        raise ConsortiumError(f"pooling needs at least 2 sites' bundles, got {len(out)}")
    return out


def bundles_of_sites(sites_file: str | os.PathLike, runs_root: str | os.PathLike = "runs") -> list[str]:
    """The bundle folders (``<runs_root>/<name>/bundle``) of the sites of a sites YAML file."""
    from microcalc.pipeline.run import load_sites

    return [(Path(runs_root) / site["name"] / "bundle").as_posix() for site in load_sites(sites_file)]


#: The pooled ORs' methods (labels of the pooled CSV) as a forest plot's rows name them; the figure's caption
#: on the page says what each means.
FOREST_METHODS: dict[str, str] = {
    "REML + HKSJ": "Pooled: random effects, Hartung–Knapp CI",
    "fixed effect (IV)": "Pooled: fixed effect",
    "DerSimonian-Laird": "Pooled: random effects, DerSimonian–Laird",
    "REML + HKSJ truncated (check)": "Pooled: random effects, Hartung–Knapp CI truncated (check)",
}


def plot_site_forest(finding: PooledFinding, ax=None, synthetic: bool = False):
    """Forest plot of one finding: each site's multivariable OR (95% CI, square sized by its weight), the
    pooled ORs by each method (diamonds; the thin line through the REML diamonds is the 95% prediction
    interval of a new site's OR) and the paper's OR (open diamond, and a dotted line across the plot).

    Every row prints its OR (95% CI) at the right, and the two sides of the line at 1 are labelled with the
    finding's outcome, as in :func:`microcalc.analysis.forest.forest_plot`. A pooled OR that is not
    estimable prints "not estimable". Returns the axes.
    """
    import matplotlib.pyplot as plt

    from microcalc.abstract.published import load_published
    from microcalc.analysis import display
    from microcalc.analysis.figure_style import MICROCALCIFICATION, NEUTRAL, OKABE_ITO, mark_synthetic
    from microcalc.analysis.forest import label_direction, log_ticks, or_ci_text, or_column
    from microcalc.labels import ALL

    est = finding.sites[finding.sites["estimable"]].reset_index(drop=True)
    pooled = finding.pooled.reset_index(drop=True)
    cohort = next(c for c, (outcome, _, _) in FINDINGS.items() if outcome == finding.outcome)
    paper = load_published().loc[FINDINGS[cohort][1]]
    published = (float(paper["value"]), float(paper["ci_low"]), float(paper["ci_high"]))
    n_rows = len(est) + len(pooled) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 0.5 * n_rows + 1.9))
    y_sites = np.arange(len(est))[::-1] + len(pooled) + 1.5
    y_pooled = np.arange(len(pooled))[::-1] + 1.0
    y_paper = 0.0
    ax.axvline(1, color="#888888", linewidth=0.8, linestyle="--")
    ax.axvline(published[0], color=OKABE_ITO[5], linewidth=1.2, linestyle=":")
    w = 1 / est["var"]
    ax.errorbar(
        est["or"],
        y_sites,
        xerr=[est["or"] - est["ci_low"], est["ci_high"] - est["or"]],
        fmt="none",
        ecolor=MICROCALCIFICATION,
        capsize=2,
        linewidth=1,
    )
    ax.scatter(est["or"], y_sites, s=30 + 170 * w / w.max(), marker="s", color=MICROCALCIFICATION, zorder=3)
    names = [display.relabel(s, ALL) for s in est["centre"]]  # the demonstration's sites named in words
    labels = [f"{s} ({int(n)} patients)" for s, n in zip(names, est["n"], strict=True)]
    texts = [or_ci_text(*r) for r in est[["or", "ci_low", "ci_high"]].to_numpy(dtype=float)]
    for yy, (_, r) in zip(y_pooled, pooled.iterrows(), strict=True):
        colour = OKABE_ITO[3] if str(r["label"]).startswith("REML") else OKABE_ITO[2]
        if np.isfinite(r.get("pi_low", np.nan)):
            ax.plot([r["pi_low"], r["pi_high"]], [yy, yy], color=colour, linewidth=1, zorder=2)
        if np.isfinite([r["or"], r["ci_low"], r["ci_high"]]).all():
            ax.fill(
                [r["ci_low"], r["or"], r["ci_high"], r["or"]], [yy, yy + 0.25, yy, yy - 0.25], color=colour, zorder=3
            )
        labels.append(FOREST_METHODS.get(r["label"], str(r["label"])))
        texts.append(or_ci_text(r["or"], r["ci_low"], r["ci_high"]))
    ax.errorbar(
        [published[0]],
        [y_paper],
        xerr=[[published[0] - published[1]], [published[2] - published[0]]],
        fmt="D",
        color=NEUTRAL,
        markerfacecolor="white",
        capsize=2,
        linewidth=1,
        zorder=3,
    )
    labels.append("Published (the paper, one cohort; dotted line)")
    texts.append(or_ci_text(*published))
    y = [*y_sites, *y_pooled, y_paper]
    ax.set_yticks(y, labels)
    or_column(ax, y, texts)
    ax.set_ylim(-0.7, n_rows + 0.1)
    ax.set_xscale("log")
    finite = pd.concat(
        [est["ci_low"], est["ci_high"], pooled["ci_low"], pooled["ci_high"], pd.Series(published[1:])]
    ).to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    log_ticks(ax, float(finite.min()), float(finite.max()), (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100))
    ax.set_xlabel(f"multivariable odds ratio of {finding.label} with microcalcification (95% CI, log scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    label_direction(ax, finding.label)
    mark_synthetic(ax, synthetic)
    return ax


def write_pooled(findings: dict[str, PooledFinding], mh: pd.DataFrame, output_dir: str | os.PathLike) -> list[Path]:
    """Write ``<output_dir>/data/results/08_*.csv``: site estimates, pooled estimates, leave-one-site-out,
    Mantel-Haenszel; one row set per cohort."""
    from microcalc.core.outputs import write_csv

    folder = project_path(output_dir) / "data" / "results"
    tables = {}
    for key in ("sites", "pooled", "leave_one_out"):
        tables[key] = pd.concat([getattr(f, key).assign(cohort=c) for c, f in findings.items()], ignore_index=True)
    names = {"sites": "08_site_estimates.csv", "pooled": "08_pooled.csv", "leave_one_out": "08_leave_one_site_out.csv"}
    paths = [write_csv(tables[k].rename(columns={"centre": "site"}), folder / n) for k, n in names.items()]
    paths.append(write_csv(mh, folder / "08_mantel_haenszel.csv"))
    return paths


def demo_bundles(folder: str | os.PathLike) -> list[str]:
    """Two bundles built deterministically for the demonstration: the bundled synthetic cohorts (cleaned
    as a site run cleans them), and a
    second synthetic site from the generator with another seed. Returns their folders (project-relative).

    ``folder`` is emptied first. Their ``run.json`` says ``synthetic`` and carries no time stamps.
    """
    from microcalc.cohorts.clean import clean_cohorts
    from microcalc.cohorts.contract import COHORTS
    from microcalc.cohorts.synthesize import DEFAULT_SEED, generate_bone, generate_nact
    from microcalc.core.outputs import sha256
    from microcalc.pipeline.run import _versions

    root = project_path(folder)
    if root.exists():
        shutil.rmtree(root)
    raw = {c: project_path("data/raw") / f"{c}.csv" for c in COHORTS}
    sites = {
        "bundled_synthetic": (clean_cohorts("data/raw", write=False), {p.name: sha256(p) for p in raw.values()}),
        "second_synthetic": (
            {
                "nact_cohort": generate_nact(seed=DEFAULT_SEED + DEMO_SEED_OFFSET),
                "bone_cohort": generate_bone(seed=DEFAULT_SEED + DEMO_SEED_OFFSET),
            },
            {"generator seed": str(DEFAULT_SEED + DEMO_SEED_OFFSET)},
        ),
    }
    out = []
    for name, (cohorts, inputs) in sites.items():
        record = {
            "name": name,
            "status": "complete",
            "synthetic": True,
            "started": None,
            "finished": None,
            "inputs": inputs,
            "parameters": {},
            "versions": _versions(),
        }
        out.append(_relative(write_bundle(cohorts, root / name / "bundle", record)))
    return out


def pool_bundles(bundles: list[str], output_dir: str = POOLED_DIR, log=print) -> Path:
    """Validate ``bundles``, execute notebook 08 on them into ``output_dir`` and build its HTML edition
    (``<output_dir>/report/``); the folder is replaced as a whole at the end."""
    from microcalc.pipeline.execute import run_notebook

    rel = [_relative(b) for b in bundles]
    loaded = load_bundles(rel)  # every refusal before anything runs
    final = project_path(output_dir)
    staging = final.with_name(f".{final.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    notebook = project_path("notebooks/08_consortium.ipynb")
    log(f"[pool] {len(rel)} bundles -> {output_dir}/")
    run_notebook(notebook, staging / notebook.name, {"bundles": rel, "output_dir": _relative(staging)})
    from microcalc.pipeline.report import build_report

    synthetic = all(b.run.get("synthetic", False) for b in loaded)
    build_report(staging, staging, synthetic=synthetic, label="pooled")  # runs/pooled/report/
    old = final.with_name(f".{final.name}.old")
    if final.exists():
        os.replace(final, old)
    os.replace(staging, final)
    if old.exists():
        shutil.rmtree(old)
    log(
        f"[pool] complete: {output_dir}/08_consortium.ipynb, {output_dir}/data/results/, {output_dir}/figures/, "
        f"{output_dir}/report/index.html"
    )
    return final


def main(argv: list[str] | None = None) -> int:
    """Command line: 0 on success, 1 with one line per problem."""
    ap = argparse.ArgumentParser(
        prog="python -m microcalc.pipeline.consortium", description="Pool sites' results bundles into runs/pooled/."
    )
    ap.add_argument("--bundles", nargs="*", default=[], help="bundle folders (inside the project)")
    ap.add_argument("--sites", help="a sites YAML: pool runs/<name>/bundle of each site")
    ap.add_argument(
        "--from-env",
        choices=("pool", "sites"),
        help="take the bundles from $MICROCALC_BUNDLES (space-separated) or the sites file from "
        "$MICROCALC_SITES (make pool / make sites)",
    )
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
        print(f"pooling failed: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
