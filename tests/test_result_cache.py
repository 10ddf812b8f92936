"""Results kept under a key of everything they depend on (microcalc.core.cache): exact reuse, and any change recomputes.

``make all`` sets ``MICROCALC_RESULT_CACHE``; the bootstrap validation, the
multiple imputation and the paper's reconstruction are then read back on a rerun
whose data, arguments, code and package versions are unchanged. These tests show that what is read back is
the computed result bit for bit, that every kind of change gives another key
(so a stale result is never read), and that nothing is kept without the
variable (tests, nbval and a site's run compute every time).
"""

import os
import pickle
import shutil
import uuid

import numpy as np
import pandas as pd
import pytest

from microcalc.analysis import imputation, validation
from microcalc.core import cache

TERMS = ["f", "x", "b"]


@pytest.fixture
def inside(root):
    """A fresh folder inside the project's git-ignored .cache (the cache refuses folders outside the project)."""
    folder = root / ".cache" / f"test-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def kept(inside, monkeypatch):
    """Keep results in a temporary folder, as make all does in .cache/results."""
    monkeypatch.setenv(cache.ENV, str(inside.relative_to(inside.parents[1])))
    return inside


@pytest.fixture
def fits(monkeypatch):
    """Count the logistic fits of the bootstrap."""
    calls = []
    real = validation._fit

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(validation, "_fit", counting)
    return calls


def test_without_the_variable_nothing_is_kept_and_every_call_computes(glm_data, fits, tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV, raising=False)
    validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    first = len(fits)
    validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    assert first >= 20 and len(fits) == 2 * first
    assert cache.cache_folder() is None


def test_a_rerun_reads_back_the_bootstrap_bit_for_bit_without_refitting(glm_data, kept, fits, monkeypatch):
    computed = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    assert len(fits) >= 20 and len(list(kept.iterdir())) == 1
    before = len(fits)
    again = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    assert len(fits) == before  # read back: not one refit
    pd.testing.assert_frame_equal(again.table, computed.table, check_exact=True)
    assert (again.n_boot, again.n_used, again.seed, again.method) == (
        computed.n_boot,
        computed.n_used,
        computed.seed,
        computed.method,
    )
    monkeypatch.delenv(cache.ENV)
    fresh = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    pd.testing.assert_frame_equal(again.table, fresh.table, check_exact=True)  # what a recomputation gives


def _changes(d):
    one_value = d.copy()
    one_value.loc[7, "x"] = one_value.loc[7, "x"] + 1e-12
    one_flag = d.copy()
    one_flag.loc[3, "b"] = not bool(one_flag.loc[3, "b"])
    order = d.iloc[::-1].reset_index(drop=True)
    extra_row = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    recoded = d.assign(f=d["f"].cat.rename_categories({"c": "z"}))
    return {
        "a value changed by 1e-12": (one_value, {}),
        "one yes/no flipped": (one_flag, {}),
        "rows in another order": (order, {}),
        "one row more": (extra_row, {}),
        "a level renamed": (recoded, {}),
        "another seed": (d, {"seed": 4}),
        "more replicates": (d, {"n_boot": 21}),
    }


def test_any_change_to_the_data_or_the_arguments_recomputes(glm_data, kept, fits):
    validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    for what, (data, args) in _changes(glm_data).items():
        before = len(fits)
        got = validation.bootstrap_validation(data, "y", TERMS, **{"n_boot": 20, "seed": 3, **args})
        assert len(fits) > before, f"{what}: read back a result of other inputs"
        fresh = validation.bootstrap_validation.__wrapped__(data, "y", TERMS, **{"n_boot": 20, "seed": 3, **args})
        pd.testing.assert_frame_equal(got.table, fresh.table, check_exact=True)
    assert len(list(kept.iterdir())) == 1 + len(_changes(glm_data))


def test_defaults_given_or_left_out_are_one_key(glm_data, kept, fits):
    validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20)
    before = len(fits)
    validation.bootstrap_validation(glm_data, "y", TERMS, 20, 20230314)
    assert len(fits) == before


def test_a_change_to_the_code_the_step_runs_or_to_a_package_version_recomputes(glm_data, tmp_path, monkeypatch):
    key = cache.cache_key("bootstrap", ("microcalc.analysis.validation",), data=glm_data, seed=3)
    lib = tmp_path / "microcalc"
    shutil.copytree(cache._LIBRARY, lib, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    monkeypatch.setattr(cache, "_LIBRARY", lib)
    assert cache.cache_key("bootstrap", ("microcalc.analysis.validation",), data=glm_data, seed=3) == key
    wording = lib / "narrative" / "sentences.py"  # not run by the bootstrap: the kept result stays valid
    wording.write_text(wording.read_text() + "\n# reworded\n")
    assert cache.cache_key("bootstrap", ("microcalc.analysis.validation",), data=glm_data, seed=3) == key
    models = lib / "analysis" / "models.py"  # the fits the bootstrap runs
    models.write_text(models.read_text() + "\n# changed\n")
    assert cache.cache_key("bootstrap", ("microcalc.analysis.validation",), data=glm_data, seed=3) != key
    monkeypatch.setattr(cache, "_LIBRARY", cache.Path(cache.__file__).parents[1])
    assert cache.cache_key("bootstrap", ("microcalc.analysis.validation",), data=glm_data, seed=3) == key
    real = cache._environment()
    assert "firthmodels==" in real  # every package, not only the numerical ones: the imputation runs firthmodels
    upgraded = real.replace("firthmodels==", "firthmodels==0.0.0+upgraded-from-")
    monkeypatch.setattr(cache, "_environment", lambda: upgraded)
    assert cache.cache_key("bootstrap", ("microcalc.analysis.validation",), data=glm_data, seed=3) != key


def test_an_unreadable_kept_result_is_recomputed_and_replaced(glm_data, kept, fits):
    computed = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    (path,) = kept.iterdir()
    path.write_bytes(b"not a pickle")
    before = len(fits)
    again = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    assert len(fits) > before
    pd.testing.assert_frame_equal(again.table, computed.table, check_exact=True)
    assert pickle.loads(path.read_bytes()).n_used == computed.n_used


def test_the_imputation_is_read_back_exactly_and_recomputed_for_another_seed(glm_data, kept, monkeypatch):
    d = glm_data.copy()
    d.loc[np.arange(80) % 6 == 0, "b"] = pd.NA
    computed = imputation.impute_and_pool(d, "y", TERMS, "b", m=3, seed=11)
    draws = []
    real = imputation.rubin_pool
    monkeypatch.setattr(imputation, "rubin_pool", lambda *a, **k: draws.append(1) or real(*a, **k))
    again = imputation.impute_and_pool(d, "y", TERMS, "b", m=3, seed=11)
    assert draws == []  # read back: not imputed again
    pd.testing.assert_frame_equal(again.table, computed.table, check_exact=True)
    other = imputation.impute_and_pool(d, "y", TERMS, "b", m=3, seed=12)
    assert draws == [1]
    assert not np.array_equal(other.table["or"].to_numpy(), computed.table["or"].to_numpy())


def test_digests_tell_apart_what_json_would_not():
    a = pd.DataFrame({"x": [1, 2]})
    assert cache.digest(a) != cache.digest(a.astype("int32"))  # dtype
    assert cache.digest(a) != cache.digest(a.rename(columns={"x": "y"}))  # column name
    assert cache.digest(pd.DataFrame({1: [1]})) != cache.digest(pd.DataFrame({"1": [1]}))  # its type
    assert cache.digest(a) != cache.digest(a.set_axis([5, 6]))  # index
    assert cache.digest(np.arange(3)) != cache.digest(np.arange(3).reshape(3, 1))  # shape
    mixed = pd.DataFrame({"x": pd.Series([1, "a"], dtype=object)})
    assert cache.digest(mixed) != cache.digest(pd.DataFrame({"x": pd.Series(["1", "a"], dtype=object)}))  # 1 vs "1"
    f = pd.DataFrame({"f": pd.Categorical(["a", "b"], categories=["a", "b"])})
    reordered = f.assign(f=f["f"].cat.reorder_categories(["b", "a"]))  # same values, another reference level
    assert cache.digest(f) != cache.digest(reordered)
    with pytest.raises(TypeError, match="no exact key"):
        cache.cache_key("step", ("microcalc.core.cache",), thing=object())


def test_a_folder_that_cannot_be_written_keeps_nothing_but_the_result_is_returned(glm_data, inside, monkeypatch):
    blocked = inside / "blocked"
    blocked.write_text("a file where the folder should be")  # mkdir fails, as on a read-only disk
    monkeypatch.setenv(cache.ENV, str(blocked / "results"))
    with pytest.warns(RuntimeWarning, match="computed but not kept") as caught:
        got = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    assert str(inside) not in str(caught[0].message)  # no path of the machine in the message
    monkeypatch.delenv(cache.ENV)
    fresh = validation.bootstrap_validation(glm_data, "y", TERMS, n_boot=20, seed=3)
    pd.testing.assert_frame_equal(got.table, fresh.table, check_exact=True)


def test_an_argument_without_an_exact_key_is_computed_and_not_kept(kept):
    calls = []

    class Box:
        value = 3

    @cache.reusable
    def double(box):
        calls.append(1)
        return 2 * box.value

    assert double(Box()) == 6 and double(Box()) == 6
    assert len(calls) == 2 and not list(kept.iterdir())


def test_a_folder_outside_the_project_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    with pytest.raises(ValueError, match="inside the project") as err:
        cache.cache_folder()
    assert str(tmp_path) not in str(err.value)


def test_the_paper_reconstruction_is_read_back_without_enumerating_again(kept, monkeypatch, published):
    from microcalc.paper import chain

    computed = chain.reconstruct_paper(published)
    calls = []
    real = chain.reconstruct_2xk
    monkeypatch.setattr(chain, "reconstruct_2xk", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = chain.reconstruct_paper(published)
    assert calls == []  # read back: no 2 x k table enumerated again
    pd.testing.assert_frame_equal(again.consistency(), computed.consistency(), check_exact=True)
    pd.testing.assert_frame_equal(again.overview(), computed.overview(), check_exact=True)
    changed = published.copy()
    changed.loc[changed.index[0], "source"] = str(changed.iloc[0]["source"]) + " (edited)"
    chain.reconstruct_paper(changed)
    assert calls  # another published file: enumerated again


def test_a_site_run_and_the_tests_keep_nothing(monkeypatch, tmp_path):
    from microcalc.pipeline.run_env import _StagingEnvironment

    assert cache.ENV not in os.environ  # the tests' conftest removed it
    monkeypatch.setenv(cache.ENV, ".cache/results")
    with _StagingEnvironment(tmp_path / "final", tmp_path / "staging"):
        assert cache.cache_folder() is None  # the site's kernels inherit no result cache
    assert cache.cache_folder() is not None  # and the caller's environment is restored
