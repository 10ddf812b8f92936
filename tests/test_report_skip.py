"""A rerun of the HTML edition whose inputs are byte for byte unchanged builds nothing; any change rebuilds.

Each test works in a small project of its own (``$MICROCALC_ROOT``): one executed
notebook, the glossary, the published abstract, a results and a reconstructed
CSV, a figure, and a library folder of one file (``report_site.LIBRARY``). The
renderer is the real one; Chromium is replaced by a stub that writes a PDF's
first bytes, so no browser is needed. The last test checks, on the real project,
that the Makefile's REPORT_INPUTS and :func:`edition_inputs` name the same files.
"""

import os
import shutil
import subprocess

import nbformat
import pytest

from microcalc.core import digest
from microcalc.core.paths import project_root
from microcalc.pipeline import report, report_site
from microcalc.pipeline.report_site import INPUTS_RECORD, edition_inputs, main

SKIPPED = "HTML edition up to date: its 7 input files are unchanged (sha256 "

#: One input of each kind, and how to change one byte of it (keeping a notebook valid JSON).
INPUTS = {
    "notebooks/01_tags.ipynb": (b"Do tags work?", b"Do tags work!"),
    "figures/01_figure.png": (b"\x89PNG-1", b"\x89PNG-2"),
    "data/results/01_results.csv": (b"x,1", b"x,2"),
    "data/reconstructed/01_table.csv": (b"y,1", b"y,2"),
    "data/published/abstract.txt": (b"Objectives: Is it?", b"Objectives: Is It?"),
    "docs/glossary.md": (b"A word.", b"A ward."),
    "lib/microcalc/module.py": (b"X = 1", b"X = 2"),
}


def _write_project(root):
    cells = [nbformat.v4.new_markdown_cell("# 01 · Tags\n\n**Question.** Do tags work?\n\n## Part one\n\nText.")]
    cells.append(
        nbformat.v4.new_code_cell(
            "print(1)", execution_count=1, outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]
        )
    )
    (root / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=cells)
    for k, cell in enumerate(nb.cells):
        cell.id = f"cell-{k}"
    nbformat.write(nb, root / "notebooks" / "01_tags.ipynb")
    for rel, (before, _) in INPUTS.items():
        if rel.startswith("notebooks/"):
            continue
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(before + b"\n")
    (root / "docs" / "glossary.md").write_bytes(b"# Glossary\n\nA word.\n")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The small project; returns a function that runs the edition's command and says whether it built."""
    root = tmp_path / "project"
    _write_project(root)
    monkeypatch.setenv("MICROCALC_ROOT", str(root))
    monkeypatch.setattr(report_site, "LIBRARY", root / "lib" / "microcalc")
    monkeypatch.setattr(report_site, "chromium_version", lambda: "Chromium 1.0 (stub)")

    def fake_pdf(page, pdf, timeout=120):
        pdf.write_bytes(b"%PDF-1.4 stub of " + page.name.encode())

    monkeypatch.setattr(report, "print_pdf", fake_pdf)
    builds = []
    real_build = report.build_report

    def counting_build(*args, **kwargs):
        builds.append(args)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(report, "build_report", counting_build)

    def run(*options):
        before = len(builds)
        assert main(["--summary-pdf", *options]) == 0
        return len(builds) > before

    run.root = root
    run.site = root / "report"
    return run


def test_a_second_run_with_unchanged_inputs_skips_says_so_and_touches_the_pdf(project, capsys):
    assert project()
    record = (project.site / INPUTS_RECORD).read_text()
    pdf = project.site / "summary.pdf"
    os.utime(pdf, (1_000_000_000, 1_000_000_000))
    capsys.readouterr()
    assert not project()
    out = capsys.readouterr().out
    assert out.startswith(SKIPPED) and out.rstrip().endswith("…)"), out
    assert pdf.stat().st_mtime > 1_000_000_000  # make's target counts as up to date
    assert (project.site / INPUTS_RECORD).read_text() == record
    assert len(edition_inputs()) == 7


@pytest.mark.parametrize("rel", sorted(INPUTS))
def test_one_changed_byte_of_any_input_rebuilds(project, rel):
    assert project()
    path = project.root / rel
    before, after = INPUTS[rel]
    data = path.read_bytes()
    assert data.count(before) == 1 and len(before) == len(after)
    path.write_bytes(data.replace(before, after))
    assert project()
    assert not project()


def test_touching_every_input_without_changing_a_byte_does_not_rebuild(project):
    assert project()
    for path in edition_inputs().values():
        os.utime(path, (2_000_000_000, 2_000_000_000))
    assert not project()


def test_an_added_input_file_the_options_or_the_package_set_rebuild(project, monkeypatch):
    assert project()
    (project.root / "data" / "results" / "02_more.csv").write_text("z\n")
    assert project()
    assert main([]) == 0 and (project.site / INPUTS_RECORD).is_file()  # without the PDF: other options
    assert project()
    monkeypatch.setattr(digest, "package_set", lambda: ["numpy==0.0.1"])
    assert project()
    monkeypatch.setattr(report_site, "chromium_version", lambda: "Chromium 2.0 (stub)")
    assert project()
    assert project("--force")
    assert not project()


@pytest.mark.parametrize(
    "damage",
    ["no record", "unreadable record", "a listed page missing", "a page edited", "the pdf missing", "a file unlisted"],
)
def test_a_site_whose_record_or_listed_files_are_not_as_recorded_is_rebuilt(project, damage):
    assert project()
    site = project.site
    if damage == "no record":
        (site / INPUTS_RECORD).unlink()
    elif damage == "unreadable record":
        (site / INPUTS_RECORD).write_text("{")
    elif damage == "a listed page missing":
        (site / "01_tags.html").unlink()
    elif damage == "a page edited":
        with open(site / "index.html", "a") as f:
            f.write(" ")
    elif damage == "the pdf missing":
        (site / "summary.pdf").unlink()
    else:  # the marker no longer lists a page the record names
        marker = site / report_site.MARKER
        listed = marker.read_text()
        assert '"01_tags.html",' in listed
        marker.write_text(listed.replace('"01_tags.html",', ""))
    assert project()
    assert not project()


def test_a_site_without_its_marker_is_not_up_to_date_and_is_left_alone(project, capsys):
    assert project()
    (project.site / report_site.MARKER).unlink()
    capsys.readouterr()
    assert main(["--summary-pdf"]) == 1
    assert "report not built" in capsys.readouterr().err
    assert (project.site / "index.html").is_file()


def test_an_interrupted_build_leaves_no_record_and_the_next_run_rebuilds(project, monkeypatch):
    assert project()

    def broken_pdf(page, pdf, timeout=120):
        raise RuntimeError("summary.pdf not written: stub")

    good_pdf = report.print_pdf
    monkeypatch.setattr(report, "print_pdf", broken_pdf)
    assert main(["--summary-pdf", "--force"]) == 1  # same inputs: only the deleted record tells
    assert not (project.site / INPUTS_RECORD).exists()
    monkeypatch.setattr(report, "print_pdf", good_pdf)
    assert project()
    assert not project()


def test_the_makefile_names_the_same_input_files_as_edition_inputs(root):
    if shutil.which("make") is None:
        pytest.fail("make is needed to read the Makefile's REPORT_INPUTS")
    show = "show-report-inputs:\n\t@printf '%s\\n' $(REPORT_INPUTS)\n"
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "show-report-inputs"],
        input=show,
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
    )
    from_make = sorted(proc.stdout.split())
    assert root == project_root()
    from_python = sorted(edition_inputs())
    assert len(from_python) > 150
    assert from_make == from_python
