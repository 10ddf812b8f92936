"""The HTML edition's notebook pages, rendered two at a time where that is safe (see `pipeline.report`)."""

from __future__ import annotations

from typing import Any

import nbformat

__all__ = ["render_pages"]

_FORKED: dict = {}


def _render_forked(k: int) -> str:
    nb, href, title = _FORKED["jobs"][k]
    return _FORKED["edition"].render(nb, href, title, "notebook")


def render_pages(edition: Any, jobs: list[tuple[nbformat.NotebookNode, str, str]]) -> list[tuple[str, str]]:
    """Each notebook's page as ``(href, html)``, two at a time where that is safe, else one after another.

    Two forked processes share the work when the machine has two cores, ``fork``
    exists and this process runs no other thread (forking a threaded process can
    deadlock: under pytest-xdist the pages are rendered one after another). The
    pages are the same either way.
    """
    import multiprocessing
    import os
    import threading
    from concurrent.futures import ProcessPoolExecutor

    forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2 or not forkable:
        return [(href, edition.render(nb, href, title, "notebook")) for nb, href, title in jobs]
    _FORKED.update(edition=edition, jobs=jobs)
    try:
        with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
            texts = list(pool.map(_render_forked, range(len(jobs))))
    finally:
        _FORKED.clear()
    return [(href, text) for (_, href, _), text in zip(jobs, texts, strict=True)]
