"""Sift composed: the ingest, retrieval and rerank stages behind the functions that HTTP and CLI call."""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from api.ingestion import IngestItem, IngestPipeline, IngestResult, lower_thread_priority
from api.jobs import JobRunner, JobStore
from api.settings import Settings
from api.sync import SyncRunner
from api.sync_store import SyncStore
from ingest.chunking import Chunker
from ingest.embedding import Embedder
from ingest.encoders import BUNDLED, MINILM, MINILM_DIMENSION
from ingest.errors import EmbedderUnavailable
from ingest.text import fold_text
from rerank.engines import create_engine
from rerank.errors import RerankerNotConfigured, RerankError
from rerank.prompt import document_pieces
from rerank.service import RerankService
from retrieval.calibration import calibrated_scores
from retrieval.catalog import Catalog, EmbedderRecord
from retrieval.edge_store import EdgeStore
from retrieval.fusion import fusion_for
from retrieval.index import KnowledgeIndex, SearchMode
from retrieval.maintenance import IndexMaintainer
from retrieval.points import Candidate
from retrieval.server_store import ServerStore
from retrieval.store import VectorStore

log = logging.getLogger(__name__)


class JobNotFound(LookupError):
    """No ingestion job has that id."""


class LimitExceeded(ValueError):
    """A question, a candidate count or a rerank request is larger than its configured limit."""


@dataclass(frozen=True, slots=True)
class RankedChunk:
    """A final result: a candidate with its rank and final score (P(yes), or calibrated retrieval score)."""

    rank: int
    candidate: Candidate
    score: float


@dataclass(frozen=True, slots=True)
class Reranked:
    """Reranker scores of some documents, and the reranker tokens they took (query + document, per piece)."""

    scores: list[float]
    tokens: int


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer context for a question."""

    results: list[RankedChunk]
    context: str
    answered: bool
    reranked: bool
    rerank_error: str | None
    timings_ms: dict[str, float]


def build_store(settings: Settings) -> VectorStore:
    """The Qdrant server when ``SIFT_QDRANT_URL`` is set, else the embedded engine on disk."""
    if settings.qdrant_url:
        return ServerStore(settings.qdrant_url, collection=settings.qdrant_collection,
                           api_key=settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None)
    return EdgeStore(settings.data_dir / "qdrant", rebuild_timeout_s=settings.index_rebuild_timeout_s)


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
        self._ingest_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest",
                                               initializer=lower_thread_priority)
        self._jobs: JobRunner | None = None
        self._maintainer: IndexMaintainer | None = None
        self._sync: SyncRunner | None = None
        self._rerank_tokenizer: Any = None
        self._rerank_tokenizer_lock = threading.Lock()

    def start(self, *, allow_other_models: bool = False) -> None:
        """Load the embedder, open the store, load the reranker (degrading loudly if it fails).

        Raises ``EmbedderUnavailable`` when the model cannot load and ``EmbedderMismatch`` when a
        collection was embedded by another model (unless ``allow_other_models``, for ``reembed``).
        """
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.embedder.warm_up()
        except EmbedderUnavailable as exc:
            raise EmbedderUnavailable(
                f"SIFT_EMBED_MODEL={self.settings.embed_model_path} cannot be loaded: {exc}. Set SIFT_EMBED_MODEL to "
                f"{' or '.join(BUNDLED)} (bundled) or to a sentence-transformers model folder."
            ) from exc
        self.index.fusion = fusion_for(self.embedder.model_id)
        # Collections from before model records were made by the default of then, MiniLM, unless one was set.
        unrecorded = (self.embedder_record if self.settings.embed_model.strip()
                      else EmbedderRecord(MINILM, MINILM, MINILM_DIMENSION))
        self.index.open(self.embedder_record, unrecorded=unrecorded, allow_other_models=allow_other_models)
        chunker = Chunker(chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
                          count_tokens=self.embedder.count_tokens)
        self._pipeline = IngestPipeline(self.settings, self.embedder, chunker, self.index)
        self._jobs = JobRunner(JobStore(self.settings.data_dir / "jobs.sqlite3"), self._pipeline,
                               retention_s=self.settings.job_retention_s)
        self._jobs.start()
        self._sync = SyncRunner(SyncStore(self.settings.data_dir / "sync.sqlite3"), self._pipeline, self.settings)
        self._sync.start()
        if isinstance(self.index.store, EdgeStore):
            self._maintainer = IndexMaintainer(self.index.store, min_points=self.settings.index_min_points,
                                               quiet_s=self.settings.index_quiet_s)
            self._maintainer.start()
        self.reranker.warm_up()

    @property
    def embedder_record(self) -> EmbedderRecord:
        """What the catalog records as the maker of the vectors this service writes."""
        return EmbedderRecord(self.settings.embed_model_path, self.embedder.model_id, self.embedder.dimension)

    async def close(self) -> None:
        await asyncio.to_thread(self._ingest_pool.shutdown)
        if self._jobs is not None:
            await asyncio.to_thread(self._jobs.stop)
            self._jobs.jobs.close()
        if self._sync is not None:
            await asyncio.to_thread(self._sync.stop)
            self._sync.store.close()
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

    async def ingest_in_background_thread(self, collection: str, items: Sequence[IngestItem]
                                          ) -> list[IngestResult]:
        """``ingest`` on the low-priority ingestion thread, so that questions keep their CPU meanwhile."""
        return await asyncio.wrap_future(self._ingest_pool.submit(self.ingest, collection, items))

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

    @property
    def sync(self) -> SyncRunner:
        """Help-centre sources and their sync runs (``api/sync.py``)."""
        if self._sync is None:
            raise RuntimeError("Sift.start() must run first")
        return self._sync

    def reembed(self, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
        """Re-embed the collections another model made with this one; chunks re-embedded per collection."""
        done = {}
        for name in self.index.other_models():
            done[name] = self.index.reembed(
                name, self.embedder.embed_documents,
                (lambda n, total, name=name: progress(name, n, total)) if progress else None,
            )
        return done

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
                     mode: SearchMode | None = None, filters: Mapping[str, Any] | None = None,
                     retrieval_query: str | None = None, min_score: float | None = None) -> Answer:
        """Retrieve, rerank and assemble the cited answer context for a question.

        Every score is in [0, 1]: P(yes) when reranked, else the calibrated retrieval score. Results
        below ``min_score`` are dropped; ``answered`` says whether any result is left.
        ``retrieval_query`` (default: the question) is what the first stage searches with, when the
        question is longer than the embedder reads well (a ticket); the reranker always gets the question.
        """
        if candidates is not None and candidates > self.settings.max_candidates:
            raise LimitExceeded(f"{candidates} candidates asked for; the limit is {self.settings.max_candidates} "
                                "(SIFT_MAX_CANDIDATES)")
        started = time.perf_counter()
        mode = mode or self.settings.search_mode
        found, timings = await asyncio.to_thread(
            self.retrieve, retrieval_query or question, collection=collection,
            candidates=candidates or self.settings.candidates, mode=mode, filters=filters,
        )
        scores = calibrated_scores([c.score for c in found], question=question, mode=mode)
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
        kept = [i for i in list(order)[:top_k] if min_score is None or scores[i] >= min_score]
        results = [RankedChunk(rank + 1, found[i], scores[i]) for rank, i in enumerate(kept)]
        context = self.build_context(results)
        timings["total"] = _ms(started, time.perf_counter())
        return Answer(results, context, bool(results), reranked, error, timings)

    def check_question(self, question: str) -> None:
        """Refuse a question or rerank query longer than ``SIFT_MAX_QUESTION_CHARS``."""
        if len(question) > self.settings.max_question_chars:
            raise LimitExceeded(f"the question is {len(question)} characters; the limit is "
                                f"{self.settings.max_question_chars} (SIFT_MAX_QUESTION_CHARS)")

    def build_context(self, results: Sequence[RankedChunk]) -> str:
        """The results as numbered, cited passages, within the ``SIFT_CONTEXT_TOKENS`` budget."""
        budget = self.settings.context_tokens
        blocks: list[str] = []
        for result in results:
            chunk = result.candidate
            source = " — ".join(part for part in (chunk.title, chunk.url or chunk.source) if part)
            block = f"[{result.rank}] {source}\n{chunk.text}"
            cost = self.embedder.count_tokens(block)
            if cost > budget:
                if not blocks:  # always give at least the best passage, cut to the budget
                    blocks.append(self.embedder.truncate(block, budget))
                break
            blocks.append(block)
            budget -= cost
        return "\n\n".join(blocks)

    async def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
                     max_tokens_per_doc: int | None = None, keep: Literal["start", "end"] = "start",
                     max_chunks_per_doc: int = 1) -> Reranked:
        """P(yes) of each document for the query; long documents are cut inside (see ``document_pieces``).

        Raises ``RerankerNotConfigured`` without a reranker, other ``RerankError``s when it can't score.
        """
        self.check_question(query)
        if len(documents) > self.settings.rerank_max_documents:
            raise LimitExceeded(f"{len(documents)} documents to rerank; the limit is "
                                f"{self.settings.rerank_max_documents} (SIFT_RERANK_MAX_DOCUMENTS)")
        if self.reranker.engine is None:
            raise RerankerNotConfigured("no reranker is configured on this server (SIFT_RERANK_ENGINE=none)")
        instruction = self.reranker.resolve_instruction(instruction)
        query, documents = fold_text(query), [fold_text(document) for document in documents]  # as indexed
        options = {"max_tokens": max_tokens_per_doc, "keep": keep, "max_chunks": max_chunks_per_doc}
        if max_tokens_per_doc is None and keep == "start" and max_chunks_per_doc == 1:
            # The engine cuts each document itself; the tokens are counted once the scores are in, so a
            # burst of requests reaches the reranker's queue as it arrives.
            scores = await self.reranker.score(query, documents, instruction)
            _, _, tokens = await self._pieces(query, documents, instruction, options)
            return Reranked(scores, tokens)
        pieces, owners, tokens = await self._pieces(query, documents, instruction, options)
        scored = await self.reranker.score(query, pieces, instruction)
        best = [0.0] * len(documents)
        for owner, score in zip(owners, scored, strict=True):
            best[owner] = max(best[owner], score)
        return Reranked(best, tokens)

    async def _pieces(self, query: str, documents: Sequence[str], instruction: str | None,
                      options: dict[str, Any]) -> tuple[list[str], list[int], int]:
        """``document_pieces`` with a copy of the reranker's tokenizer: Hugging Face tokenizers must not be
        used by two threads at once, and the engine's own copy is busy in the reranker's thread."""
        engine = self.reranker.engine
        if engine is None or engine.tokenizer is None:  # not loaded: the reranker refuses to score anyway
            return list(documents), list(range(len(documents))), 0
        if self._rerank_tokenizer is None:
            self._rerank_tokenizer = copy.deepcopy(engine.tokenizer)

        def cut() -> tuple[list[str], list[int], int]:
            with self._rerank_tokenizer_lock:
                return document_pieces(self._rerank_tokenizer, query, documents, instruction,
                                       max_length=engine.max_length, **options)

        return await asyncio.to_thread(cut)

    def health(self, *, detailed: bool = False) -> dict[str, Any]:
        """Readiness of store, embedder and reranker. Only ``detailed`` (admin) health names locations,
        model folders and raw errors; everyone else gets what a load balancer or a client needs."""
        reranker = self.reranker.status()
        backend = "qdrant-server" if isinstance(self.index.store, ServerStore) else "embedded"
        try:
            points = self.index.store.count()
            store = {"backend": backend, "ready": True, "points": points}
            if self._maintainer is not None:
                store["index"] = {"unindexed_points": self.index.store.unindexed_writes,
                                  "rebuilds": self._maintainer.rebuilds, "error": self._maintainer.error}
        except Exception as exc:  # health must answer even when the store is broken
            log.warning("health: store check failed: %s", exc)
            store = {"backend": backend, "ready": False, "error": "the vector store cannot be reached"}
            if detailed:
                store["error"] = str(exc)
        embedder = {"model": self.embedder.model_id if self.embedder.ready else Path(self.embedder.model_name).name,
                    "ready": self.embedder.ready}
        ok = store["ready"] and embedder["ready"] and reranker["ready"]
        if detailed:
            store["location"] = self.index.store.location
            embedder["path"] = self.embedder.model_name
        else:
            reranker["model"] = self.settings.rerank_served_name if reranker["engine"] != "none" else None
            if reranker["state"] == "loading":
                reranker["error"] = "the reranker is loading; answers are in retrieval order until it is up"
            elif reranker["error"] and reranker["engine"] != "none":
                reranker["error"] = "the reranker is not available; the server log says why"
        jobs = self._jobs.jobs.waiting() if self._jobs is not None else None
        return {"status": "ok" if ok else "degraded", "store": store, "embedder": embedder, "reranker": reranker,
                "jobs": jobs}


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)

