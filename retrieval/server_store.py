"""A Qdrant server through ``qdrant-client``: same collection layout as the embedded store."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from retrieval.errors import StoreIncompatible, StoreUnavailable
from retrieval.filters import to_client_filter
from retrieval.store import DENSE, INDEXED_FIELDS, ScoredPoint, StoredPoint, Where

log = logging.getLogger(__name__)


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
                )
            info = self._client.get_collection(self.collection)
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach the Qdrant server at {self.url}: {exc}") from exc
        vectors = info.config.params.vectors
        stored = vectors.get(DENSE) if isinstance(vectors, dict) else None
        if stored is None or stored.size != dimension:
            raise StoreIncompatible(
                f"Qdrant collection {self.collection!r} has no {dimension}-d {DENSE!r} vector "
                f"(found {stored}); use the embedding model it was built with or another collection"
            )
        for name in INDEXED_FIELDS:
            if name not in (info.payload_schema or {}):
                self._client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)
        log.info("Qdrant server store open at %s", self.location)

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        from qdrant_client import models

        if not points:
            return
        self._client.upsert(
            self.collection,
            points=[
                models.PointStruct(id=p.id, vector={DENSE: [float(x) for x in p.dense]}, payload=dict(p.payload))
                for p in points
            ],
            wait=True,
        )

    def delete(self, where: Where) -> None:
        from qdrant_client import models

        client_filter = to_client_filter(where)
        if client_filter is None:
            raise ValueError("refusing to delete without a filter")
        self._client.delete(self.collection, points_selector=models.FilterSelector(filter=client_filter), wait=True)

    def search(self, vector: Sequence[float], *, limit: int, where: Where) -> list[ScoredPoint]:
        response = self._client.query_points(
            self.collection,
            query=[float(x) for x in vector],
            using=DENSE,
            query_filter=to_client_filter(where),
            limit=limit,
            with_payload=True,
        )
        return [ScoredPoint(str(p.id), float(p.score), p.payload or {}) for p in response.points]

    def count(self, where: Where | None = None) -> int:
        return int(self._client.count(self.collection, count_filter=to_client_filter(where), exact=True).count)

    def close(self) -> None:
        self._client.close()
