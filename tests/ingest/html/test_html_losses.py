"""Loss is never silent: dropped blocks come with reasons, and a large loss of structure warns."""

from __future__ import annotations

from pathlib import Path

from ingest.html import clean_html

INTRO = "Our printers are shared by every team on the floor, and each needs a driver before the first job. "
# Steps in a box of their own beside the intro: the voters and the flow rules leave them out.
WIDGET_PAGE = (Path(__file__).parents[1] / "fixtures" / "printers_widget.html").read_text(encoding="utf-8")


def test_a_large_loss_of_steps_warns():
    page = clean_html(WIDGET_PAGE)
    assert "Open Settings" not in page.text
    assert page.warnings == (
        "dropped 4 of 4 list items outside navigation as not main content; "
        "`sift clean --explain` lists each dropped block and why",
    )
    assert page.dropped == ()  # only filled when asked for


def test_explain_lists_every_dropped_block_with_its_reason():
    dropped = [(d.reason, d.kind, d.text) for d in clean_html(WIDGET_PAGE, explain=True).dropped]
    assert ("navigation", "paragraph", "Home Help") in dropped
    assert ("page chrome (<footer>)", "paragraph", "© Example") in dropped
    assert ("voted out (not main content)", "heading", "### Add a printer on Windows") in dropped
    assert ("voted out (not main content)", "list item", "1. Open Settings.") in dropped


def test_navigation_that_goes_does_not_warn():
    links = "".join(f"<li><a href='/{i}'>Other page {i}</a></li>" for i in range(10))
    html = (f"<html><head><title>T</title></head><body><div class='menu-box'><ul>{links}</ul></div>"
            f"<p>{INTRO * 3}</p><p>{INTRO * 2}</p></body></html>")
    page = clean_html(html)
    assert "Other page" not in page.text and page.warnings == ()
