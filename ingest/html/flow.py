"""The article's own flow: headings, lists, tables and code placed among the kept blocks, kept even when
the extractors vote them out (bare pages, a page's lead and synopsis, "See also" lists), teasers left out."""

from __future__ import annotations

from ingest.html.nodes import is_links, link_densities, tag_of
from ingest.html.prune import names_furniture
from ingest.html.render import Block
from ingest.html.words import words


def keep_article_flow(blocks: list[Block], keep: list[bool], tokens: list[list[str]]) -> None:
    """Keep headings, lists, tables and code that sit in the article's own flow, even when voted out.

    The article's flow is the set of elements that directly hold kept blocks, and the sections beside
    them. Extractors drop headings of bare pages, a page's lead and synopsis, and lists made of links
    ("See also"); such blocks placed among the article's own blocks are part of it, while navigation sits
    in containers of its own. After the first kept block, headings, lists, tables and code in the flow
    join; before it, the run of flow blocks that leads into it (title, lead paragraph, synopsis). Teasers
    stay out: headings that are links or head no kept content, link tables, and lists of links that are
    neither between kept blocks nor under a heading of their own. Between kept blocks, paragraphs in the
    flow that extractors skip by design join too (see ``_is_section_body``).
    """
    kept = [i for i, k in enumerate(keep) if k]
    flow = {blocks[i].node.getparent() for i in kept if blocks[i].node is not None}
    flow.discard(None)
    beside = {parent.getparent() for parent in flow} | flow
    first, last = kept[0], kept[-1]
    while first > 0 and _leads_in(blocks, first - 1) and _in_flow(blocks[first - 1], flow, beside):
        first -= 1
        keep[first] = True
    added = []
    density = link_densities()
    under_heading: dict[int, bool] = {}  # per list
    texts = {tuple(tokens[i]) for i in kept}
    for i in range(first, len(blocks)):
        block = blocks[i]
        if not keep[i] and block.kind == "p" and _is_section_body(blocks, i, last, flow, beside, texts):
            keep[i] = True
            continue
        if keep[i] or block.kind not in _FLOW_KINDS or not _in_flow(block, flow, beside):
            continue
        if block.kind in ("h", "row") and density(block.node) > 0.5:
            continue  # a teaser's title, a table of links to other pages
        if is_links(block) and i > last:
            if block.group not in under_heading:
                under_heading[block.group] = _under_heading(blocks, i)
            if not under_heading[block.group]:
                continue  # "more stories" after the article
        keep[i] = True
        added.append(i)
    for i in reversed(added):  # last first: a heading over an empty subsection heads nothing kept
        if blocks[i].kind == "h" and not _heads_kept(blocks, keep, i):
            keep[i] = False


def _is_section_body(
    blocks: list[Block], i: int, last: int, flow: set, beside: set, texts: set[tuple[str, ...]]
) -> bool:
    """A paragraph placed straight in the flow that extractors skip: a repeat of kept text (they keep one
    copy), or the one paragraph under a heading ("See ``Dispatcher.request``.", a link)."""
    block = blocks[i]
    if not _in_flow(block, flow, beside):
        return False
    if tuple(words(block.text)) in texts:
        return True
    sole = blocks[i - 1].kind == "h" and (i + 1 == len(blocks) or blocks[i + 1].kind == "h")
    return sole and (i < last or block.node.getparent().tag == "section")  # after the article: a <section>


def _under_heading(blocks: list[Block], i: int) -> bool:
    """Whether the list holding block ``i`` comes right after a heading ("See also" and its links)."""
    group = blocks[i].group
    while i > 0 and blocks[i - 1].kind == "li" and blocks[i - 1].group == group:
        i -= 1
    return i > 0 and blocks[i - 1].kind == "h"


def _heads_kept(blocks: list[Block], keep: list[bool], i: int) -> bool:
    """Whether the section a heading opens (up to the next heading of its level or above) keeps a block."""
    level = len(blocks[i].text) - len(blocks[i].text.lstrip("#"))
    for j in range(i + 1, len(blocks)):
        block = blocks[j]
        if block.kind == "h" and len(block.text) - len(block.text.lstrip("#")) <= level:
            return False
        if keep[j] and block.kind != "h":
            return True
    return False


_FLOW_KINDS = frozenset({"h", "li", "row", "code"})
_WRAPPED_KINDS = frozenset({"row", "code"})  # tables and code often sit in wrapper divs of their own
_LEADING_KINDS = frozenset({"h", "row", "code"})  # not lists: bylines and share bars are lists


def _leads_in(blocks: list[Block], i: int) -> bool:
    """A block of the run leading into the article: a heading, table or code, or the paragraph right
    under the page's ``#`` title."""
    block = blocks[i]
    if is_links(block):
        return False
    after_title = i > 0 and blocks[i - 1].kind == "h" and blocks[i - 1].text.startswith("# ")
    return block.kind in _LEADING_KINDS or (block.kind == "p" and after_title)
_STRUCTURAL = frozenset("ul ol li dl dd dt table thead tbody tfoot tr td th pre code p blockquote".split())


def _in_flow(block: Block, flow: set, beside: set) -> bool:
    """Whether a block sits in the article's flow: under an element holding kept blocks, or in a section
    beside them, through list and table markup only (tables and code: through any plain wrapper)."""
    if block.node is None or tag_of(block) == "figcaption":
        return False
    wrapped = False
    for parent in block.node.iterancestors():
        if parent in flow or (_is_section(parent) and parent.getparent() in beside):
            return not wrapped or block.kind in _WRAPPED_KINDS
        if parent.tag in ("body", "html", "article", "main") or names_furniture(parent):
            return False
        wrapped = wrapped or parent.tag not in _STRUCTURAL
    return False


def _is_section(el) -> bool:
    """A ``<section>``, or an element that opens with a heading (Sphinx's ``div.section``), not furniture."""
    first = next(iter(el), None)
    opens = el.tag == "section" or (first is not None and first.tag in ("h1", "h2", "h3", "h4", "h5", "h6"))
    return opens and not names_furniture(el)
