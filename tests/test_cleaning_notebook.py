"""The cleaning notebook run by papermill: a bad input stops it with the report and writes nothing;
a valid one says how each file was read."""

import re

import nbformat
import papermill as pm
import pytest

from microcalc.core.paths import project_path


def _run(data_dir, output_dir, executed):
    return pm.execute_notebook(
        str(project_path("notebooks/03_cleaning.ipynb")),
        str(executed),
        parameters={"data_dir": str(data_dir), "output_dir": str(output_dir)},
        kernel_name="python3",
        cwd=str(project_path("notebooks")),
        progress_bar=False,
    )


def _outputs_text(path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    return "\n".join(
        str(o.get("text", "")) + str(o.get("data", "")) + str(o.get("evalue", "")) + "".join(o.get("traceback", []))
        for c in nb.cells
        for o in c.get("outputs", [])
    )


def test_bad_input_fails_the_notebook_with_the_report_and_writes_nothing(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    executed = tmp_path / "executed.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as err:
        _run(project_path("tests/inputs/bad/age_text"), out_dir, executed)
    assert "CleaningError" in err.value.ename
    assert "row 5, column 'age': value 'forty': not a whole number" in err.value.evalue
    assert "How the files were read: nact_cohort.csv (ASCII, comma)" in err.value.evalue
    assert list(out_dir.rglob("*")) == []
    assert executed.exists()  # papermill keeps the failed notebook for the user to read


def test_a_failed_run_on_bad_ids_shows_no_patient_id(tmp_path):
    executed = tmp_path / "executed.ipynb"
    with pytest.raises(pm.PapermillExecutionError):
        _run(project_path("tests/inputs/bad/id_duplicate_with_padding"), tmp_path / "out", executed)
    text = _outputs_text(executed)
    assert "same id as row 2" in text
    assert not re.search(r"SYN-(?:NACT|BONE)-\d", text)


def test_notebook_writes_under_output_dir_only_and_says_how_it_read(tmp_path):
    executed = tmp_path / "executed.ipynb"
    _run("tests/inputs/messy/utf16_txt_excel_unicode_text", tmp_path / "run", executed)
    written = sorted(p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*") if p.is_file())
    assert written == [
        "data/processed/03_bone_cohort.parquet",
        "data/processed/03_nact_cohort.parquet",
        "data/results/03_missing_bone_cohort.csv",
        "data/results/03_missing_nact_cohort.csv",
        "data/results/03_participant_flow.csv",
        "figures/03_participant_flow.png",
        "figures/03_participant_flow.svg",
    ]
    nb = nbformat.read(str(executed), as_version=4)
    shown_reading = "cleaning_page.reading_display(frames.reading)"
    reading = next(c for c in nb.cells if c.cell_type == "code" and c.source == shown_reading)
    shown = reading.outputs[0]["data"]["text/plain"]
    assert shown.count("UTF-16 with BOM") == 2 and shown.count("tab") == 2
