"""The library source a cached step depends on (microcalc.core.sources) and the cache key built from it."""

import shutil
from pathlib import Path

import pytest

from microcalc.cohorts import provenance
from microcalc.core import cache
from microcalc.core.sources import imported_modules, module_closure

LIB = Path(provenance.__file__).parents[1]


def _names(files):
    return {p.relative_to(LIB).as_posix() for p in files}


def test_the_closure_follows_imports_anywhere_in_a_module_and_takes_the_packages_init():
    names = _names(module_closure(["microcalc.planning"], LIB))
    # planning imports analysis.models and the study at the top, cohorts.synthesize inside a function
    assert {"planning.py", "analysis/models.py", "study.py", "cohorts/synthesize.py", "cohorts/generate.py"} <= names
    assert {"__init__.py", "analysis/__init__.py", "cohorts/__init__.py"} <= names  # packages run on import
    # what the simulation never runs: pages, wording, the pipeline
    assert not names & {"pipeline/report.py", "narrative/sentences.py", "labels.py", "replicate/scorecard.py"}


def test_relative_and_submodule_imports_are_resolved():
    assert imported_modules("from . import models", "microcalc.analysis", is_package=True) == {
        "microcalc.analysis",
        "microcalc.analysis.models",
    }
    assert imported_modules("from ..core import paths", "microcalc.analysis.stats") == {
        "microcalc.core",
        "microcalc.core.paths",
    }
    assert imported_modules("import numpy, microcalc.study as s", "microcalc.x") == {"microcalc.study"}


@pytest.fixture
def library_copy(tmp_path, monkeypatch):
    lib = tmp_path / "microcalc"
    shutil.copytree(LIB, lib, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    monkeypatch.setattr(cache, "_LIBRARY", lib)
    return lib


def test_a_step_keyed_on_its_modules_changes_key_with_their_code_only(library_copy):
    inputs = {"seed": 1, "strengths": [0.5]}
    modules = ("microcalc.cohorts.subtype_scan",)
    base = provenance.cache_key("subtype_strength_scan", modules, **inputs)
    whole = provenance.cache_key("subtype_strength_scan", **inputs)
    page = library_copy / "narrative" / "sentences.py"
    page.write_text(page.read_text() + "\n# reworded\n")
    assert provenance.cache_key("subtype_strength_scan", modules, **inputs) == base  # wording: result kept
    assert provenance.cache_key("subtype_strength_scan", **inputs) != whole  # the whole-library key moves
    models = library_copy / "analysis" / "models.py"
    models.write_text(models.read_text() + "\n# changed\n")
    assert provenance.cache_key("subtype_strength_scan", modules, **inputs) != base  # code the scan runs: recomputed
