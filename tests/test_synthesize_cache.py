"""Notebook 02's cache of the subtype-strength scan: reused byte for byte, invalidated by any input change."""

import copy
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from microcalc.cohorts import synthesize
from microcalc.core import cache as core_cache

LIBRARY = core_cache._LIBRARY

SMALL = {"seeds": 2, "strengths": [1.0, 0.0]}


@pytest.fixture(scope="module")
def inputs():
    cal = synthesize.load_calibration()
    return {
        "trial": {k: cal["nact"][k] for k in ("necrosis_table", "pcr_split")},
        "assumptions": synthesize.load_assumptions(),
        "reconstructed": synthesize.load_reconstructed(),
        "base_seed": synthesize.DEFAULT_SEED,
        **SMALL,
    }


def _key(i, modules=None):
    """The key over the whole library (``modules`` None), or over the source ``modules`` can run."""
    return synthesize.cache_key(
        "subtype_strength_scan", modules, **{**i, "strengths": [float(s) for s in i["strengths"]]}
    )


#: The scan keys its cache on the code it can run (microcalc.core.sources).
SCAN = ("microcalc.cohorts.subtype_scan",)


def test_a_rerun_reads_the_cache_and_gets_the_same_floats(tmp_path, inputs):
    fresh = synthesize.subtype_strength_scan(**inputs)
    first = synthesize.subtype_strength_scan(**inputs, cache=tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name == f"subtype_strength_scan-{_key(inputs, SCAN)}.json"
    stored = files[0].read_bytes()
    again = synthesize.subtype_strength_scan(**inputs, cache=tmp_path)
    for got in (first, again):
        pd.testing.assert_frame_equal(got, fresh, check_exact=True)
        assert got.to_numpy().tobytes() == fresh.to_numpy().tobytes()
    assert files[0].read_bytes() == stored
    # the second call read the file: a planted value comes back (so the file is what is used)
    planted = json.loads(stored)
    planted[0]["median_p"] = 0.123
    files[0].write_text(json.dumps(planted))
    assert synthesize.subtype_strength_scan(**inputs, cache=tmp_path)["median_p"].iloc[0] == 0.123


def _changes(i):
    """Every input of the scan, each changed a little."""
    a = copy.deepcopy(i["assumptions"])
    first_cohort = next(iter(a))
    first_item = next(iter(a[first_cohort]))
    a[first_cohort][first_item] = {"changed": a[first_cohort][first_item]}
    r = {k: v.copy() for k, v in i["reconstructed"].items()}
    name = next(iter(r))
    r[name].flat[0] += 1
    t = copy.deepcopy(i["trial"])
    t["necrosis_table"] += 1
    split = copy.deepcopy(i["trial"])
    first_cell = next(iter(split["pcr_split"]))
    split["pcr_split"][first_cell] += 1
    return {
        "assumptions": {**i, "assumptions": a},
        "reconstructed": {**i, "reconstructed": r},
        "necrosis table": {**i, "trial": t},
        "pCR split": {**i, "trial": split},
        "base seed": {**i, "base_seed": i["base_seed"] + 1},
        "seeds": {**i, "seeds": 3},
        "strengths": {**i, "strengths": [1.0, 0.5]},
    }


def test_any_input_change_gives_another_key(inputs):
    base = _key(inputs)
    keys = {what: _key(changed) for what, changed in _changes(inputs).items()}
    assert all(k != base for k in keys.values()), keys
    assert len(set(keys.values())) == len(keys)
    assert _key(copy.deepcopy(inputs)) == base  # and equal inputs give the same key


def test_a_change_to_the_library_source_or_a_package_version_gives_another_key(inputs, tmp_path, monkeypatch):
    base = _key(inputs)
    lib = tmp_path / "microcalc"
    shutil.copytree(core_cache._LIBRARY, lib, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    monkeypatch.setattr(core_cache, "_LIBRARY", lib)
    assert _key(inputs) == base
    stats = lib / "analysis" / "stats.py"
    stats.write_text(stats.read_text() + "\n# changed\n")
    assert _key(inputs) != base
    monkeypatch.setattr(core_cache, "_LIBRARY", LIBRARY)
    real = core_cache._environment()
    monkeypatch.setattr(core_cache, "_environment", lambda: real.replace("statsmodels==", "statsmodels==0.0.0+was-"))
    assert _key(inputs) != base


def test_a_changed_input_recomputes_instead_of_reading_the_old_result(tmp_path, inputs):
    synthesize.subtype_strength_scan(**inputs, cache=tmp_path)
    changed = {**inputs, "base_seed": inputs["base_seed"] + 7}
    got = synthesize.subtype_strength_scan(**changed, cache=tmp_path)
    pd.testing.assert_frame_equal(got, synthesize.subtype_strength_scan(**changed), check_exact=True)
    assert len(list(tmp_path.iterdir())) == 2
    assert np.isfinite(got["median_p"]).all()


def test_a_module_in_a_sub_package_of_the_library_enters_the_key(inputs, tmp_path, monkeypatch):
    lib = tmp_path / "microcalc"
    shutil.copytree(core_cache._LIBRARY, lib, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    (lib / "analysis").mkdir(exist_ok=True)
    (lib / "analysis" / "sub.py").write_text("X = 1\n")
    monkeypatch.setattr(core_cache, "_LIBRARY", lib)
    base = _key(inputs)
    (lib / "analysis" / "sub.py").write_text("X = 2\n")
    assert _key(inputs) != base
