"""The "Key messages" box that opens the analysis pages."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["KeyMessages", "key_messages_box"]


@dataclass(frozen=True)
class KeyMessages:
    """The Key messages box of an analysis page.

    Attributes
    ----------
    question : the page's question.
    answers : the answer in numbers, one sentence each.
    shows, does_not_show : what the analysis does and does not show.
    """

    question: str
    answers: tuple[str, ...]
    shows: str
    does_not_show: str

    def _items(self) -> list[tuple[str, str | tuple[str, ...]]]:
        return [
            ("The question.", self.question),
            ("The answer.", self.answers),
            ("What it shows.", self.shows),
            ("What it does not show.", self.does_not_show),
        ]

    def _repr_html_(self) -> str:
        items = []
        for head, body in self._items():
            if isinstance(body, tuple):
                text = "<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in body) + "</ul>"
            else:
                text = html.escape(body)
            items.append(f"<li><strong>{head}</strong> {text}</li>")
        return (
            '<div class="mc-key" role="region" aria-label="Key messages"><h2>Key messages</h2><ul>'
            + "".join(items)
            + "</ul></div>"
        )

    def _repr_markdown_(self) -> str:
        lines = ["> **Key messages**", ">"]
        for head, body in self._items():
            if isinstance(body, tuple):
                lines += [f"> - **{head}**"] + [f">   - {b}" for b in body]
            else:
                lines.append(f"> - **{head}** {body}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._repr_markdown_().replace("> ", "").replace("**", "")


def key_messages_box(question: str, answers: Sequence[str], shows: str, does_not_show: str) -> KeyMessages:
    """The Key messages box: the question, the answer in numbers, what it does and does not show.

    Raises
    ------
    ValueError
        If a part is empty.
    """
    if not question or not answers or not shows or not does_not_show or not all(answers):
        raise ValueError("a Key messages box needs a question, at least one answer, and what it does and does not show")
    return KeyMessages(question, tuple(answers), shows, does_not_show)
