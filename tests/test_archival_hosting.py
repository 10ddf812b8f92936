"""Hosted CI, Binder, Docker and the community files: present, minimal and valid."""

import os
import re
import subprocess
import sys

import yaml


def test_the_ci_workflow_is_valid_against_the_github_workflow_schema(root):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            ".github/workflows/ci.yml",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_ci_workflow_runs_ci_run_on_push_and_monthly_and_keeps_the_html_edition(root):
    wf = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())
    triggers = wf[True]  # YAML 1.1 reads the key `on` as true
    assert "push" in triggers
    (cron,) = [s["cron"] for s in triggers["schedule"]]
    minute, hour, day, month, weekday = cron.split()
    assert day.isdigit() and month == "*" and weekday == "*", "not once a month"
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    assert any(s.get("run") == "bash .ci/run" for s in steps)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "report/"


def test_binder_installs_the_lock_and_the_library_and_runs_nothing_slow(root):
    assert (root / "binder/requirements.txt").read_text().splitlines()[-1] == "-r ../requirements.lock"
    assert re.fullmatch(r"python-3\.1[1-3]\n", (root / "binder/runtime.txt").read_text())
    post = root / "binder/postBuild"
    assert os.access(post, os.X_OK)
    commands = [ln for ln in post.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands == ["set -euo pipefail", "python -m pip install --no-cache-dir --no-deps -e ."]


def test_the_readme_badge_opens_notebook_01_on_binder(root):
    readme = (root / "README.md").read_text()
    badge = re.search(r"\(https://mybinder\.org/v2/gh/([^/]+/[^/]+)/HEAD\?labpath=([^)]+)\)", readme)
    assert badge and badge.group(2) == "notebooks%2F01_published_numbers.ipynb"
    assert (root / "notebooks/01_published_numbers.ipynb").is_file()
    if badge.group(1) == "OWNER/REPO":  # no repository yet: the README must say so
        assert "has not been published yet" in readme


def test_the_dockerfile_names_its_base_by_version_and_digest_and_installs_from_the_lock(root):
    text = (root / "Dockerfile").read_text()
    (base,) = re.findall(r"^FROM (\S+)", text, flags=re.M)
    assert re.fullmatch(r"python:3\.11\.7-slim-bookworm@sha256:[0-9a-f]{64}", base)
    assert "chromium chromium-driver" in text
    assert "make setup" in text  # the Makefile's setup: pip --require-hashes -r requirements.lock
    assert "data/private/" in (root / ".dockerignore").read_text().splitlines()


def test_community_files_and_a_contact_line_are_there(root):
    conduct = (root / "CODE_OF_CONDUCT.md").read_text()
    assert "Contributor Covenant, version 2.1" in conduct
    contributing = (root / "CONTRIBUTING.md").read_text()
    assert "**Contact:**" in contributing and "CODE_OF_CONDUCT.md" in contributing
