"""Rerun the pipeline on another site's data, into ``runs/<name>/``, as one transaction.

:func:`run_pipeline` executes the site notebooks (cleaning onward) with
``data_dir`` and ``output_dir = runs/<name>``: executed notebooks, processed
data, results, figures and the HTML edition all belong to that folder, and
the committed reference outputs are untouched. A run is a transaction:

- **Staging.** Everything is written into a staging folder
  (``runs/.<name>.staging/``; see :func:`microcalc.paths.staged`). Only when
  every notebook and the HTML edition have succeeded is ``run.json`` written
  (last, the commit marker) and the staging folder moved into place as
  ``runs/<name>/``. Until then the previous complete ``runs/<name>/`` is not
  touched, whatever happens: a failing notebook, Ctrl-C, SIGKILL, a full disk.
- **Failures.** A failed or interrupted attempt is moved to
  ``runs/<name>.failed/`` (replacing the previous one) with its executed
  notebooks, the failing one showing the error, and a ``run.json`` whose
  ``status`` is ``"failed"`` or ``"interrupted"``. Its outputs and message
  show no patient id and no folder of the machine (see
  :func:`microcalc.execute.redact_outputs`). What the kernels print to stderr
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

Command line: ``python -m microcalc.run --data-dir DIR --name NAME``,
``python -m microcalc.run --sites sites.yaml``, or
``python -m microcalc.run --check-run NAME``; with ``--from-env`` the values
come from ``$MICROCALC_DATA``, ``$MICROCALC_NAME`` and ``$MICROCALC_SITES``
(how the Makefile passes them, with no shell in between).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from .execute import machine_paths, redact_outputs, redact_text, run_notebook
from .outputs import sha256
from .paths import RUN_DIR_ENV, STAGING_DIR_ENV, project_path, project_root
from .published import load_published
from .replicate import criteria_side_by_side

__all__ = ["SITE_NOTEBOOKS", "MAIN_ESTIMATES", "RUNNER_PARAMETERS", "RunError", "RunInterrupted",
           "check_name", "check_parameters", "run_lock", "run_pipeline", "run_sites", "load_sites",
           "side_by_side", "check_run", "main"]

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

#: Parameters only the runner sets: where the data are read from and where the run writes.
RUNNER_PARAMETERS = ("data_dir", "output_dir")

#: Packages whose versions ``run.json`` records.
KEY_PACKAGES = ("microcalc", "numpy", "pandas", "scipy", "statsmodels", "firthmodels", "tableone",
                "matplotlib", "openpyxl", "pyarrow", "papermill", "nbconvert")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_RESERVED_SUFFIXES = (".failed",)
#: Ids shorter than this are not redacted: they cannot be told from the counts around them.
_MIN_REDACTED_ID = 3


class RunError(RuntimeError):
    """A run could not start or a notebook failed; the message says where and why."""


class RunInterrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C or SIGTERM); the previous complete run is untouched."""


def check_name(name: str) -> str:
    """Refuse a run name that is not a plain folder name (1-64 of letters, digits, ``_ . -``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(_RESERVED_SUFFIXES):
        raise RunError(f"run name {name!r}: use 1 to 64 letters, digits, '_', '.' or '-', starting with a "
                       "letter or digit and not ending in '.failed'")
    return name


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the project root when inside it."""
    try:
        return Path(os.path.normpath(path)).relative_to(project_root()).as_posix()
    except ValueError:
        return str(path)


def _inside_project(folder: str | os.PathLike) -> str:
    """``folder`` relative to the project root (lexically), or a RunError if it lies outside."""
    path = Path(os.path.normpath(project_path(folder)))
    try:
        rel = path.relative_to(project_root())
    except ValueError:
        raise RunError(f"the data folder {Path(folder).name!r} lies outside the project; put the files (or a "
                       "symlink to their folder) under data/private/<site>/, so that no path of this "
                       "machine enters the run's notebooks and pages") from None
    return rel.as_posix() or "."


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


@contextlib.contextmanager
def run_lock(runs_root: str | os.PathLike, name: str):
    """Hold the lock of run ``name`` (``<runs_root>/.<name>.lock``) or refuse with a RunError.

    ``fcntl.flock`` on an open file: the operating system releases it when the
    holder exits or is killed, so a lock file left behind is never stale.
    """
    root = project_path(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f".{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise RunError(f"a run named {name!r} is already in progress"
                           + (f" (process {holder})" if holder.isdigit() else "")
                           + "; wait for it to finish or choose another name") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in KEY_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def _data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _is_id_header(cell) -> bool:
    return re.sub(r"[\s_-]+", "_", str(cell).strip().lstrip("\ufeff").lower()) == "patient_id"


def _ids_in_rows(rows) -> set[str]:
    """The values under a ``patient_id`` header in rows of cells (the header is the first row)."""
    rows = iter(rows)
    header = next(rows, None) or []
    columns = [i for i, cell in enumerate(header) if _is_id_header(cell)]
    return {str(row[i]).strip() for row in rows for i in columns if i < len(row) and row[i] is not None}


def _patient_ids(folder: Path) -> frozenset[str]:
    """The ``patient_id`` values of the data files, as best they can be read (for redaction only).

    Independent of the cleaning step, so that whatever made a run fail, its
    ids can still be found: every workbook sheet, and text files decoded as
    UTF-8, UTF-16 or Latin-1 and split on the most frequent of comma,
    semicolon and tab in their first line.
    """
    import csv
    import io

    ids: set[str] = set()
    for path in _data_files(folder):
        try:
            if path.suffix.lower() in (".xlsx", ".xlsm"):
                import openpyxl

                book = openpyxl.load_workbook(path, read_only=True, data_only=True)
                for sheet in book.worksheets:
                    ids |= _ids_in_rows(sheet.iter_rows(values_only=True))
                book.close()
                continue
            data = path.read_bytes()
            if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                text = data.decode("utf-16")
            else:
                try:
                    text = data.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
            first = text.split("\n", 1)[0]
            delimiter = max(",;\t", key=first.count)
            limit = csv.field_size_limit(sys.maxsize)  # oversized cells are read too, then the limit restored
            try:
                ids |= _ids_in_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
            finally:
                csv.field_size_limit(limit)
        except Exception:  # noqa: BLE001 - a file that cannot be read shows no id either
            continue
    return frozenset(i for i in ids if len(i) >= _MIN_REDACTED_ID)


def _write_json(path: Path, content: dict) -> None:
    """Write JSON next to ``path`` and rename it into place, after syncing it to disk."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(content, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _recover(root: Path, name: str) -> None:
    """Finish or undo what a killed run left (under the lock): a half-done swap, a staging folder."""
    final, old = root / name, root / f".{name}.old"
    if old.exists():
        if final.exists():
            _remove(old)           # the swap had finished: drop the previous run
        else:
            os.replace(old, final)  # killed between the two renames: put the previous run back
    _remove(root / f".{name}.staging")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where not supported."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _commit(root: Path, name: str, staging: Path) -> Path:
    """Move ``staging`` into place as ``<root>/<name>``; the previous run is removed only afterwards.

    Where the system can swap two folders in one step, the previous run and
    the new one are exchanged atomically; elsewhere the previous run is
    renamed aside first (a kill between the two renames is undone by
    :func:`_recover`). Ctrl-C and SIGTERM wait until the swap and the removal of
    the previous run are done.
    """
    final, old = root / name, root / f".{name}.old"
    blocked = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        if final.exists() and _exchange(staging, final):
            os.replace(staging, old)  # the previous run, now under the staging name
        else:
            if final.exists():
                os.replace(final, old)
            os.replace(staging, final)
        _remove(old)
        _remove(root / f"{name}.failed")
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
    return final


def _is_disk_full(err: BaseException) -> bool:
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return True
    return "[Errno 28]" in str(getattr(err, "evalue", "")) or "No space left on device" in str(
        getattr(err, "evalue", ""))


def _keep_failed(root: Path, name: str, staging: Path, record: dict, ids: frozenset[str],
                 paths: dict[str, str]) -> Path:
    """Redact the failed attempt's notebooks, write its run.json, move it to ``<name>.failed``."""
    for nb_path in sorted((staging / "notebooks").glob("*.ipynb")):
        import nbformat

        try:
            nb = nbformat.read(nb_path, as_version=4)
            nbformat.write(redact_outputs(nb, paths, ids), nb_path)
        except Exception:  # noqa: BLE001 - a notebook cut short (disk full) is not kept
            nb_path.unlink(missing_ok=True)
            record.setdefault("removed", []).append(f"{nb_path.name} (incomplete)")
    _redact_file(staging / "kernel.log", paths, ids)
    with contextlib.suppress(OSError):
        _write_json(staging / "run.json", record)
    failed = root / f"{name}.failed"
    _remove(failed)
    os.replace(staging, failed)
    return failed


@contextlib.contextmanager
def _kernel_stderr(log_file: Path):
    """Send what the kernels print to stderr (started meanwhile) to ``log_file``, not the user's terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


def _redact_file(path: Path, paths: dict[str, str], ids: frozenset[str]) -> None:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        path.write_text(redact_text(path.read_text(encoding="utf-8"), paths, ids), encoding="utf-8")


class _StagingEnvironment(contextlib.AbstractContextManager):
    """Set ``$MICROCALC_RUN_DIR`` and ``$MICROCALC_STAGING_DIR`` (inherited by the kernels) for a while."""

    def __init__(self, final: Path, staging: Path):
        self.values = {RUN_DIR_ENV: str(final), STAGING_DIR_ENV: str(staging)}
        self.saved = {}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return False


def run_pipeline(data_dir: str | Path, name: str, notebooks: list[str] | None = None,
                 runs_root: str | Path = "runs", parameters: dict | None = None, report: bool = True,
                 log=print) -> Path:
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
        raise RunError(f"the parameter(s) {', '.join(taken)} cannot be given: the runner reads the data from "
                       f"--data-dir and writes only under {_shown(project_path(runs_root) / name)}/")
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
        record = {"name": name, "status": "running", "started": _utc_now(), "finished": None,
                  "data_dir": data_rel,
                  "inputs": {p.name: sha256(p) for p in _data_files(project_path(data_rel))},
                  "parameters": params, "versions": _versions(), "notebooks": []}
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
                    from .report import build_report

                    current = "HTML edition"
                    bundled = project_path(data_rel).resolve() == project_path("data/raw").resolve()
                    build_report(staging / "notebooks", staging, synthetic=bundled, label=name)
                    current = None
            _redact_file(staging / "kernel.log", redaction, _patient_ids(project_path(data_rel)))
            record.update(status="complete", finished=_utc_now())
            if (staging / "data" / "processed").is_dir():  # the results bundle a consortium pools (issue 15)
                from .bundle import write_run_bundle

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
            record.update(status="interrupted" if interrupted else "failed", finished=_utc_now(),
                          failed_notebook=current, message=message)
            try:
                failed = _keep_failed(root, name, staging, record, ids, redaction)
            except OSError:
                failed = staging
            where = (f"the executed notebook with the error is {_shown(failed / 'notebooks' / current)}"
                     if current and current.endswith(".ipynb") and (failed / "notebooks" / current).is_file()
                     else f"what it wrote is in {_shown(failed)}/")
            kept = f"; the previous complete run in {_shown(final)}/ is untouched" if final.exists() else ""
            if interrupted:
                raise RunInterrupted(f"run {name!r} interrupted; {where}{kept}") from None
            if not isinstance(err, Exception):
                raise
            if _is_disk_full(err):  # one line: what happened, and that nothing complete was touched
                raise RunError(f"run {name!r}: {message}{kept}; the incomplete attempt is in "
                               f"{_shown(failed)}/") from None
            head = f"{current} {message}" if current else f"run {name!r}: {message}"
            raise RunError(f"{head}\nThe attempt is kept: {where}{kept}.") from None
    log(f"[{name}] complete: {_shown(final)}/ (run.json, notebooks/"
        + (", report/index.html)" if report else ")"))
    return final


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


class _SitesLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with every plain scalar read as text and duplicate keys refused."""

    yaml_implicit_resolvers = {}  # no implicit types: 007, no, 1e3 and 2024-01-01 stay text

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = {}
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _line(node_or_mark) -> int:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1


def load_sites(sites_file: str | Path) -> list[dict]:
    """The sites of a YAML file, every value read as text ("007" stays "007", "no" stays "no").

    Read with PyYAML's safe loader (no Python objects are built). Malformed
    YAML, a duplicate key, a value that is not text (a list, a mapping, an
    explicit tag such as ``!!int``), an entry without ``name`` or ``data_dir``,
    and two sites of the same name are each refused with the file's line.
    """
    shown = Path(sites_file).name
    try:
        text = project_path(sites_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"{shown}: cannot read the sites file ({type(err).__name__})") from None
    loader = _SitesLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise RunError(f"{shown}: the file is empty; expected 'sites:' followed by a list of entries "
                           "with 'name' and 'data_dir'")
        spec = loader.construct_document(root)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        what = " ".join(x for x in (err.context, err.problem) if x)
        raise RunError(f"{shown}{where}: not valid YAML here ({what})") from None
    except yaml.YAMLError as err:
        raise RunError(f"{shown}: not valid YAML ({type(err).__name__})") from None
    finally:
        loader.dispose()
    usage = "expected 'sites:' followed by a list of entries with 'name' and 'data_dir'"
    if not isinstance(spec, dict) or not isinstance(spec.get("sites"), list) or not spec["sites"]:
        raise RunError(f"{shown}, line {_line(root)}: {usage}")
    sites_node = next(v for k, v in root.value if k.value == "sites")
    problems, names = [], {}
    for entry, node in zip(spec["sites"], sites_node.value):
        line = _line(node)
        if not isinstance(entry, dict):
            problems.append(f"{shown}, line {line}: each site is an entry with 'name' and 'data_dir'")
            continue
        for (key_node, value_node), (key, value) in zip(node.value, entry.items()):
            if not isinstance(key, str) or not isinstance(value, str):
                problems.append(f"{shown}, line {_line(value_node)}: the value of {str(key_node.value)!r} "
                                "must be text (a name or a folder), not a list, mapping or typed value")
        missing = [k for k in ("name", "data_dir") if k not in entry]
        if missing:
            problems.append(f"{shown}, line {line}: the site has no {' or '.join(missing)}")
        name = entry.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append(f"{shown}, line {line}: the site name {name!r} is used twice "
                                f"(first on line {names[name]})")
            else:
                names[name] = line
    if problems:
        raise RunError("\n".join(problems))
    return spec["sites"]


def run_sites(sites_file: str | Path, runs_root: str | Path = "runs", log=print, workers: int | None = 1,
              scheduler=None) -> pd.DataFrame:
    """Run every site of a YAML file (``sites: [{name: ..., data_dir: ...}, ...]``) and compare them.

    Each site is its own transactional run (:func:`run_pipeline`). Writes
    ``<runs_root>/sites_side_by_side.csv`` and returns the table. With
    ``workers`` other than 1 (None: every CPU) or a Dask ``scheduler`` the
    sites run in parallel (:func:`microcalc.distributed.parallel_map`); every
    site then runs, and the failures are reported together.
    """
    from .outputs import write_csv

    sites = load_sites(sites_file)
    for site in sites:
        check_name(site["name"])
    runs = {}
    if workers == 1 and scheduler is None:
        for site in sites:
            runs[site["name"]] = run_pipeline(site["data_dir"], site["name"], runs_root=runs_root, log=log)
    else:
        from .distributed import parallel_map, run_site

        done = parallel_map(run_site, [{"name": s["name"], "data_dir": s["data_dir"], "runs_root": str(runs_root)}
                                       for s in sites], workers=workers, scheduler=scheduler)
        failed = [d for d in done if "error" in d]
        if failed:
            raise RunError("\n".join(f"site {d['name']!r}: {d['error']}" for d in failed))
        runs = {d["name"]: project_path(d["run_dir"]) for d in done}
    table = pd.concat([side_by_side(runs), criteria_side_by_side(runs)])
    write_csv(table.reset_index(), project_path(runs_root) / "sites_side_by_side.csv")
    return table


def check_run(name: str, runs_root: str | Path = "runs") -> int:
    """Execute a complete run's notebooks with ``pytest --nbval-lax`` (outputs not compared); the exit status."""
    check_name(name)
    folder = project_path(runs_root) / name
    if not (folder / "run.json").is_file():
        raise RunError(f"no complete run named {name!r} in {_shown(project_path(runs_root))}/")
    with run_lock(project_path(runs_root), name):
        return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                                "--nbval-current-env", str(folder / "notebooks")], cwd=project_root())


_TERMINATED = []


def _on_sigterm(signum, frame):  # pragma: no cover - exercised through a subprocess
    _TERMINATED.append(signum)
    raise RunInterrupted("terminated")


def main(argv: list[str] | None = None) -> int:
    """Command line: 0 on success, 1 with one clear message when a run fails, 130 on Ctrl-C."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.run",
                                 description="Run the pipeline on a site's data into runs/<name>/.")
    ap.add_argument("--data-dir", help="folder holding nact_cohort and bone_cohort (relative to the project root)")
    ap.add_argument("--name", help="name of the run (folder under runs/)")
    ap.add_argument("--notebooks", nargs="*", help="notebook names or numbers to run (default: 03 to 07)")
    ap.add_argument("--sites", help="YAML file listing sites (name, data_dir) to run in one call")
    ap.add_argument("--check-run", metavar="NAME", help="execute the notebooks of the complete run NAME (nbval-lax)")
    ap.add_argument("--from-env", choices=("run", "sites", "check-run"),
                    help="take the values from $MICROCALC_DATA, $MICROCALC_NAME, $MICROCALC_SITES (make targets)")
    ap.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="a further notebook parameter, passed as text")
    ap.add_argument("--no-report", action="store_true", help="skip the HTML edition")
    ap.add_argument("--workers", type=int, help="sites run at once on this machine (default: every CPU)")
    ap.add_argument("--scheduler", help="run the sites on a Dask cluster: its scheduler's address, tcp://host:8786")
    args = ap.parse_args(argv)
    if args.from_env:
        env = os.environ
        usage = {"run": "make run DATA=<folder> NAME=<run name>", "sites": "make sites SITES=<sites.yaml>",
                 "check-run": "make check-run NAME=<run name>"}[args.from_env]
        needed = {"run": ("MICROCALC_DATA", "MICROCALC_NAME"), "sites": ("MICROCALC_SITES",),
                  "check-run": ("MICROCALC_NAME",)}[args.from_env]
        if not all(env.get(k) for k in needed):
            print(f"usage: {usage}", file=sys.stderr)
            return 2
        args.data_dir, args.name = env.get("MICROCALC_DATA"), env.get("MICROCALC_NAME")
        args.sites = env.get("MICROCALC_SITES") if args.from_env == "sites" else None
        args.check_run = args.name if args.from_env == "check-run" else None
        args.workers = int(env["MICROCALC_WORKERS"]) if env.get("MICROCALC_WORKERS", "").isdigit() else None
        args.scheduler = env.get("MICROCALC_SCHEDULER") or None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if args.check_run:
            return check_run(args.check_run)
        if args.sites:
            table = run_sites(args.sites, workers=args.workers, scheduler=args.scheduler)
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print(table.to_string())
        elif args.data_dir and args.name:
            run_pipeline(args.data_dir, args.name, args.notebooks, parameters=dict(args.parameter),
                         report=not args.no_report)
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
        detail = str(err) if isinstance(err, RunInterrupted) and str(err) != "terminated" else ""
        print(f"run stopped: {detail or 'interrupted'}", file=sys.stderr)
        return 143 if _TERMINATED else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
