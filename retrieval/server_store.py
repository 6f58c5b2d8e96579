"""A Qdrant server through ``qdrant-client``: same collection layout as the embedded store."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from retrieval.errors import StoreIncompatible, StoreUnavailable
from retrieval.filters import to_client_filter
from retrieval.store import (
    DENSE,
    INDEXED_FIELDS,
    LEXICAL,
    PointPayload,
    ScoredPoint,
    Sparse,
    StoredPoint,
    Where,
    scroll_pages,
    store_operation,
)

log = logging.getLogger(__name__)

SCROLL_PAGE = 256


class ServerStore:
    """A ``VectorStore`` on one collection of a Qdrant server."""

    def __init__(self, url: str, *, collection: str = "sift", api_key: str | None = None,
                 timeout_s: float = 10.0) -> None:
        from qdrant_client import QdrantClient

        self.url = url
        self.collection = collection
        self.location = f"{url}/collections/{collection}"
        # ``location`` takes a server URL, or ":memory:" for qdrant-client's local mode (used by tests).
        self._client = QdrantClient(location=url, api_key=api_key, timeout=int(timeout_s))

    def open(self, dimension: int) -> None:
        from qdrant_client import models

        try:
            if not self._client.collection_exists(self.collection):
                self._client.create_collection(
                    self.collection,
                    vectors_config={DENSE: models.VectorParams(size=dimension, distance=models.Distance.COSINE)},
                    sparse_vectors_config={LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                )
            info = self._client.get_collection(self.collection)
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach the Qdrant server at {self.url}: {exc}") from exc
        vectors = info.config.params.vectors
        stored = vectors.get(DENSE) if isinstance(vectors, dict) else None
        sparse = info.config.params.sparse_vectors or {}
        if stored is None or stored.size != dimension or LEXICAL not in sparse:
            raise StoreIncompatible(
                f"Qdrant collection {self.collection!r} has no {dimension}-d {DENSE!r} vector "
                f"or no {LEXICAL!r} sparse vector (found {stored}, {sorted(sparse)}); use the embedding model "
                "it was built with or another collection"
            )
        for name in INDEXED_FIELDS:
            if name not in (info.payload_schema or {}):
                self._client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)
        log.info("Qdrant server store open at %s", self.location)

    @store_operation("write")
    def upsert(self, points: Sequence[StoredPoint]) -> None:
        from qdrant_client import models

        if not points:
            return
        self._client.upsert(
            self.collection,
            points=[
                models.PointStruct(
                    id=p.id, vector={DENSE: [float(x) for x in p.dense], LEXICAL: _sparse(p.lexical)},
                    payload=dict(p.payload),
                )
                for p in points
            ],
            wait=True,
        )

    def flush(self) -> None:
        """Nothing to do: every write waits for the server, whose write-ahead log makes it durable."""

    @store_operation("delete")
    def delete(self, where: Where) -> None:
        from qdrant_client import models

        client_filter = to_client_filter(where)
        if client_filter is None:
            raise ValueError("refusing to delete without a filter")
        self._client.delete(self.collection, points_selector=models.FilterSelector(filter=client_filter), wait=True)

    @store_operation("search")
    def search(self, vector: Sequence[float], *, limit: int, where: Where) -> list[ScoredPoint]:
        return self._query(self._dense_request(vector, limit, where))[0]

    @store_operation("search")
    def search_lexical(self, query: Sparse, *, limit: int, where: Where) -> list[ScoredPoint]:
        return self._query(self._lexical_request(query, limit, where))[0]

    @store_operation("search")
    def search_both(self, vector: Sequence[float], query: Sparse, *, limit: int, where: Where
                    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        dense, lexical = self._query(self._dense_request(vector, limit, where),
                                     self._lexical_request(query, limit, where))
        return dense, lexical

    def _query(self, *requests: dict) -> list[list[ScoredPoint]]:
        from qdrant_client import models

        responses = self._client.query_batch_points(
            self.collection, requests=[models.QueryRequest(**request) for request in requests]
        )
        return [_hits(response) for response in responses]

    @staticmethod
    def _dense_request(vector: Sequence[float], limit: int, where: Where) -> dict:
        return {"query": [float(x) for x in vector], "using": DENSE, "filter": to_client_filter(where),
                "limit": limit, "with_payload": True}

    @staticmethod
    def _lexical_request(query: Sparse, limit: int, where: Where) -> dict:
        return {"query": _sparse(query), "using": LEXICAL, "filter": to_client_filter(where),
                "limit": limit, "with_payload": True}

    @store_operation("count points")
    def count(self, where: Where | None = None) -> int:
        return int(self._client.count(self.collection, count_filter=to_client_filter(where), exact=True).count)

    def scroll(self, where: Where, *, batch: int = SCROLL_PAGE) -> Iterator[list[PointPayload]]:
        return scroll_pages(self._scroll_page, where, batch)

    @store_operation("read points")
    def _scroll_page(self, where: Where, offset, batch: int) -> tuple[list[PointPayload], object]:
        records, offset = self._client.scroll(self.collection, scroll_filter=to_client_filter(where), limit=batch,
                                              offset=offset, with_payload=True, with_vectors=False)
        return [PointPayload(str(r.id), r.payload or {}) for r in records], offset

    def close(self) -> None:
        self._client.close()


def _sparse(vector: Sparse):
    from qdrant_client import models

    return models.SparseVector(indices=list(vector.indices), values=[float(v) for v in vector.values])


def _hits(response) -> list[ScoredPoint]:
    return [ScoredPoint(str(p.id), float(p.score), p.payload or {}) for p in response.points]
