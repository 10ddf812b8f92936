"""What the HTML edition lets through: Markdown outputs escaped, HTML outputs through an allowlist, no
script from the network, and alt texts for figures (part of :mod:`microcalc.pipeline.report`).
"""

from __future__ import annotations

import re

import nbformat

__all__ = ["escape_outputs", "alt_texts"]


#: Tags and attributes an HTML output (a pandas table, mostly) may keep; anything else is shown as text.
_HTML_TAGS = frozenset(
    {
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "caption",
        "colgroup",
        "col",
        "div",
        "span",
        "p",
        "br",
        "b",
        "i",
        "em",
        "strong",
        "code",
        "pre",
        "sup",
        "sub",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "style",
        "small",
        "hr",
    }
)


_HTML_ATTRIBUTES = [
    "class",
    "id",
    "colspan",
    "rowspan",
    "halign",
    "valign",
    "align",
    "border",
    "scoped",
    "title",
    "style",
]


_CSS_PROPERTIES = [
    "text-align",
    "vertical-align",
    "font-weight",
    "font-style",
    "color",
    "background-color",
    "border",
    "border-bottom",
    "border-top",
    "padding",
    "white-space",
    "width",
]


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

    return bleach.clean(
        text,
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        strip=False,
        strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=_CSS_PROPERTIES),
    )


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
                alt = (
                    output.get("metadata", {}).get("alt")
                    or cell.metadata.get("alt")
                    or "Figure: " + ". ".join(x for x in (heading, sentence) if x).rstrip(".:;") + "."
                )
                output.setdefault("metadata", {})["mc_alt"] = alt
    return nb
