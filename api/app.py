"""The FastAPI application: builds the ``Sift`` service once at start-up and mounts the routers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from api.auth import auth_required
from api.errors import install_error_handlers
from api.guards import RequestGuards
from api.keys import KeyStore
from api.metrics import RequestIds, SiftMetrics
from api.metrics import router as metrics_router
from api.ratelimit import RateLimits
from api.routes import (
    collections,
    dify,
    documents,
    health,
    keys,
    query,
    rerank,
    sources,
    tickets,
    whoami,
)
from api.service import Sift
from api.settings import Settings, get_settings
from api.ui.router import install_console

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, sift: Sift | None = None) -> FastAPI:
    """An app serving ``sift`` (or a new service built from ``settings``), started in its lifespan."""
    settings = sift.settings if sift is not None else settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = sift or Sift(settings)
        if sift is None:
            await run_in_threadpool(service.start)
        app.state.sift = service
        log_access_mode(settings, app.state.keys)
        log.info("Sift ready: %s", service.health())
        try:
            yield
        finally:
            if sift is None:
                await service.close()
            app.state.keys.close()

    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from files in that package, not from a CDN.
    app = FastAPIOffline(
        title="Sift",
        version="0.1.0",
        summary="Knowledge-base retrieval with Qdrant and a Qwen3 reranker: cited answer context.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = KeyStore(settings.data_dir / "keys.sqlite3")
    app.state.rate_limits = RateLimits(requests_per_minute=settings.rate_limit_per_minute,
                                       concurrent_uploads=settings.max_concurrent_uploads)
    if sift is not None:
        app.state.sift = sift  # already started by the caller; usable without running the lifespan
    install_error_handlers(app)
    # Starlette runs the middleware added last first: CORS answers preflights before the guards look.
    app.add_middleware(RequestGuards)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
                           expose_headers=["Retry-After", "X-Request-ID", "Location"])
    app.add_middleware(RequestIds)  # outermost: refusals by the guards carry a request id too
    app.state.metrics = SiftMetrics(app)
    # collections.router first: its /documents/{id}/chunks must match before documents' /documents/{id:path}.
    for router in (collections.router, documents.router, documents.jobs_router, query.router, rerank.router,
                   dify.router, keys.router, whoami.router, health.router, sources.router, tickets.router,
                   tickets.webhooks_router, metrics_router):
        app.include_router(router)
    install_console(app)
    _complete_openapi(app, documents.UPLOAD_SCHEMAS, settings)
    return app


def _complete_openapi(app: FastAPI, schemas: dict, settings: Settings) -> None:
    """Put the schemas that hand-written request bodies refer to into the OpenAPI components, and
    tighten the published bounds to this server's limits, so that what the document allows is served."""
    generate = app.openapi
    limits = [  # (schema, property, keyword, configured limit)
        ("QueryIn", "question", "maxLength", settings.max_question_chars),
        ("QueryIn", "candidates", "maximum", settings.max_candidates),
        *((model, "query", "maxLength", settings.max_question_chars)
          for model in ("RerankV1In", "RerankV2In", "TeiRerankIn")),
        *((model, field, "maxItems", settings.rerank_max_documents)
          for model, field in (("RerankV1In", "documents"), ("RerankV2In", "documents"), ("TeiRerankIn", "texts"))),
    ]

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = generate()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            components.update(schemas)
            for model, field, keyword, limit in limits:
                _tighten(components[model]["properties"][field], keyword, limit)
        return app.openapi_schema

    app.openapi = openapi


def _tighten(schema: dict, keyword: str, limit: int) -> None:
    """Lower ``keyword`` (a maximum) to ``limit`` on a property, or on each non-null branch of its anyOf."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") != "null":
            branch[keyword] = min(branch.get(keyword, limit), limit)


def log_access_mode(settings: Settings, keys: KeyStore) -> None:
    """Say loudly at start-up whether requests need a key."""
    if settings.auth == "off":
        log.warning("API KEYS OFF (SIFT_AUTH=off): every client that reaches this server may read and change "
                    "every collection")
    elif not auth_required(settings, keys):
        log.warning("OPEN: no API keys exist, so Sift answers only on loopback without keys. "
                    "Create one with `sift keys create --scope admin --name ops`.")
    else:
        log.info("API keys required")
