"""The public entry: ``clean_html`` runs parse, prune, render and select on one page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.errors import EmptyDocument
from ingest.html.parse import is_fragment, og_title, page_title, parse_html
from ingest.html.prune import prune_boilerplate, strip_non_content
from ingest.html.render import render_blocks, to_markdown
from ingest.html.select import select_main_blocks, without_title_heading
from ingest.html.voters import reference_texts
from ingest.text import decode_bytes, normalize_text


@dataclass(frozen=True)
class CleanedPage:
    """The readable content of one HTML page."""

    title: str
    text: str


def clean_html(html: str | bytes, *, url: str | None = None) -> CleanedPage:
    """Clean a page or fragment to Markdown-flavoured text; raises ``EmptyDocument`` if nothing is left."""
    if isinstance(html, bytes):
        html = decode_bytes(html)
    root = parse_html(html)
    declared = [root.xpath("string(//title)"), og_title(root)]
    title = page_title(root)
    body = root.find("body")
    if body is None:
        body = root
    fragment = is_fragment(html)
    strip_non_content(body)
    prune_boilerplate(body, fragment=fragment)
    references = None if fragment else reference_texts(root, url=url)
    blocks = render_blocks(body)
    if references is not None:
        blocks = select_main_blocks(blocks, references)
    blocks = without_title_heading(blocks, declared)
    text = normalize_text(to_markdown(blocks))
    if not re.search(r"\w", text):
        raise EmptyDocument("no readable text is left after cleaning the HTML")
    return CleanedPage(title=title, text=text)
