"""Run notebooks with papermill and leave them byte-stable.

papermill records start and end times and durations in the notebook's
metadata; committing those would make every ``make all`` change the
reference notebooks. :func:`run_notebook` executes a notebook in place (or
to another path) with the kernel started in ``notebooks/`` and then removes
that volatile metadata, so that rerunning leaves ``git status`` clean.

``python -m microcalc.pipeline.execute --parallel NOTEBOOK...`` (``make notebooks``) runs
the notebooks side by side, each in its own process with its own kernel: a
notebook starts its kernel and runs its parameters and imports cells one
step ahead of its turn, then waits until the notebooks it reads from have finished
(:data:`DEPENDS`: 02 reads 01's tables, 03, 08 and 09 read 02's files, 04, 05
and 06 read 03's, 07 reads 04-06's), so kernel starts and imports overlap with
the work of earlier notebooks (:func:`run_parallel`). A notebook whose input
failed is not run and its file is left as it was.

A site run also passes ``redact``: each text in the executed notebook's
outputs (warnings, tracebacks, displayed values) has the machine's folders
replaced by placeholders (``<project>``, ``<python>``, ``~``) and the given
identifiers by ``<id>`` (:func:`redact_outputs`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from microcalc.core.paths import project_path

if TYPE_CHECKING:  # nbformat is imported where it is used: importing it costs about 1.4 s of CPU
    import nbformat  # (jsonschema's format checkers compile grammars), which a notebook calling
    # machine_paths or redact_text, or the library's run and bundle modules, need not pay

__all__ = [
    "DEPENDS",
    "dependencies",
    "run_parallel",
    "run_notebook",
    "strip_volatile_metadata",
    "machine_paths",
    "redact_text",
    "redact_outputs",
    "main",
]

_VOLATILE_NOTEBOOK_KEYS = ("papermill",)
_VOLATILE_CELL_KEYS = ("papermill", "execution", "collapsed", "scrolled")


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove timings, paths and interpreter patch versions from a notebook's metadata (in place)."""
    for key in _VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    lang = nb.metadata.get("language_info")
    if lang is not None:
        lang.pop("version", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
    return nb


def machine_paths(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The machine's folders that may appear in outputs, each with the placeholder that replaces it.

    The project root, the Python environment, the Python installation and the
    home folder (plus ``extra``), longest first so that the most specific wins.
    """
    found = {
        str(project_path(".")): "<project>",
        sys.prefix: "<python env>",
        sys.base_prefix: "<python>",
        os.path.expanduser("~"): "~",
        **(extra or {}),
    }
    found = {os.path.normpath(k): v for k, v in found.items() if k and os.path.isabs(k) and k != os.sep}
    return dict(sorted(found.items(), key=lambda kv: -len(kv[0])))


def redact_text(text: str, paths: dict[str, str], ids: frozenset[str] | set[str] = frozenset()) -> str:
    """``text`` with each folder of ``paths`` replaced by its placeholder and each id in ``ids`` by ``<id>``.

    An id is replaced where it stands as a whole token (not inside a longer
    word or number), so a short id does not mangle the numbers around it.
    """
    for folder, placeholder in paths.items():
        text = text.replace(folder, placeholder)
    if ids and text:
        for ident in sorted((i for i in ids if i and i in text), key=len, reverse=True):
            text = re.sub(r"(?<![\w-])" + re.escape(ident) + r"(?![\w-])", "<id>", text)
    return text


def _redact(value, paths, ids):
    if isinstance(value, str):
        return redact_text(value, paths, ids)
    if isinstance(value, list):
        return [_redact(v, paths, ids) for v in value]
    if isinstance(value, dict):
        return {k: (v if str(k).startswith("image/") else _redact(v, paths, ids)) for k, v in value.items()}
    return value


def redact_outputs(
    nb: nbformat.NotebookNode, paths: dict[str, str] | None = None, ids: frozenset[str] | set[str] = frozenset()
) -> nbformat.NotebookNode:
    """Redact folders of the machine (:func:`machine_paths`) and ``ids`` in every cell output (in place).

    Cell sources are left as they are, so the notebook still runs; images are
    not touched.
    """
    import nbformat

    paths = machine_paths() if paths is None else paths
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [nbformat.from_dict(_redact(dict(o), paths, ids)) for o in cell.outputs]
    return nb


def run_notebook(
    path: str | Path,
    output: str | Path | None = None,
    parameters: dict | None = None,
    cwd: str | Path | None = None,
    redact: dict | None = None,
    gate: Callable[[], None] | None = None,
) -> Path:
    """Execute a notebook with papermill and strip volatile metadata.

    The kernel runs with one BLAS thread (:func:`microcalc.core.parallel.one_blas_thread`): the
    notebooks' matrices are small, and a multi-threaded BLAS on a busy machine made each small QR
    decomposition 40 times slower (notebook 06: 20 s against 10 s); several notebooks run side by
    side instead (:func:`run_parallel`).

    Parameters
    ----------
    path : path of the notebook.
    output : where to write the executed notebook; in place by default.
    parameters : values for the notebook's ``parameters`` cell.
    cwd : the kernel's working directory; ``notebooks/`` of the project by default.
    redact : when given, ``{"paths": {...}, "ids": {...}}`` for :func:`redact_outputs`.
    gate : when given, called once before the first code cell after the parameters and
        imports cells (it waits for the notebook's inputs; an exception stops the run).

    Returns
    -------
    Path of the executed notebook.
    """
    import papermill as pm

    path = Path(path)
    output = Path(output) if output is not None else path
    cwd = Path(cwd) if cwd is not None else project_path("notebooks")
    from microcalc.core.parallel import one_blas_thread

    try:
        engine = None
        if gate is not None:
            engine = _register_gated_engine()
            _GATE["gate"], _GATE["started"] = gate, False
        with one_blas_thread():  # the kernel inherits it
            pm.execute_notebook(
                str(path),
                str(output),
                parameters=parameters or {},
                kernel_name="python3",
                cwd=str(cwd),
                progress_bar=False,
                engine_name=engine,
            )
    except BaseException:
        if output.is_file():
            try:
                _tidy(output, redact)
            except Exception:  # noqa: BLE001 - a notebook cut short (disk full) stays as it is
                pass
        raise
    _tidy(output, redact)
    return output


def _tidy(output: Path, redact: dict | None) -> None:
    """Strip volatile metadata (and redact) in the executed notebook, replacing it atomically."""
    import nbformat

    nb = nbformat.read(output, as_version=4)
    strip_volatile_metadata(nb)
    if redact is not None:
        redact_outputs(nb, redact.get("paths"), redact.get("ids", frozenset()))
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        nbformat.write(nb, tmp)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- parallel runs
#: The notebooks each notebook reads from (by number). A notebook not listed waits for every earlier one.
#: 02 reads 01's reconstructed tables; 03, 08 and 09 read 02's synthetic cohorts (``data/raw``) and
#: calibration (08 and 09 clean ``data/raw`` themselves and draw from the generator, so they do not wait
#: for 03-07); 04-06 read 03's processed cohorts; 07 reads 04-06's results.
DEPENDS = {
    "01": (),
    "02": ("01",),
    "03": ("02",),
    "04": ("03",),
    "05": ("03",),
    "06": ("03",),
    "07": ("04", "05", "06"),
    "08": ("02",),
    "09": ("02",),
}

#: Exit status of a worker whose kernel did not start (no cell ran): the runner tries it again.
KERNEL_START_FAILED = 75
_KERNEL_TRIES = 3
_GATE: dict = {"gate": None, "started": False}


def dependencies(notebooks: list[Path]) -> dict[Path, list[Path]]:
    """For each notebook, the notebooks among ``notebooks`` it must wait for (:data:`DEPENDS`)."""
    by_number = {nb.name[:2]: nb for nb in notebooks}
    out = {}
    for i, nb in enumerate(notebooks):
        number = nb.name[:2]
        if number in DEPENDS:
            out[nb] = [by_number[d] for d in DEPENDS[number] if d in by_number]
        else:
            out[nb] = list(notebooks[:i])
    return out


def _register_gated_engine() -> str:
    """Register (once) a papermill engine that calls ``_GATE["gate"]`` after the imports cell."""
    from papermill.engines import NBClientEngine, papermill_engines

    class GatedEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            code = [
                i
                for i, c in enumerate(nb_man.nb.cells)
                if c.cell_type == "code" and not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))
            ]
            gate_at = code[1] if len(code) > 1 else None  # the first code cell after the imports cell
            start = nb_man.cell_start

            def cell_start(cell, cell_index=None, **kw):
                _GATE["started"] = True
                if cell_index == gate_at and _GATE["gate"] is not None:
                    _GATE["gate"]()
                return start(cell, cell_index, **kw)

            nb_man.cell_start = cell_start
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("microcalc-gated", GatedEngine)
    return "microcalc-gated"


class InputsFailed(RuntimeError):
    """A notebook this one reads from failed: this one is not run."""


_GO: dict = {"conn": None}


def _wait_for_go() -> None:
    """Block until the runner says ``go``; anything else (the pipe closed) means an input failed."""
    try:
        ok = _GO["conn"].recv() == "go"
    except (EOFError, OSError):
        ok = False
    if not ok:
        raise InputsFailed("a notebook this one reads from failed")


def _worker(nb: Path) -> int:
    """Run one notebook, gated on ``go`` from the runner; written to its path only when it ran."""
    tmp = nb.with_name(f".{nb.stem}.running.ipynb")
    try:
        run_notebook(nb, output=tmp, gate=_wait_for_go)
    except InputsFailed:
        tmp.unlink(missing_ok=True)
        return 1
    except Exception as err:  # noqa: BLE001
        if not _GATE["started"]:
            tmp.unlink(missing_ok=True)
            print(f"{nb}: the kernel did not start ({type(err).__name__}: {err})", file=sys.stderr)
            return KERNEL_START_FAILED
        if tmp.is_file():
            os.replace(tmp, nb)
        print(f"\n{nb} failed; the executed notebook with the error is {nb}\n{err}", file=sys.stderr)
        return 1
    os.replace(tmp, nb)
    return 0


def _worker_main(nb: Path, conn) -> None:
    """A worker process's target: :func:`_worker` with the runner's end of the pipe; its status is the exit code."""
    _GO["conn"] = conn
    code = _worker(nb)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


class _Worker:
    """One notebook's worker process and the pipe that releases it (``go``) or aborts it (closed)."""

    def __init__(self, nb: Path):
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        # forkserver: each worker is forked from one server that has imported papermill and nbformat
        # once (about 2 s of CPU per process otherwise), and that runs no thread of the caller's
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            ctx.set_forkserver_preload(["papermill", "nbformat", "nbclient"])
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(nb, child), daemon=False)  # type: ignore[attr-defined]  # typeshed's BaseContext lacks Process; both contexts have it
        self.process.start()
        child.close()

    def poll(self) -> int | None:
        return self.process.exitcode

    def go(self) -> None:
        self._send("go")

    def abort(self) -> None:
        self._send(None)

    def _send(self, message: str | None) -> None:
        try:
            if message:
                self.conn.send(message)
            self.conn.close()
        except (BrokenPipeError, OSError, ValueError):
            pass


def _start_worker(nb: Path) -> _Worker:
    return _Worker(nb)


def run_parallel(notebooks: list[Path], timings: Path | None = None) -> int:
    """Run ``notebooks`` in place, each as soon as the notebooks it reads from are done.

    Each notebook gets its own process and kernel one step ahead: as soon as
    the notebooks its inputs depend on are done (02 with 01, 03 when 01 is
    done, 04-06 when 02 is, 07 when 03 is), so that its kernel start and
    imports overlap with the work before it without crowding out the notebook
    being waited for. It runs its parameters and imports cells, then waits for
    :func:`dependencies`. The worker processes are forked from one server
    that has imported papermill once (``forkserver``; ``spawn`` where there is
    none). A worker whose kernel fails to start (a port taken between choosing and
    binding it) is started again, up to three times. When a notebook fails,
    the notebooks that depend on it are not run (their files stay as they
    were) and the status is 1. ``timings`` gets one ``path<TAB>start<TAB>end``
    line per notebook that ran (seconds since the epoch; start is when its
    process started, so it includes waiting for its inputs), in finishing order.
    """
    notebooks = [Path(nb) for nb in notebooks]
    deps = dependencies(notebooks)
    procs: dict[Path, _Worker] = {}
    started: dict[Path, float] = {}
    tries: dict[Path, int] = {}
    released: set[Path] = set()
    done: set[Path] = set()
    failed: set[Path] = set()

    def launch(nb):
        tries[nb] = tries.get(nb, 0) + 1
        started.setdefault(nb, time.time())
        procs[nb] = _start_worker(nb)
        if nb in released:
            procs[nb].go()

    pending = list(notebooks)
    while procs or pending:
        for nb in list(pending):
            if any(d in failed for d in deps[nb]):
                pending.remove(nb)
                failed.add(nb)
            elif all(x in done for d in deps[nb] for x in deps[d]):
                pending.remove(nb)
                print(f"executing {nb}", flush=True)
                launch(nb)
        for nb in list(procs):
            if nb not in released and all(d in done for d in deps[nb]):
                released.add(nb)
                procs[nb].go()
            elif nb not in released and any(d in failed for d in deps[nb]):
                failed.add(nb)
                procs[nb].abort()
        for nb, proc in list(procs.items()):
            code = proc.poll()
            if code is None:
                continue
            del procs[nb]
            if code == 0:
                done.add(nb)
                if timings is not None:
                    with open(timings, "a") as f:
                        f.write(f"{nb.as_posix()}\t{started[nb]:.6f}\t{time.time():.6f}\n")
            elif code == KERNEL_START_FAILED and tries[nb] < _KERNEL_TRIES:
                launch(nb)
            else:
                failed.add(nb)
        time.sleep(0.05)
    skipped = [nb for nb in notebooks if nb in failed and any(d in failed for d in deps[nb])]
    for nb in skipped:
        print(f"{nb} not run: a notebook it reads from failed", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.execute NOTEBOOK...``: execute each in place, in order.

    ``--parallel`` runs them at once, each after the notebooks it reads from
    (:func:`run_parallel`); ``--timings FILE`` appends each one's start and end.
    """
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.execute", description=main.__doc__)
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--parallel", action="store_true")
    ap.add_argument("--timings", type=Path)
    args = ap.parse_args(argv)
    if args.parallel:
        return run_parallel(args.notebooks, args.timings)
    for nb in args.notebooks:
        print(f"executing {nb}", flush=True)
        try:
            run_notebook(nb)
        except Exception as err:  # papermill's error names the failing cell
            print(f"\n{nb} failed; the executed notebook with the error is {nb}\n{err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    from microcalc.pipeline.execute import main as _main  # the worker processes then run the module's own functions

    raise SystemExit(_main())
