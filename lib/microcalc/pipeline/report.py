"""The HTML edition: the executed notebooks as a small static site.

:func:`build_report` renders every executed notebook with nbconvert into
``<site>/NN_name.html``, adds a navigation bar (index, previous, next), and
writes ``<site>/index.html``: the paper's question, the notebooks in order
with the question each answers, the key figures, and the replication
summary. Pages link to each other and to ``figures/`` relatively, load no
script from the network, and contain no absolute path of the machine.
``python -m microcalc.pipeline.report`` builds it (``make report``).

A rerun whose inputs are byte for byte unchanged is skipped, decided on
content, never on modification times (:func:`~microcalc.pipeline.report_site.main`,
which this module's command runs; ``make report`` calls it as
``python -m microcalc.pipeline.report_site``, which skips without importing
the renderer): it first computes the SHA-256 of the edition's inputs
(:func:`~microcalc.pipeline.report_site.edition_inputs`, the one definition of
them, which the Makefile's ``REPORT_INPUTS`` follows: the executed notebooks,
the library with its templates, ``docs/``, ``figures/`` and ``data/results``,
``reconstructed`` and ``published``; each file's path and bytes), of its
options, of Chromium's ``--version`` when it prints the summary PDF, of the
Python and of the installed package set (:mod:`microcalc.core.digest`). A
complete build ends by writing that digest and the SHA-256 of every file it
wrote into ``<site>/.inputs.json`` (:data:`INPUTS_RECORD`); the next run skips
the build, saying so in one line, when the digest matches and every file the
site's marker lists is there with the recorded bytes, and touches
``summary.pdf`` so that make counts it as up to date. ``--force`` rebuilds.

Strings that come from data or paths (centre codes, folder and site names)
never become markup: the index escapes everything it writes, and before the
notebooks are rendered :func:`escape_outputs` escapes ``<`` in Markdown
outputs (outside code spans, which the renderer escapes itself) and passes
HTML outputs through an allowlist of table and text tags, so a folder named
``<img src=x onerror=...>`` shows as text.

The site folder is marked as the builder's (:data:`MARKER`, listing the files
it wrote). A rebuild deletes only the files that list names; a folder that
exists, is not empty and carries no marker is refused, never deleted.

Sibling modules hold the parts, whose public names this module re-exports:
:mod:`~microcalc.pipeline.report_html` (escaping, alt texts),
:mod:`~microcalc.pipeline.report_messages` (key messages and finding sentences) and
:mod:`~microcalc.pipeline.report_site` (the site folder's marker, the summary PDF).
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat

from microcalc.core.paths import project_path
from microcalc.pipeline.report_html import _strip_remote_scripts, _title_and_question, alt_texts, escape_outputs
from microcalc.pipeline.report_messages import _key_results, finding_sentences, key_messages
from microcalc.pipeline.report_pages import render_pages
from microcalc.pipeline.report_site import (
    INPUT_FOLDERS,
    INPUTS_RECORD,
    MARKER,
    ReportFolderError,
    _prepare_site,
    _write_marker,
    edition_inputs,
    main,
    print_pdf,
)
from microcalc.study import BUNDLED_DATA_DIR, KEY_FIGURES, SUMMARY_FIGURES, is_bundled

__all__ = [
    "build_report",
    "escape_outputs",
    "ReportFolderError",
    "KEY_FIGURES",
    "MARKER",
    "INPUTS_RECORD",
    "INPUT_FOLDERS",
    "edition_inputs",
    "main",
    "alt_texts",
    "QUESTION",
    "SUMMARY_LIMITATIONS",
    "key_messages",
    "finding_sentences",
    "print_pdf",
]

#: The templates of the edition (an nbconvert template that extends JupyterLab's).
TEMPLATES = Path(__file__).with_name("templates")

#: Cell tags the edition obeys (JupyterBook's names): the whole cell, its code, its output left out;
#: ``show-code`` shows a cell's code unfolded. Every other code cell is folded.
REMOVE_CELL, REMOVE_INPUT, REMOVE_OUTPUT, SHOW_CODE = "remove-cell", "remove-input", "remove-output", "show-code"


#: The compendium's own question, as the index and the summary ask it (the paper's objective is quoted after it).
QUESTION = (
    "Do breast cancers with mammographic microcalcification respond less often to neoadjuvant chemotherapy "
    "(NACT), with fewer pathological complete responses (pCR), and do they carry higher odds of recorded bone "
    "metastasis?"
)

#: What every reader of the summary must know about the effects it gives, in words.
SUMMARY_LIMITATIONS = (
    "- The bone cohort has no follow-up time and does not say whether a metastasis was present at diagnosis: "
    "its odds ratios are odds of recorded bone metastasis, not a risk of developing one.\n"
    "- The necrosis analyses use only the NACT patients who had an MRI assessment of necrosis."
)


def _caption(caption: str) -> str:
    """A key figure's caption for a clinical reader: the Wilson interval said to be one, and where it is explained.

    >>> _caption("pCR rate, with 95% Wilson CIs")
    "pCR rate, with 95% CIs (Wilson's method, explained in the glossary)"
    """
    return caption.replace("95% Wilson CIs", "95% CIs (Wilson's method, explained in the glossary)")


def _question(objective: str) -> tuple[str, str]:
    """The compendium's question, and the paper's objective quoted as the abstract states it (HTML-escaped).

    >>> _question("The study aimed to analyze X.")[1]
    'The paper&#x27;s objective, as its abstract states: “The study aimed to analyze X.”'
    """
    quote = f"The paper's objective, as its abstract states: “{objective}”" if objective else ""
    return html.escape(QUESTION), html.escape(quote)


def _banner(synthetic: bool, label: str | None) -> str:
    if synthetic:
        return (
            '<p class="mc-banner" role="note"><strong>Synthetic data.</strong> These pages run on the bundled '
            "synthetic cohorts, generated by code from the published numbers; no row is a patient. They check "
            "that the pipeline computes what the paper computed, and cannot show whether microcalcification "
            "predicts pCR or recorded bone metastasis.</p>"
        )
    whose = f"the data of run {html.escape(label)}" if label else "a site's own data"
    return (
        f'<p class="mc-banner mc-site" role="note"><strong>This site&#8217;s data.</strong> These pages show the '
        f"paper's analysis run on {whose}: the numbers are this site's, not the paper's.</p>"
    )


def _prevnext(pages: list[tuple[str, str]], i: int) -> str:
    prev = (
        f'<a rel="prev" href="{pages[i - 1][0]}">&larr; {html.escape(pages[i - 1][1])}</a>'
        if i > 0
        else "<span></span>"
    )
    nxt = (
        f'<a rel="next" href="{pages[i + 1][0]}">{html.escape(pages[i + 1][1])} &rarr;</a>'
        if i + 1 < len(pages)
        else "<span></span>"
    )
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
        self.exporter = HTMLExporter(
            template_name="edition", extra_template_basedirs=[str(TEMPLATES)], exclude_anchor_links=False
        )
        self.exporter.register_preprocessor(
            TagRemovePreprocessor(
                remove_cell_tags={REMOVE_CELL},
                remove_input_tags={REMOVE_INPUT},
                remove_all_outputs_tags={REMOVE_OUTPUT},
            ),
            enabled=True,
        )

    def render(self, nb: nbformat.NotebookNode, href: str, title: str, kind: str) -> str:
        i = next((k for k, (h, _) in enumerate(self.pages) if h == href), None)
        nb.metadata["title"] = title
        mc = {
            "kind": kind,
            "href": href,
            "pages": self.pages,
            "banner": self.banner,
            "summary_page": self.summary_page,
            "prevnext": _prevnext(self.pages, i) if i is not None else "",
            "has_code": any(c.cell_type == "code" for c in nb.cells),
        }
        body, _ = self.exporter.from_notebook_node(alt_texts(nb), resources={"mc": mc})
        body = body.replace("<!--mc-toc-->", _toc(body), 1)
        return _strip_remote_scripts(body)


def _markdown_notebook(*sources: str) -> nbformat.NotebookNode:
    """A notebook of markdown cells, with fixed cell ids (nbformat's are random) so that pages are reproducible."""
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(s, id=f"mc-{k}") for k, s in enumerate(sources, start=1)]
    )


def _figure_html(figs: list[tuple[str, str, bool]]) -> str:
    return (
        '<div class="mc-figures">'
        + "".join(
            f'<figure class="{"mc-wide" if wide else ""}"><img src="figures/{name}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            for name, caption, wide in figs
        )
        + "</div>"
    )


def _key_box(messages: list[str], details: list[str]) -> str:
    """The Key messages box; ``details`` (a site's sentence per finding) as a list under the last message."""
    sub = ("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in details) + "</ul>") if details else ""
    items = "".join(f"<li>{html.escape(m)}{sub if k == len(messages) - 1 else ''}</li>" for k, m in enumerate(messages))
    return (
        f'<div class="mc-key" role="region" aria-labelledby="key-messages"><h2 id="key-messages">Key messages'
        f"</h2><ul>{items}</ul></div>"
    )


def _data_dir_of(output_dir: Path) -> str:
    """The data folder a run read: ``data_dir`` of its ``run.json``; the bundled data for the project's own run."""
    record = output_dir / "run.json"
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8")).get("data_dir", BUNDLED_DATA_DIR)
    return BUNDLED_DATA_DIR


def build_report(
    notebooks_dir: str | Path = "notebooks",
    output_dir: str | Path = ".",
    site: str | Path | None = None,
    synthetic: bool | None = None,
    label: str | None = None,
    summary_pdf: bool = False,
) -> Path:
    """Render the executed notebooks, an index page and the glossary into ``site`` (default ``<output_dir>/report``).

    ``synthetic`` says whether the run used the bundled synthetic cohorts (every
    page then carries the synthetic-data banner); by default, whether the
    run's data folder (:func:`_data_dir_of`) is the bundled one (:func:`microcalc.study.is_bundled`).
    ``label`` (a run's name) is shown,
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
        synthetic = is_bundled(_data_dir_of(output_dir))
    _prepare_site(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    extra = ["summary.html", "summary.pdf"] if summary_pdf else []
    _write_marker(
        out,
        [p.stem + ".html" for p in notebooks]
        + ["index.html", "glossary.html"]
        + extra
        + [f"figures/{name}.png" for name, _, _ in KEY_FIGURES],
    )
    written: list[str] = []
    parsed = [(p, escape_outputs(nbformat.read(p, as_version=4))) for p in notebooks]
    pages = (
        [("index.html", "Overview")]
        + [(p.stem + ".html", _title_and_question(nb)[0]) for p, nb in parsed]
        + [("glossary.html", "Glossary")]
    )
    edition = _Edition(pages, _banner(synthetic, label), summary_pdf)
    jobs = [(nb, path.stem + ".html", _title_and_question(nb)[0]) for path, nb in parsed]
    for href, text in render_pages(edition, jobs):
        (out / href).write_text(text, encoding="utf-8")
        written.append(href)

    glossary = project_path("docs/glossary.md").read_text(encoding="utf-8")
    (out / "glossary.html").write_text(
        edition.render(_markdown_notebook(glossary), "glossary.html", "Glossary", "glossary"), encoding="utf-8"
    )
    written.append("glossary.html")

    shown = []
    for name, caption, wide in KEY_FIGURES:
        src = output_dir / "figures" / f"{name}.png"
        if src.exists():
            shutil.copyfile(src, out / "figures" / src.name)
            written.append(f"figures/{src.name}")
            shown.append((src.name, _caption(caption), wide))

    abstract = project_path("data/published/abstract.txt").read_text(encoding="utf-8")
    objective = next((line for line in abstract.splitlines() if line.startswith("Objectives:")), "")
    question = _question(objective.replace("Objectives:", "").strip())
    messages = key_messages(output_dir, synthetic)
    details = [] if synthetic else finding_sentences(output_dir)
    title = "# Breast microcalcification and poor prognosis"
    cite = (
        "A research compendium for *New insights into breast microcalcification for poor prognosis: NACT cohort "
        "and bone metastasis evaluation cohort*, J Cancer Res Clin Oncol 2023;149(10):7285&ndash;7297 "
        "(doi 10.1007/s00432-023-04668-4). Words in bold or unfamiliar are explained in the "
        "[glossary](glossary.html)."
    )
    run = f"**Run:** {html.escape(label)}" if label else ""
    items = "\n".join(
        f"{k}. [{title_}]({href}): {_title_and_question(nb)[1]}"
        for k, ((href, title_), (_, nb)) in enumerate(zip(pages[1:], parsed, strict=False), start=1)
    )
    check = "The reproduction check, finding by finding" if synthetic else "The paper's findings on this site's data"
    index_nb = _markdown_notebook(
        f"{title}\n\n{cite}\n\n{run}",
        f'## The question\n\n<p class="mc-question">{question[0]}</p>\n\n<p>{question[1]}</p>',
        _key_box(messages, details),
        f"## {check}\n\n"
        + _key_results(output_dir, synthetic)
        + (
            "\n\nOn synthetic data the agreement is by construction (rates, univariable results) or calibration "
            "(multivariable odds ratios): see the banner above."
            if synthetic
            else ""
        ),
        "## Key figures\n\n" + _figure_html(shown),
        f"## The analysis, page by page\n\n{items}\n\n[Glossary](glossary.html) of the clinical terms.",
    )
    (out / "index.html").write_text(
        edition.render(index_nb, "index.html", "Breast microcalcification: overview", "index"), encoding="utf-8"
    )
    written.append("index.html")
    _write_marker(out, written)

    if summary_pdf:
        from microcalc.replicate import limitations

        figs = [(name, caption, False) for name, caption, _ in shown if name[:-4] in SUMMARY_FIGURES]
        summary_nb = _markdown_notebook(
            "# Breast microcalcification and poor prognosis: summary\n\n" + cite.split(" Words")[0],
            f"## The question\n\n{question[0]} {question[1]}",
            _key_box(messages, details),
            _figure_html(figs),
            "## Limitations\n\n"
            + (
                "- The cohorts are synthetic: these numbers check the pipeline, not the paper's findings.\n"
                if synthetic
                else limitations(synthetic) + "\n"
            )
            + SUMMARY_LIMITATIONS,
        )
        (out / "summary.html").write_text(
            edition.render(summary_nb, "summary.html", "Summary", "summary"), encoding="utf-8"
        )
        written.append("summary.html")
        _write_marker(out, written)
        print_pdf(out / "summary.html", out / "summary.pdf")
        written.append("summary.pdf")
        _write_marker(out, written)
    return out / "index.html"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
