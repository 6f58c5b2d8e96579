"""Answer suggestions for helpdesk tickets: called with an API key, or by a helpdesk webhook that signs its
requests (``SIFT_WEBHOOKS``) instead of sending a key."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from pydantic import ValidationError

from api.auth import MaybePrincipal, QueryAccess, Unauthenticated
from api.deps import SiftDep
from api.errors import ERROR_RESPONSES
from api.schemas_helpdesk import SuggestedArticle, TicketIn, TicketSuggestion
from api.tickets import Suggestion, suggest, ticket_fields, verify_webhook
from ingest.errors import IngestError

router = APIRouter(prefix="/v1/tickets", tags=["tickets"], responses=ERROR_RESPONSES)
webhooks_router = APIRouter(prefix="/v1/webhooks", tags=["tickets"], responses=ERROR_RESPONSES)


@router.post("/suggest", response_model=TicketSuggestion)
async def suggest_for_ticket(body: TicketIn, sift: SiftDep, principal: QueryAccess) -> TicketSuggestion:
    """The question built from the ticket, the articles that answer it (one per document) and their context."""
    names = body.collection_names()
    for name in names:
        principal.require_collection(name)
    found = await suggest(sift, subject=body.subject, body=body.body, collections=names, top_k=body.top_k,
                          instruction=body.instruction, language=body.language, min_score=body.min_score)
    return suggestion_out(found)


@webhooks_router.post("/tickets/{integration}", response_model=TicketSuggestion)
async def ticket_webhook(integration: str, request: Request, sift: SiftDep, _: MaybePrincipal) -> TicketSuggestion:
    """Suggestions for a ticket sent by a helpdesk automation. Authenticated by the integration's HMAC-SHA256
    signature (``SIFT_WEBHOOKS``), not by an API key; searches the collections the integration names."""
    config = sift.settings.webhooks.get(integration)
    if config is None:
        raise Unauthenticated(f"no webhook integration is named {integration!r} (SIFT_WEBHOOKS)")
    raw = await request.body()
    verify_webhook(config, request.headers, raw, replay_window_s=sift.settings.webhook_replay_s)
    try:
        fields = ticket_fields(json.loads(raw), config)
        body = TicketIn(**fields, collections=config.collections)
    except json.JSONDecodeError as exc:
        raise IngestError(f"malformed JSON body: {exc}") from None
    except ValidationError as exc:
        raise IngestError("invalid ticket: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    found = await suggest(sift, subject=body.subject, body=body.body, collections=body.collection_names(),
                          top_k=body.top_k, instruction=body.instruction, language=body.language,
                          min_score=body.min_score)
    return suggestion_out(found)


def suggestion_out(found: Suggestion) -> TicketSuggestion:
    return TicketSuggestion(
        question=found.ticket.question,
        articles=[SuggestedArticle(doc_id=r.candidate.doc_id, collection=name, title=r.candidate.title,
                                   url=r.candidate.url, passage=r.candidate.text, heading=r.candidate.heading,
                                   score=r.score) for name, r in found.articles],
        context=found.context, answered=found.answered, min_score=found.min_score, reranked=found.reranked,
        rerank_error=found.rerank_error, timings_ms=found.timings_ms,
    )
