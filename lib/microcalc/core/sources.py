"""The library source a computation can depend on: its modules and every library module they import.

A cached result (:func:`microcalc.core.cache.cache_key`) must change
when any code that computes it changes, and need not change when unrelated code
does (an edit of a page's wording should not throw away a minute of
simulation). The code a module runs is its own source, the packages it sits
in (their ``__init__`` runs on import) and every module of the library it
imports, directly or not. Imports are read from the source (every ``import``
statement anywhere in the module, including inside functions), so nothing is
executed. A module that builds an import from a string is not followed: the
library has none outside the upgrade probe, which no cached step uses.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path

__all__ = ["LIBRARY", "imported_modules", "module_closure"]

#: The folder of the library package ``microcalc`` (its ``__init__.py`` and modules).
LIBRARY = Path(__file__).parents[1]


def _file(name: str, root: Path) -> Path | None:
    """The source file of the library module ``name`` (``"microcalc.analysis.stats"``) under ``root``, if any."""
    parts = name.split(".")[1:]
    base = root.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if parts and base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def imported_modules(source: str, name: str, is_package: bool = False, package: str = "microcalc") -> set[str]:
    """The names of the modules of ``package`` that the module ``name`` with this ``source`` may import.

    For ``from a.b import c``, both ``a.b`` and ``a.b.c`` are returned (``c`` may be a
    module); names that are not modules are dropped by :func:`module_closure`. ``is_package``:
    ``source`` is the ``__init__`` of the package ``name`` (relative imports start there).

    >>> sorted(imported_modules("from microcalc.analysis import stats\\nimport numpy", "microcalc.x"))
    ['microcalc.analysis', 'microcalc.analysis.stats']
    >>> sorted(imported_modules("def f():\\n    from .models import fit", "microcalc.analysis.tables"))
    ['microcalc.analysis.models', 'microcalc.analysis.models.fit']
    """
    return set(_imported_modules(source, name, is_package, package))


@functools.lru_cache(maxsize=1024)
def _imported_modules(source: str, name: str, is_package: bool, package: str) -> frozenset[str]:
    """:func:`imported_modules`, parsed once per process for each (source, module): a cache key reads ~170 modules."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == package}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                module = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] == package:
                out.add(module)
                out |= {f"{module}.{a.name}" for a in node.names if a.name != "*"}
    return frozenset(out)


def module_closure(modules: Iterable[str], root: Path) -> list[Path]:
    """The source files of ``modules``, of the packages they sit in, and of every library module they import.

    Parameters
    ----------
    modules : dotted names of library modules (``"microcalc.planning"``).
    root : the folder of the library package (the one holding ``microcalc/__init__.py``'s modules).

    Returns
    -------
    list of Path
        Sorted; each file once.
    """
    seen: dict[str, Path | None] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = seen[name] = _file(name, root)
        if path is None:
            continue
        parts = name.split(".")
        todo += [".".join(parts[:k]) for k in range(1, len(parts))]
        todo += imported_modules(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py")
    return sorted({p for p in seen.values() if p is not None})
