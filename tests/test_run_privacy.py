"""No patient id and no folder of the machine anywhere in a failed run.

Reference: the ``patient_id`` values of the site's input files. A run fails on
a duplicated id (an error whose cleaning report would quote it); neither the
ids nor the project's absolute path may appear in the message, on stdout or
stderr, or in any file of the failed attempt (notebooks, run.json, kernel log).
"""

import shutil
import uuid

import pandas as pd
import pytest

from microcalc.core.paths import project_path
from microcalc.pipeline.run import RunError, main, run_pipeline


@pytest.fixture
def failing_site():
    """site_b's files under data/private/, with one NACT patient's id given to a second patient."""
    tag = f"pytest-{uuid.uuid4().hex[:8]}"
    data = project_path("data/private", tag)
    shutil.copytree(project_path("tests/inputs/sites/site_b"), data)
    nact = data / "nact_cohort.csv"
    lines = nact.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    first = lines[1].split(";")[0]
    lines[5] = first + lines[5][lines[5].index(";") :]
    nact.write_text("\ufeff" + "".join(lines), encoding="utf-8")
    ids = set(pd.read_csv(nact, sep=";", dtype=str, encoding="utf-8-sig")["patient_id"])
    ids |= set(pd.read_csv(data / "bone_cohort.csv", sep="\t", dtype=str)["patient_id"])
    yield data.relative_to(project_path(".")).as_posix(), ids, tag
    shutil.rmtree(data)
    for p in project_path("runs").glob(f"*{tag}*"):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def _leaks(text, ids):
    found = sorted(i for i in ids if i in text)
    if str(project_path(".")) in text:
        found.append("<the project's absolute path>")
    return found


def test_no_id_and_no_path_anywhere_in_a_failed_run(failing_site, capfd):
    data, ids, name = failing_site
    with pytest.raises(RunError) as err:
        run_pipeline(data, name, notebooks=["03"])
    message = str(err.value)
    assert "duplicate" in message and "row 6" in message  # the problem is still located
    assert not _leaks(message, ids)
    out, errs = capfd.readouterr()
    assert not _leaks(out + errs, ids)
    failed = project_path("runs", f"{name}.failed")
    files = [p for p in failed.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "03_cleaning.ipynb", "kernel.log"}
    for path in files:
        assert not _leaks(path.read_text(encoding="utf-8"), ids), path.name
    assert not project_path("runs", name).exists()


def test_the_command_line_shows_no_id_when_a_run_fails(failing_site, capfd):
    data, ids, name = failing_site
    assert main(["--data-dir", data, "--name", name, "--notebooks", "03"]) == 1
    out, errs = capfd.readouterr()
    assert errs.startswith("run failed: 03_cleaning.ipynb failed in cell")
    assert "Traceback" not in errs and not _leaks(out + errs, ids)


@pytest.mark.parametrize("folder", ["case_spaces_synonyms_bom_semicolon", "excel", "tab_latin1"])
def test_the_ids_to_redact_are_found_in_every_file_format(folder, tmp_path):
    """The same 16 patients written as canonical CSV, BOM+semicolon, Excel, Latin-1 TSV and UTF-16 text."""
    from microcalc.pipeline.run_privacy import _patient_ids

    expected = set()
    for cohort in ("nact_cohort", "bone_cohort"):
        expected |= set(
            pd.read_csv(project_path("tests/inputs/messy/canonical", f"{cohort}.csv"), dtype=str)["patient_id"]
        )
    assert _patient_ids(project_path("tests/inputs/messy", folder)) == expected
    # Excel's "Unicode Text" export: UTF-16 with BOM, tab-separated, named .txt
    for cohort in ("nact_cohort", "bone_cohort"):
        frame = pd.read_csv(project_path("tests/inputs/messy/canonical", f"{cohort}.csv"), dtype=str)
        (tmp_path / f"{cohort}.txt").write_bytes(frame.to_csv(sep="\t", index=False).encode("utf-16"))
    assert _patient_ids(tmp_path) == expected
