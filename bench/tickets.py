"""Questions built from helpdesk tickets: Sift's ticket cleaner beside the reply parsers people use, one run.

    python bench/tickets.py [--no-write]

Tickets: tests/fixtures/tickets.yaml (dev: the rules were written while looking at these) and
tests/fixtures/tickets_heldout.yaml (held out: written afterwards, not used to change the rules).
Help centre: tests/fixtures/helpcentre (9 articles, English and Chinese), ingested into a fresh embedded
store with the bundled MiniLM; search is hybrid, in retrieval order (no reranker).

Builders, all given the same subject and body (HTML bodies go through the same lxml text conversion
for the two libraries, which read text only):
- raw: subject + the whole body as text;
- email-reply-parser (Zapier's, English rules): subject + ``parse_reply`` of the body;
- mail-parser-reply (en + zh rules): subject + the first reply's body without signature and headers;
- sift: ``ingest.tickets.build_question``.

Metrics: clean = share of tickets whose question keeps every ``has`` phrase and none of the ``lacks``
phrases; hit@1 and MRR of the expected article among documents (best chunk per document); ms = mean time
to build one question.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.ingestion import IngestItem  # noqa: E402
from api.service import Sift  # noqa: E402
from api.settings import load_settings  # noqa: E402
from bench.report import write_section  # noqa: E402
from ingest.tickets import build_question, html_to_text, is_html  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SETS = {"dev": FIXTURES / "tickets.yaml", "held-out": FIXTURES / "tickets_heldout.yaml"}


NOTES = """Timings on a shared, loaded 2-core machine. Cleaning is where the builders differ: on the held-out
tickets Sift's question misses one (a signature with no sign-off line above it: a name and a job title are
kept), the libraries keep greetings, sign-offs, Chinese signatures or quoted Chinese headers in most. Retrieval
barely moves on a help centre this small and distinct: quoted text here mostly repeats the topic. The misses
that remain are Chinese or mixed tickets whose article is written in English only (MiniLM reads no Chinese and
BM25 matches the Chinese articles' words); in the tests one such ticket is a strict xfail. A reranker is
expected to fix those; it was not part of this run."""


def _text(body: str) -> str:
    return html_to_text(body) if is_html(body) else body


def raw(subject: str, body: str) -> str:
    return f"{subject}\n{_text(body)}"


def email_reply_parser(subject: str, body: str) -> str:
    from email_reply_parser import EmailReplyParser

    return f"{subject}\n{EmailReplyParser.parse_reply(_text(body))}"


def mail_parser_reply(subject: str, body: str) -> str:
    from mailparser_reply import EmailReplyParser

    replies = EmailReplyParser(languages=["en", "zh"]).read(_text(body)).replies
    return f"{subject}\n{replies[0].body if replies else ''}"


def sift(subject: str, body: str) -> str:
    return build_question(subject, body).question


BUILDERS: dict[str, Callable[[str, str], str]] = {
    "raw subject + body": raw,
    f"email-reply-parser {version('email-reply-parser')}": email_reply_parser,
    f"mail-parser-reply {version('mail-parser-reply')}": mail_parser_reply,
    "sift build_question": sift,
}


def clean(question: str, ticket: dict) -> bool:
    return all(h in question for h in ticket["has"]) and not any(x in question for x in ticket["lacks"])


def rank_of(service: Sift, question: str, article: str) -> int | None:
    answer = asyncio.run(service.answer(question, collection="help", top_k=50))
    documents = list(dict.fromkeys(r.candidate.doc_id for r in answer.results))
    return documents.index(article) + 1 if article in documents else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="Print the table only.")
    args = parser.parse_args()
    settings = load_settings(data_dir=Path(tempfile.mkdtemp(prefix="sift-bench-tickets-")), rerank_engine="none",
                             qdrant_url=None, _env_file=None)
    service = Sift(settings)
    service.start()
    try:
        pages = sorted((FIXTURES / "helpcentre").glob("*.html"))
        service.ingest("help", [IngestItem(content=p.read_bytes(), content_type="text/html", doc_id=p.stem)
                                for p in pages])
        rows = []
        for set_name, path in SETS.items():
            tickets = yaml.safe_load(path.read_text(encoding="utf-8"))
            for name, build in BUILDERS.items():
                started = time.perf_counter()
                questions = [build(t["subject"], t["body"]) for t in tickets]
                ms = (time.perf_counter() - started) * 1000 / len(tickets)
                ranks = [rank_of(service, q, t["article"]) for q, t in zip(questions, tickets, strict=True)]
                cleaned = sum(clean(q, t) for q, t in zip(questions, tickets, strict=True)) / len(tickets)
                hit1 = sum(r == 1 for r in ranks) / len(tickets)
                mrr = sum(1 / r for r in ranks if r) / len(tickets)
                rows.append(f"| {set_name} ({len(tickets)}) | {name} | {cleaned:.2f} | {hit1:.2f} | {mrr:.3f} | "
                            f"{ms:.2f} |")
    finally:
        asyncio.run(service.close())
    table = "\n".join(["| tickets | question builder | clean | hit@1 | MRR | ms/ticket |",
                       "|---|---|---|---|---|---|", *rows])
    print(table)
    if not args.no_write:
        write_section("Ticket questions (bench/tickets.py)", __doc__.split("\n\n", 2)[2] + "\n\n" + table
                      + "\n\n" + NOTES, command="python bench/tickets.py")


if __name__ == "__main__":
    main()
