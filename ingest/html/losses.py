"""What the cleaner left out and why, and the warnings that make a large loss visible."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import lxml.html

from ingest.html.nodes import common_ancestor, inside, is_links, link_densities
from ingest.html.render import Block, render_blocks

VOTED_OUT = "voted out (not main content)"
LINKS_ONLY = "links only (navigation)"
_KIND_NAMES = {"h": "heading", "p": "paragraph", "li": "list item", "row": "table row", "code": "code block"}
_COUNTED = ("h", "li", "row", "code")  # structure a reader needs; paragraphs of teasers and captions are not
_SHARE = 1 / 3  # more than this share of a kind dropped outside navigation: warn
_AT_LEAST = 3  # ... and at least this many blocks of it


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
    code blocks outside navigation.

    Counted: voted-out blocks that are not links, inside the article (the element around the first and
    last kept block); outside it, lists, tables and code (steps in a box of their own) and the headings
    right over them. Headings of sidebars and footers, link lists and teasers are navigation.
    """
    nodes = [b.node for b in kept if b.node is not None]
    article = common_ancestor(nodes[0], nodes[-1]) if nodes else None
    density = link_densities()
    voted_out = [b for b, reason in lost if reason == VOTED_OUT and (b.node is None or density(b.node) <= 0.5)]
    dropped: Counter = Counter()
    for i, block in enumerate(voted_out):
        if block.node is not None and inside(block.node, article):
            dropped[block.kind] += 1
        elif block.kind in ("li", "row", "code"):
            dropped[block.kind] += 1
        elif block.kind == "h" and i + 1 < len(voted_out) and voted_out[i + 1].kind in ("li", "row", "code"):
            dropped[block.kind] += 1
    total = Counter(b.kind for b in kept) + dropped
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
    """The selection's losses as ``DroppedBlock``s for ``--explain``."""
    return [DroppedBlock(_KIND_NAMES[b.kind], b.text, reason) for b, reason in lost]
