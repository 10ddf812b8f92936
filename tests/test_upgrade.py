"""The upgrade check's parts: number comparison, import findings, requirements, report.

The end-to-end check (``make upgrade-check``) builds an environment and runs
every notebook; it is slow and run by hand (README, maintainers' section).
These tests check its parts on copies of the committed results files and on
a fake environment.
"""

import csv
import shutil
import sys
import textwrap

import nbformat
import numpy as np
import pytest

from microcalc.core.paths import project_path
from microcalc.pipeline import upgrade, upgrade_compare, upgrade_probe


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


@pytest.fixture
def results_copy(tmp_path):
    """Two copies of the committed tables: ``before`` and ``after`` (to be perturbed)."""
    for side in ("before", "after"):
        for folder in upgrade.TABLES:
            shutil.copytree(project_path(folder), tmp_path / side / folder)
    return tmp_path / "before", tmp_path / "after"


def test_identical_tables_move_no_number(results_copy):
    before, after = results_copy
    moved, files = upgrade.compare_tables(before, after)
    assert moved == [] and files == []
    assert upgrade.verdict(moved, []) == "no number changed"


def test_a_change_within_the_tolerance_is_not_reported_and_one_outside_is(results_copy):
    before, after = results_copy
    path = after / "data/results/04_results.csv"
    rows = _rows(path)
    header = rows[0]
    row = next(i for i, r in enumerate(rows) if r[0] == "nact_pcr_calc")
    col = header.index("estimate")
    value = float(rows[row][col])

    rows[row][col] = repr(value * (1 + 1e-12))  # floating-point noise
    _write(path, rows)
    assert upgrade.compare_tables(before, after) == ([], [])

    rows[row][col] = repr(value * (1 + 1e-6))
    _write(path, rows)
    moved, _ = upgrade.compare_tables(before, after)
    assert len(moved) == 1
    m = moved[0]
    assert (m.file, m.id, m.quantity, m.column) == (
        "data/results/04_results.csv",
        "nact_pcr_calc",
        "pCR rate (%)",
        "estimate",
    )
    assert float(m.before) == value and float(m.after) == value * (1 + 1e-6)
    assert m.relative_change == abs(value * (1 + 1e-6) - value) / value == pytest.approx(1e-6)
    assert upgrade.verdict(moved, []) == "1 number changed"
    # the tolerance is a setting: a wider one passes the same change
    assert upgrade.compare_tables(before, after, rtol=1e-5) == ([], [])


def _positions(root):
    """Every number of every committed table: (file, row, column, token index, token)."""
    out = []
    for folder in upgrade.TABLES:
        for path in sorted((root / folder).glob("*.csv")):
            rows = _rows(path)
            for r, row in enumerate(rows[1:], start=1):
                for c, cell in enumerate(row):
                    for k, m in enumerate(upgrade_compare._NUMBER.finditer(cell)):
                        if any(ch.isdigit() for ch in m.group(0)):
                            out.append((f"{folder}/{path.name}", r, c, k, m.group(0)))
    return out


def _next_digit(token):
    """The token with its leading digit changed, far beyond the tolerance (2.97 -> 3.97, 0.9 -> 0.8, 0 -> 1)."""
    i = next((i for i, ch in enumerate(token) if ch in "123456789"), None)
    if i is None:
        i = next(i for i, ch in enumerate(token) if ch.isdigit())
    return token[:i] + ("8" if token[i] == "9" else str(int(token[i]) + 1)) + token[i + 1 :]


def test_a_seeded_perturbation_is_reported_as_exactly_the_numbers_it_changes(results_copy):
    before, after = results_copy
    positions = _positions(before)
    assert len(positions) > 1000
    rng = np.random.default_rng(20)
    picked = [positions[i] for i in sorted(rng.choice(len(positions), size=40, replace=False))]
    picked = [(*p, _next_digit(p[4])) for p in picked]
    for file in {p[0] for p in picked}:
        rows = _rows(after / file)
        for _, r, c, k, _, new in (p for p in picked if p[0] == file):
            m = list(upgrade_compare._NUMBER.finditer(rows[r][c]))[k]  # one digit changed: same length, same positions
            rows[r][c] = rows[r][c][: m.start()] + new + rows[r][c][m.end() :]
        _write(after / file, rows)

    moved, files = upgrade.compare_tables(before, after)
    assert files == []
    expected = []
    for file, r, c, _, token, new in picked:
        rows = _rows(before / file)
        column = upgrade_compare._labels(rows[0], rows[1:])[1][c]
        expected.append((file, r, column, float(token), float(new)))
    reported = [
        (m.file, m.row, m.column, upgrade.numbers(m.before)[0][0], upgrade.numbers(m.after)[0][0]) for m in moved
    ]
    assert sorted(reported) == sorted(expected)
    assert upgrade.verdict(moved, []) == f"{len(picked)} numbers changed"


def test_a_changed_shape_a_changed_text_and_a_missing_file_are_reported(results_copy):
    before, after = results_copy
    rows = _rows(after / "data/results/05_results.csv")
    _write(after / "data/results/05_results.csv", rows[:-1])  # a row lost
    rows = _rows(after / "data/results/04_results.csv")
    est = rows[0].index("estimate")
    rows[1][est] = "not estimable: separation"
    _write(after / "data/results/04_results.csv", rows)
    (after / "data/reconstructed/01_grim.csv").unlink()

    moved, files = upgrade.compare_tables(before, after)
    shape = [m for m in moved if m.file == "data/results/05_results.csv"]
    assert len(shape) == 1 and shape[0].column == "table shape (rows)" and shape[0].relative_change is None
    text = [m for m in moved if m.file == "data/results/04_results.csv"]
    assert len(text) == 1 and text[0].after == "not estimable: separation" and text[0].relative_change is None
    assert [f.symbol for f in files] == ["data/reconstructed/01_grim.csv"]
    assert upgrade.verdict(moved, ["1 table(s) not produced or new"]) == (
        "incomplete (1 table(s) not produced or new); 2 numbers changed among the outputs produced"
    )


def test_numbers_in_a_formatted_cell_are_compared_one_by_one():
    assert upgrade.numbers("1.78 (1.06-2.97)")[0] == [1.78, 1.06, 2.97]
    assert upgrade.numbers("-0.5, P < 0.001")[0] == [-0.5, 0.001]
    assert upgrade.numbers("158 (108)") == ([158.0, 108.0], "\0 (\0)")


def test_bytes_of_figures_are_compared(tmp_path):
    for side in ("a", "b"):
        (tmp_path / side / "figures").mkdir(parents=True)
    (tmp_path / "a/figures/x.png").write_bytes(b"1")
    (tmp_path / "b/figures/x.png").write_bytes(b"2")
    (tmp_path / "a/figures/y.svg").write_bytes(b"same")
    (tmp_path / "b/figures/y.svg").write_bytes(b"same")
    (tmp_path / "a/figures/z.svg").write_bytes(b"gone")
    found = upgrade.compare_bytes(tmp_path / "a", tmp_path / "b")
    assert [(f.symbol, f.detail) for f in found] == [
        ("figures/x.png", "differs from the committed file"),
        ("figures/z.svg", "not produced by the run"),
    ]


@pytest.fixture
def fake_env(tmp_path):
    """A site folder with one installed distribution, ``fakepkg 1.2.3``, that lacks a symbol the code uses."""
    site = tmp_path / "site"
    (site / "fakepkg").mkdir(parents=True)
    (site / "fakepkg/__init__.py").write_text("there = 1\n")
    info = site / "fakepkg-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.2.3\n")
    (info / "top_level.txt").write_text("fakepkg\n")
    # a second package that breaks because of the first, as statsmodels breaks on a removed pandas API
    (site / "userpkg").mkdir()
    (site / "userpkg/__init__.py").write_text("from fakepkg import gone\n")
    info = site / "userpkg-0.9.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: userpkg\nVersion: 0.9\n")
    (info / "top_level.txt").write_text("userpkg\n")
    code = tmp_path / "analysis.py"
    code.write_text(
        textwrap.dedent("""\
        import os
        from fakepkg import there
        from fakepkg import gone
        import userpkg
        from .local import thing
        from microcalc.analysis import stats
    """)
    )
    env = {"PYTHONPATH": str(site), "PATH": "", "PYTHONNOUSERSITE": "1"}
    return code, env


def test_a_missing_symbol_is_one_line_naming_the_package_and_the_symbol(fake_env):
    code, env = fake_env
    imports = upgrade.collect_imports([code])
    assert set(imports) == {("fakepkg", "there"), ("fakepkg", "gone"), ("userpkg", None)}
    findings, dists, versions = upgrade.probe_imports(sys.executable, imports, env=env)
    lines = sorted(f.line() for f in findings)
    assert len(lines) == 2
    assert all("\n" not in line and "Traceback" not in line for line in lines)
    direct, chained = lines
    assert direct.startswith("broken import: fakepkg 1.2.3: fakepkg.gone (`from fakepkg import gone` in analysis.py")
    assert chained.startswith(
        "broken import: userpkg 0.9: fakepkg.gone (from fakepkg 1.2.3) (`import userpkg` in "
        "analysis.py: ImportError: cannot import name 'gone' from 'fakepkg'"
    )
    assert str(code.parent) not in chained  # the message's path of fakepkg is left out
    assert dists["fakepkg"] == ["fakepkg"] and versions["fakepkg"] == "1.2.3"


def test_a_failed_notebook_gives_one_line_not_its_traceback(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# x"),
        nbformat.v4.new_code_cell("1"),
        nbformat.v4.new_code_cell("import statsmodels.api as sm"),
    ]
    nb.cells[2].outputs = [
        nbformat.v4.new_output(
            "error",
            ename="ImportError",
            evalue="cannot import name 'removed_helper' from 'pandas.util._decorators' (/x/pandas/util/_decorators.py)",
            traceback=["Traceback (most recent call last)", "  File ...", "ImportError: ..."],
        )
    ]
    path = tmp_path / "04_x.ipynb"
    nbformat.write(nb, path)
    findings = upgrade.notebook_errors(path, {"pandas": ["pandas"]}, {"pandas": "3.1.1"})
    assert [f.line() for f in findings] == [
        "notebook failed: pandas 3.1.1: pandas.util._decorators.removed_helper (04_x.ipynb, code cell 1: "
        "ImportError: cannot import name 'removed_helper' from 'pandas.util._decorators')"
    ]


def test_error_messages_lose_the_machine_s_paths():
    assert (
        upgrade_probe._no_paths("cannot import name 'x' from 'a.b' (/site/a/b.py)")
        == "cannot import name 'x' from 'a.b'"
    )
    assert upgrade_probe._no_paths("no file /root/work/data/x.csv here") == "no file x.csv here"


def test_describe_error_reads_the_three_messages():
    dists, versions = {"scipy": ["scipy"]}, {"scipy": "1.18.0"}
    assert upgrade.describe_error(
        "AttributeError", "module 'scipy.stats' has no attribute 'binom_test'", dists, versions
    ) == ("scipy 1.18.0", "scipy.stats.binom_test")
    assert upgrade.describe_error("ModuleNotFoundError", "No module named 'tableone'", dists, versions) == (
        "tableone (not installed)",
        "tableone",
    )


def test_the_library_and_notebooks_imports_are_collected():
    paths = sorted(project_path("lib/microcalc").rglob("*.py")) + sorted(project_path("notebooks").glob("*.ipynb"))
    imports = upgrade.collect_imports(paths)
    assert ("statsmodels.tools.sm_exceptions", "ConvergenceWarning") in imports
    assert ("tableone", "TableOne") in imports
    assert not [k for k in imports if k[0].split(".")[0] in ("microcalc", "os", "re", "__future__")]


#: The running Python's series, and another supported one (the lock's markers are evaluated for the running one).
HERE = f"{sys.version_info.major}.{sys.version_info.minor}.*"
OTHER = "3.12.*" if HERE != "3.12.*" else "3.13.*"

LOCK = """\
# generated
numpy==2.4.6 ; python_full_version == 'HERE' \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
    # via pandas
scipy==1.17.1 \\
    --hash=sha256:cccc
aiohttp==3.14.5 ; python_full_version == 'OTHER' \\
    --hash=sha256:eeee
pip==26.3 \\
    --hash=sha256:dddd
""".replace("HERE", HERE).replace("OTHER", OTHER)


def _project(tmp_path, lock=None):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["numpy==2.4.6", "scipy==1.17.1", "pandas>=3,<4"]\n'
    )
    if lock:
        (tmp_path / "requirements.lock").write_text(lock)
    return tmp_path


def test_requirements_come_from_the_lock_with_the_named_changes(tmp_path):
    root = _project(tmp_path, LOCK)
    plain = upgrade.requirements(root)
    assert plain.hashed and plain.source == "requirements.lock"
    assert plain.lines == [
        f"numpy==2.4.6 ; python_full_version == '{HERE}'",
        "scipy==1.17.1",
        f"aiohttp==3.14.5 ; python_full_version == '{OTHER}'",
    ]
    assert plain.baseline == {"numpy": "2.4.6", "scipy": "1.17.1"}  # aiohttp is for another Python only
    assert plain.file_text() == LOCK  # installed with its hashes
    changed = upgrade.requirements(root, upgrade.parse_packages("SciPy==1.17.0"))
    assert not changed.hashed and changed.source == "requirements.lock with SciPy==1.17.0"
    assert changed.lines == [
        f"numpy==2.4.6 ; python_full_version == '{HERE}'",
        "SciPy==1.17.0",
        f"aiohttp==3.14.5 ; python_full_version == '{OTHER}'",
    ]
    assert "--hash" not in changed.file_text() and "pip==" not in changed.file_text()


def test_requirements_without_a_lock_are_pyproject_s_pins(tmp_path):
    root = _project(tmp_path)
    reqs = upgrade.requirements(root, upgrade.parse_packages("statsmodels==0.14.4"))
    assert reqs.lines == ["numpy==2.4.6", "scipy==1.17.1", "pandas>=3,<4", "statsmodels==0.14.4"]
    assert "not pinned before: statsmodels" in reqs.source
    latest = upgrade.requirements(root, latest=True)
    assert latest.lines == ["numpy>=2.4.6,==2.4.*", "scipy>=1.17.1,==1.17.*", "pandas>=3,<4"]


@pytest.mark.parametrize("bad", ["scipy", "scipy=1.2", "==1.0"])
def test_packages_that_are_not_requirements_are_refused(bad):
    with pytest.raises(ValueError, match="not understood"):
        upgrade.parse_packages(bad)


def test_packages_changed_and_failed_tests(tmp_path):
    assert upgrade.packages_changed(
        {"SciPy": "1.17.1", "numpy": "2.4.6", "old": "1", "pip": "1"},
        {"scipy": "1.17.0", "numpy": "2.4.6", "new_one": "2", "pip": "2"},
    ) == [("new-one", "-", "2"), ("old", "1", "-"), ("scipy", "1.17.1", "1.17.0")]
    xml = tmp_path / "t.xml"
    xml.write_text(
        '<testsuites><testsuite><testcase classname="tests.test_a" name="test_ok"/>'
        '<testcase classname="tests.test_a" name="test_bad"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_b" name="test_err"><error message="y"/></testcase>'
        "</testsuite></testsuites>"
    )
    assert upgrade.failed_tests(xml) == ["tests/test_a.py::test_bad", "tests/test_b.py::test_err"]


def test_the_report_is_written_as_markdown_and_csv(tmp_path):
    moved = [
        upgrade.NumberMoved(
            "data/results/04_results.csv", 1, "nact_pcr_calc", "pCR rate (%)", "estimate", "20.6", "20.7", 0.0048
        )
    ]
    missing = [
        upgrade.Finding("output not produced", "-", f"data/results/0{i}_results.csv", "committed, not written")
        for i in (4, 5)
    ]
    text = upgrade.write_report(
        tmp_path,
        source="requirements.lock with scipy==1.17.0",
        rtol=1e-9,
        changed=[("scipy", "1.17.1", "1.17.0")],
        findings=[
            upgrade.Finding("broken import", "fakepkg 1.2.3", "fakepkg.gone", "`from fakepkg import gone`"),
            *missing,
        ],
        tests=["tests/test_a.py::test_bad"],
        tests_run="tests",
        nbval_failed=["04_x.ipynb: cells 3, 5"],
        moved=moved,
        bytes_changed=[upgrade.Finding("bytes changed", "-", "figures/x.png", "differs from the committed file")],
        verdict_text="1 number changed",
        timings={"total": 3.0},
    )
    assert text.startswith("# Upgrade check: 1 number changed")
    assert (tmp_path / "report.md").read_text() == text
    rows = _rows(tmp_path / "report.csv")
    kinds = [r[0] for r in rows[1:]]
    assert kinds == [
        "verdict",
        "package changed",
        "broken import",
        "output not produced",
        "output not produced",
        "test failed",
        "nbval cells failed",
        "number moved",
        "bytes changed",
    ]
    assert "- broken import: fakepkg 1.2.3: fakepkg.gone (`from fakepkg import gone`)" in text
    assert "- output not produced (2): `data/results/04_results.csv`, `data/results/05_results.csv`" in text
    number = rows[kinds.index("number moved") + 1]
    assert number[1:9] == [
        "data/results/04_results.csv",
        "1",
        "nact_pcr_calc",
        "pCR rate (%)",
        "estimate",
        "20.6",
        "20.7",
        "0.0048",
    ]
