"""Benchmark: notebook 09 (planning by simulation) on 1 and 2 workers of the local process pool.

Executes the notebook with its default grid and 500 replicates per point into a
temporary folder (the committed notebook and figures are untouched), once per
worker count, and prints the wall-clock times. Run with ``make bench``; asserts nothing.
"""

import sys
import tempfile
import time
from pathlib import Path

from microcalc.core.paths import project_path
from microcalc.pipeline.execute import run_notebook

WORKERS = (1, 2)


def main() -> int:
    notebook = project_path("notebooks/09_planning.ipynb")
    for workers in WORKERS:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run_notebook(notebook, Path(tmp) / notebook.name, {"workers": workers, "output_dir": tmp})
            seconds = time.perf_counter() - start
        print(f"09_planning, {workers} worker{'s' if workers > 1 else ''}: {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
