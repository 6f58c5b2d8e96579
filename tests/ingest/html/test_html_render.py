"""Rendering: blocks of each kind, with the element they came from; heading permalinks left out."""

from __future__ import annotations

from ingest.html.parse import parse_html
from ingest.html.render import render_blocks, to_markdown


def blocks(html: str):
    return render_blocks(parse_html(html).find("body"))


def test_each_block_has_its_kind_and_node():
    rendered = blocks("<h2>Steps</h2><ol><li>One</li><li>Two</li></ol><table><tr><th>a</th></tr><tr><td>1</td>"
                      "<td>2</td></tr></table><pre>code</pre><p>End.</p>")
    assert [(b.kind, b.node.tag) for b in rendered] == [
        ("h", "h2"), ("li", "li"), ("li", "li"), ("row", "table"), ("row", "table"), ("code", "pre"), ("p", "p"),
    ]
    assert to_markdown(rendered) == (
        "## Steps\n\n1. One\n2. Two\n\n| a |  |\n| --- | --- |\n| 1 | 2 |\n\n```\ncode\n```\n\nEnd."
    )


def test_heading_permalinks_are_not_text():
    rendered = blocks(
        '<h2>Install<a class="headerlink" href="#install">¶</a></h2>'
        '<h3>Logs<a href="#logs" aria-hidden="true">#</a></h3>'
        '<h3><a href="#x">Anchor with words</a></h3><p>See <a href="#fn1">1</a>.</p>'
    )
    assert [b.text for b in rendered] == ["## Install", "### Logs", "### Anchor with words", "See 1."]
