"""The vector-store protocol that both Qdrant back-ends implement, and its value types."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from retrieval.errors import RetrievalError, StoreUnavailable

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

Scalar = str | int | bool
Condition = Scalar | Sequence[Scalar]

DENSE = "dense"
"""Name of the dense vector in every point (a named vector, identical in both back-ends)."""
LEXICAL = "lexical"
"""Name of the sparse BM25-style vector; Qdrant applies the IDF modifier to it."""

INDEXED_FIELDS = ("collection", "doc_id", "content_hash")
"""Payload fields with a keyword index: every filter Sift itself issues uses them."""


@dataclass(frozen=True, slots=True)
class Where:
    """Payload conditions: every ``must`` field matches (a value or any of a list), no ``must_not`` does."""

    must: Mapping[str, Condition] = field(default_factory=dict)
    must_not: Mapping[str, Condition] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sparse:
    """A sparse vector: term indices and their weights."""

    indices: Sequence[int]
    values: Sequence[float]


@dataclass(frozen=True, slots=True)
class StoredPoint:
    """A point to write: id (UUID string), dense and lexical vectors, payload."""

    id: str
    dense: Sequence[float]
    lexical: Sparse
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ScoredPoint:
    """A search hit: point id, similarity score and payload."""

    id: str
    score: float
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PointPayload:
    """A stored point read back without its vectors: id and payload."""

    id: str
    payload: Mapping[str, Any]


def store_operation(what: str) -> Callable[[F], F]:
    """Turn any failure of the engine or the server inside the decorated method into ``StoreUnavailable``
    (503 with Retry-After), logged with its cause; the client's message names what failed, not how."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except (RetrievalError, ValueError):  # Sift's own refusals (e.g. a delete without a filter)
                raise
            except Exception as exc:
                log.warning("vector store %s failed: %s: %s", what, type(exc).__name__, exc)
                raise StoreUnavailable(f"the vector store could not {what}; try again shortly") from exc

        return wrapper  # type: ignore[return-value]

    return decorate


def scroll_pages(read_page: Callable[[Where, Any, int], tuple[list[PointPayload], Any]], where: Where,
                 batch: int) -> Iterator[list[PointPayload]]:
    """Every page of points matching ``where``, following the engine's offsets (both back-ends' ``scroll``)."""
    offset = None
    while True:
        page, offset = read_page(where, offset, batch)
        if page:
            yield page
        if offset is None or not page:
            return


class VectorStore(Protocol):
    """What Sift needs from Qdrant. ``open`` creates or loads; the rest need an open store."""

    location: str

    def open(self, dimension: int) -> None:
        """Create the collection for ``dimension``-d vectors, or load it and check it fits."""

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        """Insert or replace points by id."""

    def delete(self, where: Where) -> None:
        """Delete every point matching ``where``."""

    def flush(self) -> None:
        """Make every acknowledged write durable on disk."""

    def search(self, vector: Sequence[float], *, limit: int, where: Where) -> list[ScoredPoint]:
        """The ``limit`` nearest points (cosine) matching ``where``, best first."""

    def search_lexical(self, query: Sparse, *, limit: int, where: Where) -> list[ScoredPoint]:
        """The ``limit`` best points by sparse dot product with IDF, matching ``where``."""

    def search_both(self, vector: Sequence[float], query: Sparse, *, limit: int, where: Where
                    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        """Dense and lexical candidates in one batched request to the engine."""

    def count(self, where: Where | None = None) -> int:
        """Number of points matching ``where`` (all points when None)."""

    def scroll(self, where: Where, *, batch: int = 256) -> Iterator[list[PointPayload]]:
        """Every point matching ``where`` (id and payload, no vectors), in id order, ``batch`` at a time."""

    def close(self) -> None:
        """Flush and release the store."""
