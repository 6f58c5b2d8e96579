"""One reranker engine shared by many concurrent requests.

Requests wait in a bounded queue; a single worker merges the waiting requests into one engine
call (up to ``max_batch_pairs`` pairs), so concurrent callers are batched together. Each request
carries its deadline (``timeout_s`` from when it asked); the worker drops requests whose caller
has gone (timed out, or cancelled when its client disconnected) and passes the batch's deadline
to the engine. No engine raises ``RerankerNotConfigured``; a full queue ``RerankerOverloaded``;
an engine error, out-of-memory (after one retry in halves) or a timeout ``RerankerUnavailable``.
Callers decide how to degrade. An engine whose server is not up yet (``RerankerStarting``) is
loaded again in the background until it is, and reports ``loading`` meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from tenacity import Retrying, retry_if_exception_type, wait_random_exponential

from rerank.base import RerankEngine, RerankPair
from rerank.errors import (
    RerankerNotConfigured,
    RerankerOverloaded,
    RerankError,
    RerankerStarting,
    RerankerUnavailable,
)

log = logging.getLogger(__name__)

#: Longest pause between two attempts to reach a reranker server that is not up yet.
LOAD_RETRY_MAX_S = 10.0

RerankerState = Literal["absent", "loading", "ready", "failed"]


@dataclass
class _Job:
    pairs: list[RerankPair]
    future: asyncio.Future = field(repr=False)
    deadline: float  # time.monotonic() when the caller stops waiting

    @property
    def abandoned(self) -> bool:
        """The caller has gone: it timed out, was cancelled, or its deadline has passed."""
        return self.future.done() or time.monotonic() >= self.deadline


class RerankService:
    """Instruction resolution, batching, back-pressure and failure handling around an engine."""

    def __init__(
        self, engine: RerankEngine | None, *, default_instruction: str | None = None,
        max_queue: int = 64, max_batch_pairs: int = 256, timeout_s: float = 30.0,
    ) -> None:
        self.engine = engine
        self.default_instruction = default_instruction
        self.max_batch_pairs = max_batch_pairs
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.error: str | None = None if engine else "no reranker configured (SIFT_RERANK_ENGINE=none)"
        #: Pairs and requests in the last engine call, pairs in the call running now (0: idle), and requests
        #: dropped unscored because their caller had gone.
        self.batch_pairs = 0
        self.batch_requests = 0
        self.scoring = 0
        self.dropped_requests = 0
        # Queue and worker belong to the event loop that serves requests (created on first use).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None
        self._loader: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def ready(self) -> bool:
        return self.engine is not None and self.engine.ready and self.error is None

    @property
    def state(self) -> RerankerState:
        """absent (none configured), loading (its server is not up yet), ready, or failed (see ``error``)."""
        if self.engine is None:
            return "absent"
        if self.ready:
            return "ready"
        return "loading" if self._loader is not None and self._loader.is_alive() else "failed"

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the worker."""
        return self._queue.qsize() if self._queue else 0

    def status(self) -> dict:
        """Engine name, model, state, readiness and the reason it cannot rerank (if any)."""
        return {
            "engine": self.engine.engine if self.engine else "none",
            "model": self.engine.model if self.engine else None,
            "state": self.state,
            "ready": self.ready,
            "error": self.error,
            "queued": self.queue_depth,
        }

    def warm_up(self) -> None:
        """Load the engine; on failure, log loudly and keep serving retrieval order.

        A server that is not up yet is tried again in the background (state ``loading``) until it is."""
        if self.engine is None:
            log.warning("RERANKER ABSENT: %s; results are served in retrieval order", self.error)
            return
        try:
            self.engine.warm_up()
            self.error = None
        except RerankerStarting as exc:
            self.error = f"the reranker is loading: {exc}"
            log.warning("RERANKER LOADING: %s; results are served in retrieval order until it is up", exc)
            self._loader = threading.Thread(target=self._keep_loading, name="rerank-loader", daemon=True)
            self._loader.start()
        except Exception as exc:  # any load failure must degrade, not crash the service
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        assert self.engine is not None
        self.error = f"{self.engine.engine} engine failed to load {self.engine.model!r}: {exc}"
        log.error("RERANKER NOT LOADED: %s; results are served in retrieval order", self.error)

    def _keep_loading(self) -> None:
        """Warm the engine up again, with growing pauses, until its server is up or the service closes."""
        assert self.engine is not None
        retrying = Retrying(
            retry=retry_if_exception_type(RerankerStarting),
            wait=wait_random_exponential(multiplier=1.0, min=0.5, max=LOAD_RETRY_MAX_S),
            stop=lambda _: self._closing.is_set(),
            sleep=self._closing.wait,
            reraise=True,
        )
        try:
            retrying(self.engine.warm_up)
        except RerankerStarting:
            return  # closing
        except Exception as exc:  # the server came up but cannot serve the reranker
            self._failed(exc)
            return
        self.error = None
        log.info("RERANKER READY: %s %r; results are reranked again", self.engine.engine, self.engine.model)

    def resolve_instruction(self, request: str | None, collection: str | None = None) -> str | None:
        """Request > collection setting > configured default > the model card's default (None)."""
        return request or collection or self.default_instruction or None

    async def score(self, query: str, documents: Sequence[str], instruction: str | None) -> list[float]:
        """P(yes) of each document for the query, batched with other callers, within ``timeout_s``.

        If the caller is cancelled (its client disconnected) or times out, its pairs are not scored."""
        if self.engine is None:
            raise RerankerNotConfigured(self.error or "no reranker configured")
        if not self.ready:
            raise RerankerUnavailable(self.error or "reranker not ready")
        queue = self._worker_queue()
        job = _Job([RerankPair(query, doc, instruction) for doc in documents],
                   asyncio.get_running_loop().create_future(), time.monotonic() + self.timeout_s)
        # A result that lands as the caller gives up is never awaited: mark a late error as seen.
        job.future.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            queue.put_nowait(job)
        except asyncio.QueueFull:
            raise RerankerOverloaded(
                f"reranker queue is full ({queue.maxsize} requests waiting)", retry_after_s=1.0
            ) from None
        try:
            # On timeout or cancellation wait_for cancels the job's future: the worker then skips it.
            return await asyncio.wait_for(job.future, self.timeout_s)
        except TimeoutError:
            raise RerankerUnavailable(f"reranker timed out after {self.timeout_s:g} s") from None

    def _worker_queue(self) -> asyncio.Queue[_Job]:
        """The queue of the running event loop, with its worker started."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._queue is None or self._worker is None or self._worker.done():
            self._loop, self._queue = loop, asyncio.Queue(maxsize=self.max_queue)
            self._worker = loop.create_task(self._run(self._queue), name="rerank-worker")
        return self._queue

    async def _run(self, queue: asyncio.Queue[_Job]) -> None:
        while True:
            jobs = self._live([await queue.get()])
            size = sum(len(job.pairs) for job in jobs)
            while not queue.empty():
                head: _Job = queue._queue[0]  # type: ignore[attr-defined]  # peek: asyncio.Queue has no API
                if not head.abandoned and size + len(head.pairs) > self.max_batch_pairs:
                    break
                jobs += self._live([queue.get_nowait()])
                size = sum(len(job.pairs) for job in jobs)
            if not jobs:
                continue
            pairs = [pair for job in jobs for pair in job.pairs]
            self.batch_pairs, self.batch_requests = len(pairs), len(jobs)
            deadline = max(job.deadline for job in jobs)  # the batch is worth finishing until the last caller goes
            self.scoring = len(pairs)
            try:
                scores = await asyncio.to_thread(self._score_with_retry, pairs, deadline)
            except Exception as exc:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(_unavailable(exc))
                continue
            finally:
                self.scoring = 0
            start = 0
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(scores[start:start + len(job.pairs)])
                start += len(job.pairs)

    def _live(self, jobs: list[_Job]) -> list[_Job]:
        """``jobs`` without those whose caller has gone (counted in ``dropped_requests``)."""
        live = [job for job in jobs if not job.abandoned]
        self.dropped_requests += len(jobs) - len(live)
        return live

    def _score_with_retry(self, pairs: list[RerankPair], deadline: float) -> list[float]:
        """Score by ``deadline``; on out-of-memory split the batch in halves and try once more."""
        assert self.engine is not None
        try:
            return self.engine.score(pairs, deadline=deadline)
        except Exception as exc:
            if not _is_oom(exc) or len(pairs) < 2:
                raise
            log.warning("reranker out of memory on %d pairs; retrying in halves", len(pairs))
            half = len(pairs) // 2
            return (self.engine.score(pairs[:half], deadline=deadline)
                    + self.engine.score(pairs[half:], deadline=deadline))

    async def close(self) -> None:
        self._closing.set()
        if self._loader is not None:
            await asyncio.to_thread(self._loader.join, LOAD_RETRY_MAX_S)
        if self._worker is not None and self._loop is not None and not self._loop.is_closed():
            self._worker.cancel()
        if self.engine is not None:
            await asyncio.to_thread(self.engine.close)


def _is_oom(exc: BaseException) -> bool:
    return "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError"


def _unavailable(exc: BaseException) -> RerankError:
    if isinstance(exc, RerankError):
        return exc
    return RerankerUnavailable(f"reranker failed: {type(exc).__name__}: {exc}")
