"""What the cleaner left out and why, and the warnings that make a large loss visible."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import lxml.html

from ingest.html.render import Block, render_blocks
from ingest.html.select import is_links, link_density

VOTED_OUT = "voted out (not main content)"
LINKS_ONLY = "links only (navigation)"
_KIND_NAMES = {"h": "heading", "p": "paragraph", "li": "list item", "row": "table row", "code": "code block"}
_COUNTED = ("h", "li", "row", "code")  # structure a reader needs; paragraphs of teasers and captions are not
_SHARE = 1 / 3  # more than this share of a kind dropped outside navigation: warn
_AT_LEAST = 2  # ... and at least this many blocks of it


@dataclass(frozen=True)
class DroppedBlock:
    """A block of the page that is not in the cleaned text."""

    kind: str  # heading, paragraph, list item, table row, code block
    text: str
    reason: str


def pruned_blocks(pruned: list[tuple[lxml.html.HtmlElement, str]]) -> list[DroppedBlock]:
    """The blocks of elements removed as furniture, each with the reason its element went."""
    dropped = []
    for el, reason in pruned:
        holder = lxml.html.Element("div")
        el.tail = None
        holder.append(el)
        dropped += [DroppedBlock(_KIND_NAMES[b.kind], b.text, reason) for b in render_blocks(holder)]
    return dropped


def selection_losses(blocks: list[Block], keep: list[bool]) -> list[tuple[Block, str]]:
    """The rendered blocks the selection left out, each with its reason."""
    return [(b, LINKS_ONLY if is_links(b) else VOTED_OUT) for b, k in zip(blocks, keep, strict=True) if not k]


def loss_warnings(kept: list[Block], lost: list[tuple[Block, str]]) -> tuple[str, ...]:
    """A warning when the selection dropped a large share of the page's headings, list items, table rows or
    code blocks outside navigation (link-only blocks count as navigation)."""
    total = Counter(b.kind for b in kept)
    dropped = Counter(
        b.kind for b, reason in lost if reason == VOTED_OUT and (b.node is None or link_density(b.node) <= 0.5)
    )
    total.update(dropped)
    parts = [
        f"{dropped[k]} of {total[k]} {_KIND_NAMES[k]}s"
        for k in _COUNTED
        if dropped[k] >= _AT_LEAST and dropped[k] > _SHARE * total[k]
    ]
    if not parts:
        return ()
    return (
        f"dropped {', '.join(parts)} outside navigation as not main content;"
        " `sift clean --explain` lists each dropped block and why",
    )


def as_dropped(lost: list[tuple[Block, str]]) -> list[DroppedBlock]:
    return [DroppedBlock(_KIND_NAMES[b.kind], b.text, reason) for b, reason in lost]
