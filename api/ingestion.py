"""The ingest pipeline: validate and clean, chunk, embed in batches, write each document atomically.

``ingest`` is all-or-nothing for validation (a bad file refuses the whole request before anything
is written). ``ingest_stream`` overlaps the CPU work of the next batch (decoding, cleaning,
chunking) with the embedding of the current one, for large corpora.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from api.schemas import DOC_ID_PATTERN
from api.settings import Settings
from ingest.chunking import Chunker
from ingest.embedding import Embedder
from ingest.errors import DocumentTooLarge, IngestError
from ingest.loaders import load_document
from ingest.models import Chunk, Document, sha256_hex
from ingest.sources import is_url
from retrieval.index import DocumentWrite, KnowledgeIndex, WriteStatus

INGEST_NICENESS = 10
"""How much lower than request threads the scheduler ranks ingestion threads (Linux nice levels)."""

DOC_ID = re.compile(DOC_ID_PATTERN)


def lower_thread_priority() -> None:
    """Let the calling thread yield the CPU to request threads: ingestion is bulk work, questions are not.

    Linux gives each thread its own nice level; elsewhere this does nothing.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), INGEST_NICENESS)
    except (AttributeError, OSError):
        pass


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

    @property
    def label(self) -> str:
        return self.name or self.doc_id or self.url or "document"


@dataclass(frozen=True, slots=True)
class IngestResult:
    doc_id: str
    title: str
    chunks: int
    status: WriteStatus
    warnings: tuple[str, ...] = ()  # what cleaning left out (see ``CleanedPage.warnings``)


@dataclass(frozen=True, slots=True)
class _Planned:
    """A cleaned document, what writing it will do, and its chunks if it changed."""

    document: Document
    item: IngestItem
    status: WriteStatus
    chunks: list[Chunk]


class IngestPipeline:
    def __init__(self, settings: Settings, embedder: Embedder, chunker: Chunker, index: KnowledgeIndex) -> None:
        self.settings = settings
        self.embedder = embedder
        self.chunker = chunker
        self.index = index
        self.chunks_written = 0  # since start, for the ingestion rate in /metrics

    def prepare_one(self, item: IngestItem) -> Document:
        """Check limits, pick the document id, decode and clean; raises an ``IngestError`` naming the item."""
        size = len(item.content.encode("utf-8") if isinstance(item.content, str) else item.content)
        label = item.label
        if size > self.settings.max_upload_bytes:
            raise DocumentTooLarge(
                f"{label!r} is {size} bytes; the limit is {self.settings.max_upload_bytes} (SIFT_MAX_UPLOAD_BYTES)"
            )
        if size == 0:
            raise IngestError(f"{label!r} is empty")
        doc_id = item.doc_id or item.name or item.url or f"doc-{sha256_hex(str(item.content))[:16]}"
        if not DOC_ID.match(doc_id):
            raise IngestError(f"invalid document id {doc_id!r}: 1-512 characters, no control characters, "
                              "not ending in '/chunks'")
        url = item.url or (item.name if item.name and is_url(item.name) else None)  # fetched from a URL
        try:
            return load_document(item.content, doc_id=doc_id, name=item.name, content_type=item.content_type,
                                 title=item.title, url=url, metadata=item.metadata,
                                 max_pdf_pages=self.settings.max_pdf_pages)
        except IngestError as exc:
            message = str(exc)
            raise type(exc)(message if label in message else f"{label!r}: {message}") from exc

    def prepare(self, items: Sequence[IngestItem]) -> list[tuple[Document, IngestItem]]:
        """Every item cleaned, or the first problem raised before anything is written."""
        prepared, seen = [], set()
        for item in items:
            document = self.prepare_one(item)
            if document.id in seen:
                raise IngestError(f"document id {document.id!r} appears twice in one request")
            seen.add(document.id)
            prepared.append((document, item))
        return prepared

    def ingest(self, collection: str, items: Sequence[IngestItem]) -> list[IngestResult]:
        """Clean, chunk, embed and store; all items are validated before anything is written."""
        return self.write(collection, self.plan(collection, self.prepare(items)))

    def plan(self, collection: str, prepared: Iterable[tuple[Document, IngestItem]]) -> list[_Planned]:
        """Which documents changed, chunked; unchanged ones cost nothing more."""
        planned = []
        for document, item in prepared:
            status = self.index.write_status(collection, document)
            chunks = self.chunker.chunk_document(document) if status != "unchanged" else []
            planned.append(_Planned(document, item, status, chunks))
        return planned

    def write(self, collection: str, planned: Sequence[_Planned]) -> list[IngestResult]:
        """Embed every changed chunk in one batched call, then write the changed documents, each atomically."""
        changed = [plan for plan in planned if plan.status != "unchanged"]
        vectors = self.embedder.embed_documents([chunk.embedding_text for plan in changed for chunk in plan.chunks])
        writes, start = [], 0
        for plan in changed:
            end = start + len(plan.chunks)
            writes.append(DocumentWrite(plan.document, plan.chunks, vectors[start:end]))
            start = end
        written = dict(zip((id(plan) for plan in changed), self.index.write_documents(collection, writes),
                           strict=True))
        self.chunks_written += sum(len(w.chunks) for w, plan in zip(writes, changed, strict=True)
                                   if written[id(plan)] != "unchanged")
        results = []
        for plan in planned:
            status = written.get(id(plan), "unchanged")
            chunks = len(plan.chunks)
            if status == "unchanged":
                live = self.index.catalog.document(collection, plan.document.id)
                chunks = live.chunks if live else 0
            results.append(IngestResult(plan.document.id, plan.document.title, chunks, status,
                                        plan.document.warnings))
        return results

    def ingest_stream(
        self, collection: str, batches: Iterable[Sequence[IngestItem]],
        on_error: Callable[[IngestItem, IngestError], None] | None = None,
    ) -> Iterator[list[IngestResult]]:
        """Ingest batch after batch, cleaning and chunking the next while the current one embeds.

        A bad item is reported to ``on_error`` (or raised when there is none) and skipped.
        """

        def prepare_and_plan(batch: Sequence[IngestItem]) -> list[_Planned]:
            prepared = []
            for item in batch:
                try:
                    prepared.append((self.prepare_one(item), item))
                except IngestError as exc:
                    if on_error is None:
                        raise
                    on_error(item, exc)
            return self.plan(collection, prepared)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-prepare",
                                initializer=lower_thread_priority) as pool:
            pending = None
            for batch in batches:
                future = pool.submit(prepare_and_plan, batch)
                if pending is not None:
                    yield self.write(collection, pending.result())
                pending = future
            if pending is not None:
                yield self.write(collection, pending.result())
