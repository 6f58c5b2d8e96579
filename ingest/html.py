"""HTML to Markdown-flavoured text: boilerplate pruned, main content found, structure kept for the chunker."""

from __future__ import annotations

import copy
import functools
import itertools
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

import lxml.html
from lxml import etree

from ingest.errors import EmptyDocument
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
    declared = [root.xpath("string(//title)"), _og_title(root)]
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
    blocks = _without_title_heading(blocks, declared)
    text = normalize_text(to_markdown(blocks))
    if not re.search(r"\w", text):
        raise EmptyDocument("no readable text is left after cleaning the HTML")
    return CleanedPage(title=title, text=text)


# --- parsing and title -------------------------------------------------------------------------------

_PARSERS = threading.local()  # lxml parsers must not be shared between threads
_INLINE_TAGS = re.compile(rb"</?(?:font|span|a|b|i|u|s|em|strong|small|big|sub|sup|mark|tt)\b[^>]*>", re.I)
_RAW_TEXT = re.compile(rb"<(script|style|template|noscript)\b.*?</\1\s*>", re.I | re.S)
_ANY_TAG = re.compile(rb"<[^>]*>")


def parse_html(html: str) -> lxml.html.HtmlElement:
    """Parse a page or fragment into a document tree with ``<html>`` and ``<body>``."""
    data = html.encode("utf-8", errors="replace")
    if not data.strip():
        raise EmptyDocument("the HTML document is empty")
    # libxml2 drops the whole document when markup nests deeper than it allows: retry without inline tags
    # (thousands of unclosed <font>s), then with every tag turned into a line break.
    root, too_deep = _parse(data)
    if too_deep:
        root, too_deep = _parse(_INLINE_TAGS.sub(b"", data))
    if too_deep:
        root, _ = _parse(_ANY_TAG.sub(b"<br>", _RAW_TEXT.sub(b"", data)))
    return root


def _parse(data: bytes) -> tuple[lxml.html.HtmlElement, bool]:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:  # huge_tree lifts libxml2's default depth limit of 256 elements
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8", huge_tree=True)
        _PARSERS.parser = parser
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except etree.ParserError as exc:
        raise EmptyDocument(f"the HTML document has no content ({exc})") from exc
    return root, any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


def page_title(root: lxml.html.HtmlElement) -> str:
    """The page title: ``<title>``, else ``og:title``, else the first ``<h1>``."""
    for found in (root.xpath("string(//title)"), _og_title(root), root.xpath("string(//h1)")):
        title = normalize_text(found, keep_newlines=False)
        if title:
            return title
    return ""


def _og_title(root: lxml.html.HtmlElement) -> str:
    return root.xpath("string(//meta[@property='og:title' or @name='og:title']/@content)")


# --- pruning -----------------------------------------------------------------------------------------

_NEVER_CONTENT = (
    "script style noscript template svg math iframe frame frameset object embed applet canvas audio video"
    " map area link meta base button input select textarea option optgroup label datalist legend"
).split()
_FURNITURE_TAGS = frozenset("nav header footer aside menu dialog fieldset form".split())
_PAGE_FURNITURE_TAGS = frozenset("header footer aside menu dialog".split())  # in a fragment: notes, captions
_FURNITURE_ROLES = frozenset(
    "navigation banner contentinfo complementary search dialog alertdialog menu menubar toolbar".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_FURNITURE_WORDS = frozenset(
    "cookie cookies consent gdpr ad ads advert adverts advertisement advertising adslot dfp sponsor sponsored"
    " promo promos promotion share shares sharing sharebar social socials related recommended recommendations"
    " breadcrumb breadcrumbs newsletter subscribe subscription signup popup modal comment comments disqus"
    " sidebar skip skiplink navbar menu toolbar pagination pager masthead outbrain taboola".split()
)
_FURNITURE_NAMES = frozenset("sr-only screen-reader-text visually-hidden print-only".split())
_NEGATED = ("has-", "with-", "no-", "non-", "without-", "enable-", "enabled-")
_NAME_PARTS = re.compile(r"[-_]+|(?<=[a-z])(?=[A-Z])")
_CONTENT_HINT = re.compile(r"article|content|body|main|entry|post|story|text|column", re.IGNORECASE)
_KEEP_TAGS = frozenset({"html", "body", "main", "article"})
_MAX_SHARE = 0.3  # furniture by tag, class or attribute, but holding more of the page's text than this: kept


def strip_non_content(body: lxml.html.HtmlElement) -> None:
    """Remove in place what is never content: scripts, styles, embedded objects, form controls, comments."""
    etree.strip_elements(body, *_NEVER_CONTENT, etree.Comment, etree.ProcessingInstruction, with_tail=False)


def prune_boilerplate(body: lxml.html.HtmlElement, *, fragment: bool = False) -> None:
    """Remove page furniture in place: hidden elements, navigation, forms, boilerplate-classed elements.

    In a fragment, ``<header>``, ``<footer>``, ``<aside>`` belong to the content (a note, a byline) and stay.
    """
    limit = _MAX_SHARE * len(body.text_content())
    doomed = []
    stack = list(body)
    while stack:
        el = stack.pop()
        furniture = _is_furniture(el) and not (fragment and el.tag in _PAGE_FURNITURE_TAGS)
        if _is_hidden(el) or (furniture and len(el.text_content()) <= limit):
            doomed.append(el)
        else:
            stack.extend(el)
    for el in doomed:
        el.drop_tree()


def _is_hidden(el: lxml.html.HtmlElement) -> bool:
    """Never rendered: the ``hidden`` attribute or an inline ``display: none`` / ``visibility: hidden``."""
    if "hidden" in el.attrib:
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _is_furniture(el: lxml.html.HtmlElement) -> bool:
    """Navigation, forms, elements hidden from assistive technology, and classes or ids naming furniture."""
    tag = el.tag
    if tag in _FURNITURE_TAGS:
        # an article's own <header> holds its title and lead paragraph, not the site's banner
        return tag != "header" or not any(parent.tag in ("article", "main") for parent in el.iterancestors())
    attrib = el.attrib
    if not attrib or tag in _KEEP_TAGS:
        return False
    if attrib.get("aria-hidden") == "true" or attrib.get("role") in _FURNITURE_ROLES:
        return True
    return _furniture_name(f"{attrib.get('class', '')} {attrib.get('id', '')}")


@functools.lru_cache(maxsize=4096)
def _furniture_name(names: str) -> bool:
    """Whether class and id name furniture (``share-bar``, ``cookieConsent``; not ``has-sidebar``)."""
    if _CONTENT_HINT.search(names):
        return False
    for name in names.split():
        lowered = name.lower()
        if lowered in _FURNITURE_NAMES:
            return True
        if lowered.startswith(_NEGATED):
            continue
        if any(part.lower() in _FURNITURE_WORDS for part in _NAME_PARTS.split(name)):
            return True
    return False


# --- main content ----------------------------------------------------------------------------------
#
# Article extractors are good at finding the main text but flatten or drop its structure; Sift renders every
# block itself and keeps the blocks that the extractors vote for. Voters: trafilatura in its default and its
# precision mode, and trafilatura's port of readability (a different algorithm, cheap on a parsed tree).
# Measured on the article benchmark (docs/benchmarks.md): any one voter alone scores 0.93-0.96 F1, two of
# three 0.97+; bs4 was not used because parsing alone costs ~19 ms/page there against ~2 ms for lxml.

# Words for matching blocks to extractor output; scripts written without spaces count one character a word.
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[^\W{_UNSPACED}]+|[{_UNSPACED}]")
_DOCUMENT_TAG = re.compile(r"<(?:html|head|body)[\s>/]|<!doctype", re.IGNORECASE)
_LONG_PARAGRAPH = 25  # words: a paragraph this long that one voter found joins if it looks like the article's
_STRUCTURE = frozenset({"li", "row", "code"})
_LINKS_ONLY = 0.8  # share of a block's text inside links above which it is navigation, not content
_NEARBY = 10  # blocks: a short block counts as found beside reference text of a block this close
_PLACES = 16  # unclaimed places of a 4-gram considered when aligning a block


def is_fragment(html: str) -> bool:
    """A snippet without ``<html>``/``<body>``, as helpdesk and CMS APIs return: all of it is content."""
    return _DOCUMENT_TAG.search(html) is None


def reference_texts(root: lxml.html.HtmlElement, *, url: str | None = None) -> list[str]:
    """Main text of the page by each voter (the tree is left unchanged)."""
    try:
        import trafilatura
        from trafilatura.readability_lxml import Document
    except ImportError as exc:  # pragma: no cover - trafilatura is a core dependency
        raise ImportError("HTML main-content extraction needs trafilatura: pip install trafilatura") from exc

    def readability(tree: lxml.html.HtmlElement) -> str:
        summary = Document(copy.deepcopy(tree), min_text_length=25).summary()
        return "\n".join(lxml.html.fromstring(summary).itertext()) if summary.strip() else ""

    voters = [
        functools.partial(
            trafilatura.extract, url=url, fast=True, favor_precision=precise, include_comments=False
        )
        for precise in (False, True)
    ]
    texts = []
    for vote in (*voters, readability):
        try:
            texts.append(vote(root) or "")
        except (RecursionError, etree.ParserError, ValueError):  # pathological trees: this voter abstains
            texts.append("")
    return texts


def select_main_blocks(blocks: list[Block], references: list[str]) -> list[Block]:
    """Blocks two voters found, the article's paragraphs one voter found, and structure between them."""
    tokens = [_TOKEN.findall(block.text) for block in blocks]
    grams = [_four_grams(words) for words in tokens]
    found = [_found_in(tokens, grams, reference) for reference in references]
    keep = [sum(votes) >= 2 and not _is_links(block) for block, *votes in zip(blocks, *found, strict=True)]
    kept = [i for i, k in enumerate(keep) if k]
    if not kept:
        return blocks  # a short or unusual page the extractors give up on: everything that survived pruning
    templates = {_template(blocks[i]) for i in kept if blocks[i].kind == "p"}
    for i, block in enumerate(blocks):
        if keep[i] or block.kind != "p" or len(tokens[i]) < _LONG_PARAGRAPH:
            continue
        if any(votes[i] for votes in found) and _template(block) in templates:
            keep[i] = True  # a paragraph in the article's own markup, cut off by ads or embeds
    kept = [i for i, k in enumerate(keep) if k]
    container = _common_ancestor(blocks[kept[0]].node, blocks[kept[-1]].node)
    for start, end in _gaps(keep, kept[0], kept[-1]):
        run = blocks[start:end]
        after_title = blocks[start - 1].kind == "h" and blocks[start - 1].text.startswith("# ")
        if not after_title and all(_is_structure(block, container) for block in run):
            keep[start:end] = [True] * (end - start)  # a list, table or code the extractors dropped
    return [block for block, k in zip(blocks, keep, strict=True) if k]


def _gaps(keep: list[bool], first: int, last: int):
    """Runs ``(start, end)`` of blocks not kept, each between two kept blocks."""
    start = None
    for i in range(first, last + 1):
        if not keep[i] and start is None:
            start = i
        elif keep[i] and start is not None:
            yield start, i
            start = None


def _is_links(block: Block) -> bool:
    """A paragraph or list item that is nothing but links: navigation or teasers of other pages."""
    return block.kind in ("p", "li") and block.node is not None and _link_density(block.node) > _LINKS_ONLY


def _is_structure(block: Block, container) -> bool:
    """A list item, table row or code block of the article: inside its container, not links, not a caption."""
    if block.kind not in _STRUCTURE or _tag(block) == "figcaption" or not _inside(block.node, container):
        return False
    return block.kind == "code" or _link_density(block.node) < 0.5


def _found_in(tokens: list[list[str]], grams: list[list[tuple]], reference: str) -> list[bool]:
    """Which blocks occur in ``reference``, each part of it claimed once.

    A block of four or more words is found when most of its word 4-grams lie on one diagonal of the reference
    (longest blocks claim first, so a teaser does not take the paragraph it quotes). A shorter block is found
    right after the reference text of the nearest found block before it, or right before that of the next.
    """
    ref = _TOKEN.findall(reference)
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
        words, length = tokens[i], len(tokens[i])
        if not words:
            continue
        nearby_before = range(i - 1, max(-1, i - _NEARBY - 1), -1)
        nearby_after = range(i + 1, min(len(tokens), i + _NEARBY + 1))
        before = next((spans[j][1] for j in nearby_before if j in spans), None)
        after = next((spans[j][0] - length for j in nearby_after if j in spans), None)
        whole = 0 if size == length else None  # the reference is just this block
        for p in (before, after, whole):
            if p is None or p < 0 or ref[p : p + length] != words or any(claimed[p : p + length]):
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


def _common_ancestor(a, b):
    if a is None or b is None:
        return None
    ancestors = set(a.iterancestors())
    ancestors.add(a)
    for node in (b, *b.iterancestors()):
        if node in ancestors:
            return node
    return None


def _inside(node, container) -> bool:
    if node is None or container is None:
        return False
    return node is container or any(parent is container for parent in node.iterancestors())


def _link_density(node) -> float:
    text = len(node.text_content()) or 1
    return sum(len(link.text_content()) for link in node.iter("a")) / text


def _without_title_heading(blocks: list[Block], titles: list[str]) -> list[Block]:
    """Drop the first ``#`` heading when it repeats ``<title>`` or ``og:title`` (returned as the title)."""
    wanted = [" ".join(_TOKEN.findall(title)).lower() for title in titles]
    for i, block in enumerate(blocks):
        if block.kind == "h" and block.text.startswith("# "):
            heading = " ".join(_TOKEN.findall(block.text)).lower()
            if heading and any(title and (heading in title or title in heading) for title in wanted):
                return blocks[:i] + blocks[i + 1 :]
            return blocks
    return blocks


# --- rendering ---------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dir div dl dt figcaption figure footer form"
    " h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p pre section summary table tbody thead tfoot"
    " tr td th caption ul".split()
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACE = re.compile(r"\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_GUTTER = re.compile(r"gutter|line-?num|lineno|linenos|blob-num|ln-num|line-number", re.IGNORECASE)
_CODE_TABLE = re.compile(r"highlight|syntax|code|blob|gist|listing", re.IGNORECASE)
_LANGUAGE = re.compile(r"(?:language|lang)-([\w+#.-]+)")
_DIGITS = re.compile(r"[\d\s]*")
_PROSE_TAGS = frozenset("p li td th dd dt a span em strong b i h1 h2 h3 h4 h5 h6 figcaption caption".split())


@dataclass
class Block:
    """One rendered block: a heading, paragraph, list item, table row or code block."""

    kind: str
    text: str
    node: lxml.html.HtmlElement | None = None
    group: int = 0


def render_blocks(root: lxml.html.HtmlElement) -> list[Block]:
    """Render an element's content to Markdown blocks in document order."""
    renderer = _Renderer()
    try:
        renderer.walk_children(root)
    except RecursionError:  # thousands of unclosed tags: keep the text, one paragraph per text node
        return [Block("p", text.strip(), None) for text in root.itertext() if text.strip()]
    renderer.flush()
    return renderer.blocks


def to_markdown(blocks: list[Block]) -> str:
    """Join blocks: list items and table rows of one group by a newline, everything else by a blank line."""
    out: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if previous is not None:
            same_group = block.group and block.group == previous.group and block.kind == previous.kind
            out.append("\n" if same_group else "\n\n")
        out.append(block.text)
        previous = block
    return "".join(out)


class _Renderer:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.inline: list[str] = []
        self.node: lxml.html.HtmlElement | None = None
        self.current: lxml.html.HtmlElement | None = None
        self.lists: list[list[int]] = []  # per open list: [ordered, next number, group]
        self.groups = itertools.count(1)  # a list or a table is one group: lines joined without blank lines
        self.item_open = False  # an <li> is open whose marker has not been written yet
        self.quote = 0

    # inline text -------------------------------------------------------------------------------------
    def add(self, text: str | None) -> None:
        if text:
            if not self.inline:
                self.node = self.current
            self.inline.append(_SPACE.sub(" ", text))

    def flush(self) -> None:
        if not self.inline:
            return
        text = "\n".join(line.strip() for line in "".join(self.inline).split("\n"))
        self.inline = []
        text = _BLANK_RUNS.sub("\n\n", text).strip()  # <br><br> separates paragraphs
        if text:
            self.emit("p", text, self.node)

    def emit(self, kind: str, text: str, node, group: int = 0) -> None:
        if self.lists and kind in ("p", "li"):
            depth = len(self.lists) - 1
            indent = "    " * depth
            if self.item_open:
                ordered, number, _ = self.lists[-1]
                marker = f"{number}. " if ordered else "- "
                self.lists[-1][1] += 1
                self.item_open = False
                text = indent + marker + text.replace("\n", "\n" + indent + "    ")
                kind, group = "li", self.lists[0][2]
            elif self.blocks and self.blocks[-1].kind == "li":
                self.blocks[-1].text += " " + text.replace("\n", " ")
                return
        if self.quote:
            text = "\n".join("> " + line for line in text.split("\n"))
        self.blocks.append(Block(kind, text, node, group))

    # tree walk ---------------------------------------------------------------------------------------
    def walk_children(self, el: lxml.html.HtmlElement) -> None:
        self.add(el.text)
        for child in el:
            if isinstance(child.tag, str):
                self.walk(child)
            self.add(child.tail)

    def walk(self, el: lxml.html.HtmlElement) -> None:
        tag = el.tag.lower()
        if tag == "br":
            if not self.inline:
                self.node = self.current
            self.inline.append("\n")
        elif tag in _BLOCK_TAGS:
            self.flush()
            handler = _HANDLERS.get(tag)
            if handler is not None:
                handler(self, el, tag)
            else:
                outer, self.current = self.current, el
                self.walk_children(el)
                self.flush()
                self.current = outer
        elif tag == "code" and _is_block_code(el):
            self.flush()
            self.code(el)
        elif tag == "code":
            text = _SPACE.sub(" ", el.text_content()).strip()
            if text:
                self.add(f"`{text}`")
        elif tag in ("img", "wbr", "hr"):
            return
        else:
            self.walk_children(el)

    def heading(self, el, tag: str) -> None:
        text = _SPACE.sub(" ", _inline_text(el)).strip()
        if text:
            self.emit("h", "#" * _HEADINGS[tag] + " " + text, el)

    def listing(self, el, tag: str) -> None:
        start = el.get("start", "1")
        self.lists.append([tag == "ol", int(start) if start.lstrip("-").isdigit() else 1, next(self.groups)])
        outer, self.current = self.current, el
        self.walk_children(el)
        self.flush()
        self.current = outer
        self.lists.pop()
        self.item_open = False

    def item(self, el, tag: str) -> None:
        if not self.lists:
            self.lists.append([0, 1, next(self.groups)])
            self.item(el, tag)
            self.lists.pop()
            return
        self.item_open = True
        outer, self.current = self.current, el
        self.walk_children(el)
        self.flush()
        self.current = outer
        self.item_open = False

    def blockquote(self, el, tag: str) -> None:
        self.quote += 1
        outer, self.current = self.current, el
        self.walk_children(el)
        self.flush()
        self.current = outer
        self.quote -= 1

    def code(self, el, tag: str = "pre") -> None:
        text = _code_text(el).strip("\n")
        if not text.strip():
            return
        match = _LANGUAGE.search(" ".join(e.get("class", "") for e in (el, *el.iter("code"))))
        fence = "~~~" if "```" in text else "```"
        self.emit("code", f"{fence}{match.group(1) if match else ''}\n{text}\n{fence}", el)

    def table(self, el, tag: str) -> None:
        rows = _table_rows(el)
        if _is_code_table(el, rows):
            self.code_table(el, rows)
        elif (
            el.find(".//table") is not None
            or el.get("role") in ("presentation", "none")
            or all(len(cells) <= 1 for cells in rows)
        ):
            outer, self.current = self.current, el  # layout table: its cells are ordinary blocks
            self.walk_children(el)
            self.flush()
            self.current = outer
        else:
            self.data_table(el, rows)

    def data_table(self, el, rows: list[list]) -> None:
        caption = el.find("caption")
        if caption is not None:
            self.emit("p", _SPACE.sub(" ", caption.text_content()).strip(), caption)
        texts = [[_cell_text(cell) for cell in cells] for cells in rows]
        texts = [row for row in texts if any(row)]
        if not texts:
            return
        width = max(len(row) for row in texts)
        group = next(self.groups)
        for index, row in enumerate(texts):
            row = row + [""] * (width - len(row))
            line = "| " + " | ".join(row) + " |"
            if index == 0:
                line += "\n|" + " --- |" * width
            self.blocks.append(Block("row", line, el, group))

    def code_table(self, el, rows: list[list]) -> None:
        pres = [pre for cells in rows for cell in cells if not _is_gutter(cell) for pre in cell.iter("pre")]
        if pres:
            for pre in pres:
                self.code(pre)
            return
        lines = []
        for cells in rows:
            code = [c for c in cells if not _is_gutter(c)]
            lines.append("".join(_code_text(c) for c in code).rstrip("\n"))
        text = "\n".join(lines).strip("\n")
        if text.strip():
            fence = "~~~" if "```" in text else "```"
            self.emit("code", f"{fence}\n{text}\n{fence}", el)


_HANDLERS = {
    **{h: _Renderer.heading for h in _HEADINGS},
    "ul": _Renderer.listing,
    "ol": _Renderer.listing,
    "dir": _Renderer.listing,
    "li": _Renderer.item,
    "blockquote": _Renderer.blockquote,
    "pre": _Renderer.code,
    "table": _Renderer.table,
}


def _inline_text(el) -> str:
    """An element's text with ``<br>`` as a space, for headings and table cells."""
    renderer = _Renderer()
    renderer.walk_children(el)
    renderer.flush()
    return " ".join(block.text.replace("\n", " ") for block in renderer.blocks)


def _cell_text(cell) -> str:
    return _SPACE.sub(" ", _inline_text(cell)).strip().replace("|", "\\|")


def _table_rows(table) -> list[list]:
    head, body, foot = [], [], []
    for row in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
        section = row.getparent().tag
        cells = row.xpath("./td|./th")
        (head if section == "thead" else foot if section == "tfoot" else body).append(cells)
    return head + body + foot


def _is_gutter(cell) -> bool:
    return bool(_GUTTER.search(cell.get("class", ""))) or _DIGITS.fullmatch(cell.text_content()) is not None


def _is_code_table(table, rows: list[list]) -> bool:
    """A syntax-highlighter table: line-number gutter cells beside code cells."""
    if any(cell.tag == "th" for cells in rows for cell in cells):
        return False
    cells = [cell for row in rows for cell in row]
    if not cells:
        return False
    if table.find(".//pre") is not None:
        return all(_is_gutter(c) or c.find(".//pre") is not None for c in cells) and any(
            _is_gutter(c) for c in cells
        )
    return bool(_CODE_TABLE.search(table.get("class", ""))) and any(_is_gutter(c) for c in cells)


def _is_block_code(el) -> bool:
    """A ``<code>`` outside ``<pre>`` holding several lines: ``<br>``s, or newlines outside prose."""
    parent = el.getparent()
    if parent is not None and parent.tag == "pre":
        return False
    if el.find(".//br") is not None:
        return True
    prose = parent is not None and parent.tag in _PROSE_TAGS
    return not prose and "\n" in el.text_content().strip()


def _code_text(el) -> str:
    """Text of a code element with its line breaks; line-number gutters dropped."""
    parts: list[str] = []

    def visit(node) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "br":
                parts.append("\n")
            elif tag and _GUTTER.search(child.get("class", "")):
                pass
            elif tag:
                block = tag in ("div", "p", "li", "tr")
                if block and parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
                visit(child)
                if block and parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
            if child.tail:
                parts.append(child.tail)

    visit(el)
    return "".join(parts).replace("\r\n", "\n")
