"""The cleaning notebook run by papermill: a bad input stops it with the report and writes nothing."""

import papermill as pm
import pytest

from microcalc.paths import project_path


def test_bad_input_fails_the_notebook_with_the_report_and_writes_nothing(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    executed = tmp_path / "executed.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(
            str(project_path("notebooks/03_cleaning.ipynb")), str(executed),
            parameters={"data_dir": str(project_path("tests/inputs/bad/age_text")),
                        "output_dir": str(out_dir)},
            kernel_name="python3", cwd=str(project_path("notebooks")), progress_bar=False)
    assert "CleaningError" in err.value.ename
    assert "row 5, column 'age': value 'forty': not a whole number" in err.value.evalue
    assert list(out_dir.rglob("*")) == []
    assert executed.exists()  # papermill keeps the failed notebook for the user to read


def test_notebook_writes_under_output_dir_only(tmp_path):
    executed = tmp_path / "executed.ipynb"
    pm.execute_notebook(
        str(project_path("notebooks/03_cleaning.ipynb")), str(executed),
        parameters={"data_dir": "tests/inputs/messy/canonical", "output_dir": str(tmp_path / "run")},
        kernel_name="python3", cwd=str(project_path("notebooks")), progress_bar=False)
    written = sorted(p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*")
                     if p.is_file())
    assert written == ["data/processed/03_bone_cohort.parquet", "data/processed/03_nact_cohort.parquet",
                       "data/results/03_missing_bone_cohort.csv", "data/results/03_missing_nact_cohort.csv",
                       "data/results/03_participant_flow.csv", "figures/03_participant_flow.png",
                       "figures/03_participant_flow.svg"]
