"""Rerun the pipeline on another site's data, into ``runs/<name>/``, with papermill.

:func:`run_pipeline` executes the site notebooks (cleaning onward) with
``data_dir`` and ``output_dir = runs/<name>``: executed notebooks, processed
data, results, figures and the HTML edition all land in that folder, and the
committed reference outputs are untouched. Before running it checks that
every notebook declares every parameter passed (papermill's
``inspect_notebook``) and refuses unknown ones; values are passed as Python
objects, so ids and site codes stay strings ("007" is not 7). It prints
progress, and stops at the first failing notebook with the path of the
executed notebook that shows the error and the failing cell's message.

:func:`run_sites` runs several sites listed in a YAML file and sets their
main estimates side by side with the published ones (:func:`side_by_side`).

Command line: ``python -m microcalc.run --data-dir DIR --name NAME`` or
``python -m microcalc.run --sites sites.yaml``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from .execute import run_notebook
from .paths import project_path
from .published import load_published

__all__ = ["SITE_NOTEBOOKS", "MAIN_ESTIMATES", "RunError", "check_parameters", "run_pipeline",
           "run_sites", "load_sites", "side_by_side", "main"]

#: The notebooks a site run executes: cleaning onward (01 and 02 concern the paper and its synthetic data).
SITE_NOTEBOOKS = ("03_cleaning", "04_nact_pcr", "05_necrosis_mri", "06_bone_metastasis", "07_replication_report")

#: The estimates set side by side across sites: published id -> the results row's method prefix.
MAIN_ESTIMATES = {
    "nact_pcr_calc": "proportion", "nact_pcr_nocalc": "proportion",
    "nact_or_calc_uni": "logistic regression, Wald", "nact_or_calc_multi": "logistic regression, Wald",
    "nact_necrosis_calc": "proportion", "nact_necrosis_nocalc": "proportion",
    "nact_or_necrosis_multi": "logistic regression, Wald",
    "bone_met_calc": "proportion", "bone_met_nocalc": "proportion",
    "bone_or_calc_uni": "logistic regression, Wald", "bone_or_calc_multi": "logistic regression, Wald",
    "bone_osteolytic_calc": "proportion", "bone_osteolytic_nocalc": "proportion",
    "bone_wholebody_calc": "proportion", "bone_wholebody_nocalc": "proportion",
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RunError(RuntimeError):
    """A run could not start or a notebook failed; the message says where and why."""


def _notebook_path(name: str) -> Path:
    """A notebook by name (``04_nact_pcr``) or number (``04``)."""
    folder = project_path("notebooks")
    if name.isdigit():
        found = sorted(folder.glob(f"{int(name):02d}_*.ipynb"))
    else:
        found = [folder / (name if name.endswith(".ipynb") else f"{name}.ipynb")]
    found = [p for p in found if p.is_file()]
    if not found:
        have = ", ".join(p.stem for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")))
        raise RunError(f"no notebook {name!r} in notebooks/ (have: {have})")
    return found[0]


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Refuse parameters the notebook does not declare in its ``parameters`` cell."""
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    if not declared:
        raise RunError(f"{notebook.name} has no cell tagged 'parameters': it cannot take {sorted(parameters)}")
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise RunError(f"{notebook.name} does not declare the parameter(s) {', '.join(unknown)}; "
                       f"it takes: {', '.join(sorted(declared))}")


def run_pipeline(data_dir: str | Path, name: str, notebooks: list[str] | None = None,
                 runs_root: str | Path = "runs", parameters: dict | None = None, report: bool = True,
                 log=print) -> Path:
    """Run the site notebooks (or ``notebooks``) on ``data_dir`` into ``<runs_root>/<name>/``.

    Parameters
    ----------
    data_dir : the folder holding the site's two cohort files (relative to the project root)
    name : the run's name, used as folder name (letters, digits, ``_ . -``)
    notebooks : names (``"04_nact_pcr"``) or numbers (``"04"``) to run; default :data:`SITE_NOTEBOOKS`
    parameters : further parameters for every notebook (each must declare them)
    report : build the HTML edition of the run in ``<run>/report/``

    Returns
    -------
    The run folder.

    Raises
    ------
    RunError
        For an unknown notebook or parameter, a missing data folder, or a
        failing notebook (naming the executed notebook and the error).
    """
    import papermill as pm

    if not _NAME.match(name):
        raise RunError(f"run name {name!r}: use letters, digits, '_', '.' or '-'")
    if not project_path(data_dir).is_dir():
        raise RunError(f"data folder {data_dir} does not exist")
    run_dir = project_path(runs_root) / name
    paths = [_notebook_path(n) for n in (notebooks or SITE_NOTEBOOKS)]
    params = {"data_dir": str(data_dir), "output_dir": str(run_dir), **(parameters or {})}
    for path in paths:
        check_parameters(path, params)
    (run_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(paths, start=1):
        out = run_dir / "notebooks" / path.name
        start = time.perf_counter()
        log(f"[{name} {i}/{len(paths)}] {path.stem} ...")
        try:
            run_notebook(path, out, params)
        except pm.PapermillExecutionError as err:
            raise RunError(f"{path.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}\n"
                           f"The executed notebook with the error is {out}") from None
        log(f"[{name} {i}/{len(paths)}] {path.stem} done in {time.perf_counter() - start:.1f} s")
    if report:
        from .report import build_report

        bundled = project_path(data_dir).resolve() == project_path("data/raw").resolve()
        build_report(run_dir / "notebooks", run_dir, synthetic=bundled)
        log(f"[{name}] HTML edition: {run_dir / 'report' / 'index.html'}")
    return run_dir


def side_by_side(runs: dict[str, Path], published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Main estimates of each run next to the published ones: "estimate (CI)" per site."""
    from .replicate import load_results

    published = load_published() if published is None else published
    table = pd.DataFrame({"measure": [published.loc[i, "measure"] + (f", {published.loc[i, 'group']}"
                                                                     if published.loc[i, "group"] else "")
                                      for i in MAIN_ESTIMATES]}, index=list(MAIN_ESTIMATES))
    pub_col = []
    for ident in MAIN_ESTIMATES:
        p = published.loc[ident]
        pub_col.append(p["value"] + (f" ({p['ci_low']}-{p['ci_high']})" if p["ci_low"] else ""))
    table["published"] = pub_col
    for site, run_dir in runs.items():
        res = load_results(run_dir)
        col = []
        for ident, method in MAIN_ESTIMATES.items():
            r = res[(res["id"] == ident) & res["method"].str.startswith(method)]
            if not len(r):
                col.append("not computed")
                continue
            r = r.iloc[0]
            if method == "proportion":
                col.append(f"{r['estimate']:.1f}% ({r['ci_low']:.1f}-{r['ci_high']:.1f})")
            else:
                col.append(f"{r['estimate']:.3f} ({r['ci_low']:.3f}-{r['ci_high']:.3f})")
        table[site] = col
    return table.rename_axis("id")


def load_sites(sites_file: str | Path) -> list[dict]:
    """The sites of a YAML file, every value read as text ("007" stays "007", "no" stays "no")."""
    with open(project_path(sites_file), encoding="utf-8") as fh:
        spec = yaml.load(fh, Loader=yaml.BaseLoader)
    sites = spec.get("sites") if isinstance(spec, dict) else None
    if not sites or not all(isinstance(s, dict) and {"name", "data_dir"} <= set(s) for s in sites):
        raise RunError(f"{sites_file}: expected 'sites:' followed by a list of entries with 'name' and 'data_dir'")
    return sites


def run_sites(sites_file: str | Path, runs_root: str | Path = "runs", log=print) -> pd.DataFrame:
    """Run every site of a YAML file (``sites: [{name: ..., data_dir: ...}, ...]``) and compare them.

    Writes ``<runs_root>/sites_side_by_side.csv`` and returns the table.
    """
    from .outputs import write_csv

    sites = load_sites(sites_file)
    runs = {}
    for site in sites:
        runs[site["name"]] = run_pipeline(site["data_dir"], site["name"], runs_root=runs_root, log=log)
    table = side_by_side(runs)
    write_csv(table.reset_index(), project_path(runs_root) / "sites_side_by_side.csv")
    return table


def main(argv: list[str] | None = None) -> int:
    """Command line; exit status 1 with a clear message when a run fails."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.run",
                                 description="Run the pipeline on a site's data into runs/<name>/.")
    ap.add_argument("--data-dir", help="folder holding nact_cohort and bone_cohort (relative to the project root)")
    ap.add_argument("--name", help="name of the run (folder under runs/)")
    ap.add_argument("--notebooks", nargs="*", help="notebook names or numbers to run (default: 03 to 07)")
    ap.add_argument("--sites", help="YAML file listing sites (name, data_dir) to run in one call")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="a further notebook parameter, passed as text")
    ap.add_argument("--no-report", action="store_true", help="skip the HTML edition")
    args = ap.parse_args(argv)
    try:
        if args.sites:
            table = run_sites(args.sites)
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(table.to_string())
        elif args.data_dir and args.name:
            run_pipeline(args.data_dir, args.name, args.notebooks, parameters=dict(args.parameter),
                         report=not args.no_report)
        else:
            ap.error("give --data-dir and --name, or --sites")
    except RunError as err:
        print(f"run failed: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
