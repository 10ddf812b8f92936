"""The HTML edition: the executed notebooks as a small static site.

:func:`build_report` renders every executed notebook with nbconvert into
``<site>/NN_name.html``, adds a navigation bar (index, previous, next), and
writes ``<site>/index.html``: the paper's question, the notebooks in order
with the question each answers, the key figures, and the replication
summary. Pages link to each other and to ``figures/`` relatively, load no
script from the network, and contain no absolute path of the machine.
``python -m microcalc.report`` builds it (``make report``).
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
from pathlib import Path

import nbformat

from .paths import project_path

__all__ = ["build_report", "KEY_FIGURES", "main"]

#: Figures shown on the index page, in order, with their captions.
KEY_FIGURES = (
    ("03_participant_flow", "Participant flow of both cohorts"),
    ("04_pcr_by_calcification", "pCR by microcalcification, with 95% Wilson CIs"),
    ("05_necrosis_by_calcification", "MRI necrosis by microcalcification"),
    ("06_bone_metastasis_by_calcification", "Bone metastasis by microcalcification"),
    ("06_type_and_extent", "Type and extent of bone metastases"),
    ("07_or_published_vs_reproduced", "Published and reproduced odds ratios"),
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


def build_report(notebooks_dir: str | Path = "notebooks", output_dir: str | Path = ".",
                 site: str | Path | None = None, synthetic: bool | None = None) -> Path:
    """Render the executed notebooks and an index page into ``site`` (default ``<output_dir>/report``).

    ``synthetic`` says whether the run used the bundled synthetic cohorts (the
    index then says so); by default, whether ``output_dir`` is the project itself.
    Returns the path of the index page.
    """
    from nbconvert import HTMLExporter

    notebooks = sorted(project_path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    out = project_path(site) if site else project_path(output_dir) / "report"
    if out.exists():
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    exporter = HTMLExporter(template_name="lab")
    parsed = [(p, nbformat.read(p, as_version=4)) for p in notebooks]
    pages = [(p.stem + ".html", _title_and_question(nb)[0]) for p, nb in parsed]
    for i, (path, nb) in enumerate(parsed):
        body, _ = exporter.from_notebook_node(nb)
        body = _strip_remote_scripts(body)
        body = body.replace("<body", "<body data-mc-page", 1)
        body = body.replace("</head>", f"<style>{_NAV_STYLE}</style></head>", 1)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _nav(pages, i), body, count=1)
        (out / pages[i][0]).write_text(body, encoding="utf-8")

    figures_dir = project_path(output_dir) / "figures"
    shown = []
    for name, caption in KEY_FIGURES:
        src = figures_dir / f"{name}.png"
        if src.exists():
            shutil.copyfile(src, out / "figures" / src.name)
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
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.report [--notebooks DIR] [--output-dir DIR] [--site DIR]``."""
    ap = argparse.ArgumentParser(prog="python -m microcalc.report", description=main.__doc__)
    ap.add_argument("--notebooks", default="notebooks")
    ap.add_argument("--output-dir", default=".")
    ap.add_argument("--site", default=None)
    args = ap.parse_args(argv)
    index = build_report(args.notebooks, args.output_dir, args.site)
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
