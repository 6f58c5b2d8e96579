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
from retrieval.points import Candidate, candidate_from_hit, chunk_points
from retrieval.store import VectorStore, Where

log = logging.getLogger(__name__)

WriteStatus = Literal["created", "updated", "unchanged"]


class KnowledgeIndex:
    """Documents and chunks of every collection, over one vector store and one catalog."""

    def __init__(self, store: VectorStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog
        self._write_lock = threading.Lock()

    def open(self, dimension: int) -> None:
        """Open the store for ``dimension``-d vectors."""
        self.store.open(dimension)

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
        vectors: Sequence[Sequence[float]], metadata: Mapping[str, Any] | None = None,
    ) -> WriteStatus:
        """Make this version of the document live, replacing any other version whole."""
        with self._write_lock:
            status = self.write_status(collection, document)
            if status == "unchanged":
                return status
            self.catalog.ensure_collection(collection)
            self.store.upsert(chunk_points(collection, chunks, vectors, metadata))
            self.catalog.commit_document(
                DocumentRecord(
                    collection=collection, doc_id=document.id, title=document.title, url=document.url,
                    source=document.source, content_type=document.content_type,
                    content_hash=document.content_hash, chunks=len(chunks), updated_at=time.time(),
                )
            )
            self.store.delete(Where(
                must={"collection": collection, "doc_id": document.id},
                must_not={"content_hash": document.content_hash},
            ))
        log.info("%s %s/%s (%d chunks)", status, collection, document.id, len(chunks))
        return status

    def delete_document(self, collection: str, doc_id: str) -> None:
        """Remove the document and all its chunks."""
        self.document(collection, doc_id)
        with self._write_lock:
            self.catalog.remove_document(collection, doc_id)
            self.store.delete(Where(must={"collection": collection, "doc_id": doc_id}))
        log.info("deleted %s/%s", collection, doc_id)

    # Search

    def search(
        self, collection: str, vector: Sequence[float], *, limit: int,
        filters: Mapping[str, Any] | None = None,
    ) -> list[Candidate]:
        """The ``limit`` best chunks of live document versions in ``collection``."""
        self.require_collection(collection)
        where = user_filters(collection, filters)
        fetch = limit
        while True:
            hits = self.store.search(vector, limit=fetch, where=where)
            live = self.catalog.live_hashes(collection, (hit.payload["doc_id"] for hit in hits))
            candidates = [
                candidate_from_hit(hit.id, hit.score, hit.payload)
                for hit in hits
                if live.get(hit.payload["doc_id"]) == hit.payload.get("content_hash")
            ]
            # Hits of replaced or deleted versions were dropped: look further once, then stop.
            if len(candidates) >= limit or len(hits) < fetch or fetch > limit:
                return candidates[:limit]
            fetch = limit * 2
