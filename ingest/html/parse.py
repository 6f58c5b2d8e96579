"""Parsing a page into one lxml tree, and reading its title."""

from __future__ import annotations

import re
import threading

import lxml.html
from lxml import etree

from ingest.errors import EmptyDocument
from ingest.text import normalize_text

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
    for found in (root.xpath("string(//title)"), og_title(root), root.xpath("string(//h1)")):
        title = normalize_text(found, keep_newlines=False)
        if title:
            return title
    return ""


def og_title(root: lxml.html.HtmlElement) -> str:
    return root.xpath("string(//meta[@property='og:title' or @name='og:title']/@content)")



_DOCUMENT_TAG = re.compile(r"<(?:html|head|body)[\s>/]|<!doctype", re.IGNORECASE)


def is_fragment(html: str) -> bool:
    """A snippet without ``<html>``/``<body>``, as helpdesk and CMS APIs return: all of it is content."""
    return _DOCUMENT_TAG.search(html) is None
