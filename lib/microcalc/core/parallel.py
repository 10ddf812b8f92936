"""Parallel execution for site reruns and simulations: a local process pool, or Dask distributed.

:func:`parallel_map` runs a function over items on a local process pool by
default (``workers`` processes, started with *spawn* so no thread state is
inherited, each with one BLAS thread), or, when a scheduler is given (``tcp://host:8786`` or a
``distributed.LocalCluster``), on that Dask cluster's workers, with no other
change. Results come back in the order of the items.

On a cluster every worker must see the project folder at the same path (a
shared file system) and run the same environment (``make setup``): a site
run reads ``data/private/<site>/`` and writes ``runs/<name>/`` there. Start
workers with one thread each (``dask worker tcp://host:8786 --nthreads 1``):
site runs (:mod:`microcalc.pipeline.distributed`) need that.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

__all__ = ["SCHEDULER_ENV", "WORKERS_ENV", "parallel_map", "backend_name", "one_blas_thread"]

#: Environment variables through which the Makefile passes the backend (no shell in between).
SCHEDULER_ENV = "MICROCALC_SCHEDULER"
WORKERS_ENV = "MICROCALC_WORKERS"


def _workers(workers: int | None, n_items: int) -> int:
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if int(workers) < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return max(1, min(int(workers), n_items))


def backend_name(workers: int | None = None, scheduler=None) -> str:
    """How :func:`parallel_map` would run: ``"dask <address>"``, ``"local pool of N processes"`` or ``"in process"``."""
    if scheduler is not None:
        address = scheduler if isinstance(scheduler, str) else getattr(scheduler, "scheduler_address", "cluster")
        return f"dask {address}"
    n = _workers(workers, 1 << 30)
    return "in process" if n == 1 else f"local pool of {n} processes"


def parallel_map(func: Callable, items: Iterable, workers: int | None = None, scheduler=None) -> list:
    """``[func(x) for x in items]``, in parallel; results in the order of ``items``.

    Parameters
    ----------
    func : a function importable by name (module level), so that other processes can run it.
    items : its arguments, one call each.
    workers : processes of the local pool (default: the CPUs this process may use; 1 runs in this process).
        Ignored with a scheduler.
    scheduler : a Dask scheduler address (``"tcp://host:8786"``) or a ``distributed`` cluster object;
        ``None`` for the local pool.

    Raises
    ------
    The first exception a call raised (after the others have finished or been cancelled).
    """
    items = list(items)
    if not items:
        return []
    if scheduler is not None:
        from distributed import Client

        with Client(scheduler, set_as_default=False) as client:
            futures = client.map(func, items, pure=False)
            return client.gather(futures)
    n = _workers(workers, len(items))
    if n == 1:
        return [func(x) for x in items]
    with one_blas_thread(), ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(func, items))


#: Thread-count variables of the BLAS libraries NumPy may use; a pool's workers get 1 each, so that
#: N processes use N cores rather than N times the BLAS threads.
_BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread():
    """Set the BLAS thread counts to 1 while worker processes (or kernels) are started; they inherit it."""
    saved = {k: os.environ.get(k) for k in _BLAS_THREADS}
    os.environ.update({k: "1" for k in _BLAS_THREADS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
