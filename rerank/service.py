"""One reranker engine shared by many concurrent requests.

Requests wait in a bounded queue; a single worker merges the waiting requests into one engine
call (up to ``max_batch_pairs`` pairs), so concurrent callers are batched together. A full queue
raises ``RerankerOverloaded``; an engine error, out-of-memory (after one retry in halves) or a
timeout raises ``RerankerUnavailable``. Callers decide how to degrade.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from rerank.base import RerankEngine, RerankPair
from rerank.errors import RerankerOverloaded, RerankError, RerankerUnavailable

log = logging.getLogger(__name__)


@dataclass
class _Job:
    pairs: list[RerankPair]
    future: asyncio.Future = field(repr=False)


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
        # Queue and worker belong to the event loop that serves requests (created on first use).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None

    @property
    def ready(self) -> bool:
        return self.engine is not None and self.engine.ready and self.error is None

    def status(self) -> dict:
        """Engine name, model, readiness and the reason it cannot rerank (if any)."""
        return {
            "engine": self.engine.engine if self.engine else "none",
            "model": self.engine.model if self.engine else None,
            "ready": self.ready,
            "error": self.error,
            "queued": self._queue.qsize() if self._queue else 0,
        }

    def warm_up(self) -> None:
        """Load the engine; on failure, log loudly and keep serving retrieval order."""
        if self.engine is None:
            log.warning("RERANKER ABSENT: %s; results are served in retrieval order", self.error)
            return
        try:
            self.engine.warm_up()
            self.error = None
        except Exception as exc:  # any load failure must degrade, not crash the service
            self.error = f"{self.engine.engine} engine failed to load {self.engine.model!r}: {exc}"
            log.error("RERANKER NOT LOADED: %s; results are served in retrieval order", self.error)

    def resolve_instruction(self, request: str | None, collection: str | None = None) -> str | None:
        """Request > collection setting > configured default > the model card's default (None)."""
        return request or collection or self.default_instruction or None

    async def score(self, query: str, documents: Sequence[str], instruction: str | None) -> list[float]:
        """P(yes) of each document for the query, batched with other callers."""
        if not self.ready:
            raise RerankerUnavailable(self.error or "reranker not ready")
        queue = self._worker_queue()
        job = _Job([RerankPair(query, doc, instruction) for doc in documents],
                   asyncio.get_running_loop().create_future())
        # A caller that timed out no longer awaits the result: mark a late error as seen.
        job.future.add_done_callback(lambda done: done.cancelled() or done.exception())
        try:
            queue.put_nowait(job)
        except asyncio.QueueFull:
            raise RerankerOverloaded(
                f"reranker queue is full ({queue.maxsize} requests waiting)", retry_after_s=1.0
            ) from None
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), self.timeout_s)
        except TimeoutError:
            raise RerankerUnavailable(f"reranker timed out after {self.timeout_s:.0f} s") from None

    def _worker_queue(self) -> asyncio.Queue[_Job]:
        """The queue of the running event loop, with its worker started."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._queue is None or self._worker is None or self._worker.done():
            self._loop, self._queue = loop, asyncio.Queue(maxsize=self.max_queue)
            self._worker = loop.create_task(self._run(self._queue), name="rerank-worker")
        return self._queue

    async def _run(self, queue: asyncio.Queue[_Job]) -> None:
        while True:
            jobs = [await queue.get()]
            size = len(jobs[0].pairs)
            while not queue.empty() and size + len(queue._queue[0].pairs) <= self.max_batch_pairs:
                jobs.append(queue.get_nowait())
                size += len(jobs[-1].pairs)
            pairs = [pair for job in jobs for pair in job.pairs]
            try:
                scores = await asyncio.to_thread(self._score_with_retry, pairs)
            except Exception as exc:
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(_unavailable(exc))
                continue
            start = 0
            for job in jobs:
                if not job.future.done():
                    job.future.set_result(scores[start:start + len(job.pairs)])
                start += len(job.pairs)

    def _score_with_retry(self, pairs: list[RerankPair]) -> list[float]:
        """Score; on out-of-memory split the batch in halves and try once more."""
        assert self.engine is not None
        try:
            return self.engine.score(pairs)
        except Exception as exc:
            if not _is_oom(exc) or len(pairs) < 2:
                raise
            log.warning("reranker out of memory on %d pairs; retrying in halves", len(pairs))
            half = len(pairs) // 2
            return self.engine.score(pairs[:half]) + self.engine.score(pairs[half:])

    async def close(self) -> None:
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
