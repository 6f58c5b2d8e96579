"""The knowledge index: documents in a catalog, their chunks in a vector store, searched by collection.

Writes follow one protocol so that readers see each document whole or not at all:
upsert the new version's chunks, commit the catalog row, then delete the other versions' chunks.
Searches keep only hits of each document's live version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ingest.models import Chunk, Document
from retrieval.catalog import Catalog, CollectionRecord, DocumentRecord
from retrieval.errors import CollectionNotFound, DocumentNotFound
from retrieval.filters import user_filters
from retrieval.fusion import DEFAULT_FUSION, fuse
from retrieval.lexical import LexicalEncoder
from retrieval.points import Candidate, candidate_from_hit, chunk_points
from retrieval.store import ScoredPoint, Sparse, VectorStore, Where

log = logging.getLogger(__name__)

WriteStatus = Literal["created", "updated", "unchanged"]
SearchMode = Literal["dense", "lexical", "hybrid"]
SEARCH_MODES: tuple[SearchMode, ...] = ("dense", "lexical", "hybrid")


class KnowledgeIndex:
    """Documents and chunks of every collection, over one vector store and one catalog."""

    def __init__(self, store: VectorStore, catalog: Catalog, lexical: LexicalEncoder | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self.lexical = lexical or LexicalEncoder()
        self._write_lock = threading.Lock()

    def open(self, dimension: int) -> None:
        """Open the store for ``dimension``-d vectors and clean up after any interrupted write."""
        self.store.open(dimension)
        self.recover()

    def recover(self) -> int:
        """Delete the stray chunks of writes a crash interrupted; returns how many writes were cleaned."""
        pending = self.catalog.pending_writes()
        for collection, doc_id, content_hash in pending:
            self._drop_other_versions(collection, doc_id)
            self.catalog.end_write(collection, doc_id, content_hash)
            log.warning("recovered interrupted write of %s/%s", collection, doc_id)
        return len(pending)

    def _drop_other_versions(self, collection: str, doc_id: str) -> None:
        """Delete every chunk of the document that is not of its live version (all, if none is live)."""
        live = self.catalog.document(collection, doc_id)
        self.store.delete(Where(
            must={"collection": collection, "doc_id": doc_id},
            must_not={"content_hash": live.content_hash} if live else {},
        ))

    def close(self) -> None:
        self.store.close()
        self.catalog.close()

    # Collections and documents

    def collections(self) -> list[CollectionRecord]:
        return self.catalog.collections()

    def require_collection(self, name: str) -> CollectionRecord:
        """The collection, or ``CollectionNotFound``."""
        record = self.catalog.collection(name)
        if record is None:
            raise CollectionNotFound(f"collection {name!r} does not exist")
        return record

    def documents(self, collection: str) -> list[DocumentRecord]:
        self.require_collection(collection)
        return self.catalog.documents(collection)

    def document(self, collection: str, doc_id: str) -> DocumentRecord:
        self.require_collection(collection)
        record = self.catalog.document(collection, doc_id)
        if record is None:
            raise DocumentNotFound(f"document {doc_id!r} does not exist in collection {collection!r}")
        return record

    def write_status(self, collection: str, document: Document) -> WriteStatus:
        """What writing ``document`` would do: create it, update it, or nothing."""
        live = self.catalog.document(collection, document.id)
        if live is None:
            return "created"
        return "unchanged" if live.content_hash == document.content_hash else "updated"

    def write_document(
        self, collection: str, document: Document, chunks: Sequence[Chunk],
        vectors: Sequence[Sequence[float]],
    ) -> WriteStatus:
        """Make this version of the document live, replacing any other version whole."""
        with self._write_lock:
            status = self.write_status(collection, document)
            if status == "unchanged":
                return status
            self.catalog.ensure_collection(collection)
            sparse = [Sparse(*self.lexical.encode_document(chunk.embedding_text)) for chunk in chunks]
            self.catalog.begin_write(collection, document.id, document.content_hash)
            self.store.upsert(chunk_points(collection, chunks, vectors, sparse))
            self.catalog.commit_document(
                DocumentRecord(
                    collection=collection, doc_id=document.id, title=document.title, url=document.url,
                    source=document.source, content_type=document.content_type,
                    content_hash=document.content_hash, chunks=len(chunks), updated_at=time.time(),
                    language=document.language, metadata=dict(document.metadata),
                )
            )
            self._drop_other_versions(collection, document.id)
            self.catalog.end_write(collection, document.id, document.content_hash)
        log.info("%s %s/%s (%d chunks)", status, collection, document.id, len(chunks))
        return status

    def delete_document(self, collection: str, doc_id: str) -> None:
        """Remove the document and all its chunks."""
        self.document(collection, doc_id)
        with self._write_lock:
            self.catalog.begin_write(collection, doc_id, "")
            self.catalog.remove_document(collection, doc_id)
            self._drop_other_versions(collection, doc_id)
            self.catalog.end_write(collection, doc_id, "")
        log.info("deleted %s/%s", collection, doc_id)

    # Search

    def search(
        self, collection: str, *, question: str, vector: Sequence[float] | None, limit: int,
        mode: SearchMode = "hybrid", filters: Mapping[str, Any] | None = None,
    ) -> list[Candidate]:
        """The ``limit`` best chunks of live document versions in ``collection``.

        ``dense`` needs ``vector`` (the question's embedding), ``lexical`` uses the question's
        terms, ``hybrid`` fetches both candidate lists in one batched request and fuses them.
        """
        self.require_collection(collection)
        where = user_filters(collection, filters)
        query = Sparse(*self.lexical.encode_query(question))
        fetch = limit
        while True:
            candidates, exhausted = self._search_live(collection, question, vector, query, fetch, where, mode)
            # Hits of replaced or deleted versions were dropped: look further once, then stop.
            if len(candidates) >= limit or exhausted or fetch > limit:
                return candidates[:limit]
            fetch = limit * 2

    def _search_live(self, collection: str, question: str, vector: Sequence[float] | None, query: Sparse,
                     fetch: int, where: Where, mode: SearchMode) -> tuple[list[Candidate], bool]:
        """Candidates of live versions, and whether the store had no more hits to give."""
        if mode == "dense":
            ranked = self.store.search(_required(vector), limit=fetch, where=where)
            lists = [ranked]
        elif mode == "lexical":
            ranked = self.store.search_lexical(query, limit=fetch, where=where) if query.indices else []
            lists = [ranked]
        else:
            per_signal = max(2 * fetch, DEFAULT_FUSION.candidates)  # fused lists were measured at 2x depth
            dense, lexical = self.store.search_both(_required(vector), query, limit=per_signal, where=where)
            payloads = {hit.id: hit.payload for hit in (*dense, *lexical)}
            fused = fuse([(h.id, h.score) for h in dense], [(h.id, h.score) for h in lexical], limit=fetch,
                         query=question)
            ranked = [ScoredPoint(point_id, score, payloads[point_id]) for point_id, score in fused]
            lists = [dense, lexical]
        live = self.catalog.live_hashes(collection, (hit.payload["doc_id"] for hit in ranked))
        candidates = [
            candidate_from_hit(hit.id, hit.score, hit.payload)
            for hit in ranked
            if live.get(hit.payload["doc_id"]) == hit.payload.get("content_hash")
        ]
        return candidates, all(len(hits) < max(fetch, 1) for hits in lists) or len(ranked) < fetch


def _required(vector: Sequence[float] | None) -> Sequence[float]:
    if vector is None:
        raise ValueError("dense and hybrid search need the question's embedding")
    return vector
