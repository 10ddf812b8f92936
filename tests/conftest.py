"""Shared fixtures: the project root and the published statistics."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from microcalc.abstract.published import load_published
from microcalc.core.cache import ENV as RESULT_CACHE
from microcalc.core.paths import project_root

# The tests and nbval's kernels compute every result: nothing is read back from make all's result cache.
os.environ.pop(RESULT_CACHE, None)


@pytest.fixture(scope="session")
def root():
    return project_root()


@pytest.fixture(scope="session")
def published():
    return load_published()


@pytest.fixture(scope="session")
def edition(tmp_path_factory):
    """The HTML edition of the committed notebooks with its summary PDF, built once into a temporary folder.

    Shared by the browser and summary tests (one worker runs both: :data:`REPO_OUTPUTS`).
    Needs headless Chromium, to print the summary.
    """
    from microcalc.pipeline.report import build_report

    if not shutil.which("chromium"):
        pytest.fail(
            "headless Chromium is needed to print the summary: apt-get install chromium "
            "(make test does this when run as root)"
        )
    return build_report(site=tmp_path_factory.mktemp("site") / "report", summary_pdf=True).parent


@pytest.fixture
def glm_data():
    """The small fixed data set of the R references (see test_models_against_R.py)."""
    i = np.arange(80)
    return pd.DataFrame(
        {
            "y": pd.array(((i * 13) % 7 < 3) | (i % 5 == 0), dtype="boolean"),
            "f": pd.Categorical(np.array(["a", "b", "c"])[i % 3], categories=["a", "b", "c"]),
            "x": ((i * 7) % 11) / 10,
            "b": pd.array((i * 3) % 4 == 1, dtype="boolean"),
        }
    )


@pytest.fixture
def inference_data(glm_data):
    """glm_data with 4 centres ``g`` of 20 patients, ``b`` as boolean and a yes/no ``z`` missing for every 6th."""
    i = np.arange(80)
    d = glm_data.assign(
        g=(i // 20).astype(str), b=glm_data["b"].astype("boolean"), z=pd.array((i * 3) % 7 < 3, dtype="boolean")
    )
    d.loc[i % 6 == 0, "z"] = pd.NA
    return d


#: ``make test`` runs in parallel (pytest-xdist, ``-n auto``) with the scheduler below. nbval
#: executes the committed notebooks, which rewrite data/ and figures/ in place (figures not
#: atomically); these test files check that those folders do not change during a run (the
#: two-site rerun), or copy or read them (the HTML edition, the versions check, the licence
#: check). They and every notebook form one unit of work, run by one worker in collection order.
REPO_OUTPUTS = (
    "tests/test_run.py",
    "tests/test_report_browser.py",
    "tests/test_report_pages.py",
    "tests/test_report_summary_pdf.py",
    "tests/test_report_skip.py",
    "tests/test_nbval_versions.py",
    "tests/test_archival_licences.py",
)


def scope_of(nodeid: str) -> str:
    """The unit of work of a test under xdist: ``repo_outputs`` (see :data:`REPO_OUTPUTS`) or its file.

    A file's tests stay together, so module fixtures (the site runs, the calibrations) are
    computed once; nbval's cells of one notebook run in order in one kernel.
    """
    path = nodeid.split("::", 1)[0]
    return "repo_outputs" if path.endswith(".ipynb") or path in REPO_OUTPUTS else path


def pytest_xdist_make_scheduler(config, log):
    """Schedule by :func:`scope_of` (xdist's ``loadgroup`` cannot rename pytest 9's node ids)."""
    from xdist.scheduler import LoadScopeScheduling

    class RepoOutputsScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return scope_of(nodeid)

    return RepoOutputsScheduling(config, log)
