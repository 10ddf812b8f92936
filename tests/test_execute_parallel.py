"""The parallel notebook runner of `make notebooks` (microcalc.pipeline.runner.run_parallel)."""

import json

import nbformat
import pytest

from microcalc.pipeline.runner import KERNEL_START_FAILED, dependencies, run_parallel


def _notebook(path, log, body, extra=""):
    """A notebook: parameters, imports, then a cell that logs its start and end and runs ``body``."""
    cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import json, time"),
        nbformat.v4.new_code_cell(
            f"t0 = time.time()\n{body}\n"
            f"open({str(log)!r}, 'a').write(json.dumps([{path.name!r}, t0, time.time()]) + '\\n')"
        ),
        nbformat.v4.new_code_cell(extra or "x"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _log(log):
    return {r[0]: r[1:] for r in map(json.loads, log.read_text().splitlines())}


def test_dependencies_follow_the_data_flow(tmp_path):
    names = ["01_a", "02_b", "03_c", "04_d", "05_e", "06_f", "07_g", "08_h", "09_i", "10_j"]
    nbs = [tmp_path / f"{n}.ipynb" for n in names]
    deps = {k.name[:2]: sorted(d.name[:2] for d in v) for k, v in dependencies(nbs).items()}
    assert deps == {
        "01": [],
        "02": ["01"],
        "03": ["02"],
        "04": ["03"],
        "05": ["03"],
        "06": ["03"],
        "07": ["04", "05", "06"],
        "08": ["02"],
        "09": ["02"],
        # a notebook not in DEPENDS waits for every earlier one
        "10": ["01", "02", "03", "04", "05", "06", "07", "08", "09"],
    }


@pytest.mark.slow
def test_each_notebook_waits_for_its_inputs_and_independent_ones_overlap(tmp_path):
    log = tmp_path / "log.jsonl"
    nbs = [
        _notebook(tmp_path / "01_a.ipynb", log, "time.sleep(1.5)"),
        _notebook(tmp_path / "02_b.ipynb", log, "time.sleep(0.2)"),
        _notebook(tmp_path / "03_c.ipynb", log, "time.sleep(0.2)"),
        _notebook(tmp_path / "04_d.ipynb", log, "time.sleep(2)"),
        _notebook(tmp_path / "05_e.ipynb", log, "time.sleep(2)"),
        _notebook(tmp_path / "07_g.ipynb", log, "time.sleep(0.1)"),
    ]
    timings = tmp_path / "times.tsv"
    assert run_parallel(nbs, timings) == 0
    t = _log(log)
    assert t["02_b.ipynb"][0] >= t["01_a.ipynb"][1]
    assert t["03_c.ipynb"][0] >= t["02_b.ipynb"][1]
    assert min(t["04_d.ipynb"][0], t["05_e.ipynb"][0]) >= t["03_c.ipynb"][1]
    assert t["07_g.ipynb"][0] >= max(t["04_d.ipynb"][1], t["05_e.ipynb"][1])
    # 04 and 05 ran at the same time
    assert t["05_e.ipynb"][0] < t["04_d.ipynb"][1] and t["04_d.ipynb"][0] < t["05_e.ipynb"][1]
    rows = [line.split("\t") for line in timings.read_text().splitlines()]
    assert sorted(r[0] for r in rows) == sorted(nb.as_posix() for nb in nbs)
    assert all(float(r[1]) <= float(r[2]) for r in rows)
    for nb in nbs:  # executed in place, no leftovers
        assert all(c.execution_count for c in nbformat.read(nb, 4).cells)
    assert not list(tmp_path.glob(".*.running.ipynb"))


@pytest.mark.slow
def test_a_failure_stops_the_notebooks_that_read_from_it_and_leaves_them_untouched(tmp_path):
    log = tmp_path / "log.jsonl"
    nbs = [
        _notebook(tmp_path / "01_a.ipynb", log, "pass"),
        _notebook(tmp_path / "02_b.ipynb", log, "pass", extra="raise ValueError('boom')"),
        _notebook(tmp_path / "03_c.ipynb", log, "pass"),
    ]
    before = nbs[2].read_bytes()
    assert run_parallel(nbs) == 1
    assert set(_log(log)) == {"01_a.ipynb", "02_b.ipynb"}
    assert nbs[2].read_bytes() == before  # 03 never ran and was not rewritten
    failed = nbformat.read(nbs[1], 4)  # 02 holds its error, as a sequential run leaves it
    assert any(o.get("ename") == "ValueError" for c in failed.cells if c.cell_type == "code" for o in c.outputs)
    assert not list(tmp_path.glob(".*.running.ipynb"))


@pytest.mark.slow
def test_a_kernel_that_fails_to_start_is_tried_again(tmp_path, monkeypatch):
    """A worker that exits with KERNEL_START_FAILED (a port race) is started again."""
    import microcalc.pipeline.runner as ex

    log = tmp_path / "log.jsonl"
    nbs = [_notebook(tmp_path / "01_a.ipynb", log, "pass"), _notebook(tmp_path / "02_b.ipynb", log, "pass")]
    real_start, calls = ex._start_worker, []

    class KernelDidNotStart:
        def poll(self):
            return KERNEL_START_FAILED

        def go(self):
            pass

        abort = go

    def flaky_start(nb):
        calls.append(str(nb))
        if str(nb).endswith("02_b.ipynb") and calls.count(str(nb)) == 1:
            return KernelDidNotStart()
        return real_start(nb)

    monkeypatch.setattr(ex, "_start_worker", flaky_start)
    assert run_parallel(nbs) == 0
    assert calls.count(str(nbs[1])) == 2
    assert set(_log(log)) == {"01_a.ipynb", "02_b.ipynb"}
