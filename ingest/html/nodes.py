"""Facts about a rendered block's element: its tag, its place in the tree, how much of it is links."""

from __future__ import annotations

from collections.abc import Callable

import lxml.html

from ingest.html.render import Block

LINKS_ONLY = 0.8  # share of a block's text inside links above which it is navigation, not content


def is_links(block: Block) -> bool:
    """A paragraph or list item that is nothing but links: navigation or teasers of other pages."""
    return block.kind in ("p", "li") and block.node is not None and link_density(block.node) > LINKS_ONLY


def tag_of(block: Block) -> str:
    """The tag of the element a block came from ("" when it has none)."""
    return block.node.tag if block.node is not None else ""


def common_ancestor(a, b):
    """The innermost element holding both ``a`` and ``b`` (``None`` if either is missing)."""
    if a is None or b is None:
        return None
    ancestors = set(a.iterancestors())
    ancestors.add(a)
    for node in (b, *b.iterancestors()):
        if node in ancestors:
            return node
    return None


def inside(node, container) -> bool:
    """Whether ``node`` is ``container`` or one of its descendants."""
    if node is None or container is None:
        return False
    return node is container or any(parent is container for parent in node.iterancestors())


def link_density(node) -> float:
    """The share of an element's visible characters (whitespace aside) that sit inside links."""
    text = _visible_length(node.text_content()) or 1
    return sum(_visible_length(link.text_content()) for link in node.iter("a")) / text


def link_densities() -> Callable[[lxml.html.HtmlElement], float]:
    """``link_density`` remembered per element for one page (the rows of a table share their table)."""
    known: dict[int, float] = {}

    def density(node: lxml.html.HtmlElement) -> float:
        if id(node) not in known:
            known[id(node)] = link_density(node)
        return known[id(node)]

    return density


def _visible_length(text: str) -> int:
    return len(text) - sum(text.count(space) for space in " \n\t\r\xa0")
