"""Reranking in the shapes RAG stacks already call: Cohere v1 (with Jina's usage), Cohere v2 and TEI.

Every route scores with the same function (``Sift.rerank``), so the same (query, document,
instruction) gets the same score whichever shape asked. Without a reranker they answer 501
``reranker_not_configured`` (permanent, no Retry-After); a reranker that is loading, overloaded or
failing answers 503 with Retry-After.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import QueryAccess
from api.deps import SiftDep
from api.disconnect import cancel_on_disconnect
from api.errors import ERROR_RESPONSES, ErrorBody
from api.protocols.cohere import (
    RerankResult,
    RerankV1In,
    RerankV1Out,
    RerankV2In,
    RerankV2Out,
    Usage,
    meta,
    ranked,
    response_id,
)
from api.protocols.tei import ClassifierModel, ModelType, TeiInfo, TeiRank, TeiRerankIn, raw_score
from rerank.errors import RerankerNotConfigured
from rerank.prompt import DEFAULT_INSTRUCTION

router = APIRouter(tags=["rerank"], responses={
    **ERROR_RESPONSES, 501: {"model": ErrorBody, "description": "No reranker is configured (permanent)"}})


@router.post("/v1/rerank", response_model=RerankV1Out, response_model_exclude_none=True)
@cancel_on_disconnect
async def rerank_v1(body: RerankV1In, sift: SiftDep, _: QueryAccess, request: Request) -> RerankV1Out:
    """Cohere v1 / Jina rerank: documents (strings or objects) ordered by P(yes)."""
    reranked = await sift.rerank(body.query, body.texts(), instruction=body.instruction,
                                 max_chunks_per_doc=body.max_chunks_per_doc or 1)
    return RerankV1Out(
        id=response_id(),
        model=sift.settings.rerank_served_name,
        results=[
            RerankResult(index=i, relevance_score=reranked.scores[i],
                         document=_returned(body.documents[i]) if body.return_documents else None)
            for i in ranked(reranked.scores, body.top_n)
        ],
        meta=meta("1", len(body.documents), reranked.tokens),
        usage=Usage(total_tokens=reranked.tokens, prompt_tokens=reranked.tokens),
    )


@router.post("/v2/rerank", response_model=RerankV2Out, response_model_exclude_none=True)
@cancel_on_disconnect
async def rerank_v2(body: RerankV2In, sift: SiftDep, _: QueryAccess, request: Request) -> RerankV2Out:
    """Cohere v2 rerank (``cohere.ClientV2``, LangChain's and LlamaIndex's ``CohereRerank``)."""
    reranked = await sift.rerank(body.query, body.documents, instruction=body.instruction,
                                 max_tokens_per_doc=body.max_tokens_per_doc)
    return RerankV2Out(
        id=response_id(),
        results=[
            RerankResult(index=i, relevance_score=reranked.scores[i],
                         document={"text": body.documents[i]} if body.return_documents else None)
            for i in ranked(reranked.scores, body.top_n)
        ],
        meta=meta("2", len(body.documents), reranked.tokens),
    )


@router.post("/rerank", response_model=list[TeiRank], response_model_exclude_none=True)
@cancel_on_disconnect
async def rerank_tei(body: TeiRerankIn, sift: SiftDep, _: QueryAccess, request: Request) -> list[TeiRank]:
    """TEI rerank: a bare list of ``{index, score, text?}``, best first."""
    reranked = await sift.rerank(body.query, body.texts, instruction=body.instruction, keep=body.keep)
    return [
        TeiRank(index=i, score=raw_score(reranked.scores[i]) if body.raw_scores else reranked.scores[i],
                text=body.texts[i] if body.return_text else None)
        for i in ranked(reranked.scores, None)
    ]


@router.get("/info", response_model=TeiInfo)
async def info(sift: SiftDep, _: QueryAccess) -> TeiInfo:
    """TEI's model card: ``model_type`` names a reranker, which Dify checks before it adds the model."""
    settings = sift.settings
    engine = sift.reranker.engine
    if engine is None:
        raise RerankerNotConfigured("no reranker is configured on this server (SIFT_RERANK_ENGINE=none)")
    return TeiInfo(
        model_id=settings.rerank_served_name,
        model_dtype=str(getattr(engine, "dtype", "auto")),
        model_type=ModelType(reranker=ClassifierModel(id2label={"0": "yes"}, label2id={"yes": 0})),
        max_concurrent_requests=settings.rerank_queue,
        max_input_length=engine.max_length,
        max_batch_tokens=engine.max_length,
        max_client_batch_size=settings.rerank_max_documents,
        version=f"sift {sift_version()}",
        instruction=settings.rerank_instruction or DEFAULT_INSTRUCTION,
    )


def _returned(document: str | dict) -> dict:
    """A document as Cohere returns it: ``{"text": …}`` for a string, the object itself otherwise."""
    return {"text": document} if isinstance(document, str) else document


def sift_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sift")
    except PackageNotFoundError:
        return "dev"
