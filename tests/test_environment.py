"""The compendium's setup: pins agree, the layout is there, private data cannot be committed."""

import re
import subprocess
import tomllib

import yaml

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def _pins(lines):
    pins = {}
    for line in lines:
        m = PIN.match(line.strip())
        assert m, f"not an exact pin: {line!r}"
        pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_every_direct_dependency_is_pinned_exactly(root):
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert _pins(deps)


def test_environment_yml_pins_agree_with_pyproject(root):
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    pip_pins = [p for p in pip_section if not p.startswith("-e")]
    assert _pins(pip_pins) == _pins(deps)


def test_python_311_to_313_are_supported_and_binder_stays_on_311(root):
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    supported = SpecifierSet(project["requires-python"])
    assert [v for v in ("3.10.14", "3.11.7", "3.12.1", "3.13.0", "3.14.0") if v in supported] == [
        "3.11.7", "3.12.1", "3.13.0"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_the_layout_of_the_design_card_is_there(root):
    for name in ("notebooks", "lib/microcalc", "data", "figures", "tests", ".ci/run",
                 "environment.yml", "README.md", "pyproject.toml", "Makefile", "LICENSE", "CITATION.cff"):
        assert (root / name).exists(), name


def test_citation_cites_the_paper_by_its_doi(root):
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    dois = [r.get("doi") for r in cff.get("references", [])]
    assert "10.1007/s00432-023-04668-4" in dois
    assert cff["type"] == "software"


def _ignored(root, path):
    return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=root).returncode == 0


def test_gitignore_protects_private_data_and_venv_but_not_lib(root):
    assert _ignored(root, "data/private/site_export.csv")
    assert _ignored(root, ".venv/bin/python")
    assert not _ignored(root, "lib/microcalc/pvalues.py")
    assert not _ignored(root, "data/published/abstract_statistics.csv")


def test_readme_quick_start_shows_exactly_the_two_commands(root):
    readme = (root / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(make \S+)\s*$", quick, flags=re.M)
    assert commands == ["make all", "make test"]


def test_ci_runs_make_test(root):
    script = (root / ".ci/run").read_text()
    assert re.search(r"^make test$", script, flags=re.M)


def test_notebooks_have_one_parameters_cell_and_the_python3_kernel(root):
    import nbformat

    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), path.name
