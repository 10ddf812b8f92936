"""The parallel runner of ``make notebooks``: every notebook in its own process and kernel, each after its inputs.

A notebook starts its kernel and runs its parameters and imports cells one
step ahead of its turn, then waits until the notebooks it reads from have
finished (:data:`DEPENDS`), so kernel starts and imports overlap with the work
of earlier notebooks (:func:`run_parallel`). A notebook whose input failed is
not run and its file is left as it was. ``python -m microcalc.pipeline.execute
--parallel NOTEBOOK...`` calls it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from microcalc.pipeline import execute as _execute
from microcalc.pipeline.execute import run_notebook

__all__ = ["DEPENDS", "KERNEL_START_FAILED", "InputsFailed", "dependencies", "run_parallel"]

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
        if not _execute._GATE["started"]:
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
            ctx.set_forkserver_preload(["microcalc.pipeline", "papermill", "nbformat", "nbclient"])
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
