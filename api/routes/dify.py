"""Dify's External Knowledge API: a Sift collection as a Dify external knowledge base.

In Dify, add an External Knowledge API with endpoint ``http://SIFT_HOST:PORT`` (Dify appends
``/retrieval``) and a Sift key with the query scope; the External Knowledge ID is the collection.
Errors use Dify's body ``{"error_code", "error_msg"}``: 1001 (no or malformed ``Authorization:
Bearer``) and 1002 (key refused) with status 403, as Dify's spec says; 2001 (no such collection) with 404;
any other failure keeps Sift's status and carries it as ``error_code``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api.auth import Forbidden, QueryAccess, Unauthenticated
from api.deps import SiftDep
from api.protocols.dify import (
    AUTHORIZATION_FAILED,
    INVALID_AUTHORIZATION_HEADER,
    KNOWLEDGE_NOT_FOUND,
    ErrorOut,
    Record,
    RetrievalIn,
    RetrievalOut,
    UnsupportedCondition,
    sift_filters,
)
from retrieval.errors import CollectionNotFound


class DifyErrors(APIRoute):
    """Answers this router's errors in Dify's error shape instead of Sift's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def with_dify_errors(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:  # every error, auth and validation included, in Dify's shape
                return await dify_error(request, exc)

        return with_dify_errors


router = APIRouter(tags=["dify"], route_class=DifyErrors,
                   responses={status: {"model": ErrorOut} for status in (400, 403, 404, 422, 429, 503)})


@router.post("/retrieval", response_model=RetrievalOut)
async def retrieval(body: RetrievalIn, sift: SiftDep, principal: QueryAccess) -> RetrievalOut:
    """The collection's best chunks for the query, scored in [0, 1], those below score_threshold left out."""
    principal.require_collection(body.knowledge_id)
    answer = await sift.answer(
        body.query, collection=body.knowledge_id, top_k=body.retrieval_setting.top_k,
        min_score=body.retrieval_setting.score_threshold, filters=sift_filters(body.metadata_condition),
    )
    return RetrievalOut(records=[
        Record(
            content=r.candidate.text, score=r.score, title=r.candidate.title or r.candidate.doc_id,
            metadata={key: value for key, value in {
                "doc_id": r.candidate.doc_id, "chunk_id": r.candidate.chunk_id, "url": r.candidate.url,
                "source": r.candidate.source, "heading": r.candidate.heading or None,
                "retrieval_score": r.candidate.score, "reranked": answer.reranked,
            }.items() if value is not None},
        )
        for r in answer.results
    ])


async def dify_error(request: Request, exc: Exception) -> JSONResponse:
    """``exc`` as Dify's ``{"error_code", "error_msg"}``, with the status and headers Sift would give."""
    if isinstance(exc, Unauthenticated):
        header = request.headers.get("authorization", "")
        code = AUTHORIZATION_FAILED if header.lower().startswith("bearer ") else INVALID_AUTHORIZATION_HEADER
        message = (str(exc) if code == AUTHORIZATION_FAILED
                   else "Invalid Authorization header format. Expected 'Bearer <api-key>' format.")
        return JSONResponse({"error_code": code, "error_msg": message}, status_code=403)
    if isinstance(exc, Forbidden):
        return JSONResponse({"error_code": AUTHORIZATION_FAILED, "error_msg": str(exc)}, status_code=403)
    if isinstance(exc, CollectionNotFound):
        return JSONResponse({"error_code": KNOWLEDGE_NOT_FOUND, "error_msg": str(exc)}, status_code=404)
    if isinstance(exc, UnsupportedCondition):
        return JSONResponse({"error_code": 400, "error_msg": str(exc)}, status_code=400)
    sift_response = await _sift_error(request, exc)
    message = json.loads(sift_response.body)["error"]["message"]
    headers = {k: v for k, v in sift_response.headers.items() if k.lower() == "retry-after"}
    return JSONResponse({"error_code": sift_response.status_code, "error_msg": message},
                        status_code=sift_response.status_code, headers=headers)


async def _sift_error(request: Request, exc: Exception) -> JSONResponse:
    """The response of the app's own handler for ``exc`` (api/errors.py), found along its class hierarchy."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return await handlers[cls](request, exc)
    return await handlers[Exception](request, exc)
