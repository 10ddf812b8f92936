"""The HTML edition opened in headless Chromium, as a reader meets it.

Checks every page of the edition built from the committed notebooks on the
bundled data: it loads; no code is visible on load and the page's toggle (or a
cell's own) reveals it; every image loads and has an alt text; no internal link
is broken; no absolute path of the machine appears; the synthetic-data banner
opens every page; the glossary is linked from every page; each page has a
table of contents and previous/next links; the index opens with the key
messages; the tables of every page show clinical labels, not code names, and
no e-notation, NaN or True/False; and, with the print stylesheet applied at the width
of an A4 page, no figure or table runs past the page's edge.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them
when run as root, as in CI). Screenshots of the index and of notebook 04's page
are saved to ``tests/artifacts/``.
"""

import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from microcalc.core.paths import project_path

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
BANNER = "cannot show whether microcalcification predicts pCR"
#: A model term as the regression code names it: ``breast_density[b]``.
CODE_TERM = re.compile(r"\b\w+\[[A-Za-z0-9_]+\]")


@pytest.fixture(scope="module")
def site(edition):
    return edition


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        pytest.fail(
            "headless Chromium is needed: apt-get install chromium chromium-driver "
            "(make test does this when run as root)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _pages(site: Path) -> list[Path]:
    return [site / "index.html"] + sorted(site.glob("[0-9][0-9]_*.html")) + [site / "glossary.html"]


def _notebook_pages(site: Path) -> list[Path]:
    return sorted(site.glob("[0-9][0-9]_*.html"))


_VISIBLE_CODE = """
return Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea'))
  .filter(e => e.checkVisibility({visibilityProperty: true, opacityProperty: true})
               && e.getBoundingClientRect().height > 0).length"""


def test_the_site_has_an_index_a_glossary_and_one_page_per_notebook(site):
    notebooks = sorted(project_path("notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.stem for p in _notebook_pages(site)] == [p.stem for p in notebooks]
    assert (site / "glossary.html").is_file()


def test_no_page_holds_an_absolute_path_of_this_machine(site):
    root, home = str(project_path(".")), os.path.expanduser("~") + "/"
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        assert root not in text and home not in text, page.name


def test_every_page_and_image_loads_and_no_internal_link_is_broken(site, browser):
    image_count = 0
    for page in _pages(site):
        browser.get(page.as_uri())
        assert browser.execute_script("return document.readyState") == "complete", page.name
        assert browser.execute_script("return document.body.hasAttribute('data-mc-page')"), page.name
        images = browser.execute_script(
            "return Array.from(document.images)"
            ".map(i => [i.getAttribute('src').slice(0, 60), i.complete, i.naturalWidth])"
        )
        image_count += len(images)
        broken = [src for src, complete, width in images if not (complete and width > 0)]
        assert not broken, f"{page.name}: images not loaded: {broken}"
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
        )
        for href in links:
            url = urlparse(href)
            if url.scheme in ("http", "https", "mailto"):
                continue
            assert not url.scheme, f"{page.name}: link {href} is not relative"
            if not url.path:  # an anchor on this page
                # as browsers do (HTML "find a potential indicated element"): raw fragment, then decoded
                found = browser.execute_script(
                    "return document.getElementById(arguments[0]) !== null || "
                    "document.getElementById(arguments[1]) !== null",
                    url.fragment,
                    unquote(url.fragment),
                )
                assert found, f"{page.name}: anchor {href} has no target"
                continue
            target = (page.parent / unquote(url.path)).resolve()
            assert target.is_file() and site.resolve() in target.parents, f"{page.name}: broken link {href}"
    assert image_count >= 6  # the index's key figures at least


def test_every_image_has_an_alt_text_that_says_what_it_shows(site, browser):
    for page in _pages(site):
        browser.get(page.as_uri())
        alts = browser.execute_script("return Array.from(document.images).map(i => i.getAttribute('alt'))")
        for alt in alts:
            assert alt and alt.strip() not in ("Figure", "Figure: .") and len(alt) > 15, f"{page.name}: alt {alt!r}"


def test_no_code_is_visible_on_load_and_the_toggles_reveal_it(site, browser):
    from selenium.webdriver.common.by import By

    for page in _notebook_pages(site):
        browser.get(page.as_uri())
        total = browser.execute_script("return document.querySelectorAll('.jp-CodeCell .jp-InputArea').length")
        assert total > 0, page.name
        assert browser.execute_script(_VISIBLE_CODE) == 0, f"{page.name}: code visible on load"
        # one cell's own toggle shows that cell's code only
        browser.find_element(By.CSS_SELECTOR, "details.mc-code > summary").click()
        assert browser.execute_script(_VISIBLE_CODE) == 1, page.name
        # the page's toggle shows all of it, and hides it again
        button = browser.find_element(By.CSS_SELECTOR, "button.mc-toggle-all")
        button.click()
        assert browser.execute_script(_VISIBLE_CODE) == total, page.name
        button.click()
        assert browser.execute_script(_VISIBLE_CODE) == 0, page.name


def test_the_banner_and_the_glossary_link_open_every_page(site, browser):
    for page in _pages(site):
        browser.get(page.as_uri())
        banner = browser.execute_script(
            "const b = document.querySelector('.mc-banner'); return b && [b.innerText, b.getBoundingClientRect().top]"
        )
        assert banner and BANNER in banner[0] and banner[1] < 150, f"{page.name}: no synthetic-data banner at the top"
        assert browser.execute_script(
            "return document.querySelector('nav.mc-nav a[href=\"glossary.html\"]') !== null"
        ), f"{page.name}: no glossary link"


def test_each_page_has_a_table_of_contents_and_previous_next_links(site, browser):
    pages = _pages(site)
    for i, page in enumerate(pages):
        browser.get(page.as_uri())
        toc = browser.execute_script(
            "return Array.from(document.querySelectorAll('.mc-toc a')).map(a => a.getAttribute('href'))"
        )
        assert toc and all(h.startswith("#") for h in toc), f"{page.name}: no table of contents"
        rel = browser.execute_script(
            "return Array.from(document.querySelectorAll('main a[rel]')).map(a => [a.rel, a.getAttribute('href')])"
        )
        if i > 0:
            assert ["prev", pages[i - 1].name] in rel, page.name
        if i + 1 < len(pages):
            assert ["next", pages[i + 1].name] in rel, page.name


def test_the_index_opens_with_the_question_and_the_key_messages(site, browser):
    browser.get((site / "index.html").as_uri())
    order = browser.execute_script("""
        const top = e => e ? e.getBoundingClientRect().top + window.scrollY : null;
        return [top(document.querySelector('.mc-question')), top(document.getElementById('key-messages')),
                top(document.querySelector('table.mc-results')), top(document.querySelector('.mc-figures'))]""")
    assert None not in order and order == sorted(order), order
    messages = browser.execute_script(
        "return Array.from(document.querySelectorAll('.mc-key li')).map(li => li.innerText)"
    )
    assert 4 <= len(messages) <= 6, messages
    assert any("32 of 155" in m and "50 of 158" in m and "71 of 611" in m for m in messages), messages
    assert any("reproduction check" in m.lower() for m in messages), messages
    # key figures at a sensible size: none wider than the text column, the one-panel ones at most half of it
    sizes = browser.execute_script("""
        return Array.from(document.querySelectorAll('.mc-figures figure')).map(f =>
          [f.classList.contains('mc-wide'), f.querySelector('img').getBoundingClientRect().width,
           document.getElementById('mc-content').getBoundingClientRect().width])""")
    for wide, width, column in sizes:
        assert width <= column and (wide or width <= column / 2 + 1), sizes


def test_the_glossary_defines_the_clinical_terms(site, browser):
    browser.get((site / "glossary.html").as_uri())
    text = browser.execute_script("return document.getElementById('mc-content').innerText")
    for term in (
        "ypT0/is ypN0",
        "neoadjuvant chemotherapy",
        "MRI tumour necrosis",
        "BI-RADS",
        "Mass",
        "St Gallen",
        "Ki-67",
        "assumption",
        "Osteolytic",
        "Osteoblastic",
        "Mixed",
        "Axial only",
        "Appendicular",
        "Whole body",
    ):
        assert term in text, term


def test_printed_at_a4_width_no_figure_or_table_runs_past_the_page(site, browser):
    """Print media at the A4 text width (210 mm less 2 x 12 mm margins, 96 px per inch)."""
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.set_window_size(703, 1600)
    try:
        for page in _pages(site):
            browser.get(page.as_uri())
            over = browser.execute_script("""
                const w = document.documentElement.clientWidth;
                return Array.from(document.querySelectorAll('img, table'))
                  .filter(e => e.getClientRects().length > 0)
                  .map(e => [e.tagName, Math.round(e.getBoundingClientRect().right)]).filter(([t, r]) => r > w + 1)""")
            assert not over, f"{page.name}: printed past the page's edge: {over[:5]}"
            assert browser.execute_script(_VISIBLE_CODE) == 0, f"{page.name}: code printed"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(1280, 1600)


def test_screenshots_of_the_index_and_an_analysis_page(site, browser):
    out = project_path("tests/artifacts")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("index", "04_nact_pcr"):
        browser.get((site / f"{name}.html").as_uri())
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1280, min(height, 4000))
        assert browser.save_screenshot(str(out / f"report_{name}.png"))
        assert (out / f"report_{name}.png").stat().st_size > 10_000
    browser.set_window_size(1280, 1600)


def _code_names() -> set[str]:
    """The contract's snake_case names, of columns and of category levels (``mri_necrosis``, ``her2_enriched``)."""
    from microcalc.cohorts.contract import CONTRACT

    names = set()
    for columns in CONTRACT.values():
        for col in columns:
            names.update(n for n in (col.name, *map(str, col.allowed)) if "_" in n)
    return names


#: Cells a clinician should never meet: computer notation, and names as the code writes them.
NOTATION = {
    "e-notation": re.compile(r"\d\.?\d*e[+-]\d+", re.I),
    "missing-value marker": re.compile(r"^(nan|NaN|<NA>|None|NaT|null)$"),
    "True/False": re.compile(r"^(True|False)$"),
    "snake_case name": re.compile(r"(?<![\w./-])[a-z][a-z0-9]*_[a-z0-9_]+(?![\w-])"),
}

#: Each visible table cell with the header of its column, from the page's last header row.
_CELLS = """
const out = [];
for (const t of document.querySelectorAll('table')) {
  if (!t.checkVisibility()) continue;
  const heads = Array.from(t.querySelectorAll('thead tr:last-child th')).map(h => h.innerText.trim());
  for (const row of t.querySelectorAll('tr')) {
    Array.from(row.children).forEach((c, i) => out.push([heads[i] || '', c.innerText.trim()]));
  }
}
return out;"""


def test_tables_of_every_page_show_clinical_labels_and_plain_numbers(site, browser):
    """No code name, coefficient name, e-notation, NaN or True/False in any visible table of any page.

    A file name may stand only in a column headed "File" (the cleaning page tells an
    analyst which file it read).
    """
    names = _code_names()
    assert {"mri_necrosis", "breast_density", "her2_enriched"} <= names  # the check can see what it looks for
    assert NOTATION["e-notation"].search("9.5455e-04") and NOTATION["snake_case name"].search("nact_pcr_calc")
    found: dict[str, set[str]] = {}
    for page in _pages(site):
        browser.get(page.as_uri())
        cells = browser.execute_script(_CELLS)
        for header, text in cells:
            if header == "File":
                continue
            hits = {f"{kind}: {m.group(0)}" for kind, rx in NOTATION.items() for m in rx.finditer(text)}
            hits |= {f"term: {t}" for t in CODE_TERM.findall(text)}
            hits |= {f"code name: {n}" for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)}
            if hits:
                found.setdefault(page.name, set()).update(hits)
    assert any(_notebook_pages(site)), "no page to check"
    assert not found, "notation or code names in visible tables: " + "; ".join(
        f"{page}: {sorted(hits)[:8]}" for page, hits in found.items()
    )


_OVERFLOWING_TEXT = """
const main = document.querySelector('main').getBoundingClientRect();
const out = [];
for (const e of document.querySelectorAll('main p, main li, main figcaption, main h1, main h2, main h3')) {
  if (!e.checkVisibility() || e.closest('.mc-table-scroll, pre, .jp-InputArea')) continue;
  if (e.getBoundingClientRect().right > main.right + 1) out.push(e.innerText.slice(0, 60));
}
return out;"""


def test_no_text_runs_past_the_column_and_wide_tables_scroll_in_their_own_box(site, browser):
    """Prose, lists and table captions wrap inside the text column (a wide table scrolls in its box instead)."""
    found = {}
    for page in _pages(site):
        browser.get(page.as_uri())
        cut = browser.execute_script(_OVERFLOWING_TEXT)
        if cut:
            found[page.name] = cut[:3]
    assert not found, f"text cut off at the column's edge: {found}"


_TABLE_WIDTHS = """
const main = document.querySelector('main').getBoundingClientRect().width;
return [main, Array.from(document.querySelectorAll('main table')).filter(t => t.checkVisibility())
  .map(t => [Math.round(t.getBoundingClientRect().width),
             Array.from(t.querySelectorAll('thead th')).map(h => h.innerText.trim()).join(' | ').slice(0, 80)])];"""


def test_tables_of_pages_01_and_02_fit_the_text_column_of_a_laptop_screen(site, browser):
    """At a 1366-px wide window (a common laptop screen) every visible table of pages 01 and 02 is at most the
    width of the text column (``main``), so that no main column is hidden in the table's scroll box."""
    browser.set_window_size(1366, 900)
    try:
        wide = {}
        for name in ("01_published_numbers", "02_synthetic_cohorts"):
            browser.get((site / f"{name}.html").as_uri())
            main, tables = browser.execute_script(_TABLE_WIDTHS)
            assert main > 900 and tables, name  # the layout's 60rem column, and tables to measure
            over = [(width, heads) for width, heads in tables if width > main + 0.5]
            if over:
                wide[name] = over
        assert not wide, f"tables wider than the text column at 1366 px: {wide}"
    finally:
        browser.set_window_size(1280, 1600)
