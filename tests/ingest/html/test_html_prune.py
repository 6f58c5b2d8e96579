"""Pruning: what is never content goes, furniture goes with the reason it went, the article stays."""

from __future__ import annotations

from ingest.html.parse import parse_html
from ingest.html.prune import names_furniture, prune_boilerplate, strip_non_content

ARTICLE = "<p>" + "The article text that a reader came for. " * 20 + "</p>"


def pruned(body_html: str) -> tuple[list[tuple[str, str]], str]:
    body = parse_html(f"<html><body>{body_html}</body></html>").find("body")
    strip_non_content(body)
    removed = prune_boilerplate(body)
    return [(el.text_content().strip(), reason) for el, reason in removed], body.text_content()


def test_each_removed_element_comes_back_with_its_reason_in_document_order():
    removed, left = pruned(
        "<nav><a href='/'>Home</a></nav><div role='banner'>Site name</div><div hidden>Draft</div>"
        f"{ARTICLE}<div class='share-bar'>Share</div><footer>Imprint</footer>"
        "<div aria-hidden='true'>Icons</div><ul role='navigation'><li>Next page</li></ul>"
    )
    assert removed == [
        ("Home", "navigation"),
        ("Site name", "page chrome (role=banner)"),
        ("Draft", "hidden"),
        ("Share", "furniture class or id (share-bar)"),
        ("Imprint", "page chrome (<footer>)"),
        ("Icons", "hidden (aria-hidden)"),
        ("Next page", "navigation"),
    ]
    assert "reader came for" in left


def test_furniture_holding_most_of_the_page_is_kept():
    removed, left = pruned(f"<div class='sidebar-layout'>{ARTICLE}</div>")
    assert removed == [] and "reader came for" in left


def test_a_noscript_that_swallowed_the_page_is_unwrapped():
    # an element left open inside <noscript> makes the parser nest the whole page in it
    body = parse_html(f"<html><body><noscript><div id='nojs'></noscript><div>{ARTICLE}</div></body></html>")
    body = body.find("body")
    strip_non_content(body)
    assert "reader came for" in body.text_content()


def test_a_small_noscript_is_removed():
    body = parse_html(f"<html><body><noscript>Enable JavaScript</noscript>{ARTICLE}</body></html>").find("body")
    strip_non_content(body)
    assert "Enable JavaScript" not in body.text_content()


def test_furniture_words_in_names_even_beside_content_words():
    element = parse_html("<section class='related-articles'>x</section>").find(".//section")
    assert names_furniture(element)
    assert not names_furniture(parse_html("<section class='article-body'>x</section>").find(".//section"))
