"""The question built from a ticket (ingest/tickets.py): latest message only, no quotes, signatures or HTML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.tickets import build_question, clean_subject_line, focus, html_to_text, latest_message

TICKETS = yaml.safe_load((Path(__file__).parents[1] / "fixtures" / "tickets.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["name"] for t in TICKETS])
def test_question_keeps_the_latest_message_and_the_subject(ticket: dict) -> None:
    question = build_question(ticket["subject"], ticket["body"]).question
    for kept in ticket["has"]:
        assert kept in question
    for dropped in ticket["lacks"]:
        assert dropped not in question


@pytest.mark.parametrize(("subject", "cleaned"), [
    ("Re: RE: Fwd: Export", "Export"),
    ("回复：转发: 发票", "发票"),
    ("[Ticket #4411] AW: Zugang", "Zugang"),
    ("Re[2]: Login", "Login"),
    ("", ""),
])
def test_subject_prefixes_and_ticket_tags_are_removed(subject: str, cleaned: str) -> None:
    assert clean_subject_line(subject) == cleaned


def test_the_subject_is_not_repeated_when_the_message_says_it() -> None:
    built = build_question("Export failed", "Hello,\n\nExport failed again today, why?\n\nThanks")
    assert built.question == "Export failed again today, why?"


def test_other_languages_reply_headers_through_the_language_field() -> None:
    text = "Wie exportiere ich mein Projekt?\n\nAm 03.06.2024 um 10:00 schrieb Acme Support <s@acme.example>:\n> Hallo"
    assert latest_message(text, language="de-AT") == "Wie exportiere ich mein Projekt?"
    assert "schrieb" in latest_message(text)  # German headers are not known without the language


def test_html_keeps_line_structure_and_drops_scripts_and_quotes() -> None:
    text = html_to_text("<div>First line<br>second line</div><script>alert(1)</script>"
                        "<blockquote>quoted</blockquote><p>After the quote</p>")
    assert text.split("\n") == ["First line", "second line", "", "After the quote"]


def test_nothing_but_quotes_leaves_an_empty_question() -> None:
    assert build_question("", "> only a quote\n> of an old message").question == ""


def test_focus_keeps_the_subject_and_the_sentences_that_ask() -> None:
    words = lambda text: len(text.split())  # noqa: E731 - a token counter for the test
    log = " ".join(f"Line {i} of the attached log output shows nothing unusual." for i in range(40))
    text = f"CSV export\n{log} Why does the export fail with error 500? {log}"
    focused = focus(text, max_tokens=40, count_tokens=words)
    assert focused.startswith("CSV export\n")
    assert "Why does the export fail with error 500?" in focused
    assert words(focused) <= 40
    assert focus("short", max_tokens=40, count_tokens=words) == "short"
