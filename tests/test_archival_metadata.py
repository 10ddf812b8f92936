"""CITATION.cff, codemeta.json and pyproject.toml agree, and nothing in them is invented."""

import json
import subprocess
import sys
import tomllib
from importlib import metadata

import yaml

import microcalc


def _metadata(root):
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    codemeta = json.loads((root / "codemeta.json").read_text())
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    return cff, codemeta, project


def test_the_version_lives_in_one_place_and_the_metadata_repeat_it(root):
    """``microcalc.__version__`` is the version; pyproject.toml reads it, CITATION.cff and codemeta.json repeat it."""
    cff, codemeta, project = _metadata(root)
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "version" not in project and "version" in project["dynamic"]
    assert setuptools["dynamic"]["version"] == {"attr": "microcalc.__version__"}
    assert metadata.version("microcalc") == microcalc.__version__  # what pip installed (make setup) read it there
    assert cff["version"] == microcalc.__version__, "CITATION.cff's version differs from microcalc.__version__"
    assert codemeta["version"] == microcalc.__version__, "codemeta.json's version differs from microcalc.__version__"


def test_citation_and_codemeta_agree_on_licence_and_description(root):
    cff, codemeta, project = _metadata(root)
    assert cff["abstract"] == codemeta["description"] == project["description"]
    spdx = {url.rsplit("/", 1)[1] for url in codemeta["license"]}
    assert set(cff["license"]) == spdx == {"MIT", "CC0-1.0", "CC-BY-4.0"}


def test_the_licences_named_are_the_ones_reuse_finds(root):
    run = subprocess.run([sys.executable, "-m", "reuse", "lint", "--json"], cwd=root, capture_output=True, text=True)
    used = set(json.loads(run.stdout)["summary"]["used_licenses"])
    cff, _, _ = _metadata(root)
    assert set(cff["license"]) == used - {"LicenseRef-Quotation-With-Attribution"}


def test_citation_cff_is_valid_against_the_citation_file_format_schema(root):
    run = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.citation-file-format", "CITATION.cff"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_doi_orcid_or_repository_is_invented(root):
    cff, codemeta, _ = _metadata(root)
    assert "doi" not in cff and "repository-code" not in cff
    assert all("orcid" not in a for a in cff["authors"])
    assert codemeta["identifier"] == "" and codemeta["codeRepository"] == ""
    assert codemeta["referencePublication"]["identifier"] == "https://doi.org/10.1007/s00432-023-04668-4"
