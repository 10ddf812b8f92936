"""The compendium's setup: pins agree, the layout is there, private data cannot be committed."""

import re
import subprocess
import tomllib

import pytest
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
        "3.11.7",
        "3.12.1",
        "3.13.0",
    ]
    env = yaml.safe_load((root / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]


def test_the_layout_of_the_design_card_is_there(root):
    for name in (
        "notebooks",
        "lib/microcalc",
        "data",
        "figures",
        "tests",
        ".ci/run",
        "environment.yml",
        "README.md",
        "pyproject.toml",
        "Makefile",
        "LICENSE",
        "CITATION.cff",
    ):
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
    assert not _ignored(root, "lib/microcalc/abstract/pvalues.py")
    assert not _ignored(root, "data/published/abstract_statistics.csv")


def test_readme_quick_start_shows_exactly_the_two_commands(root):
    readme = (root / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(make \S+)\s*$", quick, flags=re.M)
    assert commands == ["make all", "make test"]


def test_ci_runs_make_test(root):
    """CI runs every test, the slow ones included (make test-all: make test plus make test-slow)."""
    script = (root / ".ci/run").read_text()
    assert re.search(r"^make test-all$", script, flags=re.M)
    makefile = (root / "Makefile").read_text()
    recipe = re.search(r"^test-all:.*\n\t(.*)$", makefile, flags=re.M).group(1)
    assert "slow" not in recipe and " tests " in recipe and "$(NBVAL_FLAGS) notebooks" in recipe


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


# --- The hashed lock of the whole environment (requirements.lock, made by `make lock` with uv) ---

LOCK_ENTRY = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+?)(?: ; (.+?))? \\$")
SUPPORTED_PYTHONS = ("3.11.7", "3.12.13", "3.13.11")  # any patch of each minor version will do


def _normal(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_entries(root):
    """(name, version, marker or None, hashes) for every entry of requirements.lock."""
    entries = []
    for line in (root / "requirements.lock").read_text().splitlines():
        m = LOCK_ENTRY.match(line)
        if m:
            entries.append([_normal(m.group(1)), m.group(2), m.group(3), []])
        elif line.strip().startswith("--hash=sha256:"):
            entries[-1][3].append(line.strip().split(":", 1)[1].rstrip(" \\"))
        else:
            assert not line or line.startswith(("#", "    #")), f"unexpected lock line: {line!r}"
    return entries


def _selected(entries, python):
    """The entries a Linux x86-64 CPython ``python`` installs (markers evaluated as pip does)."""
    from packaging.markers import Marker

    env = {
        "python_version": python.rsplit(".", 1)[0],
        "python_full_version": python,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    return [e for e in entries if e[2] is None or Marker(e[2]).evaluate(env)]


def test_every_lock_entry_is_exact_and_hashed(root):
    entries = _lock_entries(root)
    assert len(entries) > 100
    for name, version, _, hashes in entries:
        assert hashes, f"{name}=={version} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_the_lock_installs_one_version_of_each_package_and_every_direct_pin_on(root, python):
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda_pins = [p for d in env["dependencies"] if isinstance(d, dict) for p in d["pip"] if not p.startswith("-e")]
    chosen = _selected(_lock_entries(root), python)
    versions = {}
    for name, version, _, _ in chosen:
        assert name not in versions, f"{name} is locked twice for Python {python}"
        versions[name] = version
    for pin in [*deps, *conda_pins]:
        name, version = pin.split("==")
        assert versions.get(_normal(name)) == version, f"{pin}: the lock has {versions.get(_normal(name))}"


def test_every_locked_package_is_installed_at_the_locked_version_for_this_python(root):
    import platform
    from importlib import metadata

    versions = {e[0]: e[1] for e in _selected(_lock_entries(root), platform.python_version())}
    installed = {_normal(d.metadata["Name"]): d.version for d in metadata.distributions()}
    for name, version in versions.items():
        assert installed.get(name) == version, f"{name}: lock {version}, installed {installed.get(name)}"


def test_make_installs_from_the_lock_with_hashes_and_makes_it_with_uv(root):
    makefile = (root / "Makefile").read_text()
    stamp = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "requirements.lock" in stamp.splitlines()[0]
    assert "pip install --quiet --require-hashes -r requirements.lock" in stamp
    assert "pip install --quiet --no-deps -e ." in stamp
    lock_rule = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes" in lock_rule
    assert (root / "requirements.lock").read_text().startswith("# This file was autogenerated by uv")


def test_the_python_of_the_committed_outputs_is_recorded(root):
    import json

    codemeta = json.loads((root / "codemeta.json").read_text())
    assert "Python 3.11.7" in codemeta["runtimePlatform"]
    assert "Python 3.11.7" in (root / "README.md").read_text()
