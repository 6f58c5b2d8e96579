"""The public entry: ``clean_html`` runs parse, prune, render and select on one page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.errors import EmptyDocument
from ingest.html.losses import DroppedBlock, as_dropped, loss_warnings, pruned_blocks, selection_losses
from ingest.html.parse import is_fragment, og_title, page_title, parse_html
from ingest.html.prune import prune_boilerplate, strip_non_content
from ingest.html.render import render_blocks, to_markdown
from ingest.html.select import select_main_blocks, without_title_heading
from ingest.html.voters import reference_texts
from ingest.text import decode_bytes, normalize_text


@dataclass(frozen=True)
class CleanedPage:
    """The readable content of one HTML page, with warnings about what was left out.

    ``dropped`` lists every block left out and why; it is filled only when asked for (``explain=True``).
    """

    title: str
    text: str
    warnings: tuple[str, ...] = ()
    dropped: tuple[DroppedBlock, ...] = ()


def clean_html(html: str | bytes, *, url: str | None = None, explain: bool = False) -> CleanedPage:
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
    pruned = prune_boilerplate(body, fragment=fragment)
    references = None if fragment else reference_texts(root, url=url)
    blocks = render_blocks(body)
    keep = select_main_blocks(blocks, references) if references is not None else [True] * len(blocks)
    lost = selection_losses(blocks, keep)
    kept = [block for block, k in zip(blocks, keep, strict=True) if k]
    warnings = loss_warnings(kept, lost)
    text = normalize_text(to_markdown(without_title_heading(kept, declared)))
    if not re.search(r"\w", text) and lost:  # the selection left nothing: the page as pruned beats nothing
        kept, lost = blocks, []
        warnings = ("the main content could not be told from the rest of the page; all of it was kept",)
        text = normalize_text(to_markdown(without_title_heading(kept, declared)))
    if not re.search(r"\w", text):
        raise EmptyDocument("no readable text is left after cleaning the HTML")
    dropped = (*pruned_blocks(pruned), *as_dropped(lost)) if explain else ()
    return CleanedPage(title=title, text=text, warnings=warnings, dropped=dropped)
