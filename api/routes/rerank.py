"""Cohere/Jina-compatible ``/v1/rerank``: score given documents against a query."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import QueryAccess
from api.deps import SiftDep
from api.disconnect import cancel_on_disconnect
from api.errors import ERROR_RESPONSES, ErrorBody
from api.schemas import RerankIn, RerankOut, RerankResult, TextDocument

router = APIRouter(prefix="/v1", tags=["rerank"], responses=ERROR_RESPONSES)


@router.post("/rerank", response_model=RerankOut, response_model_exclude_none=True,
             responses={501: {"model": ErrorBody, "description": "No reranker is configured"}})
@cancel_on_disconnect
async def rerank(body: RerankIn, sift: SiftDep, _: QueryAccess, request: Request) -> RerankOut:
    """Documents ordered by P(yes); 501 when no reranker is configured (permanent), 503 with Retry-After
    while it is loading, unavailable or overloaded."""
    texts = body.texts()
    scores = await sift.rerank(body.query, texts, instruction=body.instruction)
    order = sorted(range(len(texts)), key=lambda i: -scores[i])[: body.top_n or len(texts)]
    return RerankOut(
        model=sift.settings.rerank_served_name,
        results=[
            RerankResult(index=i, relevance_score=scores[i],
                         document=TextDocument(text=texts[i]) if body.return_documents else None)
            for i in order
        ],
    )
