"""Choosing the main content: the blocks that article extractors vote for, and the structure between them."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from ingest.html.prune import names_furniture
from ingest.html.render import Block

# Article extractors are good at finding the main text but flatten or drop its structure; Sift renders every
# block itself and keeps the blocks that the extractors vote for. Voters: trafilatura in its default and its
# precision mode, and trafilatura's port of readability (a different algorithm, cheap on a parsed tree).
# Measured on the article benchmark (docs/benchmarks.md): any one voter alone scores 0.93-0.96 F1, two of
# three 0.97+; bs4 was not used because parsing alone costs ~19 ms/page there against ~2 ms for lxml.

# Words for matching blocks to extractor output; scripts written without spaces count one character a word.
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[^\W{_UNSPACED}]+|[{_UNSPACED}]")
_INVISIBLE = dict.fromkeys(map(ord, "\xad\u200b\u200c\u200d\u2060\ufeff"))  # soft hyphens, zero widths


def words(text: str) -> list[str]:
    """The words of a text for matching: soft hyphens and zero-width characters do not split words."""
    return _TOKEN.findall(text.translate(_INVISIBLE))
_LONG_PARAGRAPH = 25  # words: a paragraph this long that one voter found joins if it looks like the article's
_STRUCTURE = frozenset({"li", "row", "code"})
_LINKS_ONLY = 0.8  # share of a block's text inside links above which it is navigation, not content
_NEARBY = 10  # blocks: a short block counts as found beside reference text of a block this close
_PLACES = 16  # unclaimed places of a 4-gram considered when aligning a block


def select_main_blocks(blocks: list[Block], references: list[str]) -> list[bool]:
    """Which blocks to keep: those two voters found, the article's paragraphs one voter found, and the
    headings, lists, tables and code of the article's flow."""
    tokens = [words(block.text) for block in blocks]
    grams = [_four_grams(block_words) for block_words in tokens]
    found = [_found_in(tokens, grams, reference) for reference in references]
    keep = [sum(votes) >= 2 and not is_links(block) for block, *votes in zip(blocks, *found, strict=True)]
    kept = [i for i, k in enumerate(keep) if k]
    if not kept:
        return [True] * len(blocks)  # a short or unusual page the extractors give up on: keep what is left
    templates = {_template(blocks[i]) for i in kept if blocks[i].kind == "p"}
    for i, block in enumerate(blocks):
        if keep[i] or block.kind != "p" or len(tokens[i]) < _LONG_PARAGRAPH:
            continue
        if any(votes[i] for votes in found) and _template(block) in templates:
            keep[i] = True  # a paragraph in the article's own markup, cut off by ads or embeds
    kept = [i for i, k in enumerate(keep) if k]
    container = common_ancestor(blocks[kept[0]].node, blocks[kept[-1]].node)
    for start, end in _gaps(keep, kept[0], kept[-1]):
        run = blocks[start:end]
        after_title = blocks[start - 1].kind == "h" and blocks[start - 1].text.startswith("# ")
        if not after_title and all(_is_structure(block, container) for block in run):
            keep[start:end] = [True] * (end - start)  # a list, table or code the extractors dropped
    _keep_article_structure(blocks, keep, tokens)
    return keep


def _keep_article_structure(blocks: list[Block], keep: list[bool], tokens: list[list[str]]) -> None:
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
    texts = {tuple(tokens[i]) for i in kept}
    for i in range(first, len(blocks)):
        block = blocks[i]
        if not keep[i] and block.kind == "p" and _is_section_body(blocks, i, last, flow, beside, texts):
            keep[i] = True
            continue
        if keep[i] or block.kind not in _FLOW_KINDS or not _in_flow(block, flow, beside):
            continue
        if block.kind in ("h", "row") and link_density(block.node) > 0.5:
            continue  # a teaser's title, a table of links to other pages
        if is_links(block) and i > last and not _under_heading(blocks, i):
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
    if block.node is None or _tag(block) == "figcaption":
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


def _gaps(keep: list[bool], first: int, last: int):
    """Runs ``(start, end)`` of blocks not kept, each between two kept blocks."""
    start = None
    for i in range(first, last + 1):
        if not keep[i] and start is None:
            start = i
        elif keep[i] and start is not None:
            yield start, i
            start = None


def is_links(block: Block) -> bool:
    """A paragraph or list item that is nothing but links: navigation or teasers of other pages."""
    return block.kind in ("p", "li") and block.node is not None and link_density(block.node) > _LINKS_ONLY


def _is_structure(block: Block, container) -> bool:
    """A list item, table row or code block of the article: inside its container, not links, not a caption."""
    if block.kind not in _STRUCTURE or _tag(block) == "figcaption" or not inside(block.node, container):
        return False
    return block.kind == "code" or link_density(block.node) < 0.5


def _found_in(tokens: list[list[str]], grams: list[list[tuple]], reference: str) -> list[bool]:
    """Which blocks occur in ``reference``, each part of it claimed once.

    A block of four or more words is found when most of its word 4-grams lie on one diagonal of the reference
    (longest blocks claim first, so a teaser does not take the paragraph it quotes). A shorter block is found
    right after the reference text of the nearest found block before it, or right before that of the next.
    """
    ref = words(reference)
    size = len(ref)
    starts: dict[tuple, list[int]] = defaultdict(list)
    for p, gram in enumerate(_four_grams(ref)):
        starts[gram].append(p)
    known = set(starts)
    claimed = bytearray(size)
    cursor: dict[tuple, int] = {}
    spans: dict[int, tuple[int, int]] = {}  # block -> the reference words it claimed

    def unclaimed(gram: tuple) -> list[int]:
        """The first few unclaimed places of a 4-gram (repeated text stays linear, not quadratic)."""
        places = starts[gram]
        first = cursor.get(gram, 0)
        while first < len(places) and claimed[places[first]]:
            first += 1
        cursor[gram] = first
        return [p for p in places[first : first + _PLACES] if not claimed[p]]

    short = []
    for i in sorted(range(len(tokens)), key=lambda i: -len(tokens[i])):
        length = len(tokens[i])
        if length < 4:
            short.append(i)
            continue
        if len(known.intersection(grams[i])) * 2 < length - 3:
            continue
        offsets: Counter[int] = Counter()
        for j, gram in enumerate(grams[i]):
            if gram in known:
                offsets.update(p - j for p in unclaimed(gram))
        if offsets:
            offset, hits = offsets.most_common(1)[0]
            if hits * 2 >= length - 3:
                lo, hi = max(0, offset), min(size, offset + length)
                claimed[lo:hi] = b"\x01" * (hi - lo)
                spans[i] = (lo, hi)
    for i in sorted(short):
        block_words, length = tokens[i], len(tokens[i])
        if not block_words:
            continue
        nearby_before = range(i - 1, max(-1, i - _NEARBY - 1), -1)
        nearby_after = range(i + 1, min(len(tokens), i + _NEARBY + 1))
        before = next((spans[j][1] for j in nearby_before if j in spans), None)
        after = next((spans[j][0] - length for j in nearby_after if j in spans), None)
        whole = 0 if size == length else None  # the reference is just this block
        for p in (before, after, whole):
            if p is None or p < 0 or ref[p : p + length] != block_words or any(claimed[p : p + length]):
                continue
            claimed[p : p + length] = b"\x01" * length
            spans[i] = (p, p + length)
            break
    return [i in spans for i in range(len(tokens))]


def _four_grams(words: list[str]) -> list[tuple[str, str, str, str]]:
    return list(zip(words, words[1:], words[2:], words[3:], strict=False))


def _template(block: Block) -> tuple:
    """The markup a paragraph sits in: its tag and its parent's tag and class."""
    node = block.node
    parent = node.getparent() if node is not None else None
    if parent is None:
        return (_tag(block),)
    return (node.tag, parent.tag, parent.get("class"))


def _tag(block: Block) -> str:
    return block.node.tag if block.node is not None else ""


def common_ancestor(a, b):
    if a is None or b is None:
        return None
    ancestors = set(a.iterancestors())
    ancestors.add(a)
    for node in (b, *b.iterancestors()):
        if node in ancestors:
            return node
    return None


def inside(node, container) -> bool:
    if node is None or container is None:
        return False
    return node is container or any(parent is container for parent in node.iterancestors())


def link_density(node) -> float:
    """The share of an element's visible characters (whitespace aside) that sit inside links."""
    text = _visible_length(node.text_content()) or 1
    return sum(_visible_length(link.text_content()) for link in node.iter("a")) / text


def _visible_length(text: str) -> int:
    return len(text) - sum(text.count(space) for space in " \n\t\r\xa0")


def without_title_heading(blocks: list[Block], titles: list[str]) -> list[Block]:
    """Drop the first ``#`` heading when it repeats ``<title>`` or ``og:title`` (returned as the title)."""
    wanted = [" ".join(words(title)).lower() for title in titles]
    for i, block in enumerate(blocks):
        if block.kind == "h" and block.text.startswith("# "):
            heading = " ".join(words(block.text)).lower()
            if heading and any(title and (heading in title or title in heading) for title in wanted):
                return blocks[:i] + blocks[i + 1 :]
            return blocks
    return blocks

