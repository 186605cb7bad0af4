"""Markdown → safe HTML and plain text.

markdown-it with HTML disabled escapes any raw HTML in the source, and its link validator refuses
`javascript:`, `vbscript:`, `file:` and non-image `data:` URLs, so an article cannot inject script into
the help pages or the widget.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_html(source: str) -> str:
    """Safe HTML for `source`: raw HTML is shown as text, dangerous link schemes are dropped."""
    return _parser().render(source)


def plain_text(source: str) -> str:
    """The readable text of `source` (for the index, excerpts and the bot's answer)."""
    import html

    text = html.unescape(_TAG.sub("", render_html(source)))
    return "\n".join(_SPACE.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def paragraphs(source: str) -> list[str]:
    """Plain-text paragraphs (blank-line separated blocks) of `source`."""
    blocks = [plain_text(block) for block in re.split(r"\n\s*\n", source)]
    return [block for block in blocks if block]
