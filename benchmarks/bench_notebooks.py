"""Benchmark: `make all` (the parallel runner plus the causal diagram and the HTML edition) against the
notebooks' floor, and `make test` warm.

Floor: for each notebook, one kernel start plus that notebook's parameters and
imports cells, run one after another with papermill (one BLAS thread, as the
runner gives its kernels); the floor is their sum. Full: ``make all`` as a
user runs it (the causal diagram beside the notebooks, all at once, each
waiting for the notebooks it reads from, then the HTML edition and its summary
PDF, then the receipt), in place, with default parameters, and, in the same
run, the notebooks alone (``python -m microcalc.pipeline.execute --parallel``, as
``make notebooks``). Both are measured in this one run; the ratio is full over
floor (goal: at most 1.0). The reruns must leave git clean (the determinism
check); the script says whether they did. ``--sequential`` also times the
notebooks run one after another (the previous runner) in the same run. The
load average is printed before and after, and the CPU time the floors and
``make all`` used on the whole machine (from /proc/stat, so other work running
meanwhile counts too): on N cores, ``make all`` cannot take less than its CPU
time over N. Run with ``make bench``; prints
figures, asserts nothing.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm

from microcalc.core.parallel import one_blas_thread
from microcalc.core.paths import project_path
from microcalc.pipeline.execute import run_notebook
from microcalc.pipeline.runner import run_parallel


def _floor(path: Path, tmp: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    mini_path = tmp / f"floor_{path.name}"
    nbformat.write(nbformat.v4.new_notebook(cells=code[:2], metadata=nb.metadata), mini_path)
    declared = pm.inspect_notebook(str(path))
    params = {"output_dir": str(tmp / "out")} if "output_dir" in declared else {}
    start = time.perf_counter()
    with one_blas_thread():
        pm.execute_notebook(
            str(mini_path),
            str(tmp / f"floor_out_{path.name}"),
            parameters=params,
            kernel_name="python3",
            cwd=str(project_path("notebooks")),
            progress_bar=False,
        )
    return time.perf_counter() - start


def _git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=project_path("."), capture_output=True, text=True
    ).stdout


def _cpu_seconds() -> float:
    """CPU time used on the whole machine so far (user, nice, system, irq, softirq, steal), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = sum(int(fields[i]) for i in (0, 1, 2, 5, 6, 7))
    return ticks / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    root = project_path(".")
    notebooks = sorted(Path("notebooks").glob("[0-9][0-9]_*.ipynb"))
    os.chdir(root)
    print(f"load average before: {_load()}")
    cpu0 = _cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        floors = {nb.stem: _floor(nb, Path(tmp)) for nb in notebooks}
    floor = sum(floors.values())
    floor_cpu = _cpu_seconds() - cpu0
    before = _git_status()
    cpu0 = _cpu_seconds()
    start = time.perf_counter()
    made = subprocess.run(["make", "all"], cwd=root, capture_output=True, text=True)
    make_all = time.perf_counter() - start
    all_cpu = _cpu_seconds() - cpu0
    clean_all = _git_status() == before
    print(f"load average after the floors and make all: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        timings = Path(tmp) / "times.tsv"
        start = time.perf_counter()
        status = run_parallel(notebooks, timings)
        full = time.perf_counter() - start
        spans = {
            Path(p).stem: float(e) - float(s)
            for p, s, e in (line.split("\t") for line in timings.read_text().splitlines())
        }
    sequential = None
    if "--sequential" in sys.argv:  # the old runner, one notebook after another, for comparison
        start = time.perf_counter()
        for nb in notebooks:
            run_notebook(nb)
        sequential = time.perf_counter() - start
    print("notebooks against the floor (kernel start + parameters + imports, one after another):")
    for stem, t in floors.items():
        print(
            f"  {stem:28s} floor {t:4.1f} s; in the parallel run, started to finished "
            f"{spans.get(stem, float('nan')):5.1f} s"
        )
    print(
        f"  make all ({len(notebooks)} notebooks, causal diagram, HTML edition, receipt): {make_all:.1f} s "
        f"(exit {made.returncode}), floor {floor:.1f} s, ratio {make_all / floor:.2f} (goal <= 1.0); "
        f"git {'unchanged' if clean_all else 'CHANGED'}"
    )
    print(
        f"  the notebooks alone, recomputing every analysis (make notebooks without the result cache): "
        f"{full:.1f} s (exit {status}), ratio {full / floor:.2f}; "
        f"git {'unchanged' if _git_status() == before else 'CHANGED'}"
    )
    cores = os.cpu_count() or 1
    print(
        f"  CPU time on the whole machine: the floors {floor_cpu:.1f} s, make all {all_cpu:.1f} s. On {cores} cores "
        f"make all cannot take less than {all_cpu / cores:.1f} s; a ratio of 1.0 needs its CPU time to be at most "
        f"{cores} x the floor = {cores * floor:.1f} s"
    )
    if sequential is not None:
        print(f"  one after another (the previous make notebooks): {sequential:.1f} s, ratio {sequential / floor:.2f}")
    print(f"load average after: {_load()}")
    if "--skip-make-test" not in sys.argv:
        start = time.perf_counter()
        done = subprocess.run(["make", "test"], cwd=root, capture_output=True, text=True)
        print(
            f"make test on a warm environment: {time.perf_counter() - start:.0f} s "
            f"(exit {done.returncode}; goal <= 120 s); load average after: {_load()}"
        )


if __name__ == "__main__":
    main()
