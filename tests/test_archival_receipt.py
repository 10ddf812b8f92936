"""The receipt of `make all` (run_info.json): complete, free of paths, and out of git's way."""

import hashlib
import json
import platform
import subprocess
import tomllib

import pytest

from microcalc.pipeline import receipt


def test_timings_are_read_in_run_order_as_seconds(tmp_path):
    f = tmp_path / "times.tsv"
    f.write_text("notebooks/01_a.ipynb\t100.0\t112.25\nnotebooks/02_b.ipynb\t112.5\t113.0\n")
    assert receipt.read_timings(f) == [
        {"notebook": "notebooks/01_a.ipynb", "seconds": 12.25},
        {"notebook": "notebooks/02_b.ipynb", "seconds": 0.5},
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ("notebooks/01_a.ipynb\t100.0", "line 1: expected 'notebook<TAB>start<TAB>end'"),
        ("notebooks/01_a.ipynb\tsoon\t112.0", "line 1: expected"),
        ("notebooks/01_a.ipynb\t112.0\t100.0", "line 1: end 100.0 is before start 112.0"),
    ],
)
def test_a_malformed_timing_line_is_named(tmp_path, line, message):
    f = tmp_path / "times.tsv"
    f.write_text(line + "\n")
    with pytest.raises(ValueError, match=message):
        receipt.read_timings(f)


def test_the_package_set_holds_every_direct_pin_and_its_hash_is_of_its_lines(root):
    pins = receipt.package_set()
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        name, version = dep.split("==")
        assert f"{name.lower().replace('_', '-').replace('.', '-')}=={version}" in pins, dep
    assert "microcalc==0.1.0" in pins
    expected = hashlib.sha256(("\n".join(pins) + "\n").encode()).hexdigest()
    assert receipt.package_set_sha256(pins) == expected


def test_the_receipt_names_commit_python_packages_and_notebook_times_without_paths(root, tmp_path):
    times = tmp_path / "times.tsv"
    times.write_text("notebooks/01_a.ipynb\t100.0\t110.0\nnotebooks/02_b.ipynb\t110.0\t125.5\n")
    out = tmp_path / "run_info.json"
    assert receipt.main(["--timings", str(times), "--out", str(out)]) == 0
    info = json.loads(out.read_text())
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert info["commit"] == head
    assert info["python"]["version"] == platform.python_version()
    assert info["packages"]["sha256"] == receipt.package_set_sha256()
    assert info["requirements_lock_sha256"] == hashlib.sha256((root / "requirements.lock").read_bytes()).hexdigest()
    assert [t["seconds"] for t in info["notebooks"]] == [10.0, 15.5]
    assert info["notebooks_total_seconds"] == 25.5
    assert str(root) not in out.read_text() and str(tmp_path) not in out.read_text()


def test_without_timings_the_receipt_says_they_were_not_measured(tmp_path):
    info = receipt.build_receipt(None)
    assert info["notebooks"].startswith("not measured:")


def test_run_info_is_git_ignored_and_written_by_make_all(root):
    assert subprocess.run(["git", "check-ignore", "-q", "--no-index", "run_info.json"], cwd=root).returncode == 0
    makefile = (root / "Makefile").read_text()
    all_rule = makefile.split("\nall:", 1)[1].split("\n\n", 1)[0]
    assert "microcalc.pipeline.receipt" in all_rule and "run_info.json" in all_rule
