"""Safe names and outputs: what a site passes in never runs, escapes its run, or leaks.

References: the OWASP rule on CSV injection (cells starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return are prefixed with ``'``); the HTML
escaping of Python's ``html.escape``; PyYAML's own line numbers (1-based).
"""

import hashlib
import json
import os
import shutil
import subprocess
import uuid

import nbformat
import pandas as pd
import pytest

from microcalc.core.outputs import neutralise_formulas, write_csv
from microcalc.core.paths import project_path
from microcalc.pipeline.report import MARKER, ReportFolderError, build_report, escape_outputs
from microcalc.pipeline.report import main as report_main
from microcalc.pipeline.run import RunError, check_name, load_sites, main, run_pipeline

QUIET = dict(log=lambda *_: None)


# ------------------------------------------------------------------ names and make targets
@pytest.mark.parametrize(
    "name",
    [
        "site_a\n",
        "x$(touch /tmp/p)",
        "x`id`",
        "a'b",
        'a"b',
        "../x",
        ".hidden",
        "a/b",
        "",
        "x" * 65,
        "site.failed",
        "a b",
        "site\r",
    ],
)
def test_unsafe_run_names_are_refused(name):
    with pytest.raises(RunError, match="run name"):
        check_name(name)


@pytest.mark.parametrize("name", ["site_a", "007", "site-b.2024", "A"])
def test_plain_run_names_are_accepted(name):
    assert check_name(name) == name


def _make(target, **variables):
    args = ["make", "-s", target] + [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, cwd=project_path("."), capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(
    "target, variables",
    [
        ("run", {"NAME": "x$(touch {p})", "DATA": "data/raw"}),
        ("run", {"NAME": "x`touch {p}`", "DATA": "data/raw"}),
        ("run", {"NAME": "a'; touch {p}; '", "DATA": "data/raw"}),
        ("run", {"NAME": 'a"; touch {p}; "', "DATA": "data/raw"}),
        ("run", {"NAME": "ok_name", "DATA": "x`touch {p}`"}),
        ("run", {"NAME": "ok_name", "DATA": "$(shell touch {p})"}),
        ("sites", {"SITES": "x$$(touch {p}).yaml"}),
        ("sites", {"SITES": '"; touch {p}; "'}),
        ("check-run", {"NAME": "x`touch {p}`"}),
        ("check-run", {"NAME": "x$(touch {p})"}),
    ],
)
def test_make_targets_run_nothing_that_a_value_holds(tmp_path, target, variables):
    marker = tmp_path / "pwned"
    done = _make(target, **{k: v.replace("{p}", str(marker)) for k, v in variables.items()})
    assert not marker.exists(), "a value was run by the shell"
    assert done.returncode != 0
    assert "run failed:" in done.stderr


def test_make_run_without_values_prints_the_usage():
    done = _make("run")
    assert done.returncode != 0 and "usage: make run DATA=<folder> NAME=<run name>" in done.stderr


# ------------------------------------------------------------------ outputs stay under the run
@pytest.mark.parametrize("parameter", [("output_dir", "."), ("output_dir", "runs/other"), ("data_dir", "x")])
def test_a_parameter_that_chooses_where_the_run_reads_or_writes_is_refused(tmp_path, parameter):
    with pytest.raises(RunError, match=rf"the parameter\(s\) {parameter[0]} cannot be given"):
        run_pipeline("data/raw", "site", notebooks=["03"], runs_root=tmp_path, parameters=dict([parameter]), **QUIET)
    assert not any(tmp_path.iterdir())


def test_p_output_dir_dot_leaves_the_committed_processed_data_alone(capsys):
    processed = project_path("data/processed")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in processed.iterdir()}
    assert main(["--data-dir", "data/raw", "--name", "x", "--notebooks", "03", "-p", "output_dir", "."]) == 1
    assert "output_dir cannot be given" in capsys.readouterr().err
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in processed.iterdir()} == before


def test_a_data_folder_outside_the_project_is_refused_without_its_path(tmp_path):
    with pytest.raises(RunError, match="outside the project") as err:
        run_pipeline(tmp_path, "site", runs_root=tmp_path / "runs", **QUIET)
    assert str(tmp_path.parent) not in str(err.value)


# ------------------------------------------------------------------ the sites YAML
@pytest.mark.parametrize(
    "text, expected",
    [
        ("sites:\n  - name: a\n    data_dir: [x\n", r"sites.yaml, line \d: not valid YAML here"),
        (
            "sites:\n  - name: a\n    data_dir: x\n  - name: a\n    data_dir: y\n",
            r"sites.yaml, line 4: the site name 'a' is used twice \(first on line 2\)",
        ),
        (
            "sites:\n  - name: a\n    name: b\n    data_dir: x\n",
            r"sites.yaml, line 3: not valid YAML here \(duplicate key 'name' \(first on line 2\)\)",
        ),
        (
            "sites:\n  - name: a\n    data_dir:\n      - x\n",
            r"sites.yaml, line 4: the value of 'data_dir' must be text",
        ),
        ("sites:\n  - name: !!int 7\n    data_dir: x\n", r"sites.yaml, line 2: the value of 'name' must be text"),
        ("sites:\n  - name: !!python/object:os.system x\n    data_dir: x\n", r"sites.yaml, line 2: not valid YAML"),
        ("sites:\n  - name: a\n", r"sites.yaml, line 2: the site has no data_dir"),
        ("sites: 3\n", r"sites.yaml, line 1: expected 'sites:'"),
        ("", r"sites.yaml: the file is empty"),
        ("sites:\n\t- name: a\n", r"sites.yaml, line 2: not valid YAML here"),
    ],
)
def test_sites_file_problems_are_told_with_the_line(tmp_path, text, expected):
    f = tmp_path / "sites.yaml"
    f.write_text(text)
    with pytest.raises(RunError, match=expected) as err:
        load_sites(f)
    assert str(tmp_path) not in str(err.value)


def test_the_bundled_sites_file_reads_as_text(tmp_path):
    sites = load_sites("tests/inputs/sites.yaml")
    assert [s["name"] for s in sites] == ["bundled", "site_b"]
    f = tmp_path / "sites.yaml"
    f.write_text("sites:\n  - name: 007\n    data_dir: 1e3\n  - name: no\n    data_dir: 2024-01-01\n")
    assert load_sites(f) == [{"name": "007", "data_dir": "1e3"}, {"name": "no", "data_dir": "2024-01-01"}]


def test_a_bad_sites_file_gives_one_message_and_no_traceback(tmp_path, capsys):
    f = tmp_path / "sites.yaml"
    f.write_text("sites:\n  - {name: a, data_dir: x\n")
    assert main(["--sites", str(f)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("run failed: sites.yaml, line") and "Traceback" not in err


# ------------------------------------------------------------------ spreadsheets
def test_text_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    cells = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd", "A", "-0.5", "=", ""]
    frame = pd.DataFrame({"centre": cells, "estimate": [-1.5, -2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    expected = ['\'=HYPERLINK("http://x")', "'+1+1", "'-2+3", "'@SUM(A1:A2)", "'\tcmd", "'\rcmd", "A", "-0.5", "'=", ""]
    assert list(neutralise_formulas(frame)["centre"]) == expected
    # (a bare carriage return inside a cell is not quoted by the csv module; leave it out of the file)
    path = write_csv(frame[frame["centre"] != "\rcmd"], tmp_path / "t.csv")
    text = path.read_text()
    for line in (
        '\n\'=HYPERLINK(""http://x"")",-1.5\n',
        "\n'+1+1,-2\n",
        "\n'-2+3,0\n",
        "\n'@SUM(A1:A2),1\n",
        "\n'=,6\n",
    ):
        assert line.replace("\n'=H", "\n\"'=H") in text, line
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back["estimate"]) == ["-1.5", "-2", "0", "1", "2", "4", "5", "6", "7"]  # numbers stay numbers
    assert list(frame["centre"]) == cells  # the caller's frame is not modified


def test_column_names_and_index_labels_from_data_are_neutralised(tmp_path):
    frame = pd.DataFrame({"=cmd": [1]}, index=pd.MultiIndex.from_tuples([("centre", "@x")]))
    out = neutralise_formulas(frame)
    assert list(out.columns) == ["'=cmd"] and list(out.index) == [("centre", "'@x")]
    assert list(frame.columns) == ["=cmd"]  # the caller's frame is not modified


def test_no_committed_results_table_changes_under_the_rule():
    """Every committed CSV, read back, is left as it is: neutralising changes no reference output."""
    files = sorted(project_path("data").rglob("*.csv"))
    assert files
    for path in files:
        frame = pd.read_csv(path, keep_default_na=False)
        assert neutralise_formulas(frame) is frame, path.name


# ------------------------------------------------------------------ HTML edition
def _notebook(folder, name="01_x.ipynb", outputs=()):
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# A title\n\n**Question.** Why?"),
            nbformat.v4.new_code_cell("x", execution_count=1, outputs=list(outputs)),
        ]
    )
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder


EVIL = "<img src=x onerror=alert(1)>"


def test_markup_in_outputs_is_shown_as_text(tmp_path):
    outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/markdown": f"Reading from `{EVIL}` and {EVIL}; P < 0.001", "text/plain": "x"}
        ),
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": f"<table><tr><td>{EVIL}</td><td><script>alert(2)</script></td></tr></table>",
                "text/plain": "x",
            },
        ),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(3)"}),
    ]
    nb = escape_outputs(nbformat.read(_notebook(tmp_path / "nb", outputs=outputs) / "01_x.ipynb", as_version=4))
    data = [o["data"] for o in nb.cells[1].outputs]
    assert "<img" not in data[0]["text/markdown"].replace(f"`{EVIL}`", "")
    assert "<img" not in data[1]["text/html"] and "<script" not in data[1]["text/html"]
    assert "<td>&lt;img" in data[1]["text/html"]
    assert "application/javascript" not in data[2]
    index = build_report(tmp_path / "nb", tmp_path, label=EVIL)
    for page in index.parent.glob("*.html"):
        text = page.read_text()
        assert "<img src=x" not in text and "alert(2)</script>" not in text and "alert(3)" not in text, page.name
    assert f"<strong>Run:</strong> {EVIL.replace('<', '&lt;').replace('>', '&gt;')}" in index.read_text()


@pytest.fixture(scope="module")
def evil_run():
    """Notebook 03 and the HTML edition on site_b's files in a data folder named with markup."""
    tag = uuid.uuid4().hex[:8]
    data = project_path("data/private", f"pytest-{tag}-{EVIL}")
    shutil.copytree(project_path("tests/inputs/sites/site_b"), data)
    name = f"pytest-{tag}"
    try:
        run = run_pipeline(data.relative_to(project_path(".")), name, notebooks=["03"], **QUIET)
        yield run
    finally:
        shutil.rmtree(data)
        for p in project_path("runs").glob(f"*{name}*"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def test_a_data_folder_named_with_markup_puts_no_markup_in_the_pages(evil_run):
    pages = sorted((evil_run / "report").glob("*.html"))
    assert [p.name for p in pages] == ["03_cleaning.html", "glossary.html", "index.html"]
    for page in pages:
        assert "<img src=x" not in page.read_text(), page.name
    assert "&lt;img src=x onerror=alert(1)&gt;" in (evil_run / "report" / "03_cleaning.html").read_text()


def test_a_run_shows_no_absolute_path_of_the_machine(evil_run):
    record = json.loads((evil_run / "run.json").read_text())
    assert record["parameters"]["output_dir"] == f"runs/{evil_run.name}"
    for path in [p for p in evil_run.rglob("*") if p.suffix in (".ipynb", ".html", ".json", ".log", ".csv")]:
        text = path.read_text(encoding="utf-8")
        assert str(project_path(".")) not in text, path.name
        assert os.path.expanduser("~") + "/" not in text, path.name


# ------------------------------------------------------------------ report --site
def test_report_refuses_a_folder_it_did_not_write_and_deletes_nothing(tmp_path, capsys):
    site = tmp_path / "mine"
    site.mkdir()
    (site / "notes.txt").write_text("keep me")
    nbs = _notebook(tmp_path / "nb")
    with pytest.raises(ReportFolderError, match="not written by the report builder"):
        build_report(nbs, tmp_path, site=site)
    assert report_main(["--notebooks", str(nbs), "--site", str(site)]) == 1
    assert "report not built" in capsys.readouterr().err
    assert [p.name for p in site.iterdir()] == ["notes.txt"]


def test_report_rebuild_deletes_only_what_it_wrote(tmp_path):
    site = tmp_path / "site"
    nbs = _notebook(tmp_path / "nb")
    _notebook(nbs, "02_y.ipynb")
    build_report(nbs, tmp_path, site=site)
    assert sorted(json.loads((site / MARKER).read_text())["files"]) == [
        "01_x.html",
        "02_y.html",
        "glossary.html",
        "index.html",
    ]
    (site / "notes.txt").write_text("keep me")
    (site / "sub").mkdir()
    (nbs / "02_y.ipynb").unlink()
    build_report(nbs, tmp_path, site=site)
    assert sorted(p.name for p in site.iterdir()) == sorted(
        ["01_x.html", "glossary.html", "index.html", "notes.txt", "sub", "figures", MARKER]
    )


def test_report_builds_into_an_empty_folder(tmp_path):
    site = tmp_path / "empty"
    site.mkdir()
    assert build_report(_notebook(tmp_path / "nb"), tmp_path, site=site).is_file()


def test_report_rebuilds_a_site_built_before_sites_were_marked(tmp_path):
    """report/ folders of earlier checkouts hold only pages and figures named as the builder names them."""
    site = tmp_path / "report"
    (site / "figures").mkdir(parents=True)
    for rel in ("index.html", "03_cleaning.html", "figures/03_participant_flow.png"):
        (site / rel).write_text("old")
    build_report(_notebook(tmp_path / "nb"), tmp_path, site=site)
    assert sorted(p.name for p in site.rglob("*")) == sorted(
        ["01_x.html", "glossary.html", "index.html", "figures", MARKER]
    )
    # anything else in an unmarked folder means it is not the builder's
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("mine")
    (other / "thesis.docx").write_text("mine")
    with pytest.raises(ReportFolderError):
        build_report(tmp_path / "nb", tmp_path, site=other)
    assert sorted(p.name for p in other.iterdir()) == ["index.html", "thesis.docx"]
