"""A site run's folder, all or nothing: the lock, staging, the atomic exchange, the kept
``.failed`` folder, and the check of a complete run (part of :mod:`microcalc.pipeline.run`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from microcalc.core.paths import project_path, project_root
from microcalc.pipeline.execute import redact_outputs
from microcalc.pipeline.run_checks import RunError, _shown, check_name
from microcalc.pipeline.run_privacy import _redact_file

__all__ = ["run_lock", "check_run"]


@contextlib.contextmanager
def run_lock(runs_root: str | os.PathLike, name: str):
    """Hold the lock of run ``name`` (``<runs_root>/.<name>.lock``) or refuse with a RunError.

    ``fcntl.flock`` on an open file: the operating system releases it when the
    holder exits or is killed, so a lock file left behind is never stale.
    """
    root = project_path(runs_root)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f".{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise RunError(
                f"a run named {name!r} is already in progress"
                + (f" (process {holder})" if holder.isdigit() else "")
                + "; wait for it to finish or choose another name"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, content: dict) -> None:
    """Write JSON next to ``path`` and rename it into place, after syncing it to disk."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(content, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _recover(root: Path, name: str) -> None:
    """Finish or undo what a killed run left (under the lock): a half-done swap, a staging folder."""
    final, old = root / name, root / f".{name}.old"
    if old.exists():
        if final.exists():
            _remove(old)  # the swap had finished: drop the previous run
        else:
            os.replace(old, final)  # killed between the two renames: put the previous run back
    _remove(root / f".{name}.staging")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where not supported."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _commit(root: Path, name: str, staging: Path) -> Path:
    """Move ``staging`` into place as ``<root>/<name>``; the previous run is removed only afterwards.

    Where the system can swap two folders in one step, the previous run and
    the new one are exchanged atomically; elsewhere the previous run is
    renamed aside first (a kill between the two renames is undone by
    :func:`_recover`). Ctrl-C and SIGTERM wait until the swap and the removal of
    the previous run are done.
    """
    final, old = root / name, root / f".{name}.old"
    blocked = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        if final.exists() and _exchange(staging, final):
            os.replace(staging, old)  # the previous run, now under the staging name
        else:
            if final.exists():
                os.replace(final, old)
            os.replace(staging, final)
        _remove(old)
        _remove(root / f"{name}.failed")
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
    return final


def _is_disk_full(err: BaseException) -> bool:
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return True
    return "[Errno 28]" in str(getattr(err, "evalue", "")) or "No space left on device" in str(
        getattr(err, "evalue", "")
    )


def _keep_failed(
    root: Path, name: str, staging: Path, record: dict, ids: frozenset[str], paths: dict[str, str]
) -> Path:
    """Redact the failed attempt's notebooks, write its run.json, move it to ``<name>.failed``."""
    for nb_path in sorted((staging / "notebooks").glob("*.ipynb")):
        import nbformat

        try:
            nb = nbformat.read(nb_path, as_version=4)
            nbformat.write(redact_outputs(nb, paths, ids), nb_path)
        except Exception:  # noqa: BLE001 - a notebook cut short (disk full) is not kept
            nb_path.unlink(missing_ok=True)
            record.setdefault("removed", []).append(f"{nb_path.name} (incomplete)")
    _redact_file(staging / "kernel.log", paths, ids)
    with contextlib.suppress(OSError):
        _write_json(staging / "run.json", record)
    failed = root / f"{name}.failed"
    _remove(failed)
    os.replace(staging, failed)
    return failed


def check_run(name: str, runs_root: str | Path = "runs") -> int:
    """Execute a complete run's notebooks with ``pytest --nbval-lax`` (outputs not compared); the exit status."""
    check_name(name)
    folder = project_path(runs_root) / name
    if not (folder / "run.json").is_file():
        raise RunError(f"no complete run named {name!r} in {_shown(project_path(runs_root))}/")
    with run_lock(project_path(runs_root), name):
        return subprocess.call(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--nbval-lax",
                "--nbval-current-env",
                str(folder / "notebooks"),
            ],
            cwd=project_root(),
        )
