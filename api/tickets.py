"""Answer suggestions for helpdesk tickets, and the signature check of helpdesk webhooks.

``suggest`` builds the question from the ticket (``ingest.tickets``), searches each collection with the
part of it that fits the embedder best, reranks with the whole cleaned ticket (within the reranker's
length), and keeps the best passage of each document. ``verify_webhook`` checks an HMAC-SHA256 signature
over timestamp and body the way the integration's helpdesk computes it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.auth import Unauthenticated
from api.service import RankedChunk, Sift
from api.settings import WebhookIntegration
from ingest.errors import EmptyTicket
from ingest.tickets import TicketQuestion, build_question, focus

RERANK_QUERY_SHARE = 2  # the ticket may take up to 1/2 of SIFT_RERANK_MAX_LENGTH; documents get the rest


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Suggested articles for a ticket: the best chunk of each document, best first."""

    ticket: TicketQuestion
    articles: list[tuple[str, RankedChunk]]  # (collection, best chunk)
    context: str
    answered: bool
    min_score: float
    reranked: bool
    rerank_error: str | None
    timings_ms: dict[str, float]


def is_answered(best_score: float | None, min_score: float) -> bool:
    """Whether the best result is good enough to count as an answer (the rule /v1/query's min_score uses)."""
    return best_score is not None and best_score >= min_score


async def suggest(sift: Sift, *, subject: str, body: str, collections: Sequence[str], top_k: int = 3,
                  instruction: str | None = None, language: str | None = None,
                  min_score: float | None = None) -> Suggestion:
    """Articles that answer the ticket, one per document, from every listed collection."""
    started = time.perf_counter()
    ticket = build_question(subject, body, language=language)
    if not ticket.question:
        raise EmptyTicket("nothing is left of the ticket once quotes, signatures and greetings are removed")
    settings = sift.settings

    def count_tokens(text: str) -> int:
        return sift.embedder.count_tokens(text)

    keep_first = 1 if ticket.subject and ticket.question.startswith(ticket.subject) else 0
    question = focus(ticket.question, max_tokens=settings.rerank_max_length // RERANK_QUERY_SHARE,
                     count_tokens=count_tokens, keep_first=keep_first)
    retrieval_query = focus(question, max_tokens=sift.embedder.max_tokens - 2, count_tokens=count_tokens,
                            keep_first=keep_first)
    answers = await asyncio.gather(*(
        sift.answer(question, collection=name, top_k=settings.candidates, instruction=instruction,
                    retrieval_query=retrieval_query)
        for name in collections
    ))
    reranked = all(a.reranked for a in answers)
    merged = sorted(((name, r) for name, a in zip(collections, answers, strict=True) for r in a.results),
                    key=lambda pair: -pair[1].score)
    best: dict[tuple[str, str], tuple[str, RankedChunk]] = {}
    for name, result in merged:
        key = (name, result.candidate.doc_id)
        if key not in best and len(best) < top_k:
            best[key] = (name, RankedChunk(len(best) + 1, result.candidate, result.score))
    articles = list(best.values())
    threshold = settings.ticket_min_score if min_score is None else min_score
    timings = {"total": round((time.perf_counter() - started) * 1000, 2)}
    return Suggestion(
        ticket=ticket, articles=articles, context=sift.build_context([r for _, r in articles]),
        answered=is_answered(articles[0][1].score if articles else None, threshold), min_score=threshold,
        reranked=reranked, rerank_error=next((a.rerank_error for a in answers if a.rerank_error), None),
        timings_ms=timings,
    )


def verify_webhook(integration: WebhookIntegration, headers: Mapping[str, str], body: bytes, *,
                   replay_window_s: float, now: float | None = None) -> None:
    """Raise ``Unauthenticated`` unless the request carries a valid, fresh signature of ``integration``."""
    signature = headers.get(integration.signature_header.lower()) or headers.get(integration.signature_header)
    if not signature:
        raise Unauthenticated(f"missing the {integration.signature_header} header")
    signed = body
    if integration.timestamp_header:
        stamp = headers.get(integration.timestamp_header.lower()) or headers.get(integration.timestamp_header)
        if not stamp:
            raise Unauthenticated(f"missing the {integration.timestamp_header} header")
        when = _timestamp(stamp)
        if when is None or abs((now or time.time()) - when) > replay_window_s:
            raise Unauthenticated("the webhook timestamp is missing, malformed or outside the replay window "
                                  "(SIFT_WEBHOOK_REPLAY_S)")
        signed = stamp.encode() + integration.separator.encode() + body
    digest = hmac.new(integration.secret.get_secret_value().encode(), signed, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode() if integration.encoding == "base64" else digest.hex()
    presented = signature.strip().removeprefix(integration.signature_prefix)
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise Unauthenticated("the webhook signature does not match")


def ticket_fields(payload: Any, integration: WebhookIntegration) -> dict[str, Any]:
    """The suggestion request in a webhook payload: its own fields, with ``integration.fields`` paths mapped."""
    fields = {k: v for k, v in payload.items() if k in ("subject", "body", "top_k", "instruction", "language",
                                                         "min_score")} if isinstance(payload, dict) else {}
    for name, path in integration.fields.items():
        value: Any = payload
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            fields[name] = _text_of(value) if name in ("subject", "body") else value
    return fields


def _text_of(value: Any) -> str:
    """A string, or the text nodes of a rich-text document (Jira's Atlassian Document Format), joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        own = value.get("text") if isinstance(value.get("text"), str) else ""
        inner = [_text_of(v) for v in value.get("content", [])] if isinstance(value.get("content"), list) else []
        separator = "\n" if value.get("type") in ("doc", "paragraph", "heading", "listItem") else ""
        return own + separator.join(inner) + ("\n" if value.get("type") == "paragraph" else "")
    if isinstance(value, list):
        return "\n".join(_text_of(v) for v in value)
    return str(value)


def _timestamp(value: str) -> float | None:
    """Unix seconds (or milliseconds) or an ISO 8601 time, as Unix seconds."""
    value = value.strip()
    if value.isdigit():
        number = float(value)
        return number / 1000 if number > 1e11 else number
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo else None
