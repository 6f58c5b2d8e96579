"""Choosing the main content: the blocks that article extractors vote for, and the structure between them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from ingest.html.flow import keep_article_flow
from ingest.html.nodes import common_ancestor, inside, is_links, link_densities, tag_of
from ingest.html.render import Block
from ingest.html.words import words

# Article extractors are good at finding the main text but flatten or drop its structure; Sift renders every
# block itself and keeps the blocks that the extractors vote for. Voters: trafilatura in its default and its
# precision mode, and trafilatura's port of readability (a different algorithm, cheap on a parsed tree).
# Measured on the article benchmark (docs/benchmarks.md): any one voter alone scores 0.93-0.96 F1, two of
# three 0.97+; bs4 was not used because parsing alone costs ~19 ms/page there against ~2 ms for lxml.

_LONG_PARAGRAPH = 25  # words: a paragraph this long that one voter found joins if it looks like the article's
_STRUCTURE = frozenset({"li", "row", "code"})
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
    density = link_densities()
    for start, end in _gaps(keep, kept[0], kept[-1]):
        run = blocks[start:end]
        after_title = blocks[start - 1].kind == "h" and blocks[start - 1].text.startswith("# ")
        if not after_title and all(_is_structure(block, container, density) for block in run):
            keep[start:end] = [True] * (end - start)  # a list, table or code the extractors dropped
    keep_article_flow(blocks, keep, tokens)
    return keep


def _gaps(keep: list[bool], first: int, last: int):
    """Runs ``(start, end)`` of blocks not kept, each between two kept blocks."""
    start = None
    for i in range(first, last + 1):
        if not keep[i] and start is None:
            start = i
        elif keep[i] and start is not None:
            yield start, i
            start = None


def _is_structure(block: Block, container, density: Callable) -> bool:
    """A list item, table row or code block of the article: inside its container, not links, not a caption."""
    if block.kind not in _STRUCTURE or tag_of(block) == "figcaption" or not inside(block.node, container):
        return False
    return block.kind == "code" or density(block.node) < 0.5


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
        return (tag_of(block),)
    return (node.tag, parent.tag, parent.get("class"))


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

