"""The knowledge-base question endpoint: top candidates, reranked, as a cited answer context."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import QueryAccess
from api.deps import SiftDep
from api.disconnect import cancel_on_disconnect
from api.errors import ERROR_RESPONSES
from api.schemas import QueryIn, QueryOut

router = APIRouter(prefix="/v1", tags=["query"], responses=ERROR_RESPONSES)


@router.post("/query", response_model=QueryOut)
@cancel_on_disconnect
async def query(body: QueryIn, sift: SiftDep, principal: QueryAccess, request: Request) -> QueryOut:
    """Answer context for a question; ``reranked`` says whether the reranker ordered it, ``answered`` whether
    anything cleared ``min_score``."""
    principal.require_collection(body.collection)
    sift.check_question(body.question)
    answer = await sift.answer(
        body.question, collection=body.collection, top_k=body.top_k, candidates=body.candidates,
        instruction=body.instruction, mode=body.mode, filters=body.filters, min_score=body.min_score,
    )
    request.app.state.metrics.observe_answer(answer, sift.reranker.state)
    return QueryOut.from_answer(answer)
