"""Prometheus metrics at ``GET /metrics`` (keys with the ``metrics`` or ``admin`` scope), and request ids.

HTTP requests by route and status, with latency histograms, come from
``prometheus-fastapi-instrumentator``; Sift adds per-stage latency of answers, answers served
without reranking by reason, and gauges read at scrape time: rerank queue depth and batch size,
ingestion jobs by state, chunks ingested, points in the store. Each app has its own registry, so
several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import MetricsAccess

if TYPE_CHECKING:
    from api.service import Answer

access_log = logging.getLogger("sift.access")
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class SiftMetrics:
    """The app's registry and the metrics the routes record."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry()
        self.stage_seconds = Histogram("sift_stage_seconds", "Time per stage of answering a question.", ["stage"],
                                       buckets=STAGE_BUCKETS, registry=self.registry)
        self.not_reranked = Counter("sift_answers_not_reranked_total",
                                    "Answers served in retrieval order, by why the reranker did not order them.",
                                    ["reason"], registry=self.registry)
        self.registry.register(_ServiceCollector(app))
        Instrumentator(registry=self.registry, excluded_handlers=["/metrics", "/livez", "/readyz"]).instrument(app)

    def observe_answer(self, answer: Answer, reranker_state: str) -> None:
        for stage, ms in answer.timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000)
        if not answer.reranked:
            self.not_reranked.labels("error" if reranker_state == "ready" else reranker_state).inc()


class _ServiceCollector:
    """Gauges and counters read from the running service when Prometheus scrapes."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self):
        sift = getattr(self.app.state, "sift", None)
        if sift is None or sift._pipeline is None:
            return
        reranker = sift.reranker
        yield GaugeMetricFamily("sift_rerank_queue_depth", "Rerank requests waiting.", value=reranker.queue_depth)
        yield GaugeMetricFamily("sift_rerank_batch_pairs", "Pairs in the last rerank batch.",
                                value=reranker.batch_pairs)
        yield CounterMetricFamily("sift_ingested_chunks", "Chunks written since start.",
                                  value=sift.pipeline.chunks_written)
        jobs = GaugeMetricFamily("sift_ingest_jobs", "Ingestion jobs by state.", labels=["state"])
        for state, count in sift.jobs.jobs.counts().items():
            jobs.add_metric([state], count)
        yield jobs
        try:
            yield GaugeMetricFamily("sift_store_points", "Points in the vector store.", value=sift.index.store.count())
        except Exception:  # a broken store shows in /readyz; the other metrics still matter
            return


router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
async def metrics(request: Request, _: MetricsAccess) -> Response:
    """Prometheus metrics (a key with the ``metrics`` or ``admin`` scope)."""
    body = await run_in_threadpool(generate_latest, request.app.state.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class RequestIds:
    """Pure ASGI middleware: every response carries ``X-Request-ID`` (the client's, or a new one), and each
    request is logged as one JSON line on ``sift.access``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:128]
        request_id = given if given.isprintable() and given else uuid.uuid4().hex
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(json.dumps({
                "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }))
