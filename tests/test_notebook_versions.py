"""The closing versions cell: package versions, and the supported Pythons rather than the running one."""

import tomllib

from microcalc.core import notebook


def test_versions_cell_shows_the_supported_pythons_of_pyproject(root):
    """``requires-python = ">=3.11,<3.14"`` is shown as 3.11-3.13, whatever Python runs the kernel, so the
    committed notebooks do not change with the interpreter (the receipt run_info.json records it)."""
    spec = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    assert spec == ">=3.11,<3.14"
    assert notebook.versions().loc["python", "version"] == "3.11-3.13"


def test_versions_cell_lists_every_tracked_package():
    table = notebook.versions()
    assert list(table.index) == ["python", *notebook._PACKAGES]
    assert (table["version"] != "not installed").all()
