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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from microcalc.core.paths import project_path

if TYPE_CHECKING:  # nbformat is imported where it is used: importing it costs about 1.4 s of CPU
    import nbformat  # (jsonschema's format checkers compile grammars), which a notebook calling
    # machine_paths or redact_text, or the library's run and bundle modules, need not pay

__all__ = ["run_notebook", "strip_volatile_metadata", "machine_paths", "redact_text", "redact_outputs", "main"]

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

    The executed notebook is written once, when it has run (or stopped at a failing cell), not after
    every cell as papermill does by default: those saves serialised and validated the whole notebook,
    figures included, twice per cell (0.5 s of CPU for notebook 04, 1 s for 06). A run killed mid-way
    leaves the output file as it was.

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
                request_save_on_cell_execute=False,  # one write at the end, not two per cell (0.5-1 s of CPU each)
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


# --------------------------------------------------------------------------- the gate of a parallel run
_GATE: dict = {"gate": None, "started": False}


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
        from microcalc.pipeline.runner import run_parallel

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
