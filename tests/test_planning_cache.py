"""Notebook 09's cache of its simulated grids: reused byte for byte, invalidated by any input change.

The same mechanism as notebook 02's scan cache (``synthesize.cached_frame``, tested in
``test_synthesize_cache.py`` for the library source and package versions); here: every argument
of a grid and every file the simulations read enter the key.
"""

import copy
import json

import pandas as pd
import pytest

from microcalc import planning, planning_checks

GRID = {"cohort": "nact_cohort", "sizes": (60, 90), "ors": {"published": 2.0}, "reps": 8}


@pytest.fixture(autouse=True)
def small_pools(monkeypatch):
    """Covariate pools of a few thousand patients (the grids here are tiny); the per-process pool cache
    is emptied before and after, so no other test sees them."""
    planning.covariate_pool.cache_clear()
    monkeypatch.setattr(planning, "POOL_SIZES", {"nact_cohort": 1500, "bone_cohort": 3000})
    yield
    planning.covariate_pool.cache_clear()


def _grid(cache=None, **changed):
    return planning.power_grid(**{**GRID, **changed}, workers=1, cache=cache)


def test_a_rerun_reads_the_cache_and_gets_the_same_bytes(tmp_path):
    fresh = _grid()
    first = _grid(tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("power_grid-")
    stored = files[0].read_bytes()
    again = _grid(tmp_path)
    for got in (first, again):
        pd.testing.assert_frame_equal(got, fresh, check_exact=True)
        assert got.to_csv(float_format="%r") == fresh.to_csv(float_format="%r")
    assert files[0].read_bytes() == stored
    # the second call read the file: a planted value comes back (so the file is what is used)
    planted = json.loads(stored)
    planted[0]["power"] = 0.123
    files[0].write_text(json.dumps(planted))
    assert _grid(tmp_path)["power"].iloc[0] == 0.123


def test_the_closed_form_comparison_is_cached_the_same_way(tmp_path):
    args = {"cohort": "nact_cohort", "odds_ratio": 2.0, "sizes": (60,), "reps": 8, "workers": 1}
    fresh = planning_checks.closed_form_comparison(**args)
    for _ in range(2):
        pd.testing.assert_frame_equal(
            planning_checks.closed_form_comparison(**args, cache=tmp_path), fresh, check_exact=True
        )
    assert [f.name.split("-")[0] for f in tmp_path.iterdir()] == ["closed_form_comparison"]


def _changed_inputs():
    """The files the simulations read, each changed a little (as :func:`planning.simulation_inputs` gives them)."""
    base = planning.simulation_inputs()
    out = {}
    cal = copy.deepcopy(base)
    cal["calibration"]["nact"]["seed"] += 1
    out["calibration"] = cal
    assumptions = copy.deepcopy(base)
    first = next(iter(assumptions["assumptions"]))
    assumptions["assumptions"][first] = {"changed": assumptions["assumptions"][first]}
    out["assumptions"] = assumptions
    recon = copy.deepcopy(base)
    name = next(iter(recon["reconstructed"]))
    recon["reconstructed"][name] = recon["reconstructed"][name].copy()
    recon["reconstructed"][name].flat[0] += 1
    out["reconstructed tables"] = recon
    bundled = copy.deepcopy(base)
    bundled["bundled"]["bone_cohort"] = "0" * 64
    out["bundled bone cohort file"] = bundled
    return out


@pytest.mark.parametrize("what", ["calibration", "assumptions", "reconstructed tables", "bundled bone cohort file"])
def test_a_change_to_a_file_the_simulation_reads_recomputes(tmp_path, monkeypatch, what):
    _grid(tmp_path)
    stored = next(tmp_path.iterdir())
    planted = json.loads(stored.read_text())
    planted[0]["power"] = 0.123  # a stale result that must not be read back
    stored.write_text(json.dumps(planted))
    changed = _changed_inputs()[what]
    monkeypatch.setattr(planning, "simulation_inputs", lambda: changed)
    got = _grid(tmp_path)
    assert got["power"].iloc[0] != 0.123
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize("what", ["cohort", "sizes", "ors", "reps", "model", "seed"])
def test_a_change_to_an_argument_gives_another_entry(tmp_path, what):
    changed = {
        "cohort": {"cohort": "bone_cohort", "sizes": (200,)},
        "sizes": {"sizes": (60, 91)},
        "ors": {"ors": {"published": 2.5}},
        "reps": {"reps": 9},
        "model": {"model": "univariable"},
        "seed": {"seed": planning.PLAN_SEED + 1},
    }[what]
    base = _grid(tmp_path)
    got = _grid(tmp_path, **changed)
    assert len(list(tmp_path.iterdir())) == 2
    pd.testing.assert_frame_equal(got, _grid(**changed), check_exact=True)
    assert not got.equals(base)


def test_simulation_inputs_name_what_the_simulations_read():
    inputs = planning.simulation_inputs()
    assert set(inputs) == {"calibration", "assumptions", "reconstructed", "bundled"}
    assert set(inputs["bundled"]) == {"nact_cohort", "bone_cohort"}
    assert all(len(h) == 64 for h in inputs["bundled"].values())
