"""Parallel site runs and simulations: the local process pool and the Dask path (a LocalCluster of two workers)."""

import math

import pytest

from microcalc.pipeline.bundle import validate_bundle
from microcalc.pipeline.distributed import backend_name, parallel_map, run_site


def test_the_local_pool_returns_results_in_order():
    items = [12, 3, 7, 1, 9]
    assert parallel_map(math.factorial, items, workers=2) == [math.factorial(i) for i in items]
    assert parallel_map(math.factorial, items, workers=1) == [math.factorial(i) for i in items]
    assert backend_name(workers=1) == "in process" and backend_name(workers=2) == "local pool of 2 processes"
    with pytest.raises(ValueError, match="at least 1"):
        parallel_map(math.factorial, items, workers=0)


def test_an_error_in_a_task_reaches_the_caller():
    with pytest.raises(ValueError):
        parallel_map(math.factorial, [3, -1], workers=2)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def test_dask_runs_tasks_on_two_workers(cluster):
    assert parallel_map(math.factorial, [5, 6, 7], scheduler=cluster) == [120, 720, 5040]
    assert backend_name(scheduler=cluster).startswith("dask tcp://")
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        assert len(client.scheduler_info()["workers"]) == 2


@pytest.mark.slow
def test_site_runs_through_dask_are_transactional_and_write_bundles(cluster, tmp_path):
    tasks = [
        {"name": name, "data_dir": "data/raw", "runs_root": str(tmp_path), "notebooks": ["03"], "report": False}
        for name in ("site_a", "site_b")
    ]
    tasks.append(
        {
            "name": "site_bad",
            "data_dir": "tests/inputs/bad/age_text",
            "runs_root": str(tmp_path),
            "notebooks": ["03"],
            "report": False,
        }
    )
    done = parallel_map(run_site, tasks, scheduler=cluster)
    assert [d["name"] for d in done] == ["site_a", "site_b", "site_bad"]
    for d in done[:2]:
        assert "error" not in d, d
        assert validate_bundle(tmp_path / d["name"] / "bundle")["site"] == d["name"]
        assert (tmp_path / d["name"] / "run.json").is_file()
    assert "03_cleaning" in done[2]["error"] and not (tmp_path / "site_bad").exists()
    assert (tmp_path / "site_bad.failed" / "run.json").is_file()


@pytest.mark.slow
def test_planning_gives_the_same_power_on_dask_as_in_process(cluster):
    import pandas as pd

    from microcalc.planning import power_grid

    args = ("bone_cohort", [300, 600], {"published": 2.55}, 500)
    local = power_grid(*args, model="univariable", workers=1)
    dask = power_grid(*args, model="univariable", scheduler=cluster)
    pd.testing.assert_frame_equal(local, dask)
