"""The HTML edition: the executed notebooks as a small static site.

:func:`build_report` renders every executed notebook with nbconvert into
``<site>/NN_name.html``, adds a navigation bar (index, previous, next), and
writes ``<site>/index.html``: the paper's question, the notebooks in order
with the question each answers, the key figures, and the replication
summary. Pages link to each other and to ``figures/`` relatively, load no
script from the network, and contain no absolute path of the machine.
``python -m microcalc.report`` builds it (``make report``).

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

from .paths import project_path

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

#: Figures shown on the index page, in order, with their captions.
KEY_FIGURES = (
    ("03_participant_flow", "Participant flow of both cohorts"),
    ("04_pcr_by_calcification", "pCR by microcalcification, with 95% Wilson CIs"),
    ("05_necrosis_by_calcification", "MRI necrosis by microcalcification"),
    ("06_bone_metastasis_by_calcification", "Bone metastasis by microcalcification"),
    ("06_type_and_extent", "Type and extent of bone metastases"),
    ("07_or_published_vs_reproduced", "Published and reproduced odds ratios"),
    ("07_findings_published_vs_site", "Published and site odds ratios with the 95% prediction interval"),
)

_NAV_STYLE = """
nav.mc-nav { font-family: system-ui, sans-serif; font-size: 14px; background: #f4f6f8;
             border-bottom: 1px solid #d0d7de; padding: .5rem 1rem; position: sticky; top: 0; z-index: 10; }
nav.mc-nav a { margin-right: 1.5rem; color: #0072B2; text-decoration: none; }
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
.synthetic { background: #fff4e5; border-left: 4px solid #E69F00; padding: .5rem 1rem; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
ol li { margin-bottom: .6rem; }
""" + _NAV_STYLE


def _title_and_question(nb: nbformat.NotebookNode) -> tuple[str, str]:
    first = nb.cells[0].source if nb.cells else ""
    title = next((line[2:].strip() for line in first.splitlines() if line.startswith("# ")), "notebook")
    question = next((line for line in first.splitlines() if line.startswith("**Question.**")), "")
    return title, question.replace("**Question.**", "").strip()


def _md_inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _nav(pages: list[tuple[str, str]], i: int | None) -> str:
    links = ['<a href="index.html">Index</a>']
    if i is not None and i > 0:
        links.append(f'<a href="{pages[i - 1][0]}">&larr; {html.escape(pages[i - 1][1])}</a>')
    if i is not None and i + 1 < len(pages):
        links.append(f'<a href="{pages[i + 1][0]}">{html.escape(pages[i + 1][1])} &rarr;</a>')
    return '<nav class="mc-nav">' + "".join(links) + "</nav>"


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
    (out / MARKER).write_text(json.dumps({"written_by": "microcalc.report", "files": sorted(files)}, indent=1)
                              + "\n", encoding="utf-8")


def build_report(notebooks_dir: str | Path = "notebooks", output_dir: str | Path = ".",
                 site: str | Path | None = None, synthetic: bool | None = None, label: str | None = None) -> Path:
    """Render the executed notebooks and an index page into ``site`` (default ``<output_dir>/report``).

    ``synthetic`` says whether the run used the bundled synthetic cohorts (the
    index then says so); by default, whether ``output_dir`` is the project itself.
    ``label`` (a run's name) is shown, escaped, on the index page.
    Returns the path of the index page.

    Raises
    ------
    ReportFolderError
        If ``site`` exists, is not empty and was not written by this function.
    """
    from nbconvert import HTMLExporter

    notebooks = sorted(project_path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    out = project_path(site) if site else project_path(output_dir) / "report"
    _prepare_site(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    _write_marker(out, [p.stem + ".html" for p in notebooks] + ["index.html"]
                  + [f"figures/{name}.png" for name, _ in KEY_FIGURES])
    exporter = HTMLExporter(template_name="lab")
    parsed = [(p, escape_outputs(nbformat.read(p, as_version=4))) for p in notebooks]
    pages = [(p.stem + ".html", _title_and_question(nb)[0]) for p, nb in parsed]
    for i, (path, nb) in enumerate(parsed):
        body, _ = exporter.from_notebook_node(nb)
        body = _strip_remote_scripts(body)
        body = body.replace("<body", "<body data-mc-page", 1)
        body = body.replace("</head>", f"<style>{_NAV_STYLE}</style></head>", 1)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _nav(pages, i), body, count=1)
        (out / pages[i][0]).write_text(body, encoding="utf-8")
        written.append(pages[i][0])

    figures_dir = project_path(output_dir) / "figures"
    shown = []
    for name, caption in KEY_FIGURES:
        src = figures_dir / f"{name}.png"
        if src.exists():
            shutil.copyfile(src, out / "figures" / src.name)
            written.append(f"figures/{src.name}")
            shown.append((src.name, caption))

    abstract = project_path("data/published/abstract.txt").read_text(encoding="utf-8")
    objective = next((line for line in abstract.splitlines() if line.startswith("Objectives:")), "")
    summary = ""
    replication = project_path(output_dir) / "data" / "results" / "replication.csv"
    if replication.exists():
        import pandas as pd

        from .replicate import summary as replication_summary

        summary = replication_summary(pd.read_csv(replication, dtype=str, keep_default_na=False))
    if synthetic is None:
        synthetic = project_path(output_dir).resolve() == project_path(".").resolve()
    findings = project_path(output_dir) / "data" / "results" / "replication_findings.csv"
    if not synthetic and findings.exists():
        import pandas as pd

        from .replicate import findings_headline

        summary = findings_headline(pd.read_csv(findings))
    items = "".join(
        f'<li><a href="{page}">{html.escape(title)}</a><br>{_md_inline(_title_and_question(nb)[1])}</li>'
        for (page, title), (_, nb) in zip(pages, parsed))
    figures = "".join(f'<figure><img src="figures/{name}" alt="{html.escape(caption)}">'
                      f"<figcaption>{html.escape(caption)}</figcaption></figure>" for name, caption in shown)
    index = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Breast microcalcification: research compendium</title>
<style>{_STYLE}</style></head>
<body data-mc-page>{_nav(pages, None)}
<h1>Breast microcalcification and poor prognosis: a research compendium</h1>
<p>Reproduction of <em>New insights into breast microcalcification for poor prognosis: NACT cohort and bone
metastasis evaluation cohort</em>, J Cancer Res Clin Oncol 2023;149(10):7285&ndash;7297
(doi 10.1007/s00432-023-04668-4).</p>
{f'<p class="run"><strong>Run:</strong> {html.escape(label)}</p>' if label else ''}
<p><strong>The paper's question.</strong> {html.escape(objective.replace("Objectives:", "").strip())}</p>
{'<p class="synthetic"><strong>Synthetic data.</strong> The bundled cohorts are generated by code from the published numbers; no row is a patient. Agreement with the paper is by construction and calibration.</p>' if synthetic else ''}
<h2>Replication summary</h2>
<p>{html.escape(summary) if summary else "The replication report has not been run."}</p>
<h2>The workflow, notebook by notebook</h2>
<ol>{items}</ol>
<h2>Key figures</h2>
{figures}
</body></html>
"""
    (out / "index.html").write_text(index, encoding="utf-8")
    _write_marker(out, written + ["index.html"])
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.report [--notebooks DIR] [--output-dir DIR] [--site DIR]``."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.report", description=main.__doc__)
    ap.add_argument("--notebooks", default="notebooks")
    ap.add_argument("--output-dir", default=".")
    ap.add_argument("--site", default=None)
    args = ap.parse_args(argv)
    try:
        index = build_report(args.notebooks, args.output_dir, args.site)
    except ReportFolderError as err:
        print(f"report not built: {err}", file=sys.stderr)
        return 1
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
