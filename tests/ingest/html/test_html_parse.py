"""Parsing: one tree with <html> and <body>, the page title, fragments told from pages."""

from __future__ import annotations

import pytest

from ingest.errors import EmptyDocument
from ingest.html.parse import is_fragment, page_title, parse_html


def test_a_fragment_gets_html_and_body():
    root = parse_html("<p>one</p><p>two</p>")
    assert root.tag == "html" and [p.text for p in root.find("body")] == ["one", "two"]


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<html><head><title> A  title </title></head><body><h1>H</h1></body></html>", "A title"),
        ("<html><head><meta property='og:title' content='OG'></head><body><h1>H</h1></body></html>", "OG"),
        ("<html><body><h1>Heading</h1></body></html>", "Heading"),
    ],
)
def test_the_title_is_title_then_og_title_then_h1(html, title):
    assert page_title(parse_html(html)) == title


def test_fragments_are_snippets_without_document_tags():
    assert is_fragment("<h2>Export</h2><p>Go to Settings.</p>")
    assert not is_fragment("<!doctype html><p>x</p>")
    assert not is_fragment("<body><p>x</p></body>")


def test_an_empty_document_is_refused():
    with pytest.raises(EmptyDocument):
        parse_html("  ")
