"""Conversion between ingest chunks, Qdrant points and retrieval candidates."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.models import Chunk
from retrieval.store import Sparse, StoredPoint

POINT_NAMESPACE = uuid.UUID("5b0d6c3e-4f7a-4c51-9a52-6f1d2b7e8a90")


def chunk_point_id(collection: str, doc_id: str, content_hash: str, index: int) -> str:
    """Deterministic UUID of one chunk of one document version: re-writes are idempotent."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{collection}\0{doc_id}\0{content_hash}\0{index}"))


def chunk_points(
    collection: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]],
    lexical: Sequence[Sparse],
) -> list[StoredPoint]:
    """The Qdrant points of a document version's chunks."""
    if not len(chunks) == len(vectors) == len(lexical):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} dense and {len(lexical)} lexical vectors")
    return [
        StoredPoint(
            id=chunk_point_id(collection, chunk.doc_id, chunk.content_hash, chunk.index),
            dense=vector,
            lexical=sparse,
            payload={
                "collection": collection,
                "doc_id": chunk.doc_id,
                "chunk_index": chunk.index,
                "title": chunk.title,
                "url": chunk.url,
                "source": chunk.source,
                "heading": chunk.heading,
                "language": chunk.language,
                "text": chunk.text,
                "content_hash": chunk.content_hash,
                "chunk_hash": chunk.chunk_hash,
                "metadata": dict(chunk.metadata),
            },
        )
        for chunk, vector, sparse in zip(chunks, vectors, lexical, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A retrieved chunk with its first-stage score."""

    chunk_id: str
    doc_id: str
    chunk_index: int
    title: str
    url: str | None
    source: str | None
    heading: str
    text: str
    score: float
    content_hash: str


def candidate_from_hit(point_id: str, score: float, payload: Mapping[str, Any]) -> Candidate:
    """A ``Candidate`` from a search hit's payload."""
    return Candidate(
        chunk_id=point_id,
        doc_id=payload["doc_id"],
        chunk_index=int(payload.get("chunk_index", 0)),
        title=payload.get("title", ""),
        url=payload.get("url"),
        source=payload.get("source"),
        heading=payload.get("heading", ""),
        text=payload.get("text", ""),
        score=score,
        content_hash=payload.get("content_hash", ""),
    )


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk of a document's live version as the index holds it."""

    chunk_id: str
    index: int
    heading: str
    text: str


def stored_chunk(point_id: str, payload: Mapping[str, Any]) -> StoredChunk:
    """A ``StoredChunk`` from a point's payload."""
    return StoredChunk(chunk_id=point_id, index=int(payload.get("chunk_index", 0)),
                       heading=payload.get("heading", ""), text=payload.get("text", ""))
