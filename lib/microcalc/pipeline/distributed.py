"""Site reruns on :func:`microcalc.core.parallel.parallel_map`: one transactional run per site.

A site run redirects its process's stderr and sets environment variables
for its kernels, so :func:`run_site` holds a per-process lock and two runs
never overlap in one worker process. Each site run stays a transaction
(:func:`microcalc.pipeline.run.run_pipeline`): a worker that dies mid-run leaves the
previous complete run untouched, and the next run of that name recovers.
"""

from __future__ import annotations

import threading

from microcalc.core.parallel import SCHEDULER_ENV, WORKERS_ENV, backend_name, parallel_map

__all__ = ["SCHEDULER_ENV", "WORKERS_ENV", "parallel_map", "backend_name", "run_site"]

_SITE_LOCK = threading.Lock()


def run_site(task: dict) -> dict:
    """One site's transactional run, for :func:`parallel_map`: ``task`` holds ``name``, ``data_dir`` and
    optionally ``runs_root``, ``notebooks``, ``report``.

    Returns ``{"name", "run_dir"}`` (project-relative) or ``{"name", "error"}`` with the run's one-paragraph
    message, so that the other sites still run.
    """
    from microcalc.pipeline.run import RunError, _shown, run_pipeline

    with _SITE_LOCK:
        try:
            final = run_pipeline(
                task["data_dir"],
                task["name"],
                notebooks=task.get("notebooks"),
                runs_root=task.get("runs_root", "runs"),
                report=task.get("report", True),
                log=lambda line: print(line, flush=True),
            )
        except RunError as err:
            return {"name": task["name"], "error": str(err)}
    return {"name": task["name"], "run_dir": _shown(final)}
