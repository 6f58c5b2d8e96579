"""Qdrant's own engine in-process (``qdrant-edge-py``): the embedded default store, on disk with a WAL.

Only one process may open a shard (the WAL is locked), so the API server owns it and the CLI
talks to the server when one is running.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from retrieval.errors import StoreIncompatible, StoreUnavailable
from retrieval.filters import to_edge_filter
from retrieval.store import DENSE, INDEXED_FIELDS, ScoredPoint, StoredPoint, Where

log = logging.getLogger(__name__)


class EdgeStore:
    """A ``VectorStore`` on one ``EdgeShard`` directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = f"embedded:{self.path}"
        self._shard = None
        # Writes are serialised here; the engine itself handles concurrent reads.
        self._write_lock = threading.Lock()

    def open(self, dimension: int) -> None:
        from qdrant_edge import Distance, EdgeConfig, EdgeShard, EdgeVectorParams

        config = EdgeConfig(vectors={DENSE: EdgeVectorParams(size=dimension, distance=Distance.Cosine)})
        try:
            if (self.path / "wal").exists():
                self._shard = EdgeShard.load(str(self.path))
                self._check_dimension(dimension)
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._shard = EdgeShard.create(str(self.path), config)
        except StoreIncompatible:
            raise
        except Exception as exc:  # the engine raises plain Exception with a message
            if "WouldBlock" in str(exc):
                raise StoreUnavailable(
                    f"the embedded store at {self.path} is open in another process (is `sift serve` running?)"
                ) from exc
            raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
        self._ensure_indexes()
        log.info("embedded Qdrant store open at %s (%d points)", self.path, self.count())

    def _check_dimension(self, dimension: int) -> None:
        from qdrant_edge import CountRequest, ScrollRequest

        if self.shard.count(CountRequest()) == 0:
            return
        records, _ = self.shard.scroll(ScrollRequest(limit=1, with_payload=False, with_vector=[DENSE]))
        stored = len(records[0].vector[DENSE])
        if stored != dimension:
            raise StoreIncompatible(
                f"the store at {self.path} holds {stored}-d vectors but the embedding model makes "
                f"{dimension}-d ones; use the model it was built with or a new SIFT_DATA_DIR"
            )

    def _ensure_indexes(self) -> None:
        from qdrant_edge import PayloadSchemaType, UpdateOperation

        existing = self.shard.info().payload_schema
        for name in INDEXED_FIELDS:
            if name not in existing:
                self.shard.update(UpdateOperation.create_field_index(name, PayloadSchemaType.Keyword))

    @property
    def shard(self):
        if self._shard is None:
            raise StoreUnavailable("the embedded store is not open")
        return self._shard

    def upsert(self, points: Sequence[StoredPoint]) -> None:
        from qdrant_edge import Point, UpdateOperation

        if not points:
            return
        batch = [Point(p.id, {DENSE: [float(x) for x in p.dense]}, dict(p.payload)) for p in points]
        with self._write_lock:
            self.shard.update(UpdateOperation.upsert_points(batch))

    def delete(self, where: Where) -> None:
        from qdrant_edge import UpdateOperation

        edge_filter = to_edge_filter(where)
        if edge_filter is None:
            raise ValueError("refusing to delete without a filter")
        with self._write_lock:
            self.shard.update(UpdateOperation.delete_points_by_filter(edge_filter))

    def search(self, vector: Sequence[float], *, limit: int, where: Where) -> list[ScoredPoint]:
        from qdrant_edge import Query, QueryRequest

        request = QueryRequest(
            limit=limit,
            query=Query.Nearest([float(x) for x in vector], using=DENSE),
            filter=to_edge_filter(where),
            with_payload=True,
            with_vector=False,
        )
        return [ScoredPoint(str(hit.id), float(hit.score), hit.payload or {}) for hit in self.shard.query(request)]

    def count(self, where: Where | None = None) -> int:
        from qdrant_edge import CountRequest

        return int(self.shard.count(CountRequest(filter=to_edge_filter(where))))

    def close(self) -> None:
        if self._shard is not None:
            with self._write_lock:
                self._shard.flush()
                self._shard.close()
            self._shard = None

