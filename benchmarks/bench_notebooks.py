"""Benchmark: a full rerun of every notebook against its floor, and `make test` on a warm environment.

Floor: for each notebook, one kernel start plus that notebook's parameters and
imports cells (papermill, as `make all` runs them); the ratio is full rerun
time over the floor. Goal: at most 1.5x. `make test` goal: under 3 minutes.
Run with ``make bench``; prints figures, asserts nothing.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm

from microcalc.core.paths import project_path


def _run(path: Path, out: Path, params: dict) -> float:
    start = time.perf_counter()
    pm.execute_notebook(str(path), str(out), parameters=params, kernel_name="python3",
                        cwd=str(project_path("notebooks")), progress_bar=False)
    return time.perf_counter() - start


def main() -> None:
    notebooks = sorted(project_path("notebooks").glob("[0-9][0-9]_*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        floor, full = 0.0, 0.0
        print("notebooks, full rerun against the floor (kernel start + parameters + imports):")
        for path in notebooks:
            nb = nbformat.read(path, as_version=4)
            code = [c for c in nb.cells if c.cell_type == "code"]
            mini = nbformat.v4.new_notebook(cells=code[:2], metadata=nb.metadata)
            mini_path = tmp / f"floor_{path.name}"
            nbformat.write(mini, mini_path)
            declared = pm.inspect_notebook(str(path))
            params = {"output_dir": str(tmp / "out")} if "output_dir" in declared else {}
            t_floor = _run(mini_path, tmp / f"floor_out_{path.name}", params)
            t_full = _run(path, tmp / f"full_{path.name}", params)
            floor += t_floor
            full += t_full
            print(f"  {path.stem:28s} full {t_full:5.1f} s, floor {t_floor:4.1f} s")
        print(f"  all {len(notebooks)} notebooks: full {full:.1f} s, floor {floor:.1f} s, "
              f"ratio {full / floor:.2f} (goal <= 1.5)")
    if "--skip-make-test" not in sys.argv:
        start = time.perf_counter()
        done = subprocess.run(["make", "test"], cwd=project_path("."), capture_output=True, text=True)
        print(f"make test on a warm environment: {time.perf_counter() - start:.0f} s "
              f"(exit {done.returncode}; goal < 180 s)")


if __name__ == "__main__":
    main()
