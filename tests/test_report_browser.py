"""The HTML edition opened in headless Chromium: every page loads, every image loads, no internal link is broken.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them
when run as root, as in CI). A screenshot of the index is saved to
``tests/artifacts/report_index.png``.
"""

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from microcalc.paths import project_path
from microcalc.report import build_report

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    index = build_report(site=tmp_path_factory.mktemp("site") / "report")
    return index.parent


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        pytest.fail("headless Chromium is needed: apt-get install chromium chromium-driver "
                    "(make test does this when run as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _pages(site: Path) -> list[Path]:
    return [site / "index.html"] + sorted(site.glob("[0-9][0-9]_*.html"))


def test_the_site_has_an_index_and_one_page_per_notebook(site):
    notebooks = sorted(project_path("notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in sorted(site.glob("[0-9][0-9]_*.html"))] == [p.stem for p in notebooks]
    text = (site / "index.html").read_text()
    assert "Replication summary" in text and "Synthetic data" in text


def test_no_page_holds_an_absolute_path_of_this_machine(site):
    root = str(project_path("."))
    for page in _pages(site):
        assert root not in page.read_text(encoding="utf-8"), page.name


def test_every_page_and_image_loads_and_no_internal_link_is_broken(site, browser):
    image_count = 0
    for page in _pages(site):
        browser.get(page.as_uri())
        assert browser.execute_script("return document.readyState") == "complete", page.name
        assert browser.execute_script("return document.body.hasAttribute('data-mc-page')"), page.name
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.getAttribute('src').slice(0, 60), i.complete, i.naturalWidth])")
        image_count += len(images)
        broken = [src for src, complete, width in images if not (complete and width > 0)]
        assert not broken, f"{page.name}: images not loaded: {broken}"
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
        for href in links:
            url = urlparse(href)
            if url.scheme in ("http", "https", "mailto"):
                continue
            if not url.path:  # an anchor on this page
                # as browsers do (HTML "find a potential indicated element"): raw fragment, then decoded
                found = browser.execute_script(
                    "return document.getElementById(arguments[0]) !== null || "
                    "document.getElementById(arguments[1]) !== null", url.fragment, unquote(url.fragment))
                assert found, f"{page.name}: anchor {href} has no target"
                continue
            target = (page.parent / unquote(url.path)).resolve()
            assert target.is_file() and site.resolve() in target.parents, f"{page.name}: broken link {href}"
    assert image_count >= 6  # the index's key figures at least


def test_screenshot_of_the_index(site, browser):
    out = project_path("tests/artifacts")
    out.mkdir(parents=True, exist_ok=True)
    browser.get((site / "index.html").as_uri())
    assert browser.save_screenshot(str(out / "report_index.png"))
    assert (out / "report_index.png").stat().st_size > 10_000
