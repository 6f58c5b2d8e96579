"""The FastAPI application: builds the ``Sift`` service once at start-up and mounts the routers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from api.errors import install_error_handlers
from api.routes import documents, health, query, rerank
from api.service import Sift
from api.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, sift: Sift | None = None) -> FastAPI:
    """An app serving ``sift`` (or a new service built from ``settings``), started in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service = sift or Sift(settings or get_settings())
        if sift is None:
            await run_in_threadpool(service.start)
        app.state.sift = service
        log.info("Sift ready: %s", service.health())
        try:
            yield
        finally:
            if sift is None:
                await service.close()

    app = FastAPI(
        title="Sift",
        version="0.1.0",
        summary="Knowledge-base retrieval with Qdrant and a Qwen3 reranker: cited answer context.",
        lifespan=lifespan,
    )
    if sift is not None:
        app.state.sift = sift  # already started by the caller; usable without running the lifespan
    install_error_handlers(app)
    for router in (documents.router, documents.jobs_router, query.router, rerank.router, health.router):
        app.include_router(router)
    return app
