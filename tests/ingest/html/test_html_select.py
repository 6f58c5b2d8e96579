"""Selection: the voted blocks, plus the headings, lists, tables and code of the article's own flow."""

from __future__ import annotations

from ingest.html.parse import parse_html
from ingest.html.render import render_blocks
from ingest.html.select import select_main_blocks

PARAGRAPH = "This paragraph belongs to the article and says something useful about the product in detail."


def kept(body_html: str, found: list[str]) -> list[str]:
    """Texts kept when all three voters return exactly the texts in ``found``."""
    blocks = render_blocks(parse_html(f"<html><body>{body_html}</body></html>").find("body"))
    reference = "\n".join(found)
    return [b.text for b, k in zip(blocks, select_main_blocks(blocks, [reference] * 3), strict=True) if k]


def test_blocks_two_voters_found_are_kept_and_others_dropped():
    assert kept(f"<p>{PARAGRAPH}</p><p>Other text nobody voted for at all here.</p>", [PARAGRAPH]) == [PARAGRAPH]


def test_headings_and_steps_in_the_article_flow_are_kept_when_voted_out():
    html = (f"<h1>Guide</h1><p>{PARAGRAPH}</p><h2>Steps</h2><ol><li>Open it.</li><li>Close it.</li></ol>"
            f"<p>{PARAGRAPH} Again.</p>")
    assert kept(html, [PARAGRAPH, PARAGRAPH + " Again."]) == [
        "# Guide", PARAGRAPH, "## Steps", "1. Open it.", "2. Close it.", PARAGRAPH + " Again.",
    ]


def test_a_see_also_list_of_links_under_its_heading_is_kept():
    html = (f"<p>{PARAGRAPH}</p><h2>See also</h2>"
            "<ul><li><a href='/a'>Topic A</a></li><li><a href='/b'>Topic B</a></li></ul>")
    assert kept(html, [PARAGRAPH]) == [PARAGRAPH, "## See also", "- Topic A", "- Topic B"]


def test_teasers_after_the_article_stay_out():
    html = (
        f"<p>{PARAGRAPH}</p><p>More stories:</p>"
        "<ul><li><a href='/a'>Teaser A</a></li><li><a href='/b'>Teaser B</a></li></ul>"
        "<h3><a href='/c'>A linked teaser title</a></h3><h3>Like this:</h3>"
    )
    assert kept(html, [PARAGRAPH]) == [PARAGRAPH]


def test_lists_in_a_box_of_their_own_are_not_the_article_flow():
    html = f"<div class='intro'><p>{PARAGRAPH}</p></div><div class='box'><div><ol><li>Open it.</li></ol></div></div>"
    assert kept(html, [PARAGRAPH]) == [PARAGRAPH]


def test_a_paragraph_repeated_in_another_section_is_kept_each_time():
    html = f"<h2>Request</h2><p>{PARAGRAPH}</p><h2>Response</h2><p>{PARAGRAPH}</p><p>{PARAGRAPH} End.</p>"
    assert kept(html, [PARAGRAPH, PARAGRAPH + " End."]) == [
        "## Request", PARAGRAPH, "## Response", PARAGRAPH, PARAGRAPH + " End.",
    ]


def test_nothing_voted_keeps_everything():
    assert kept("<p>Short.</p><p>Page.</p>", []) == ["Short.", "Page."]
