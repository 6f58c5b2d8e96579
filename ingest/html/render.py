"""Rendering a tree into Markdown blocks: headings, paragraphs, list items, table rows, fenced code."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import lxml.html

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dir div dl dt figcaption figure footer form"
    " h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p pre section summary table tbody thead tfoot"
    " tr td th caption ul".split()
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w")
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
        elif tag in ("img", "wbr", "hr") or (tag == "a" and _is_permalink(el)):
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


def _is_permalink(el) -> bool:
    """A heading's anchor link (``¶``, ``#``, ``§``, an icon): a link into the page with no word in it."""
    return el.get("href", "").startswith("#") and _WORD.search(el.text_content()) is None


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
