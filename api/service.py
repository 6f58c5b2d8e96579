"""Sift composed: the ingest, retrieval and rerank stages behind the functions that HTTP and CLI call."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from api.ingestion import IngestItem, IngestPipeline, IngestResult
from api.jobs import JobRunner, JobStore
from api.settings import Settings
from ingest.chunking import Chunker
from ingest.embedding import Embedder
from ingest.text import fold_text
from rerank.engines import create_engine
from rerank.errors import RerankError
from rerank.service import RerankService
from retrieval.catalog import Catalog
from retrieval.edge_store import EdgeStore
from retrieval.index import KnowledgeIndex, SearchMode
from retrieval.maintenance import IndexMaintainer
from retrieval.points import Candidate
from retrieval.server_store import ServerStore
from retrieval.store import VectorStore

log = logging.getLogger(__name__)


class JobNotFound(LookupError):
    """No ingestion job has that id."""


@dataclass(frozen=True, slots=True)
class RankedChunk:
    """A final result: a candidate with its rank and final score."""

    rank: int
    candidate: Candidate
    score: float


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer context for a question."""

    results: list[RankedChunk]
    context: str
    reranked: bool
    rerank_error: str | None
    timings_ms: dict[str, float]


def build_store(settings: Settings) -> VectorStore:
    """The Qdrant server when ``SIFT_QDRANT_URL`` is set, else the embedded engine on disk."""
    if settings.qdrant_url:
        return ServerStore(settings.qdrant_url, collection=settings.qdrant_collection,
                           api_key=settings.qdrant_api_key)
    return EdgeStore(settings.data_dir / "qdrant")


class Sift:
    """The service: constructed cheaply, ``start()`` loads models and opens the store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedder = Embedder(settings.embed_model_path, device=settings.embed_device,
                                 batch_size=settings.embed_batch_size,
                                 cache_path=settings.embed_cache_path)
        self.index = KnowledgeIndex(build_store(settings), Catalog(settings.data_dir / "catalog.sqlite3"))
        self.reranker = RerankService(
            create_engine(settings.rerank_engine, model=settings.rerank_model, url=settings.rerank_url,
                          max_length=settings.rerank_max_length, compile=settings.rerank_compile),
            default_instruction=settings.rerank_instruction,
            max_queue=settings.rerank_queue,
            timeout_s=settings.rerank_timeout_s,
        )
        self._pipeline: IngestPipeline | None = None
        self._jobs: JobRunner | None = None
        self._maintainer: IndexMaintainer | None = None

    def start(self) -> None:
        """Load the embedder, open the store, load the reranker (degrading loudly if it fails)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.embedder.warm_up()
        self.index.open(self.embedder.dimension)
        chunker = Chunker(chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
                          tokenize=self.embedder.tokenize)
        self._pipeline = IngestPipeline(self.settings, self.embedder, chunker, self.index)
        self._jobs = JobRunner(JobStore(self.settings.data_dir / "jobs.sqlite3"), self._pipeline)
        self._jobs.start()
        if isinstance(self.index.store, EdgeStore):
            self._maintainer = IndexMaintainer(self.index.store, min_points=self.settings.index_min_points,
                                               quiet_s=self.settings.index_quiet_s)
            self._maintainer.start()
        self.reranker.warm_up()

    async def close(self) -> None:
        if self._jobs is not None:
            await asyncio.to_thread(self._jobs.stop)
            self._jobs.jobs.close()
        if self._maintainer is not None:
            await asyncio.to_thread(self._maintainer.stop)
        await self.reranker.close()
        self.index.close()
        self.embedder.close()

    # Ingest

    @property
    def pipeline(self) -> IngestPipeline:
        if self._pipeline is None:
            raise RuntimeError("Sift.start() must run first")
        return self._pipeline

    def ingest(self, collection: str, items: Sequence[IngestItem]) -> list[IngestResult]:
        """Clean, chunk, embed and store documents; all are validated before anything is written."""
        return self.pipeline.ingest(collection, items)

    @property
    def jobs(self) -> JobRunner:
        if self._jobs is None:
            raise RuntimeError("Sift.start() must run first")
        return self._jobs

    def submit_job(self, collection: str, items: Sequence[IngestItem]) -> str:
        """Queue documents for background ingestion; returns the job id (see ``job``)."""
        return self.jobs.submit(collection, items)

    def job(self, job_id: str) -> dict[str, Any]:
        """A job's state and progress, or ``JobNotFound``."""
        found = self.jobs.jobs.get(job_id)
        if found is None:
            raise JobNotFound(f"job {job_id!r} does not exist")
        return found

    # Query

    def retrieve(self, question: str, *, collection: str, candidates: int, mode: SearchMode | None = None,
                 filters: Mapping[str, Any] | None = None) -> tuple[list[Candidate], dict[str, float]]:
        """The top ``candidates`` chunks for the question, with embed and search timings."""
        self.index.require_collection(collection)
        mode = mode or self.settings.search_mode
        started = time.perf_counter()
        vector = self.embedder.embed_query(fold_text(question)) if mode != "lexical" else None
        embedded = time.perf_counter()
        found = self.index.search(collection, question=question, vector=vector, limit=candidates, mode=mode,
                                  filters=filters)
        done = time.perf_counter()
        return found, {"embed": _ms(started, embedded), "retrieve": _ms(embedded, done)}

    async def answer(self, question: str, *, collection: str = "default", top_k: int = 5,
                     candidates: int | None = None, instruction: str | None = None,
                     mode: SearchMode | None = None, filters: Mapping[str, Any] | None = None) -> Answer:
        """Retrieve, rerank and assemble the cited answer context for a question."""
        started = time.perf_counter()
        found, timings = await asyncio.to_thread(
            self.retrieve, question, collection=collection,
            candidates=candidates or self.settings.candidates, mode=mode, filters=filters,
        )
        scores = [c.score for c in found]
        reranked, error = False, self.reranker.error
        if found and self.reranker.ready:
            rerank_started = time.perf_counter()
            collection_instruction = self.index.require_collection(collection).instruction
            try:
                scores = await self.reranker.score(
                    fold_text(question), [fold_text(c.text) for c in found],
                    self.reranker.resolve_instruction(instruction, collection_instruction),
                )
                reranked, error = True, None
            except RerankError as exc:
                error = f"reranker skipped: {exc}"
                log.warning("query served in retrieval order: %s", exc)
            timings["rerank"] = _ms(rerank_started, time.perf_counter())
        order = sorted(range(len(found)), key=lambda i: -scores[i]) if reranked else range(len(found))
        results = [RankedChunk(rank + 1, found[i], scores[i]) for rank, i in enumerate(list(order)[:top_k])]
        context = self.build_context(results)
        timings["total"] = _ms(started, time.perf_counter())
        return Answer(results, context, reranked, error, timings)

    def build_context(self, results: Sequence[RankedChunk]) -> str:
        """The results as numbered, cited passages, within the ``SIFT_CONTEXT_TOKENS`` budget."""
        budget = self.settings.context_tokens
        blocks: list[str] = []
        for result in results:
            chunk = result.candidate
            source = " — ".join(part for part in (chunk.title, chunk.url or chunk.source) if part)
            block = f"[{result.rank}] {source}\n{chunk.text}"
            cost = len(self.embedder.tokenize(block))
            if cost > budget:
                if not blocks:  # always give at least the best passage, cut to the budget
                    blocks.append(self.embedder.truncate(block, budget))
                break
            blocks.append(block)
            budget -= cost
        return "\n\n".join(blocks)

    async def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None
                     ) -> list[float]:
        """P(yes) of each document for the query (raises ``RerankError`` if the reranker can't score)."""
        return await self.reranker.score(fold_text(query), [fold_text(d) for d in documents],
                                         self.reranker.resolve_instruction(instruction))

    def health(self) -> dict[str, Any]:
        reranker = self.reranker.status()
        try:
            points = self.index.store.count()
            store = {"backend": self.index.store.location, "ready": True, "points": points}
            if self._maintainer is not None:
                store["index"] = {"unindexed_points": self.index.store.unindexed_writes,
                                  "rebuilds": self._maintainer.rebuilds, "error": self._maintainer.error}
        except Exception as exc:  # health must answer even when the store is broken
            store = {"backend": self.index.store.location, "ready": False, "error": str(exc)}
        embedder = {"model": self.embedder.model_name, "ready": self.embedder.ready}
        ok = store["ready"] and embedder["ready"] and reranker["ready"]
        return {"status": "ok" if ok else "degraded", "store": store, "embedder": embedder, "reranker": reranker}


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)

