"""Transactional runs: a run replaces ``runs/<name>/`` only when it is complete.

Reference: the files of the previous complete run, checksummed before each
failing attempt (a failing notebook, a full disk, Ctrl-C, SIGKILL, a second
run of the same name) and compared byte for byte afterwards.
"""

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import nbformat
import papermill as pm
import pytest

import microcalc.pipeline.run as run_module
import microcalc.pipeline.run_store as run_store
from microcalc.core.paths import project_path
from microcalc.pipeline.run import RunError, RunInterrupted, main, run_lock, run_pipeline

QUIET = dict(log=lambda *_: None)

#: Each test runs the site pipeline (notebooks in kernels) or signals one: make test-slow runs them.
pytestmark = pytest.mark.slow


def digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    """A complete run of notebook 03 on the bundled cohorts (no HTML edition: fast)."""
    root = tmp_path_factory.mktemp("runs")
    run_pipeline("data/raw", "site", notebooks=["03"], runs_root=root, report=False, **QUIET)
    return root


@pytest.fixture
def previous(complete):
    """The complete run and its checksums; the test must leave it byte for byte."""
    before = digest(complete / "site")
    yield complete
    assert digest(complete / "site") == before, "the previous complete run changed"
    assert not (complete / ".site.staging").exists()


def test_a_complete_run_has_its_manifest_written_last(complete):
    record = json.loads((complete / "site" / "run.json").read_text())
    assert record["status"] == "complete"
    assert record["started"] <= record["finished"]
    for name in ("nact_cohort.csv", "bone_cohort.csv"):
        assert record["inputs"][name] == hashlib.sha256(project_path("data/raw", name).read_bytes()).hexdigest()
    assert record["parameters"]["data_dir"] == "data/raw"
    assert {"python", "pandas", "statsmodels", "papermill"} <= set(record["versions"])
    assert [n["name"] for n in record["notebooks"]] == ["03_cleaning.ipynb"]
    assert record["notebooks"][0]["seconds"] > 0
    # run.json is the newest file of the run (the commit marker)
    files = [p for p in (complete / "site").rglob("*") if p.is_file()]
    assert max(files, key=lambda p: p.stat().st_mtime_ns).name == "run.json"
    assert (complete / "site" / "data" / "processed" / "03_nact_cohort.parquet").is_file()


def test_a_failed_rerun_leaves_the_previous_run_intact_and_keeps_the_attempt(previous):
    with pytest.raises(RunError) as err:
        run_pipeline("tests/inputs/bad/age_text", "site", notebooks=["03"], runs_root=previous, report=False, **QUIET)
    message = str(err.value)
    assert "03_cleaning.ipynb failed in cell" in message and "not a whole number" in message
    assert str(previous / "site.failed" / "notebooks" / "03_cleaning.ipynb") in message
    assert "the previous complete run" in message
    failed = previous / "site.failed"
    record = json.loads((failed / "run.json").read_text())
    assert record["status"] == "failed" and record["failed_notebook"] == "03_cleaning.ipynb"
    assert "not a whole number" in record["message"]
    nb = nbformat.read(failed / "notebooks" / "03_cleaning.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


def test_the_failed_attempt_is_replaced_each_time(previous):
    for bad in ("tests/inputs/bad/age_text", "tests/inputs/bad/missing_column"):
        with pytest.raises(RunError):
            run_pipeline(bad, "site", notebooks=["03"], runs_root=previous, report=False, **QUIET)
    record = json.loads((previous / "site.failed" / "run.json").read_text())
    assert record["data_dir"] == "tests/inputs/bad/missing_column"


def _truncating(exc):
    """A stand-in for run_notebook that writes half a notebook, then fails with ``exc``."""

    def fake(path, out, params, **kw):
        out.write_text('{"cells": [{"cell_type": "code", "sou')
        raise exc

    return fake


def test_a_full_disk_gives_one_line_and_no_truncated_notebook_in_the_run(previous, monkeypatch, capsys):
    monkeypatch.setattr(run_module, "run_notebook", _truncating(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(RunError) as err:
        run_pipeline("data/raw", "site", notebooks=["03"], runs_root=previous, report=False, **QUIET)
    message = str(err.value)
    assert "\n" not in message and "the disk is full" in message and "untouched" in message
    # the half-written notebook is nowhere in the complete run (the fixture checks it byte for byte),
    # and is not kept as if it were a notebook in the failed attempt either
    assert not list((previous / "site.failed" / "notebooks").glob("*.ipynb"))
    record = json.loads((previous / "site.failed" / "run.json").read_text())
    assert record["status"] == "failed" and "disk is full" in record["message"]


def test_the_command_line_says_a_full_disk_in_one_line(project_run, monkeypatch, capsys):
    monkeypatch.setattr(run_module, "run_notebook", _truncating(OSError(errno.ENOSPC, "No space left on device")))
    assert main(["--data-dir", "data/raw", "--name", project_run, "--notebooks", "03", "--no-report"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"run failed: run '{project_run}': the disk is full"), err
    assert not project_path("runs", project_run).exists()


def test_a_full_disk_inside_a_notebook_is_told_as_such(previous, monkeypatch):
    error = pm.PapermillExecutionError(4, 4, "", "OSError", "[Errno 28] No space left on device", [])
    monkeypatch.setattr(run_module, "run_notebook", _truncating(error))
    with pytest.raises(RunError, match=r"^run 'site': the disk is full \(no space left on device\); the prev"):
        run_pipeline("data/raw", "site", notebooks=["03"], runs_root=previous, report=False, **QUIET)


def test_an_interrupted_run_leaves_the_previous_run_and_keeps_the_attempt(previous, monkeypatch):
    monkeypatch.setattr(run_module, "run_notebook", _truncating(KeyboardInterrupt()))
    with pytest.raises(RunInterrupted, match="interrupted.*previous complete run in .* is untouched"):
        run_pipeline("data/raw", "site", notebooks=["03"], runs_root=previous, report=False, **QUIET)
    assert json.loads((previous / "site.failed" / "run.json").read_text())["status"] == "interrupted"


def test_a_second_run_of_the_same_name_is_refused_while_one_is_in_progress(previous):
    with run_lock(previous, "site"):
        with pytest.raises(RunError, match=rf"a run named 'site' is already in progress \(process {os.getpid()}\)"):
            run_pipeline("data/raw", "site", notebooks=["03"], runs_root=previous, report=False, **QUIET)
        # another name is not blocked
        with run_lock(previous, "other"):
            pass


def test_a_lock_left_by_a_dead_run_is_not_stale(tmp_path):
    (tmp_path / ".site.lock").write_text("999999\n")  # what a killed run leaves behind
    with run_lock(tmp_path, "site"):
        assert (tmp_path / ".site.lock").read_text() == f"{os.getpid()}\n"


def test_a_concurrent_run_in_another_process_is_refused(tmp_path):
    """Two processes: the first holds the lock (as a running run does), the second is refused."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from microcalc.pipeline.run import run_lock\n"
            f"with run_lock({str(tmp_path)!r}, 'site'):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match=rf"already in progress \(process {holder.pid}\)"):
            run_pipeline("data/raw", "site", notebooks=["03"], runs_root=tmp_path, report=False, **QUIET)
    finally:
        holder.kill()
        holder.wait()
    # once the holder is gone (killed, not cleaned up), the lock is free again
    with run_lock(tmp_path, "site"):
        pass


def test_a_complete_rerun_replaces_the_run_and_clears_the_failed_attempt(complete):
    """Runs last among the tests of ``complete``: it replaces that run."""
    with pytest.raises(RunError):
        run_pipeline("tests/inputs/bad/age_text", "site", notebooks=["03"], runs_root=complete, report=False, **QUIET)
    first = json.loads((complete / "site" / "run.json").read_text())["started"]
    time.sleep(1)
    run_pipeline("tests/inputs/messy/canonical", "site", notebooks=["03"], runs_root=complete, report=False, **QUIET)
    record = json.loads((complete / "site" / "run.json").read_text())
    assert record["status"] == "complete" and record["data_dir"] == "tests/inputs/messy/canonical"
    assert record["started"] > first
    assert sorted(p.name for p in complete.iterdir() if not p.name.endswith(".lock")) == ["site"]


def test_a_swap_cut_short_by_sigkill_is_finished_or_undone_by_the_next_run(tmp_path):
    # killed between moving the previous run aside and moving the new one in: put the previous back
    (tmp_path / ".site.old").mkdir()
    (tmp_path / ".site.old" / "run.json").write_text("{}")
    (tmp_path / ".site.staging" / "notebooks").mkdir(parents=True)
    run_store._recover(tmp_path, "site")
    assert (tmp_path / "site" / "run.json").read_text() == "{}"
    assert not (tmp_path / ".site.old").exists() and not (tmp_path / ".site.staging").exists()
    # killed after the new run was moved in: drop the previous one
    (tmp_path / ".site.old").mkdir()
    run_store._recover(tmp_path, "site")
    assert (tmp_path / "site" / "run.json").is_file() and not (tmp_path / ".site.old").exists()


def _cli(name, *extra, **popen):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "microcalc.pipeline.run",
            "--data-dir",
            "data/raw",
            "--name",
            name,
            "--notebooks",
            "03",
            "04",
            "--no-report",
            *extra,
        ],
        cwd=project_path("."),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **popen,
    )


def _wait_for(path, timeout=120):
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, f"{path.name} never appeared"
        time.sleep(0.2)


@pytest.fixture
def project_run():
    """A unique run name under the project's runs/, removed afterwards."""
    name = f"pytest-{uuid.uuid4().hex[:8]}"
    yield name
    for p in project_path("runs").glob(f"*{name}*"):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_prints_one_line_and_exits_130_without_traceback(project_run, sig, code):
    proc = _cli(project_run)
    _wait_for(project_path("runs", f".{project_run}.staging", "notebooks", "03_cleaning.ipynb"))
    os.killpg(proc.pid, sig)  # what the terminal does on Ctrl-C: signal the foreground process group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert err.count("\n") == 1 and err.startswith("run stopped: run ") and "interrupted" in err, err
    assert "Traceback" not in err + out
    assert not project_path("runs", project_run).exists()  # no complete run was made
    record = json.loads(project_path("runs", f"{project_run}.failed", "run.json").read_text())
    assert record["status"] == "interrupted"


def test_sigkill_leaves_no_run_and_the_next_run_starts_clean(project_run):
    proc = _cli(project_run)
    staging = project_path("runs", f".{project_run}.staging")
    _wait_for(staging / "notebooks" / "03_cleaning.ipynb")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert not project_path("runs", project_run).exists() and staging.exists()
    # the lock died with the process; the next run clears the staging folder first
    with run_lock("runs", project_run):
        run_store._recover(project_path("runs"), project_run)
    assert not staging.exists()
