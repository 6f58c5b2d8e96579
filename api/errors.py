"""Every Sift exception mapped to an HTTP status in one place, with a JSON body that names the problem."""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.auth import Forbidden, RateLimited, Unauthenticated
from api.keys import UnknownKey
from api.service import JobNotFound, LimitExceeded
from api.sync_store import SourceNotFound
from ingest.errors import (
    BinaryContent,
    DocumentTooLarge,
    EmptyDocument,
    IngestError,
    UnsupportedContentType,
)
from rerank.errors import PromptTooLong, RerankerNotConfigured, RerankerOverloaded, RerankError
from retrieval.errors import (
    CollectionExists,
    CollectionNotFound,
    DocumentNotFound,
    RetrievalError,
    StoreUnavailable,
)

log = logging.getLogger(__name__)

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: list[tuple[type[Exception], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (RateLimited, 429, "rate_limited"),
    (UnknownKey, 404, "key_not_found"),
    (DocumentTooLarge, 413, "too_large"),
    (LimitExceeded, 413, "too_large"),
    (UnsupportedContentType, 415, "unsupported_content_type"),
    (BinaryContent, 415, "binary_content"),
    (EmptyDocument, 422, "empty_document"),
    (IngestError, 400, "invalid_document"),
    (CollectionNotFound, 404, "collection_not_found"),
    (CollectionExists, 409, "collection_exists"),
    (DocumentNotFound, 404, "document_not_found"),
    (JobNotFound, 404, "job_not_found"),
    (SourceNotFound, 404, "source_not_found"),
    (StoreUnavailable, 503, "store_unavailable"),
    (sqlite3.OperationalError, 503, "catalog_unavailable"),
    (RetrievalError, 500, "store_error"),
    (RerankerOverloaded, 503, "reranker_overloaded"),
    (RerankerNotConfigured, 501, "reranker_not_configured"),
    (PromptTooLong, 422, "prompt_too_long"),
    (RerankerNotConfigured, 501, "reranker_not_configured"),  # permanent: no Retry-After
    (RerankError, 503, "reranker_unavailable"),
]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}},
                        headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on the app."""

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
        return error_response(422, "invalid_request", "; ".join(problems) or "invalid request")

    for error_type, status, code in STATUS_BY_ERROR:
        app.add_exception_handler(error_type, _handler(status, code))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        message = str(exc.detail)
        if exc.status_code == 405:  # Starlette names only the first route's methods; name every route's
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        elif exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.url.path}; the API is described at /docs"
        return error_response(exc.status_code, code, message, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", f"internal error: {type(exc).__name__}")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(request.url.path):
            methods |= set(route_methods)
    return sorted(methods)


FIXED_MESSAGES = {"catalog_unavailable": "the catalog database is busy or unavailable; try again shortly"}
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def _handler(status: int, code: str):
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        headers = None
        if status in (429, 503):
            headers = {"Retry-After": str(max(1, round(getattr(exc, "retry_after_s", 5))))}
        elif status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="sift"'}
        if status >= 500:
            log.warning("%s: %s", code, exc)
        return error_response(status, code, FIXED_MESSAGES.get(code, str(exc)), headers)

    return handle


ERROR_RESPONSES = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Invalid document or request", 401: "No API key, or an invalid, revoked or expired one",
        403: "The API key lacks the scope or the collection", 404: "Unknown collection, document or job",
        413: "Request or document too large", 429: "Rate limit reached (see Retry-After)",
        415: "Unsupported or binary content", 422: "Invalid request fields or empty document",
        501: "No reranker is configured (permanent; do not retry)",
        503: "Store or reranker unavailable (see Retry-After)",
    }.items()
}
