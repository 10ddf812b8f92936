"""The HTML edition: the executed notebooks as a small static site.

:func:`build_report` renders every executed notebook with nbconvert into
``<site>/NN_name.html``, adds a navigation bar (index, previous, next), and
writes ``<site>/index.html``: the paper's question, the notebooks in order
with the question each answers, the key figures, and the replication
summary. Pages link to each other and to ``figures/`` relatively, load no
script from the network, and contain no absolute path of the machine.
``python -m microcalc.pipeline.report`` builds it (``make report``).

Strings that come from data or paths (centre codes, folder and site names)
never become markup: the index escapes everything it writes, and before the
notebooks are rendered :func:`escape_outputs` escapes ``<`` in Markdown
outputs (outside code spans, which the renderer escapes itself) and passes
HTML outputs through an allowlist of table and text tags, so a folder named
``<img src=x onerror=...>`` shows as text.

The site folder is marked as the builder's (:data:`MARKER`, listing the files
it wrote). A rebuild deletes only the files that list names; a folder that
exists, is not empty and carries no marker is refused, never deleted.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from microcalc.core.paths import project_path

__all__ = ["build_report", "escape_outputs", "ReportFolderError", "KEY_FIGURES", "MARKER", "main"]

#: The file that marks a folder as written by :func:`build_report` and lists what it wrote.
MARKER = ".microcalc-report.json"

#: Tags and attributes an HTML output (a pandas table, mostly) may keep; anything else is shown as text.
_HTML_TAGS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
                        "div", "span", "p", "br", "b", "i", "em", "strong", "code", "pre", "sup", "sub",
                        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "style", "small", "hr"})
_HTML_ATTRIBUTES = ["class", "id", "colspan", "rowspan", "halign", "valign", "align", "border", "scoped", "title",
                    "style"]
_CSS_PROPERTIES = ["text-align", "vertical-align", "font-weight", "font-style", "color", "background-color",
                   "border", "border-bottom", "border-top", "padding", "white-space", "width"]


class ReportFolderError(RuntimeError):
    """The site folder exists and was not written by the report builder: it is left alone."""

#: Figures shown on the index page, in order, with their captions (also their alt text) and whether they
#: span the page's width (a two-panel figure) rather than one column of the grid.
KEY_FIGURES = (
    ("04_pcr_by_calcification", "pCR rate with and without microcalcification (NACT cohort), with 95% Wilson CIs",
     False),
    ("06_bone_metastasis_by_calcification",
     "Recorded bone metastasis with and without microcalcification (multicentre cohort), with 95% Wilson CIs", False),
    ("05_necrosis_by_calcification", "Tumour necrosis on MRI with and without microcalcification, with 95% CIs",
     False),
    ("06_type_and_extent", "Type and extent of the bone metastases, with and without microcalcification", True),
    ("07_or_published_vs_reproduced", "Published odds ratios beside those computed by this run, with 95% CIs",
     True),
    ("07_findings_published_vs_site", "Published and site odds ratios with the 95% prediction interval", True),
    ("03_participant_flow", "Participant flow of both cohorts", True),
)

#: The two figures of the one-page summary.
SUMMARY_FIGURES = ("04_pcr_by_calcification", "06_bone_metastasis_by_calcification")

#: The templates of the edition (an nbconvert template that extends JupyterLab's).
TEMPLATES = Path(__file__).with_name("templates")

#: Cell tags the edition obeys (JupyterBook's names): the whole cell, its code, its output left out;
#: ``show-code`` shows a cell's code unfolded. Every other code cell is folded.
REMOVE_CELL, REMOVE_INPUT, REMOVE_OUTPUT, SHOW_CODE = "remove-cell", "remove-input", "remove-output", "show-code"

_TEST_NAMES = {"fisher_exact": "Fisher's exact test", "pearson_chi2": "Pearson's χ² test",
               "yates_chi2": "the Yates-corrected χ² test", "mann_whitney": "the Mann-Whitney test",
               "logistic_wald": "the Wald test of a logistic regression"}

def _strip_remote_scripts(page: str) -> str:
    """Remove scripts and stylesheets loaded from the network (the site must work offline)."""
    page = re.sub(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', "", page)
    page = re.sub(r'<link[^>]+href="https?://[^"]*"[^>]*>', "", page)
    return page


def _escape_markdown(text: str) -> str:
    """``<`` escaped outside code spans, so no tag in a Markdown output becomes markup."""
    parts = re.split(r"(`+[^`]*?`+)", text)
    return "".join(part if part.startswith("`") else part.replace("<", "&lt;") for part in parts)


def _clean_html(text: str) -> str:
    import bleach
    from bleach.css_sanitizer import CSSSanitizer  # tinycss2, through nbconvert's bleach[css]

    return bleach.clean(text, tags=_HTML_TAGS, attributes=_HTML_ATTRIBUTES, strip=False, strip_comments=True,
                        css_sanitizer=CSSSanitizer(allowed_css_properties=_CSS_PROPERTIES))


def escape_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Make every output's data-derived text inert before rendering (in place); returns ``nb``.

    Markdown outputs have ``<`` escaped outside code spans; HTML outputs keep
    only :data:`_HTML_TAGS` with :data:`_HTML_ATTRIBUTES` (no script, image,
    link or event handler), anything else escaped as text; JavaScript
    outputs are dropped.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            for mime in [m for m in data if "javascript" in m]:
                del data[mime]
            if not data:
                data["text/plain"] = "(a script output, not shown in the HTML edition)"
            if "text/markdown" in data:
                md = data["text/markdown"]
                data["text/markdown"] = _escape_markdown("".join(md) if isinstance(md, list) else md)
            if "text/html" in data:
                page = data["text/html"]
                data["text/html"] = _clean_html("".join(page) if isinstance(page, list) else page)
    return nb


def _legacy_files(out: Path) -> list[str] | None:
    """The files of a site built before sites were marked, or None if ``out`` holds anything else."""
    files = []
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        if p.is_dir() and rel == "figures":
            continue
        if p.is_symlink() or not (re.fullmatch(r"(index|\d\d_[\w.-]+)\.html", rel)
                                  or re.fullmatch(r"figures/\d\d_[\w.-]+\.png", rel)):
            return None
        files.append(rel)
    return files


def _prepare_site(out: Path) -> None:
    """Delete from ``out`` what an earlier build wrote, or refuse a folder the builder did not write."""
    marker = out / MARKER
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReportFolderError(f"{out.name} exists and is not a folder the report builder wrote; "
                                "choose a new or empty folder")
    if not out.exists() or not any(out.iterdir()):
        return
    if marker.is_file():
        try:
            listed = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError):
            listed = []
    else:
        listed = _legacy_files(out)
        if listed is None:
            raise ReportFolderError(f"{out.name} is not empty and was not written by the report builder "
                                    f"(no {MARKER}); it is left untouched: choose a new or empty folder")
    for rel in listed:
        target = out / rel
        if (isinstance(rel, str) and not os.path.isabs(rel) and ".." not in Path(rel).parts
                and (target.is_file() or target.is_symlink())):
            target.unlink()
    if (out / "figures").is_dir() and not any((out / "figures").iterdir()):
        (out / "figures").rmdir()
    marker.unlink(missing_ok=True)


def _write_marker(out: Path, files: list[str]) -> None:
    (out / MARKER).write_text(json.dumps({"written_by": "microcalc.pipeline.report", "files": sorted(files)}, indent=1)
                              + "\n", encoding="utf-8")


# ------------------------------------------------------------------ what the pages say
def _title_and_question(nb: nbformat.NotebookNode) -> tuple[str, str]:
    first = nb.cells[0].source if nb.cells else ""
    title = next((line[2:].strip() for line in first.splitlines() if line.startswith("# ")), "notebook")
    question = next((line for line in first.splitlines() if line.startswith("**Question.**")), "")
    return title, question.replace("**Question.**", "").strip()


def _plain(markdown: str) -> str:
    """Markdown as plain text (for alt text): no emphasis, code marks or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"[*_`#>]+", "", text).strip()


def alt_texts(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Give every image output an alt text (in place; returns ``nb``).

    The alt text is the output's ``alt`` metadata or the cell's, when a notebook
    sets one; otherwise "Figure: " and the heading and first sentence of the
    Markdown cell the figure follows, which on these pages says what the figure shows.
    """
    heading, sentence = "", ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [line for line in cell.source.splitlines() if line.strip()]
            heads = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
            prose = " ".join(line for line in lines if not line.startswith("#"))
            if heads:
                heading, sentence = _plain(heads[-1]), ""
            if prose:
                sentence = _plain(re.split(r"(?<=[.:;])\s", prose, maxsplit=1)[0])
            continue
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                alt = (output.get("metadata", {}).get("alt") or cell.metadata.get("alt")
                       or "Figure: " + ". ".join(x for x in (heading, sentence) if x).rstrip(".:;") + ".")
                output.setdefault("metadata", {})["mc_alt"] = alt
    return nb


def _read_csv(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else None


def key_messages(output_dir: str | Path = ".", synthetic: bool = True) -> list[str]:
    """The index's key messages, as plain sentences, each computed from a file the notebooks wrote.

    From notebook 01 (``data/reconstructed/``, the paper's numbers, the same for
    every run): the tables the abstract fixes uniquely, any printed P matched only
    by a test the paper does not name, and whether the published odds ratios,
    CIs and P values agree with one another. Then, from notebook 07: on the
    bundled data the reproduction check's counts (:func:`microcalc.replicate.summary`),
    on a site's data the findings' headline (:func:`finding_sentences` gives one
    sentence per finding, shown under it).
    A file that is missing gives a sentence saying which notebook has not run.
    """
    import pandas as pd

    from microcalc import replicate

    rec = project_path("data/reconstructed")
    out: list[str] = []
    overview = _read_csv(rec / "01_reconstruction_overview.csv")
    if overview is None:
        out.append("The reconstruction of the paper's tables (notebook 01) has not been run.")
    else:
        unique = overview[(overview["status"] == "unique") & overview["reconstruction"].isin(["nact_pcr", "bone_met"])]
        fixed = []
        for _, row in unique.iterrows():
            a, b = (part.strip() for part in row["table"].split("vs"))
            what = row["what"] if row["what"][1:2].isupper() else row["what"][:1].lower() + row["what"][1:]
            fixed.append(f"{what}: {a.replace('/', ' of ')} with microcalcification against "
                         f"{b.replace('/', ' of ')} without")
        open_ = overview[overview["status"] != "unique"]
        text = "The abstract's numbers fix one table each for " + "; and for ".join(fixed) + "."
        if len(open_):
            first = open_.iloc[0]
            text += (f" It leaves {len(open_)} others open, among them {first['what']} "
                     f"({first['feasible tables']} possible tables).")
        out.append(text)
    verdicts = _read_csv(rec / "01_p_verdicts.csv")
    if verdicts is not None:
        measures = {}
        findings_csv = _read_csv(project_path("data/results/replication_findings.csv"))
        if findings_csv is not None:
            measures = dict(zip(findings_csv["id"], findings_csv["measure"], strict=True))
        for _, row in verdicts[verdicts["verdict"].str.startswith("only an unnamed test")].iterrows():
            tests = ", ".join(_TEST_NAMES.get(t.strip(), t.strip()) for t in row["reproduced by"].split(","))
            out.append(f"The printed {row['reported P']} ({measures.get(row['id'], row['id'])}) is reproduced only "
                       f"by {tests}, a test the paper does not name for it (it names {row['paper names']}).")
    coherence = _read_csv(rec / "01_or_ci_p_coherence.csv")
    if coherence is not None:
        ok = coherence[(coherence["P consistent"] == "True") & (coherence["OR consistent"] == "True")]
        text = (f"{len(ok)} of the {len(coherence)} published odds ratios are internally consistent with their "
                "95% CIs and P values")
        bad = sorted(set(coherence["id"]) - set(ok["id"]))
        out.append(text + (f"; not consistent: {', '.join(bad)}." if bad else "."))
    results = project_path(output_dir) / "data" / "results"
    if synthetic:
        table = _read_csv(results / "replication.csv")
        out.append("Reproduction check of the pipeline on the synthetic data (not a replication): "
                   + (replicate.summary(table) + "." if table is not None
                      else "the report (notebook 07) has not been run."))
    else:
        findings = results / "replication_findings.csv"
        if findings.is_file():
            frame = pd.read_csv(findings)
            out.append(replicate.findings_headline(frame) + ".")
        else:
            out.append("The replication report (notebook 07) has not been run on these data.")
    return out


def finding_sentences(output_dir: str | Path) -> list[str]:
    """On a site's data, one sentence per finding (:func:`microcalc.replicate.findings_sentences`), or none."""
    import pandas as pd

    from microcalc.replicate import findings_sentences

    findings = project_path(output_dir) / "data" / "results" / "replication_findings.csv"
    if not findings.is_file():
        return []
    frame = pd.read_csv(findings)
    labels = _finding_labels(frame)
    return [re.sub(r"^`([^`]+)`", lambda m: labels.get(m.group(1), m.group(1)), s).replace("`", "")
            for s in findings_sentences(frame)]


def _finding_labels(findings) -> dict[str, str]:
    """Each finding's id to its measure in words, saying which odds ratios are adjusted."""
    model = {"_uni": ", unadjusted", "_multi": ", adjusted"}
    return {i: ((m if m[1:2].isupper() else m[:1].upper() + m[1:]) + next((v for k, v in model.items() if i.endswith(k)), ""))
            for i, m in zip(findings["id"], findings["measure"], strict=True)}


def _key_results(output_dir: Path, synthetic: bool) -> str:
    """The index's table of the paper's findings: published beside this run (HTML, every cell escaped)."""
    import pandas as pd

    from microcalc.replicate import findings_display
    from microcalc.study import FINDING_IDS

    results = output_dir / "data" / "results"
    findings = _read_csv(results / "replication_findings.csv")
    if findings is None:
        return "<p>The replication report (notebook 07) has not been run: no results to show.</p>"
    measure = _finding_labels(findings)
    if synthetic:
        score = _read_csv(results / "replication.csv")
        if score is None:
            return "<p>The reproduction check (notebook 07) has not been run.</p>"
        score = score.set_index("id")
        head = ["Finding", "Published", "This run", "Agreement"]
        rows = [[measure.get(i, i), score.at[i, "published"], score.at[i, "reproduced"], score.at[i, "agreement"]]
                for i in FINDING_IDS if i in score.index]
    else:
        shown = findings_display(pd.read_csv(results / "replication_findings.csv"))
        head = ["Finding", "Published", "This site", "Same direction, significant", "Inside 95% prediction interval"]
        rows = [[measure.get(f.split(":")[0], f), p, s, c1, c3] for f, p, s, c1, c3 in
                shown[["finding", "published", "this site", "1 same direction, significant",
                       "3 inside 95% prediction interval"]].itertuples(index=False)]
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return ('<table class="mc-results"><thead><tr>' + "".join(f"<th>{h}</th>" for h in head)
            + f"</tr></thead><tbody>{cells}</tbody></table>")


def _banner(synthetic: bool, label: str | None) -> str:
    if synthetic:
        return ('<p class="mc-banner" role="note"><strong>Synthetic data.</strong> These pages run on the bundled '
                "synthetic cohorts, generated by code from the published numbers; no row is a patient. They check "
                "that the pipeline computes what the paper computed, and cannot show whether microcalcification "
                "predicts pCR.</p>")
    whose = f"the data of run {html.escape(label)}" if label else "a site's own data"
    return (f'<p class="mc-banner mc-site" role="note"><strong>This site&#8217;s data.</strong> These pages show the '
            f"paper's analysis run on {whose}: the numbers are this site's, not the paper's.</p>")


def _prevnext(pages: list[tuple[str, str]], i: int) -> str:
    prev = (f'<a rel="prev" href="{pages[i - 1][0]}">&larr; {html.escape(pages[i - 1][1])}</a>' if i > 0
            else "<span></span>")
    nxt = (f'<a rel="next" href="{pages[i + 1][0]}">{html.escape(pages[i + 1][1])} &rarr;</a>'
           if i + 1 < len(pages) else "<span></span>")
    return f'<nav class="mc-prevnext" aria-label="Previous and next page">{prev}{nxt}</nav>'


_HEADING = re.compile(r'<h([1-3]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)


def _toc(page: str) -> str:
    """The page's table of contents, from its rendered h2/h3 headings."""
    items = []
    for level, ident, inner in _HEADING.findall(page):
        if level == "1" or ident.startswith("mc-"):
            continue
        text = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        items.append(f'<li class="mc-toc-{level}"><a href="#{ident}">{text}</a></li>')
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>(one section)</p>"


class _Edition:
    """One nbconvert exporter with the edition's template and preprocessors, and the site's pages."""

    def __init__(self, pages: list[tuple[str, str]], banner: str, summary_page: bool):
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        self.pages, self.banner, self.summary_page = pages, banner, summary_page
        self.exporter = HTMLExporter(template_name="edition", extra_template_basedirs=[str(TEMPLATES)],
                                     exclude_anchor_links=False)
        self.exporter.register_preprocessor(TagRemovePreprocessor(
            remove_cell_tags={REMOVE_CELL}, remove_input_tags={REMOVE_INPUT},
            remove_all_outputs_tags={REMOVE_OUTPUT}), enabled=True)

    def render(self, nb: nbformat.NotebookNode, href: str, title: str, kind: str) -> str:
        i = next((k for k, (h, _) in enumerate(self.pages) if h == href), None)
        nb.metadata["title"] = title
        mc = {"kind": kind, "href": href, "pages": self.pages, "banner": self.banner,
              "summary_page": self.summary_page, "prevnext": _prevnext(self.pages, i) if i is not None else "",
              "has_code": any(c.cell_type == "code" for c in nb.cells)}
        body, _ = self.exporter.from_notebook_node(alt_texts(nb), resources={"mc": mc})
        body = body.replace("<!--mc-toc-->", _toc(body), 1)
        return _strip_remote_scripts(body)


def _markdown_notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in sources])


def _figure_html(figs: list[tuple[str, str, bool]]) -> str:
    return ('<div class="mc-figures">' + "".join(
        f'<figure class="{"mc-wide" if wide else ""}"><img src="figures/{name}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>" for name, caption, wide in figs) + "</div>")


def _key_box(messages: list[str], details: list[str]) -> str:
    """The Key messages box; ``details`` (a site's sentence per finding) as a list under the last message."""
    sub = ("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in details) + "</ul>") if details else ""
    items = "".join(f"<li>{html.escape(m)}{sub if k == len(messages) - 1 else ''}</li>"
                    for k, m in enumerate(messages))
    return (f'<div class="mc-key" role="region" aria-labelledby="key-messages"><h2 id="key-messages">Key messages'
            f"</h2><ul>{items}</ul></div>")


def print_pdf(page: Path, pdf: Path, timeout: int = 120) -> None:
    """Print ``page`` to ``pdf`` with headless Chromium (its print stylesheet applies).

    Raises
    ------
    RuntimeError
        If Chromium is not installed or fails; the message says how to install it.
    """
    import subprocess
    import tempfile

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        raise RuntimeError("summary.pdf not written: Chromium is needed to print it "
                           "(apt-get install chromium; `make report` does this when run as root)")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                               "--no-first-run", "--disable-background-networking", "--no-pdf-header-footer",
                               f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not pdf.is_file():
        raise RuntimeError(f"summary.pdf not written: Chromium exited with status {proc.returncode}")


def build_report(notebooks_dir: str | Path = "notebooks", output_dir: str | Path = ".",
                 site: str | Path | None = None, synthetic: bool | None = None, label: str | None = None,
                 summary_pdf: bool = False) -> Path:
    """Render the executed notebooks, an index page and the glossary into ``site`` (default ``<output_dir>/report``).

    ``synthetic`` says whether the run used the bundled synthetic cohorts (every
    page then carries the synthetic-data banner); by default, whether
    ``output_dir`` is the project itself. ``label`` (a run's name) is shown,
    escaped, on the index page. ``summary_pdf`` also writes ``summary.html``
    and prints it to ``summary.pdf`` with headless Chromium (``make report``).
    Returns the path of the index page.

    Raises
    ------
    ReportFolderError
        If ``site`` exists, is not empty and was not written by this function.
    RuntimeError
        If ``summary_pdf`` and Chromium is missing or fails (the pages are written).
    """
    notebooks = sorted(project_path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    out = project_path(site) if site else project_path(output_dir) / "report"
    output_dir = project_path(output_dir)
    if synthetic is None:
        synthetic = output_dir.resolve() == project_path(".").resolve()
    _prepare_site(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    extra = ["summary.html", "summary.pdf"] if summary_pdf else []
    _write_marker(out, [p.stem + ".html" for p in notebooks] + ["index.html", "glossary.html"] + extra
                  + [f"figures/{name}.png" for name, _, _ in KEY_FIGURES])
    written: list[str] = []
    parsed = [(p, escape_outputs(nbformat.read(p, as_version=4))) for p in notebooks]
    pages = ([("index.html", "Overview")] + [(p.stem + ".html", _title_and_question(nb)[0]) for p, nb in parsed]
             + [("glossary.html", "Glossary")])
    edition = _Edition(pages, _banner(synthetic, label), summary_pdf)
    for path, nb in parsed:
        href, title = path.stem + ".html", _title_and_question(nb)[0]
        (out / href).write_text(edition.render(nb, href, title, "notebook"), encoding="utf-8")
        written.append(href)

    glossary = project_path("docs/glossary.md").read_text(encoding="utf-8")
    (out / "glossary.html").write_text(edition.render(_markdown_notebook(glossary), "glossary.html", "Glossary",
                                                      "glossary"), encoding="utf-8")
    written.append("glossary.html")

    shown = []
    for name, caption, wide in KEY_FIGURES:
        src = output_dir / "figures" / f"{name}.png"
        if src.exists():
            shutil.copyfile(src, out / "figures" / src.name)
            written.append(f"figures/{src.name}")
            shown.append((src.name, caption, wide))

    abstract = project_path("data/published/abstract.txt").read_text(encoding="utf-8")
    objective = next((line for line in abstract.splitlines() if line.startswith("Objectives:")), "")
    question = html.escape(objective.replace("Objectives:", "").strip())
    messages = key_messages(output_dir, synthetic)
    details = [] if synthetic else finding_sentences(output_dir)
    title = "# Breast microcalcification and poor prognosis"
    cite = ("A research compendium for *New insights into breast microcalcification for poor prognosis: NACT cohort "
            "and bone metastasis evaluation cohort*, J Cancer Res Clin Oncol 2023;149(10):7285&ndash;7297 "
            "(doi 10.1007/s00432-023-04668-4). Words in bold or unfamiliar are explained in the "
            "[glossary](glossary.html).")
    run = f"**Run:** {html.escape(label)}" if label else ""
    items = "\n".join(f"{k}. [{title_}]({href}): {_title_and_question(nb)[1]}"
                      for k, ((href, title_), (_, nb)) in enumerate(zip(pages[1:], parsed, strict=False), start=1))
    check = "The reproduction check, finding by finding" if synthetic else "The paper's findings on this site's data"
    index_nb = _markdown_notebook(
        f"{title}\n\n{cite}\n\n{run}",
        f'## The question\n\n<p class="mc-question">{question}</p>',
        _key_box(messages, details),
        f"## {check}\n\n" + _key_results(output_dir, synthetic)
        + ("\n\nOn synthetic data the agreement is by construction (rates, univariable results) or calibration "
           "(multivariable odds ratios): see the banner above." if synthetic else ""),
        "## Key figures\n\n" + _figure_html(shown),
        f"## The analysis, page by page\n\n{items}\n\n[Glossary](glossary.html) of the clinical terms.")
    (out / "index.html").write_text(edition.render(index_nb, "index.html", "Breast microcalcification: overview",
                                                   "index"), encoding="utf-8")
    written.append("index.html")
    _write_marker(out, written)

    if summary_pdf:
        from microcalc.replicate import limitations

        figs = [(name, caption, False) for name, caption, _ in shown if name[:-4] in SUMMARY_FIGURES]
        summary_nb = _markdown_notebook(
            "# Breast microcalcification and poor prognosis: summary\n\n" + cite.split(" Words")[0],
            f"## The question\n\n{question}", _key_box(messages, details), _figure_html(figs),
            "## Limitations\n\n" + limitations(synthetic)
            + ("\n- The cohorts are synthetic: these numbers check the pipeline, not the paper's findings."
               if synthetic else ""))
        (out / "summary.html").write_text(edition.render(summary_nb, "summary.html", "Summary", "summary"),
                                          encoding="utf-8")
        written.append("summary.html")
        _write_marker(out, written)
        print_pdf(out / "summary.html", out / "summary.pdf")
        written.append("summary.pdf")
        _write_marker(out, written)
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.pipeline.report [--notebooks DIR] [--output-dir DIR] [--site DIR] [--summary-pdf]``."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.pipeline.report", description=main.__doc__)
    ap.add_argument("--notebooks", default="notebooks")
    ap.add_argument("--output-dir", default=".")
    ap.add_argument("--site", default=None)
    ap.add_argument("--summary-pdf", action="store_true", help="also print summary.pdf with headless Chromium")
    args = ap.parse_args(argv)
    try:
        index = build_report(args.notebooks, args.output_dir, args.site, summary_pdf=args.summary_pdf)
    except ReportFolderError as err:
        print(f"report not built: {err}", file=sys.stderr)
        return 1
    except RuntimeError as err:  # the pages are written, the summary PDF is not
        print(f"the HTML pages are written, but {err}", file=sys.stderr)
        return 1
    print(f"wrote {index.parent.name}/{index.name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
