"""nbval tells a changed number from a changed version.

The versions cell (last cell of every notebook, ``notebook.versions()``) shows
the package versions of the kernel; ``tests/nbval_sanitize.cfg`` masks the
version strings of that table only, so an upgrade that moves no number passes
nbval while a changed number anywhere else still fails it. These tests check
that the rules cover the versions table, that they match no other output of
any committed notebook (no number elsewhere is masked), and, with nbval
itself, that a patch-level version change passes and one changed number fails.
"""

import copy
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from microcalc.core import notebook
from microcalc.core.paths import project_path

SANITIZE = project_path("tests/nbval_sanitize.cfg")
NOTEBOOKS = sorted(project_path("notebooks").glob("[0-9][0-9]_*.ipynb"))
VERSIONS_SOURCE = "notebook.versions()"


def sanitize_rules(text):
    """(section, regex, replace) of a sanitize file, read as nbval reads the pairs."""
    rules, section = [], None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line.startswith("regex: ") and i + 1 < len(lines) and lines[i + 1].startswith("replace: "):
            rules.append((section, line[len("regex: ") :], lines[i + 1][len("replace: ") :]))
    return rules


RULES = sanitize_rules(SANITIZE.read_text(encoding="utf-8"))
VERSION_RULES = [(s, rx, rep) for s, rx, rep in RULES if s and s.startswith("versions table")]


def sanitize(text, rules=RULES):
    for _, regex, replace in rules:
        text = re.sub(regex, replace, text)
    return text


def output_texts(output):
    """Every text nbval compares in one output (images are not compared)."""
    if output.get("output_type") == "stream":
        yield "stream", output.get("text", "")
    for mime, value in output.get("data", {}).items():
        if isinstance(value, str) and not mime.startswith("image/"):
            yield mime, value
    if output.get("output_type") == "error":
        yield "error", f"{output.get('ename')}: {output.get('evalue')}"


def versions_cell(nb):
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == VERSIONS_SOURCE]
    assert len(cells) == 1, "one versions cell per notebook"
    assert cells[0] is nb.cells[-1], "the versions cell closes the notebook"
    return cells[0]


def test_nbval_reads_the_same_pairs():
    from nbval.plugin import get_sanitize_patterns

    pairs = get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8"))
    assert pairs == [(rx, rep) for _, rx, rep in RULES]
    assert len(VERSION_RULES) == 3


def test_version_rules_are_anchored_on_the_table_s_package_names():
    names = "|".join(("python", *notebook._PACKAGES))
    for section, regex, _ in VERSION_RULES:
        if "header" in section:
            assert "version" in regex and "package" in regex, section
        else:
            assert f"({names})" in regex or f"(?:{names})" in regex, section


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_version_rules_mask_every_version_and_nothing_else_of_the_versions_table(path):
    out = versions_cell(nbformat.read(path, as_version=4)).outputs[0]
    plain, html = out["data"]["text/plain"], out["data"]["text/html"]
    versions = notebook.versions()
    for name in versions.index:  # every package row is masked, its name kept
        assert re.search(rf"(?m)^{name} <version>$", sanitize(plain, VERSION_RULES)), name
        assert f"<th>{name}</th>\n      <td><version></td>" in sanitize(html, VERSION_RULES), name
    assert not re.search(r"\d", sanitize(plain, VERSION_RULES)), "a digit of the versions table is left"
    assert sanitize(html, VERSION_RULES).count("<version>") == len(versions)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_version_rules_match_no_other_output_of_any_committed_notebook(path):
    nb = nbformat.read(path, as_version=4)
    keep = versions_cell(nb)
    checked = 0
    for index, cell in enumerate(nb.cells):
        if cell is keep or cell.cell_type != "code":
            continue
        for output in cell.outputs:
            for mime, text in output_texts(output):
                checked += 1
                for section, regex, _ in VERSION_RULES:
                    hit = re.search(regex, text)
                    assert hit is None, f"{path.name} cell {index} {mime}: [{section}] masks {hit.group(0)!r}"
    assert checked > 0


def test_a_version_of_another_width_is_masked_too():
    """1.17.1 -> 1.17.10 widens pandas' column and shifts the header; still equal after sanitising."""
    before = notebook.versions()
    after = before.copy()
    after.loc["scipy", "version"] = after.loc["scipy", "version"] + "0"
    assert repr(before) != repr(after)
    assert sanitize(repr(before)) == sanitize(repr(after))
    assert sanitize(before._repr_html_()) == sanitize(after._repr_html_())


def _bump_patch(version):
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


@pytest.mark.slow
def test_nbval_passes_a_patch_upgrade_and_fails_a_changed_number(tmp_path):
    """Stored outputs as if made with another scipy patch release; nbval in this kernel must pass.

    The same copy with one number of another cell changed must fail, on that cell only.
    """
    source = project_path("notebooks/07_replication_report.ipynb")
    shutil.copytree(project_path("data"), tmp_path / "data")
    shutil.copytree(project_path("figures"), tmp_path / "figures")
    shutil.copy(project_path("pyproject.toml"), tmp_path / "pyproject.toml")
    (tmp_path / "notebooks").mkdir()

    nb = nbformat.read(source, as_version=4)
    data = versions_cell(nb).outputs[0]["data"]
    current = notebook.versions().loc["scipy", "version"]
    other = _bump_patch(current)
    row = re.compile(rf"(?m)^(scipy +){re.escape(current)}$")
    assert row.search(data["text/plain"])
    data["text/plain"] = row.sub(rf"\g<1>{other}", data["text/plain"])
    data["text/html"] = data["text/html"].replace(
        f"<th>scipy</th>\n      <td>{current}</td>", f"<th>scipy</th>\n      <td>{other}</td>"
    )
    assert other in data["text/plain"] and other in data["text/html"]
    nbformat.write(nb, tmp_path / "notebooks" / "upgraded.ipynb")

    changed = copy.deepcopy(nb)
    number = re.compile(r"\d+\.\d*[0-8]\b")
    target = next(
        i
        for i, c in enumerate(changed.cells)
        if c.cell_type == "code"
        and c is not changed.cells[-1]
        and any(number.search(o.get("data", {}).get("text/plain", "")) for o in c.outputs)
    )
    out = next(o for o in changed.cells[target].outputs if number.search(o.get("data", {}).get("text/plain", "")))
    out["data"]["text/plain"] = number.sub(
        lambda m: m.group(0)[:-1] + str(int(m.group(0)[-1]) + 1), out["data"]["text/plain"], count=1
    )
    nbformat.write(changed, tmp_path / "notebooks" / "upgraded_and_changed.ipynb")

    env = {
        **os.environ,
        "MICROCALC_ROOT": str(tmp_path),
        "JUPYTER_PREFER_ENV_PATH": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "--color=no",
            "--rootdir",
            str(tmp_path),
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE),
            "notebooks/upgraded.ipynb",
            "notebooks/upgraded_and_changed.ipynb",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    found = re.findall(r"^(?:\S*/)?(\w+)(?:\.|::)ipynb::(Cell \d+) (PASSED|FAILED)", run.stdout, flags=re.M)
    results = {f"{stem}::{cell}": outcome for stem, cell, outcome in found}
    cells = sum(c.cell_type == "code" for c in nb.cells)
    assert len(results) == 2 * cells, run.stdout[-3000:]
    upgraded = {k: v for k, v in results.items() if k.startswith("upgraded::")}
    assert set(upgraded.values()) == {"PASSED"}, run.stdout[-3000:]  # the version change passes
    failed = [k for k, v in results.items() if v == "FAILED"]
    code_index = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"].index(target)
    assert failed == [f"upgraded_and_changed::Cell {code_index}"], run.stdout[-3000:]
