"""The one-page summary of the HTML edition (``make report`` writes ``report/summary.pdf``).

Printed by headless Chromium from ``summary.html``; checked here by rendering
it to PNG with pdftoppm (Debian's poppler-utils, which ``make test`` installs
when run as root): one page, not blank, holding the question, the key
messages, two figures and the limitations. The PNG is saved to
``tests/artifacts/report_summary.png`` to be looked at.
"""

import shutil
import subprocess

import pytest

from microcalc.core.paths import project_path

PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(scope="module")
def summary(edition):
    return edition


@pytest.mark.skipif(
    PDFTOPPM is None,
    reason="pdftoppm is not installed: apt-get install poppler-utils (make test does this when run as root)",
)
def test_the_summary_is_one_page_with_question_key_messages_two_figures_and_limitations(summary, tmp_path):
    from PIL import Image, ImageStat

    subprocess.run([PDFTOPPM, "-r", "80", "-png", str(summary / "summary.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1, f"summary.pdf has {len(pages)} pages"
    image = Image.open(pages[0]).convert("L")
    assert image.width < image.height  # A4 portrait
    assert ImageStat.Stat(image).stddev[0] > 20  # not blank
    out = project_path("tests/artifacts")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pages[0], out / "report_summary.png")
    text = (
        subprocess.run(
            [PDFTOTEXT, str(summary / "summary.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        if PDFTOTEXT
        else ""
    )
    text = " ".join(text.split())  # pdftotext breaks lines where the PDF does
    for part in (
        "The question",
        "Key messages",
        "Limitations",
        "Synthetic data",
        "32 of 155",
        # the clinical answer, framed as the pipeline's check, and its limits in words
        "The pipeline's check on the synthetic cohorts",
        "adjusted OR",
        "fewer pCRs per 100 patients",
        "odds of recorded bone metastasis, not a risk",
        "only the NACT patients who had an MRI assessment",
    ):
        assert not PDFTOTEXT or part in text, part
    assert "replication.csv" not in text and "method` column" not in text
    assert (summary / "summary.html").read_text().count("<img ") == 2


def test_the_summary_is_listed_in_the_sites_marker(summary):
    import json

    from microcalc.pipeline.report import MARKER

    files = json.loads((summary / MARKER).read_text())["files"]
    assert "summary.pdf" in files and "summary.html" in files
