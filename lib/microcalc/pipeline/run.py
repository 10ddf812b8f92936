"""Rerun the pipeline on another site's data, into ``runs/<name>/``, as one transaction.

:func:`run_pipeline` executes the site notebooks (cleaning onward) with
``data_dir`` and ``output_dir = runs/<name>``: executed notebooks, processed
data, results, figures and the HTML edition all belong to that folder, and
the committed reference outputs are untouched. A run is a transaction:

- **Staging.** Everything is written into a staging folder
  (``runs/.<name>.staging/``; see :func:`microcalc.core.paths.staged`). Only when
  every notebook and the HTML edition have succeeded is ``run.json`` written
  (last, the commit marker) and the staging folder moved into place as
  ``runs/<name>/``. Until then the previous complete ``runs/<name>/`` is not
  touched, whatever happens: a failing notebook, Ctrl-C, SIGKILL, a full disk.
- **Failures.** A failed or interrupted attempt is moved to
  ``runs/<name>.failed/`` (replacing the previous one) with its executed
  notebooks, the failing one showing the error, and a ``run.json`` whose
  ``status`` is ``"failed"`` or ``"interrupted"``. Its outputs and message
  show no patient id and no folder of the machine (see
  :func:`microcalc.pipeline.execute.redact_outputs`). What the kernels print to stderr
  goes to the run's ``kernel.log``, redacted the same way, not to the terminal.
- **One run per name.** A lock (``runs/.<name>.lock``, ``fcntl.flock``; the
  operating system releases it when the process dies, so a killed run leaves
  no stale lock) refuses a second concurrent run of the same name.
- **Outputs stay under the run.** The runner decides ``output_dir``; a
  parameter ``output_dir`` or ``data_dir`` given with ``-p`` is refused, and
  the data folder must lie inside the project (a symlink such as
  ``data/private/site_a`` may point anywhere), so that no absolute path of
  the machine enters the run's notebooks and pages.

Before running it checks that every notebook declares every parameter passed
(papermill's ``inspect_notebook``) and refuses unknown ones; values are
passed as Python objects, so ids and site codes stay strings ("007" is not 7).

:func:`run_sites` runs several sites listed in a YAML file and sets their
main estimates side by side with the published ones (:func:`side_by_side`).

Command line: ``python -m microcalc.pipeline.run --data-dir DIR --name NAME``,
``python -m microcalc.pipeline.run --sites sites.yaml``, or
``python -m microcalc.pipeline.run --check-run NAME``; with ``--from-env`` the values
come from ``$MICROCALC_DATA``, ``$MICROCALC_NAME`` and ``$MICROCALC_SITES``
(how the Makefile passes them, with no shell in between).

Parts of the machinery sit in sibling modules, whose public names this module
re-exports: :mod:`~microcalc.pipeline.run_checks` (names and parameters),
:mod:`~microcalc.pipeline.run_store` (lock and transaction),
:mod:`~microcalc.pipeline.run_privacy` (identifiers redacted),
:mod:`~microcalc.pipeline.run_env` (versions and environment variables) and
:mod:`~microcalc.pipeline.sites` (the sites file and the table of the sites side by side).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from microcalc.core.outputs import sha256
from microcalc.core.paths import project_path
from microcalc.pipeline.execute import machine_paths, redact_text, run_notebook
from microcalc.pipeline.run_checks import (
    RUNNER_PARAMETERS,
    RunError,
    RunInterrupted,
    _inside_project,
    _notebook_path,
    _shown,
    check_name,
    check_parameters,
)
from microcalc.pipeline.run_env import _args_from_env, _StagingEnvironment, _versions
from microcalc.pipeline.run_privacy import _data_files, _kernel_stderr, _patient_ids, _redact_file
from microcalc.pipeline.run_store import (
    _commit,
    _is_disk_full,
    _keep_failed,
    _recover,
    _utc_now,
    _write_json,
    check_run,
    run_lock,
)
from microcalc.pipeline.sites import load_sites, side_by_side
from microcalc.replicate import criteria_side_by_side
from microcalc.study import MAIN_ESTIMATES, SITE_NOTEBOOKS, is_bundled

__all__ = [
    "SITE_NOTEBOOKS",
    "MAIN_ESTIMATES",
    "RUNNER_PARAMETERS",
    "RunError",
    "RunInterrupted",
    "check_name",
    "check_parameters",
    "run_lock",
    "run_pipeline",
    "run_sites",
    "load_sites",
    "side_by_side",
    "check_run",
    "main",
]


def run_pipeline(
    data_dir: str | Path,
    name: str,
    notebooks: list[str] | None = None,
    runs_root: str | Path = "runs",
    parameters: dict | None = None,
    report: bool = True,
    log=print,
) -> Path:
    """Run the site notebooks (or ``notebooks``) on ``data_dir`` into ``<runs_root>/<name>/``, as a transaction.

    Parameters
    ----------
    data_dir : the folder holding the site's two cohort files, inside the project (relative to its root)
    name : the run's name, used as folder name (see :func:`check_name`)
    notebooks : names (``"04_nact_pcr"``) or numbers (``"04"``) to run; default :data:`SITE_NOTEBOOKS`
    runs_root : the folder of the runs (default ``runs/`` of the project)
    parameters : further parameters for every notebook (each must declare them; not those of
        :data:`RUNNER_PARAMETERS`)
    report : build the HTML edition of the run in ``<run>/report/``

    Returns
    -------
    The run folder, complete with ``run.json``.

    Raises
    ------
    RunError
        For a bad name, an unknown notebook or parameter, a data folder that
        does not exist or lies outside the project, a run of the same name in
        progress, a failing notebook (naming the executed notebook kept in
        ``<name>.failed/`` and the error) or a full disk.
    RunInterrupted
        On Ctrl-C (or SIGTERM, see :func:`main`); the attempt is kept in ``<name>.failed/``.
    """
    import papermill as pm

    check_name(name)
    parameters = dict(parameters or {})
    taken = sorted(set(parameters) & set(RUNNER_PARAMETERS))
    if taken:
        raise RunError(
            f"the parameter(s) {', '.join(taken)} cannot be given: the runner reads the data from "
            f"--data-dir and writes only under {_shown(project_path(runs_root) / name)}/"
        )
    data_rel = _inside_project(data_dir)
    if not project_path(data_rel).is_dir():
        raise RunError(f"data folder {data_rel} does not exist")
    root = project_path(runs_root)
    final = root / name
    paths = [_notebook_path(n) for n in (notebooks or SITE_NOTEBOOKS)]
    output_dir = _shown(final)
    params = {"data_dir": data_rel, "output_dir": output_dir, **parameters}
    for path in paths:
        check_parameters(path, params)

    with run_lock(root, name):
        _recover(root, name)
        staging = root / f".{name}.staging"
        redaction = machine_paths({str(root): "<runs>"} if output_dir.startswith("/") else None)
        record: dict[str, Any] = {
            "name": name,
            "status": "running",
            "started": _utc_now(),
            "finished": None,
            "data_dir": data_rel,
            "inputs": {p.name: sha256(p) for p in _data_files(project_path(data_rel))},
            "parameters": params,
            "versions": _versions(),
            "notebooks": [],
        }
        current = None
        try:
            (staging / "notebooks").mkdir(parents=True)
            with _StagingEnvironment(final, staging):
                for i, path in enumerate(paths, start=1):
                    current = path.name
                    out = staging / "notebooks" / path.name
                    start = time.perf_counter()
                    log(f"[{name} {i}/{len(paths)}] {path.stem} ...")
                    with _kernel_stderr(staging / "kernel.log"):
                        run_notebook(path, out, params, redact={"paths": redaction})
                    seconds = round(time.perf_counter() - start, 1)
                    record["notebooks"].append({"name": path.name, "seconds": seconds})
                    log(f"[{name} {i}/{len(paths)}] {path.stem} done in {seconds:.1f} s")
                current = None
                if report:
                    from microcalc.pipeline.report import build_report

                    current = "HTML edition"
                    build_report(staging / "notebooks", staging, synthetic=is_bundled(data_rel), label=name)
                    current = None
            _redact_file(staging / "kernel.log", redaction, _patient_ids(project_path(data_rel)))
            record.update(status="complete", finished=_utc_now())
            if (staging / "data" / "processed").is_dir():  # the results bundle a consortium pools (issue 15)
                from microcalc.pipeline.bundle import write_run_bundle

                current = "results bundle"
                write_run_bundle(staging, record)
                current = None
            _write_json(staging / "run.json", record)
            _commit(root, name, staging)
        except BaseException as err:  # noqa: BLE001 - every failure keeps the attempt and the previous run
            ids = _patient_ids(project_path(data_rel))
            interrupted = isinstance(err, KeyboardInterrupt)
            if interrupted:
                message = "interrupted"
            elif _is_disk_full(err):
                message = "the disk is full (no space left on device)"
            elif isinstance(err, pm.PapermillExecutionError):
                message = f"failed in cell {err.exec_count}: {err.ename}: {err.evalue}"
            else:
                message = f"{type(err).__name__}: {err}"
            message = redact_text(message, redaction, ids)
            record.update(
                status="interrupted" if interrupted else "failed",
                finished=_utc_now(),
                failed_notebook=current,
                message=message,
            )
            try:
                failed = _keep_failed(root, name, staging, record, ids, redaction)
            except OSError:
                failed = staging
            where = (
                f"the executed notebook with the error is {_shown(failed / 'notebooks' / current)}"
                if current and current.endswith(".ipynb") and (failed / "notebooks" / current).is_file()
                else f"what it wrote is in {_shown(failed)}/"
            )
            kept = f"; the previous complete run in {_shown(final)}/ is untouched" if final.exists() else ""
            if interrupted:
                raise RunInterrupted(f"run {name!r} interrupted; {where}{kept}") from None
            if not isinstance(err, Exception):
                raise
            if _is_disk_full(err):  # one line: what happened, and that nothing complete was touched
                raise RunError(
                    f"run {name!r}: {message}{kept}; the incomplete attempt is in {_shown(failed)}/"
                ) from None
            head = f"{current} {message}" if current else f"run {name!r}: {message}"
            raise RunError(f"{head}\nThe attempt is kept: {where}{kept}.") from None
    log(f"[{name}] complete: {_shown(final)}/ (run.json, notebooks/" + (", report/index.html)" if report else ")"))
    return final


def run_sites(
    sites_file: str | Path, runs_root: str | Path = "runs", log=print, workers: int | None = 1, scheduler=None
) -> pd.DataFrame:
    """Run every site of a YAML file (``sites: [{name: ..., data_dir: ...}, ...]``) and compare them.

    Each site is its own transactional run (:func:`run_pipeline`). Writes
    ``<runs_root>/sites_side_by_side.csv`` and returns the table. With
    ``workers`` other than 1 (None: every CPU) or a Dask ``scheduler`` the
    sites run in parallel (:func:`microcalc.pipeline.distributed.parallel_map`); every
    site then runs, and the failures are reported together.
    """
    from microcalc.core.outputs import write_csv

    sites = load_sites(sites_file)
    for site in sites:
        check_name(site["name"])
    runs = {}
    if workers == 1 and scheduler is None:
        for site in sites:
            runs[site["name"]] = run_pipeline(site["data_dir"], site["name"], runs_root=runs_root, log=log)
    else:
        from microcalc.pipeline.distributed import parallel_map, run_site

        done = parallel_map(
            run_site,
            [{"name": s["name"], "data_dir": s["data_dir"], "runs_root": str(runs_root)} for s in sites],
            workers=workers,
            scheduler=scheduler,
        )
        failed = [d for d in done if "error" in d]
        if failed:
            raise RunError("\n".join(f"site {d['name']!r}: {d['error']}" for d in failed))
        runs = {d["name"]: project_path(d["run_dir"]) for d in done}
    table = pd.concat([side_by_side(runs), criteria_side_by_side(runs)])
    write_csv(table.reset_index(), project_path(runs_root) / "sites_side_by_side.csv")
    return table


_TERMINATED: list[int] = []


def _on_sigterm(signum, frame):  # pragma: no cover - exercised through a subprocess
    _TERMINATED.append(signum)
    raise RunInterrupted("terminated")


def main(argv: list[str] | None = None) -> int:
    """Command line: 0 on success, 1 with one clear message when a run fails, 130 on Ctrl-C."""
    ap = argparse.ArgumentParser(
        prog="python -m microcalc.pipeline.run", description="Run the pipeline on a site's data into runs/<name>/."
    )
    ap.add_argument("--data-dir", help="folder holding nact_cohort and bone_cohort (relative to the project root)")
    ap.add_argument("--name", help="name of the run (folder under runs/)")
    ap.add_argument("--notebooks", nargs="*", help="notebook names or numbers to run (default: 03 to 07)")
    ap.add_argument("--sites", help="YAML file listing sites (name, data_dir) to run in one call")
    ap.add_argument("--check-run", metavar="NAME", help="execute the notebooks of the complete run NAME (nbval-lax)")
    ap.add_argument(
        "--from-env",
        choices=("run", "sites", "check-run"),
        help="take the values from $MICROCALC_DATA, $MICROCALC_NAME, $MICROCALC_SITES (make targets)",
    )
    ap.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a further notebook parameter, passed as text",
    )
    ap.add_argument("--no-report", action="store_true", help="skip the HTML edition")
    ap.add_argument("--workers", type=int, help="sites run at once on this machine (default: every CPU)")
    ap.add_argument("--scheduler", help="run the sites on a Dask cluster: its scheduler's address, tcp://host:8786")
    args = ap.parse_args(argv)
    if args.from_env:
        usage = _args_from_env(args)
        if usage:
            print(f"usage: {usage}", file=sys.stderr)
            return 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    previous_int = signal.getsignal(signal.SIGINT)
    try:
        if args.check_run:
            return check_run(args.check_run)
        if args.sites:
            table = run_sites(args.sites, workers=args.workers, scheduler=args.scheduler)
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(table.to_string())
        elif args.data_dir and args.name:
            run_pipeline(
                args.data_dir, args.name, args.notebooks, parameters=dict(args.parameter), report=not args.no_report
            )
        else:
            ap.error("give --data-dir and --name, --sites, or --check-run")
    except RunError as err:
        print(f"run failed: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # outside a run's transaction (reading the data, the lock): one line, no path
        where = f" ({Path(err.filename).name})" if err.filename else ""
        print(f"run failed: {err.strerror or type(err).__name__}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        # The run is stopping: a further Ctrl-C or SIGTERM (a repeated key press, or one reaching the process
        # again while the kernel shuts down) must not turn the clean exit into a traceback or a death by signal.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        detail = str(err) if isinstance(err, RunInterrupted) and str(err) != "terminated" else ""
        print(f"run stopped: {detail or 'interrupted'}", file=sys.stderr)
        return 143 if _TERMINATED else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    return 0


if __name__ == "__main__":  # pragma: no cover
    status = main()
    if status in (130, 143):  # stopped: the process exits now, whatever further signal arrives
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(status)
