"""Notebooks 03-06 finish on every class of sparse cohorts and say what is not estimable.

Each class of ``tests/inputs/sparse/`` (see its README) is run through the
site runner into a temporary folder. The results files must hold
``not estimable: <reason>`` rows where the data cannot give an estimate, the
other estimates must exist, and the notebooks must say the same in their text.
Slow (a kernel per notebook): marked ``slow``; ``make test`` runs them.
"""

import json

import numpy as np
import pytest

from microcalc.analysis.results import read_results
from microcalc.core.paths import project_root
from microcalc.pipeline.run import run_pipeline

pytestmark = pytest.mark.slow

CLASSES = ("zero_events_in_group", "absent_level", "rank_deficient", "one_exposure_group", "one_centre", "tiny")


@pytest.fixture(scope="module", params=CLASSES)
def run(request, tmp_path_factory):
    runs_root = tmp_path_factory.mktemp("sparse")
    folder = run_pipeline(
        f"tests/inputs/sparse/{request.param}",
        request.param,
        ["03", "04", "05", "06"],
        runs_root=runs_root,
        report=False,
        log=lambda *_: None,
    )
    results = {nb: read_results(folder / "data" / "results" / f"{nb}_results.csv") for nb in ("04", "05", "06")}
    text = {}
    for nb in (folder / "notebooks").glob("*.ipynb"):
        text[nb.name[:2]] = json.dumps([c.get("outputs", []) for c in json.loads(nb.read_text())["cells"]])
    return request.param, folder, results, text


def _row(frame, ident, method_part=""):
    sub = frame[(frame["id"] == ident) & frame["method"].str.contains(method_part, regex=False)]
    assert len(sub) >= 1, (ident, method_part)
    return sub.iloc[0]


def _not_estimable(frame, ident, reason):
    row = _row(frame, ident)
    assert row["method"].startswith(f"not estimable: {reason}"), (ident, row["method"])
    assert np.isnan(row["estimate"]) and np.isnan(row["p"])


def _estimated(frame, ident, method_part=""):
    row = _row(frame, ident, method_part)
    assert not row["method"].startswith("not estimable"), (ident, row["method"])
    assert np.isfinite(row["estimate"]) or np.isfinite(row["p"]), ident


def test_every_notebook_finishes_and_shows_no_error_or_path(run):
    name, folder, results, text = run
    assert sorted(text) == ["03", "04", "05", "06"]
    for nb, outputs in text.items():
        assert '"output_type": "error"' not in outputs, (name, nb)
        assert str(project_root()) not in outputs and "/site-packages/" not in outputs, (name, nb)
    for nb, frame in results.items():
        assert not frame.empty
        ne = frame[frame["method"].str.startswith("not estimable")]
        assert ne[["estimate", "ci_low", "ci_high", "p"]].isna().all().all(), (name, nb)
        # what is not estimable in the results file is said so in the notebook's text
        assert all(m.replace('"', '\\"') in text[nb] for m in ne["method"]), (name, nb)


def test_the_class_gives_not_estimable_rows_and_the_other_estimates(run):
    name, folder, results, text = run
    r04, r05, r06 = results["04"], results["05"], results["06"]
    if name == "zero_events_in_group":
        for ident in ("nact_or_calc_uni", "nact_or_calc_multi"):
            _not_estimable(r04, ident, "separation")
        _estimated(r04, "nact_or_firth_microcalcification")
        assert _row(r04, "nact_pcr_calc")["ci_low"] == 0.0  # 0 pCR of n: the Wilson CI starts at exactly 0
        _not_estimable(r06, "bone_or_calc_uni", "separation")
        _estimated(r06, "bone_or_firth_microcalcification")
        assert _row(r06, "bone_met_nocalc")["ci_low"] == 0.0
        _estimated(r04, "nact_pcr_compare", "Fisher")
    elif name == "absent_level":
        _not_estimable(r04, "nact_or_multi_pathology_type[lobular]", "no patient in the model's data has")
        _not_estimable(r04, "nact_or_uni_breast_density[a]", "no patient in the model's data has")
        _not_estimable(r06, "bone_or_multi_t_stage[T4]", "no patient in the model's data has")
        for frame, ident in (
            (r04, "nact_or_calc_multi"),
            (r04, "nact_or_multi_breast_density[c]"),
            (r06, "bone_or_calc_multi"),
            (r06, "bone_type_compare"),
        ):
            _estimated(frame, ident)
        assert "so that level is dropped" in text["04"] and "so that level is dropped" in text["06"]
        assert "b is the reference" in text["04"]  # density a, the reference, is absent
    elif name == "rank_deficient":
        _not_estimable(r04, "nact_or_multi_mass", "rank-deficient design")
        _not_estimable(r06, "bone_or_multi_n_stage[N3]", "rank-deficient design")
        for frame, ident in (
            (r04, "nact_or_calc_multi"),
            (r04, "nact_or_uni_mass"),
            (r05, "nact_or_necrosis_multi"),
            (r06, "bone_or_calc_multi"),
            (r06, "bone_or_multi_t_stage[T4]"),
        ):
            _estimated(frame, ident)
        assert "separation" not in " ".join(r04["method"]) + " ".join(r06["method"])
    elif name == "one_exposure_group":
        for frame, prefix in ((r04, "nact_pcr"), (r05, "nact_necrosis"), (r06, "bone_met")):
            compare = frame[frame["id"] == f"{prefix}_compare"]
            assert len(compare) and compare["method"].str.startswith("not estimable: no patient in one").all()
            _not_estimable(frame, f"{prefix}_nocalc", "no patient with microcalcification = no")
            _estimated(frame, f"{prefix}_calc")
        _not_estimable(
            r04, "nact_or_calc_uni", "rank-deficient design: every patient in the model has microcalcification"
        )
        _not_estimable(
            r06, "bone_or_calc_multi", "rank-deficient design: every patient in the model has microcalcification"
        )
        _estimated(r04, "nact_or_multi_age")
        _estimated(r06, "bone_or_multi_age")
    elif name == "one_centre":
        _not_estimable(r06, "bone_or_calc_pooled_dl", "pooling needs at least 2 centres")
        _not_estimable(r06, "bone_or_calc_multi_cluster", "cluster-robust standard errors need at least 2")
        for ident in ("bone_or_calc_multi", "bone_or_calc_uni", "bone_or_calc_multi_centre", "bone_epv_multi"):
            _estimated(r06, ident)
        assert (folder / "figures" / "06_forest_by_centre.png").is_file()
    elif name == "tiny":
        _estimated(r04, "nact_pcr_calc")
        _estimated(r06, "bone_met_calc")
        table1 = (folder / "data" / "results" / "04_table1_nact.csv").read_text()
        assert "suppressed (n < 10)" in table1 and "cells suppressed" in text["04"]
        assert "suppressed (n < 10)" in (folder / "data" / "results" / "06_table1_bone.csv").read_text()
