"""Reuse of expensive deterministic results under a key of everything they depend on.

A step's result is a function of its arguments, of the library code it can
run and of the numerical packages' versions; nothing else (its seeds are
arguments). :func:`cache_key` hashes exactly these: the arguments as exact JSON
(data frames, series and arrays by a SHA-256 of their values, index, column
names and dtypes), the source of the step's module and of every library module
it imports, directly or not (:func:`microcalc.core.sources.module_closure`), and
the exact Python and the version of every installed package. Any change to any
of them gives another key, so a stored result is read back only where
recomputing it would give the same result.

:func:`reusable` marks a library function whose result may be kept that way.
It is kept only when the environment variable :data:`ENV` names a folder
(relative to the project root): ``make all`` and ``make notebooks`` set it to
``.cache/results`` (git-ignored), so a rerun whose inputs are unchanged reads
the bootstrap validation, the multiple imputation and the reconstruction back
(pickled, written atomically) instead of drawing them again. Anywhere else, in
the tests, nbval and a site's run, every call computes: the tests' conftest and
the site run (:mod:`microcalc.pipeline.run_env`) remove the variable. The folder
must lie inside the project (a pickle is loaded as code is: only from where the
code itself lives); delete it to clear what is kept.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from microcalc.core.paths import project_path
from microcalc.core.sources import LIBRARY, module_closure

__all__ = ["ENV", "cache_key", "digest", "reusable", "cache_folder"]

#: The environment variable naming the folder (relative to the project root) of kept results.
ENV = "MICROCALC_RESULT_CACHE"

_LIBRARY = LIBRARY  # a module global, so a test can point the key at a copy of the library

F = TypeVar("F", bound=Callable[..., Any])


def digest(value: Any) -> str:
    """SHA-256 of a data frame's, series' or array's values, index, column names and dtypes.

    >>> import pandas as pd
    >>> digest(pd.DataFrame({"a": [1, 2]})) == digest(pd.DataFrame({"a": [1, 2]}))
    True
    >>> digest(pd.DataFrame({"a": [1, 2]})) == digest(pd.DataFrame({"a": [1, 3]}))
    False
    >>> digest(pd.DataFrame({"a": [1, 2]})) == digest(pd.DataFrame({"a": [1.0, 2.0]}))
    False
    """
    import numpy as np
    import pandas as pd

    h = hashlib.sha256()
    if isinstance(value, np.ndarray):
        h.update(f"ndarray {value.dtype} {value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes() if value.dtype != object else pickle.dumps(value.tolist()))
        return h.hexdigest()
    if isinstance(value, pd.Series):
        value = value.to_frame(name=value.name if value.name is not None else "__series__")
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"no digest for {type(value).__name__}")
    # repr of a dtype names a categorical's levels in their order (the reference level of a model)
    h.update(json.dumps([[repr(c), repr(t)] for c, t in value.dtypes.items()]).encode())
    h.update(json.dumps([repr(value.index.dtype), str(value.index.name)]).encode())
    h.update(pd.util.hash_pandas_object(value.index).to_numpy().tobytes())
    for column in value.columns:
        values = value[column]
        if values.dtype == object:  # pandas hashes mixed objects through str (1 and "1" alike): pickle them instead
            h.update(pickle.dumps(values.tolist(), protocol=4))
        else:
            h.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(value, (pd.DataFrame, pd.Series)) or (isinstance(value, np.ndarray) and value.size > 1000):
        return {"digest": digest(value)}
    if isinstance(value, np.ndarray):
        return {"dtype": str(value.dtype), "shape": list(value.shape), "values": value.tolist()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"no exact key for an argument of type {type(value).__name__}")


def cache_key(step: str, modules: Sequence[str] | None = None, **inputs: Any) -> str:
    """SHA-256 of a step's name, its inputs, the library source it can run and the numerical packages' versions.

    ``inputs`` enter as exact JSON (data frames, series and large arrays by
    their :func:`digest`). ``modules`` names the library modules that define
    the step (e.g. ``("microcalc.planning",)``): their source, their packages'
    and that of every library module they import, directly or not, enters byte
    for byte, so a change to any function the step can call gives another key
    and an edit elsewhere (a page's wording) does not. Without ``modules``, every
    module of :mod:`microcalc` enters. The exact Python and the version of every
    installed package enter too.
    """
    h = hashlib.sha256()
    h.update(json.dumps({"step": step, "inputs": _jsonable(inputs)}, sort_keys=True).encode())
    files = sorted(_LIBRARY.rglob("*.py")) if modules is None else module_closure(modules, _LIBRARY)
    for module in files:
        h.update(module.relative_to(_LIBRARY).as_posix().encode() + b"\0" + module.read_bytes() + b"\0")
    h.update(_environment().encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _environment() -> str:
    """The exact Python and every installed distribution's version (``name==version``), once per process.

    Every package enters, not only the numerical ones: a step may run any of them (the imputation
    runs firthmodels' separation check), and an upgrade of any package must recompute it.
    """
    from microcalc.core.digest import package_set

    return sys.version + "\n" + "".join(pin + "\n" for pin in package_set())


def cache_folder() -> Path | None:
    """The folder of kept results that :data:`ENV` names (under the project root), or None: keep nothing.

    Raises ValueError when it names a folder outside the project.
    """
    folder = os.environ.get(ENV, "").strip()
    if not folder:
        return None
    path = project_path(folder)
    if not path.resolve().is_relative_to(project_path(".").resolve()):
        raise ValueError(f"{ENV} must name a folder inside the project (such as .cache/results)")
    return path


def reusable(function: F) -> F:
    """Keep ``function``'s result under the :func:`cache_key` of its arguments and code, while :data:`ENV` is set.

    The key has the function's module and name, every argument as bound to its
    signature (defaults included) and the source the function's module can
    run. A kept result is read back (the same object, pickled: every float bit
    for bit); an unreadable one is recomputed and replaced. A result that cannot
    be written (a read-only or full disk) is returned all the same, with a
    warning that names no path; a call with an argument that has no exact key
    (not a number, text, array, frame or container of them) is computed and not
    kept. Without :data:`ENV` the function simply runs.
    """
    signature = inspect.signature(function)
    step = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        folder = cache_folder()
        if folder is None:
            return function(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        try:
            key = cache_key(step, (function.__module__,), **bound.arguments)
        except TypeError:  # an argument with no exact key: compute, keep nothing
            return function(*args, **kwargs)
        path = folder / f"{function.__qualname__}-{key}.pickle"
        if path.is_file():
            try:
                return pickle.loads(path.read_bytes())
            except Exception:  # a truncated or foreign file: recompute and replace it
                pass
        result = function(*args, **kwargs)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, path)
        except OSError as err:  # a read-only or full disk costs the next run time, not this run its result
            if tmp.parent.is_dir():
                tmp.unlink(missing_ok=True)
            warnings.warn(
                f"{function.__qualname__}: result computed but not kept for a rerun ({type(err).__name__}: "
                f"{err.strerror or 'cannot write'} in the folder {ENV} names)",
                RuntimeWarning,
                stacklevel=2,
            )
        return result

    return wrapper  # type: ignore[return-value]
