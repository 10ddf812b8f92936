"""``python -m microcalc.dag`` redraws the causal diagram only when its code, the packages or a figure changed.

The diagram is drawn once into a project of its own (``$MICROCALC_ROOT``) with a
copy of the library (``drawing.LIBRARY``, the source whose bytes are its inputs);
each test starts from a copy of that drawn project. Drawing is counted through
:func:`microcalc.dag.drawing.figure`. The drawn figures are the committed ones,
byte for byte.
"""

import os
import shutil

import pytest

from microcalc.core import digest
from microcalc.dag import drawing

SKIPPED = "causal diagram up to date: its "


def _copy_library(to):
    shutil.copytree(drawing.LIBRARY, to, ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """A project whose diagram has been drawn once (with its record in .cache/dag.json)."""
    base = tmp_path_factory.mktemp("dag") / "project"
    _copy_library(base / "lib" / "microcalc")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MICROCALC_ROOT", str(base))
        mp.setattr(drawing, "LIBRARY", base / "lib" / "microcalc")
        assert drawing.main([]) == 0
    return base


@pytest.fixture
def project(drawn, tmp_path, monkeypatch):
    """A copy of the drawn project; returns a function that runs the command and says whether it drew."""
    root = tmp_path / "project"
    shutil.copytree(drawn, root)
    monkeypatch.setenv("MICROCALC_ROOT", str(root))
    monkeypatch.setattr(drawing, "LIBRARY", root / "lib" / "microcalc")
    draws = []
    real_figure = drawing.figure

    def counting_figure():
        draws.append(1)
        return real_figure()

    monkeypatch.setattr(drawing, "figure", counting_figure)

    def run(*options):
        before = len(draws)
        assert drawing.main(list(options)) == 0
        return len(draws) > before

    run.root = root
    return run


def _change_one_byte(path):
    """Swap the case of the first letter in the module's docstring: the code means the same, one byte differs."""
    data = path.read_bytes()
    i = data.index(b'"""') + 3
    while not data[i : i + 1].isalpha():
        i += 1
    path.write_bytes(data[:i] + data[i : i + 1].swapcase() + data[i + 1 :])


def test_the_drawn_figures_are_the_committed_ones_byte_for_byte(drawn, root):
    for ext in ("png", "svg"):
        assert (drawn / "figures" / f"00_dag.{ext}").read_bytes() == (root / "figures" / f"00_dag.{ext}").read_bytes()
    assert (drawn / ".cache" / "dag.json").is_file()


def test_a_rerun_with_nothing_changed_draws_nothing_and_says_so(project, capsys):
    capsys.readouterr()
    assert not project()
    out = capsys.readouterr().out
    assert out.startswith(SKIPPED) and "source files are unchanged (sha256 " in out, out


def test_touching_the_sources_and_figures_without_changing_a_byte_draws_nothing(project):
    for path in [*drawing.diagram_inputs().values(), *(project.root / "figures").iterdir()]:
        os.utime(path, (2_000_000_000, 2_000_000_000))
    assert not project()


@pytest.mark.parametrize(
    "rel", ["dag/graph.py", "dag/drawing.py", "dag/__main__.py", "analysis/figure_style.py", "labels.py", "study.py"]
)
def test_one_changed_byte_of_its_code_or_of_code_it_imports_redraws(project, rel):
    path = project.root / "lib" / "microcalc" / rel
    assert f"lib/microcalc/{rel}" in drawing.diagram_inputs()
    _change_one_byte(path)
    assert project()
    assert not project()


def test_a_change_to_code_it_does_not_import_draws_nothing(project):
    assert "lib/microcalc/pipeline/report.py" not in drawing.diagram_inputs()
    _change_one_byte(project.root / "lib" / "microcalc" / "pipeline" / "report.py")
    assert not project()


@pytest.mark.parametrize("damage", ["svg deleted", "png edited", "record deleted", "record unreadable"])
def test_a_missing_or_edited_figure_or_record_redraws_the_committed_bytes(project, damage, root):
    figures, record = project.root / "figures", project.root / ".cache" / "dag.json"
    if damage == "svg deleted":
        (figures / "00_dag.svg").unlink()
    elif damage == "png edited":
        with open(figures / "00_dag.png", "ab") as f:
            f.write(b"\0")
    elif damage == "record deleted":
        record.unlink()
    else:
        record.write_text("not json")
    assert project()
    for ext in ("png", "svg"):
        assert (figures / f"00_dag.{ext}").read_bytes() == (root / "figures" / f"00_dag.{ext}").read_bytes()
    assert not project()


def test_another_package_set_or_force_redraws(project, monkeypatch):
    assert project("--force")
    monkeypatch.setattr(digest, "package_set", lambda: ["matplotlib==0.0.1"])
    assert project()
    assert not project()
