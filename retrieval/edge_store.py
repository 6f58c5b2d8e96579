"""Qdrant's own engine in-process (``qdrant-edge-py``): the embedded default store, on disk with a WAL.

Only one process may open a shard (the WAL is locked), so the API server owns it and the CLI
talks to the server when one is running.

The engine builds its HNSW index only in ``optimize()``, which holds Python's GIL for the whole
build (minutes at a million points) and would freeze every request of the server. So Sift
never optimizes the live shard: ``rebuild_index`` copies it, optimizes the copy in a
subprocess while queries go on (writes wait), then swaps the indexed copy in. The folder holds
``CURRENT.json`` (which shard is live) and the shard generations ``shard-NNNNNN/``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from retrieval.errors import StoreIncompatible, StoreUnavailable
from retrieval.filters import to_edge_filter
from retrieval.store import DENSE, INDEXED_FIELDS, LEXICAL, ScoredPoint, Sparse, StoredPoint, Where

log = logging.getLogger(__name__)


CURRENT = "CURRENT.json"
HNSW_EF = 512  # search-time beam width: recall@50 >= 0.98 against exact search (bench/retrieval.py)


class EdgeStore:
    """A ``VectorStore`` on the live ``EdgeShard`` generation under one folder."""

    def __init__(self, path: str | Path, *, hnsw_ef: int = HNSW_EF) -> None:
        self.root = Path(path)
        self.location = f"embedded:{self.root}"
        self.hnsw_ef = hnsw_ef
        self._shard = None
        self._state = {"shard": "shard-000001", "indexed_points": 0}
        self.unindexed_writes = 0
        self.last_write = 0.0
        # Writes are serialised here (and wait during an index rebuild); reads never take it.
        self._write_lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The live shard's folder."""
        return self.root / self._state["shard"]

    def open(self, dimension: int) -> None:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            Modifier,
        )

        config = EdgeConfig(
            vectors={DENSE: EdgeVectorParams(size=dimension, distance=Distance.Cosine)},
            sparse_vectors={LEXICAL: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        if (self.root / CURRENT).exists():
            self._state = json.loads((self.root / CURRENT).read_text())
        try:
            if (self.path / "wal").exists():
                self._shard = EdgeShard.load(str(self.path))
                self._check_dimension(dimension)
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._shard = EdgeShard.create(str(self.path), config)
                self._save_state()
        except StoreIncompatible:
            raise
        except Exception as exc:  # the engine raises plain Exception with a message
            if "WouldBlock" in str(exc):
                raise StoreUnavailable(
                    f"the embedded store at {self.path} is open in another process (is `sift serve` running?)"
                ) from exc
            raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
        self._ensure_indexes()
        self._remove_stale_generations()
        self.unindexed_writes = max(0, self.count() - self._state["indexed_points"])
        log.info("embedded Qdrant store open at %s (%d points)", self.path, self.count())

    def _save_state(self) -> None:
        temporary = self.root / f"{CURRENT}.tmp"
        temporary.write_text(json.dumps(self._state))
        os.replace(temporary, self.root / CURRENT)

    def _remove_stale_generations(self) -> None:
        """Copies left by a rebuild that a crash interrupted."""
        for folder in self.root.glob("shard-*"):
            if folder.name != self._state["shard"]:
                shutil.rmtree(folder, ignore_errors=True)

    def rebuild_index(self) -> bool:
        """Build the HNSW index on a copy in a subprocess and swap it in; queries continue meanwhile.

        Returns False when there was nothing new to index.
        """
        from qdrant_edge import EdgeShard

        with self._write_lock:
            if self.unindexed_writes == 0:
                return False
            started = time.perf_counter()
            generation = int(self._state["shard"].split("-")[1]) + 1
            target = self.root / f"shard-{generation:06d}"
            shutil.rmtree(target, ignore_errors=True)
            self.shard.flush()
            shutil.copytree(self.path, target)
            result = subprocess.run([sys.executable, "-m", "retrieval.edge_store", "optimize", str(target)],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise StoreUnavailable(f"index rebuild failed: {result.stderr.strip()[-2000:]}")
            fresh = EdgeShard.load(str(target))
            old, old_path = self._shard, self.path
            self._shard = fresh
            self._state = {"shard": target.name, "indexed_points": int(self.count())}
            self._save_state()
            self.unindexed_writes = 0
            old.close()
            shutil.rmtree(old_path, ignore_errors=True)
        log.info("index rebuilt: %d points in %.1f s", self._state["indexed_points"], time.perf_counter() - started)
        return True

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
        batch = [Point(p.id, {DENSE: [float(x) for x in p.dense], LEXICAL: _sparse(p.lexical)}, dict(p.payload))
                 for p in points]
        with self._write_lock:
            self.shard.update(UpdateOperation.upsert_points(batch))
            self.unindexed_writes += len(batch)
            self.last_write = time.monotonic()

    def delete(self, where: Where) -> None:
        from qdrant_edge import UpdateOperation

        edge_filter = to_edge_filter(where)
        if edge_filter is None:
            raise ValueError("refusing to delete without a filter")
        with self._write_lock:
            self.shard.update(UpdateOperation.delete_points_by_filter(edge_filter))

    def search(self, vector: Sequence[float], *, limit: int, where: Where) -> list[ScoredPoint]:
        return _hits(self.shard.query(self._dense_request(vector, limit, where)))

    def search_lexical(self, query: Sparse, *, limit: int, where: Where) -> list[ScoredPoint]:
        return _hits(self.shard.query(self._lexical_request(query, limit, where)))

    def search_both(self, vector: Sequence[float], query: Sparse, *, limit: int, where: Where
                    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        from qdrant_edge import QueryBatchRequest

        dense, lexical = self.shard.query_batch(QueryBatchRequest([
            self._dense_request(vector, limit, where), self._lexical_request(query, limit, where),
        ]))
        return _hits(dense), _hits(lexical)

    def _dense_request(self, vector: Sequence[float], limit: int, where: Where):
        from qdrant_edge import Query, QueryRequest, SearchParams

        return QueryRequest(limit=limit, query=Query.Nearest([float(x) for x in vector], using=DENSE),
                            filter=to_edge_filter(where), with_payload=True, with_vector=False,
                            params=SearchParams(hnsw_ef=self.hnsw_ef))

    @staticmethod
    def _lexical_request(query: Sparse, limit: int, where: Where):
        from qdrant_edge import Query, QueryRequest

        return QueryRequest(limit=limit, query=Query.Nearest(_sparse(query), using=LEXICAL),
                            filter=to_edge_filter(where), with_payload=True, with_vector=False)

    def count(self, where: Where | None = None) -> int:
        from qdrant_edge import CountRequest

        return int(self.shard.count(CountRequest(filter=to_edge_filter(where))))

    def scroll(self, where: Where, *, batch: int = 256) -> Iterator[list[ScoredPoint]]:
        from qdrant_edge import ScrollRequest

        offset = None
        while True:
            records, offset = self.shard.scroll(ScrollRequest(offset=offset, limit=batch, filter=to_edge_filter(where),
                                                              with_payload=True, with_vector=False))
            if records:
                yield [ScoredPoint(str(r.id), 0.0, r.payload or {}) for r in records]
            if offset is None or not records:
                return

    def close(self) -> None:
        if self._shard is not None:
            with self._write_lock:
                self._shard.flush()
                self._shard.close()
            self._shard = None


def _sparse(vector: Sparse):
    from qdrant_edge import SparseVector

    return SparseVector(list(vector.indices), [float(v) for v in vector.values])


def _hits(points) -> list[ScoredPoint]:
    return [ScoredPoint(str(hit.id), float(hit.score), hit.payload or {}) for hit in points]


def _optimize(path: str) -> None:
    """Build the index of the shard at ``path`` (run in a subprocess by ``rebuild_index``)."""
    from qdrant_edge import EdgeShard

    shard = EdgeShard.load(path)
    shard.optimize()
    shard.flush()
    shard.close()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "optimize":
        sys.exit("usage: python -m retrieval.edge_store optimize SHARD_DIR")
    _optimize(sys.argv[2])
