"""The knowledge index: documents in a catalog, their chunks in a vector store, searched by collection.

Writes follow one protocol so that readers see each document whole or not at all:
upsert the new version's chunks, commit the catalog row, then delete the other versions' chunks.
Searches keep only hits of each document's live version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ingest.models import Chunk, Document, embedding_text
from retrieval.catalog import Catalog, CollectionRecord, DocumentRecord, EmbedderRecord
from retrieval.crashpoints import crash_point
from retrieval.errors import CollectionExists, CollectionNotFound, DocumentNotFound, EmbedderMismatch
from retrieval.filters import user_filters
from retrieval.fusion import DEFAULT_FUSION, FusionConfig, fuse
from retrieval.lexical import LexicalEncoder
from retrieval.points import Candidate, StoredChunk, candidate_from_hit, chunk_points, stored_chunk
from retrieval.store import ScoredPoint, Sparse, StoredPoint, VectorStore, Where

log = logging.getLogger(__name__)

WriteStatus = Literal["created", "updated", "unchanged"]
SearchMode = Literal["dense", "lexical", "hybrid"]
SEARCH_MODES: tuple[SearchMode, ...] = ("dense", "lexical", "hybrid")


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """One document version to write: its chunks and their vectors."""

    document: Document
    chunks: Sequence[Chunk]
    vectors: Sequence[Sequence[float]]


class KnowledgeIndex:
    """Documents and chunks of every collection, over one vector store and one catalog."""

    def __init__(self, store: VectorStore, catalog: Catalog, lexical: LexicalEncoder | None = None,
                 fusion: FusionConfig = DEFAULT_FUSION) -> None:
        self.store = store
        self.catalog = catalog
        self.lexical = lexical or LexicalEncoder()
        self.fusion = fusion
        """How hybrid search weighs the two signals; it depends on the embedding model (``fusion_for``)."""
        self._write_lock = threading.Lock()
        self._embedder: EmbedderRecord | None = None

    def open(self, embedder: EmbedderRecord, *, unrecorded: EmbedderRecord | None = None,
             allow_other_models: bool = False) -> None:
        """Open the store for ``embedder``'s vectors and clean up after any interrupted write.

        Collections made before Sift recorded models are recorded as ``unrecorded`` (default: ``embedder``).
        Raises ``EmbedderMismatch`` when a collection's vectors were made by another model (their
        vector spaces must never mix), unless ``allow_other_models`` (for ``reembed``).
        """
        self._embedder = embedder
        self.record_unrecorded(unrecorded or embedder)
        if not allow_other_models and self.other_models():
            raise EmbedderMismatch(_mismatch_message(self.other_models(), embedder))
        self.store.open(embedder.dimension)
        self.recover()

    @property
    def embedder(self) -> EmbedderRecord:
        """The model that makes this index's new vectors."""
        if self._embedder is None:
            raise RuntimeError("KnowledgeIndex.open() must run first")
        return self._embedder

    def other_models(self) -> dict[str, EmbedderRecord]:
        """Collections whose vectors another model made, with that model."""
        return {name: record for name, record in self.catalog.embedders().items()
                if record is not None and record.model != self.embedder.model}

    def record_unrecorded(self, embedder: EmbedderRecord) -> None:
        """Record ``embedder`` as the model of collections made before Sift recorded models."""
        for name, record in self.catalog.embedders().items():
            if record is None:
                log.warning("collection %r predates embedder records; recording it as made by %s", name,
                            embedder.model)
                self.catalog.set_embedder(name, embedder)

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

    def create_collection(self, name: str, instruction: str | None = None) -> CollectionRecord:
        """A new empty collection, or ``CollectionExists``."""
        if not self.catalog.create_collection(name, instruction):
            raise CollectionExists(f"collection {name!r} already exists")
        return self.require_collection(name)

    def delete_collection(self, name: str) -> int:
        """Remove the collection, its documents and all their chunks; returns how many documents it held.

        The catalog forgets them first (journaling each as a pending write), so searches stop seeing
        them at once; a crash before the chunks are gone leaves them to ``recover``.
        """
        self.require_collection(name)
        with self._write_lock:
            doc_ids = self.catalog.remove_collection(name)
            self.store.delete(Where(must={"collection": name}))
            for doc_id in doc_ids:
                self.catalog.end_write(name, doc_id, "")
        log.info("deleted collection %s (%d documents)", name, len(doc_ids))
        return len(doc_ids)

    def documents(self, collection: str, *, limit: int | None = None, offset: int = 0,
                  search: str | None = None) -> list[DocumentRecord]:
        """The collection's documents by id (a page with ``limit``/``offset``; ``search`` in title or id)."""
        self.require_collection(collection)
        return self.catalog.documents(collection, limit=limit, offset=offset, search=search)

    def count_documents(self, collection: str, *, search: str | None = None) -> int:
        self.require_collection(collection)
        return self.catalog.count_documents(collection, search=search)

    def chunks(self, collection: str, doc_id: str) -> list[StoredChunk]:
        """The chunks of the document's live version, in document order."""
        record = self.document(collection, doc_id)
        where = Where(must={"collection": collection, "doc_id": doc_id, "content_hash": record.content_hash})
        points = [point for page in self.store.scroll(where) for point in page]
        return sorted((stored_chunk(p.id, p.payload) for p in points), key=lambda chunk: chunk.index)

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
        return self.write_documents(collection, [DocumentWrite(document, chunks, vectors)])[0]

    def write_documents(self, collection: str, writes: Sequence[DocumentWrite]) -> list[WriteStatus]:
        """Make each document's new version live, each whole or not at all.

        All chunks are upserted and flushed to disk once, before any catalog row commits, so a
        document the catalog calls live always has its vectors, even after a power loss.
        """
        with self._write_lock:
            statuses = [self.write_status(collection, w.document) for w in writes]
            changed = [w for w, status in zip(writes, statuses, strict=True) if status != "unchanged"]
            if not changed:
                return statuses
            self.catalog.ensure_collection(collection, self.embedder)
            points = []
            for write in changed:
                sparse = [Sparse(*self.lexical.encode_document(chunk.embedding_text)) for chunk in write.chunks]
                self.catalog.begin_write(collection, write.document.id, write.document.content_hash)
                points.extend(chunk_points(collection, write.chunks, write.vectors, sparse))
            self.store.upsert(points)
            self.store.flush()
            crash_point("index.vectors_flushed")
            for write in changed:
                document = write.document
                self.catalog.commit_document(DocumentRecord(
                    collection=collection, doc_id=document.id, title=document.title, url=document.url,
                    source=document.source, content_type=document.content_type,
                    content_hash=document.content_hash, chunks=len(write.chunks), updated_at=time.time(),
                    language=document.language, metadata=dict(document.metadata),
                ))
                self._drop_other_versions(collection, document.id)
                self.catalog.end_write(collection, document.id, document.content_hash)
        for write, status in zip(writes, statuses, strict=True):
            if status != "unchanged":
                log.info("%s %s/%s (%d chunks)", status, collection, write.document.id, len(write.chunks))
        return statuses

    def delete_document(self, collection: str, doc_id: str) -> None:
        """Remove the document and all its chunks."""
        self.document(collection, doc_id)
        with self._write_lock:
            self.catalog.begin_write(collection, doc_id, "")
            self.catalog.remove_document(collection, doc_id)
            self._drop_other_versions(collection, doc_id)
            self.catalog.end_write(collection, doc_id, "")
        log.info("deleted %s/%s", collection, doc_id)

    def reembed(self, collection: str, embed: Callable[[list[str]], np.ndarray],
                progress: Callable[[int, int], None] | None = None) -> int:
        """Re-embed every stored chunk of ``collection`` with ``embed`` and record the current model.

        Writes wait meanwhile; a crash leaves the old model recorded, so running it again starts over.
        Returns the number of chunks re-embedded.
        """
        self.require_collection(collection)
        where = Where(must={"collection": collection})
        total, done = self.store.count(where), 0
        with self._write_lock:
            for batch in self.store.scroll(where):
                texts = [embedding_text(p.payload.get("title", ""), p.payload.get("heading", ""),
                                        p.payload.get("text", "")) for p in batch]
                vectors = embed(texts)
                self.store.upsert([
                    StoredPoint(point.id, vector, Sparse(*self.lexical.encode_document(text)), point.payload)
                    for point, vector, text in zip(batch, vectors, texts, strict=True)
                ])
                done += len(batch)
                if progress:
                    progress(done, total)
            self.catalog.set_embedder(collection, self.embedder)
        log.info("re-embedded %s: %d chunks with %s", collection, done, self.embedder.model)
        return done

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
            per_signal = max(2 * fetch, self.fusion.candidates)  # fused lists were measured at 2x depth
            dense, lexical = self.store.search_both(_required(vector), query, limit=per_signal, where=where)
            payloads = {hit.id: hit.payload for hit in (*dense, *lexical)}
            fused = fuse([(h.id, h.score) for h in dense], [(h.id, h.score) for h in lexical], limit=fetch,
                         query=question, config=self.fusion)
            ranked = [ScoredPoint(point_id, score, payloads[point_id]) for point_id, score in fused]
            lists = [dense, lexical]
        live = self.catalog.live_hashes(collection, (hit.payload["doc_id"] for hit in ranked))
        candidates = [
            candidate_from_hit(hit.id, hit.score, hit.payload)
            for hit in ranked
            if live.get(hit.payload["doc_id"]) == hit.payload.get("content_hash")
        ]
        return candidates, all(len(hits) < max(fetch, 1) for hits in lists) or len(ranked) < fetch


def _mismatch_message(others: Mapping[str, EmbedderRecord], current: EmbedderRecord) -> str:
    """One paragraph: which collections were embedded by which model, and the ways forward."""
    names = ", ".join(f"{name!r} ({record.model}, {record.dimension}-d)" for name, record in others.items())
    old = next(iter(others.values()))
    same_size = all(record.dimension == current.dimension for record in others.values())
    ways = [f"set SIFT_EMBED_MODEL={old.setting} again"]
    if same_size:
        ways.append("run `sift reembed` (with the server stopped) to re-embed the stored chunks with the new model")
    ways.append("or use a new SIFT_DATA_DIR and ingest again")
    return (f"SIFT_EMBED_MODEL={current.setting} makes {current.model} vectors ({current.dimension}-d), but "
            f"collection{'s' if len(others) > 1 else ''} {names} hold{'' if len(others) > 1 else 's'} vectors of "
            "another model, and the two must not be mixed: "
            + ", ".join(ways) + ".")


def _required(vector: Sequence[float] | None) -> Sequence[float]:
    if vector is None:
        raise ValueError("dense and hybrid search need the question's embedding")
    return vector
