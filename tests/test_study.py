"""The study specification is consistent with the published abstract and with the results the notebooks write.

Reference: ``data/published/abstract_statistics.csv`` (the abstract as printed) and the committed
``data/results/NN_results.csv``.
"""

import pandas as pd

from microcalc import study
from microcalc.analysis.results import ESTIMATORS
from microcalc.replicate import load_results


def test_every_published_id_of_the_specification_is_in_the_abstract(published):
    ids = [i for m in study.OR_IDS.values() for i in m.values()]
    ids += [
        i for pair in study.RATE_IDS.values() for i in pair if i not in ("nact_pcr_necrosis", "nact_pcr_no_necrosis")
    ]
    ids += list(study.COMPARISON_IDS.values()) + list(study.CLAIM_IDS.values()) + list(study.NOT_SIGNIFICANT)
    ids += list(study.COUNT_SOURCES) + list(study.COUNT_SOURCES.values()) + list(study.MAIN_ESTIMATES)
    ids += list(study.FINDING_IDS)
    assert sorted(set(ids) - set(published.index)) == []


def test_model_terms_start_with_the_exposure_and_the_claims_name_model_terms():
    for _outcome, terms in study.MODELS.values():
        assert terms[0] == study.EXPOSURE and len(set(terms)) == len(terms)
    assert set(study.NOT_SIGNIFICANT.values()) <= set(study.NACT_TERMS)
    for _outcome, terms, _ in study.FLOW.values():
        assert terms[0] == study.EXPOSURE


def test_every_estimate_the_study_selects_is_one_row_of_the_committed_results(root):
    results = load_results(root)
    assert set(study.MAIN_ESTIMATES.values()) <= set(ESTIMATORS)
    for ident, estimator in study.MAIN_ESTIMATES.items():  # one estimate; 04 and 05 both write the necrosis OR
        rows = results[(results["id"] == ident) & (results["estimator"] == estimator)]
        assert len(rows) >= 1 and rows["estimate"].nunique() == 1 and len(rows) == rows["source"].nunique(), ident
    for f in study.FINDINGS:
        rows = results[(results["id"] == f.id) & (results["estimator"] == f.estimator)]
        if f.table_shape:
            rows = rows[rows["table_shape"] == f.table_shape]
        assert len(rows) >= 1 and len(rows) == rows["source"].nunique() and f.estimator in ESTIMATORS, f.id


def test_is_bundled_is_true_for_the_bundled_folder_only(tmp_path):
    assert study.is_bundled(study.BUNDLED_DATA_DIR) and study.is_bundled("data/../data/raw")
    assert not study.is_bundled("data") and not study.is_bundled(tmp_path)


def test_the_report_takes_a_run_as_synthetic_by_its_data_folder(tmp_path):
    from microcalc.pipeline.report import _data_dir_of

    assert study.is_bundled(_data_dir_of(tmp_path))  # the project's own run reads the bundled data
    pd.Series({"data_dir": "sites/a"}).to_json(tmp_path / "run.json")
    assert _data_dir_of(tmp_path) == "sites/a" and not study.is_bundled(_data_dir_of(tmp_path))
