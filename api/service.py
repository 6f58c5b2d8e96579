"""Sift composed: the ingest, retrieval and rerank stages behind the functions that HTTP and CLI call."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.settings import Settings
from ingest.chunking import Chunker
from ingest.embedding import Embedder
from ingest.errors import DocumentTooLarge, IngestError
from ingest.loaders import load_document
from ingest.models import Document, sha256_hex
from rerank.engines import create_engine
from rerank.errors import RerankError
from rerank.service import RerankService
from retrieval.catalog import Catalog
from retrieval.edge_store import EdgeStore
from retrieval.index import KnowledgeIndex, WriteStatus
from retrieval.points import Candidate
from retrieval.server_store import ServerStore
from retrieval.store import VectorStore

log = logging.getLogger(__name__)

DOC_ID_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,512}$")


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One document to ingest, as uploaded: raw bytes or text plus what is known about it."""

    content: bytes | str
    name: str | None = None
    content_type: str | None = None
    doc_id: str | None = None
    title: str | None = None
    url: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IngestResult:
    doc_id: str
    title: str
    chunks: int
    status: WriteStatus


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
                                 batch_size=settings.embed_batch_size)
        self.index = KnowledgeIndex(build_store(settings), Catalog(settings.data_dir / "catalog.sqlite3"))
        self.reranker = RerankService(
            create_engine(settings.rerank_engine, model=settings.rerank_model, url=settings.rerank_url,
                          max_length=settings.rerank_max_length),
            default_instruction=settings.rerank_instruction,
            max_queue=settings.rerank_queue,
            timeout_s=settings.rerank_timeout_s,
        )
        self._chunker: Chunker | None = None

    def start(self) -> None:
        """Load the embedder, open the store, load the reranker (degrading loudly if it fails)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.embedder.warm_up()
        self.index.open(self.embedder.dimension)
        self._chunker = Chunker(chunk_size=self.settings.chunk_size, chunk_overlap=self.settings.chunk_overlap,
                                tokenize=self.embedder.tokenize)
        self.reranker.warm_up()

    async def close(self) -> None:
        await self.reranker.close()
        self.index.close()

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            raise RuntimeError("Sift.start() must run first")
        return self._chunker

    # Ingest

    def prepare(self, items: Sequence[IngestItem]) -> list[tuple[Document, IngestItem]]:
        """Decode and clean every item, or raise an ``IngestError`` naming the first bad one."""
        prepared = []
        seen: set[str] = set()
        for item in items:
            size = len(item.content.encode("utf-8") if isinstance(item.content, str) else item.content)
            label = item.name or item.doc_id or "document"
            if size > self.settings.max_upload_bytes:
                raise DocumentTooLarge(
                    f"{label!r} is {size} bytes; the limit is {self.settings.max_upload_bytes} (SIFT_MAX_UPLOAD_BYTES)"
                )
            if size == 0:
                raise IngestError(f"{label!r} is empty")
            doc_id = item.doc_id or item.name or item.url or f"doc-{sha256_hex(str(item.content))[:16]}"
            if not DOC_ID_PATTERN.match(doc_id):
                raise IngestError(f"invalid document id {doc_id!r}: 1-512 characters, no control characters")
            if doc_id in seen:
                raise IngestError(f"document id {doc_id!r} appears twice in one request")
            seen.add(doc_id)
            try:
                document = load_document(item.content, doc_id=doc_id, name=item.name,
                                         content_type=item.content_type, title=item.title, url=item.url)
            except IngestError as exc:
                message = str(exc)
                raise type(exc)(message if label in message else f"{label!r}: {message}") from exc
            prepared.append((document, item))
        return prepared

    def ingest(self, collection: str, items: Sequence[IngestItem]) -> list[IngestResult]:
        """Clean, chunk, embed and store documents; all are validated before anything is written."""
        prepared = self.prepare(items)
        results = []
        for document, item in prepared:
            status = self.index.write_status(collection, document)
            if status == "unchanged":
                live = self.index.catalog.document(collection, document.id)
                results.append(IngestResult(document.id, document.title, live.chunks if live else 0, status))
                continue
            chunks = self.chunker.chunk_document(document)
            vectors = self.embedder.embed_documents([chunk.embedding_text for chunk in chunks])
            status = self.index.write_document(collection, document, chunks, vectors, item.metadata)
            results.append(IngestResult(document.id, document.title, len(chunks), status))
        return results

    # Query

    def retrieve(self, question: str, *, collection: str, candidates: int,
                 filters: Mapping[str, Any] | None = None) -> tuple[list[Candidate], dict[str, float]]:
        """The top ``candidates`` chunks for the question, with embed and search timings."""
        self.index.require_collection(collection)
        started = time.perf_counter()
        vector = self.embedder.embed_query(question)
        embedded = time.perf_counter()
        found = self.index.search(collection, vector, limit=candidates, filters=filters)
        done = time.perf_counter()
        return found, {"embed": _ms(started, embedded), "retrieve": _ms(embedded, done)}

    async def answer(self, question: str, *, collection: str = "default", top_k: int = 5,
                     candidates: int | None = None, instruction: str | None = None,
                     filters: Mapping[str, Any] | None = None) -> Answer:
        """Retrieve, rerank and assemble the cited answer context for a question."""
        started = time.perf_counter()
        found, timings = await asyncio.to_thread(
            self.retrieve, question, collection=collection,
            candidates=candidates or self.settings.candidates, filters=filters,
        )
        scores = [c.score for c in found]
        reranked, error = False, self.reranker.error
        if found and self.reranker.ready:
            rerank_started = time.perf_counter()
            collection_instruction = self.index.require_collection(collection).instruction
            try:
                scores = await self.reranker.score(
                    question, [c.text for c in found],
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
        return await self.reranker.score(query, documents, self.reranker.resolve_instruction(instruction))

    def health(self) -> dict[str, Any]:
        reranker = self.reranker.status()
        try:
            points = self.index.store.count()
            store = {"backend": self.index.store.location, "ready": True, "points": points}
        except Exception as exc:  # health must answer even when the store is broken
            store = {"backend": self.index.store.location, "ready": False, "error": str(exc)}
        embedder = {"model": Path(self.embedder.model_name).name or self.embedder.model_name,
                    "ready": self.embedder.ready}
        ok = store["ready"] and embedder["ready"] and reranker["ready"]
        return {"status": "ok" if ok else "degraded", "store": store, "embedder": embedder, "reranker": reranker}


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)

