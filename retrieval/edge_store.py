"""Qdrant's own engine in-process (``qdrant-edge-py``): the embedded default store, on disk with a WAL.

Only one process may open a shard (the WAL is locked), so the API server owns it and the CLI
talks to the server when one is running.

The engine builds its HNSW index only in ``optimize()``, which holds Python's GIL for the whole
build (minutes at a million points) and would freeze every request of the server. So Sift
never optimizes the live shard: ``rebuild_index`` copies it, optimizes the copy in a
subprocess (with a time limit) while queries and writes go on, replays the writes made
meanwhile onto the copy, then swaps it in. A query keeps the shard it started on until it
ends: a replaced shard is closed only once its last reader is done. The folder holds
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from retrieval.crashpoints import crash_point
from retrieval.errors import StoreIncompatible, StoreUnavailable
from retrieval.filters import to_edge_filter
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


CURRENT = "CURRENT.json"
SCROLL_PAGE = 256
HNSW_EF = 512  # search-time beam width: recall@50 >= 0.98 against exact search (bench/retrieval.py)


@dataclass(eq=False)
class _Generation:
    """One open shard and the queries reading it."""

    shard: object
    path: Path
    readers: int = 0
    retired: bool = False  # no new reader takes it; closed when the last one is done
    replaced: bool = False  # a newer generation took its place, so its folder goes too


class EdgeStore:
    """A ``VectorStore`` on the live ``EdgeShard`` generation under one folder."""

    def __init__(self, path: str | Path, *, hnsw_ef: int = HNSW_EF, rebuild_timeout_s: float = 3600.0) -> None:
        self.root = Path(path)
        self.location = f"embedded:{self.root}"
        self.hnsw_ef = hnsw_ef
        self.rebuild_timeout_s = rebuild_timeout_s
        self._live: _Generation | None = None
        self._state = {"shard": "shard-000001", "indexed_points": 0}
        self.unindexed_writes = 0
        self.last_write = 0.0
        # Writes are serialised here; reads never take it. ``_generation_lock`` guards which shard is live
        # and how many queries read each one.
        self._write_lock = threading.Lock()
        self._generation_lock = threading.Lock()
        # While a rebuild optimizes a copy, every write is also kept here, to be replayed onto the copy.
        self._journal: list[Callable[[], object]] | None = None

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
                self._live = _Generation(EdgeShard.load(str(self.path)), self.path)
                self._check_dimension(dimension)
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._live = _Generation(EdgeShard.create(str(self.path), config), self.path)
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
        """Build the HNSW index on a copy in a subprocess and swap it in; queries and writes continue.

        Returns False when there was nothing new to index.
        """
        from qdrant_edge import CountRequest, EdgeShard

        with self._write_lock:
            if self.unindexed_writes == 0:
                return False
            started = time.perf_counter()
            generation = int(self._state["shard"].split("-")[1]) + 1
            target = self.root / f"shard-{generation:06d}"
            shutil.rmtree(target, ignore_errors=True)
            self.shard.flush()
            shutil.copytree(self.path, target)
            self._journal = []
        try:
            self._optimize_copy(target)
            fresh = EdgeShard.load(str(target))
            crash_point("rebuild.copy_optimized")
        except BaseException:
            with self._write_lock:
                self._journal = None
            shutil.rmtree(target, ignore_errors=True)
            raise
        with self._write_lock:
            journal, self._journal = self._journal or [], None
            for operation in journal:
                fresh.update(operation())
            fresh.flush()
            # Record the copy as live before the old shard can be removed: a crash in between must
            # leave CURRENT naming a shard that exists (the old folder goes on the next start).
            self._state = {"shard": target.name,
                           "indexed_points": int(fresh.count(CountRequest())) - len(journal)}
            self._save_state()
            crash_point("rebuild.state_saved")
            self._swap(_Generation(fresh, target))
            self.unindexed_writes = len(journal)
        log.info("index rebuilt: %d points in %.1f s (%d writes replayed)", self._state["indexed_points"],
                 time.perf_counter() - started, len(journal))
        return True

    def _optimize_copy(self, target: Path) -> None:
        try:
            result = subprocess.run([sys.executable, "-m", "retrieval.edge_store", "optimize", str(target)],
                                    capture_output=True, text=True, timeout=self.rebuild_timeout_s)
        except subprocess.TimeoutExpired:
            raise StoreUnavailable(f"index rebuild took longer than {self.rebuild_timeout_s:.0f} s and was "
                                   "stopped; queries keep using the current index") from None
        if result.returncode != 0:
            raise StoreUnavailable(f"index rebuild failed: {result.stderr.strip()[-2000:]}")

    def _swap(self, fresh: _Generation | None) -> None:
        """Make ``fresh`` live (None: close the store); the old shard closes when its last reader finishes."""
        with self._generation_lock:
            old, self._live = self._live, fresh
            if old is not None:
                old.retired, old.replaced = True, fresh is not None
                idle = old.readers == 0
        if old is not None and idle:
            _close_generation(old)

    @contextmanager
    def _reading(self) -> Iterator[object]:
        """The live shard, kept open until the block ends even if a rebuild replaces it meanwhile."""
        with self._generation_lock:
            generation = self._live
            if generation is None:
                raise StoreUnavailable("the embedded store is not open")
            generation.readers += 1
        try:
            yield generation.shard
        finally:
            with self._generation_lock:
                generation.readers -= 1
                done = generation.retired and generation.readers == 0
            if done:
                _close_generation(generation)

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
        """The live shard, for writers (who hold the write lock, under which it is never swapped)."""
        if self._live is None:
            raise StoreUnavailable("the embedded store is not open")
        return self._live.shard

    @store_operation("write")
    def upsert(self, points: Sequence[StoredPoint]) -> None:
        from qdrant_edge import Point, UpdateOperation

        if not points:
            return
        batch = [Point(p.id, {DENSE: [float(x) for x in p.dense], LEXICAL: _sparse(p.lexical)}, dict(p.payload))
                 for p in points]
        self._update(lambda: UpdateOperation.upsert_points(batch), points=len(batch))

    @store_operation("delete")
    def delete(self, where: Where) -> None:
        from qdrant_edge import UpdateOperation

        edge_filter = to_edge_filter(where)
        if edge_filter is None:
            raise ValueError("refusing to delete without a filter")
        self._update(lambda: UpdateOperation.delete_points_by_filter(edge_filter))

    def _update(self, operation: Callable[[], object], *, points: int = 0) -> None:
        with self._write_lock:
            self.shard.update(operation())
            if self._journal is not None:
                self._journal.append(operation)
            self.unindexed_writes += points
            self.last_write = time.monotonic()

    @store_operation("write to disk")
    def flush(self) -> None:
        with self._write_lock:
            self.shard.flush()

    @store_operation("search")
    def search(self, vector: Sequence[float], *, limit: int, where: Where) -> list[ScoredPoint]:
        with self._reading() as shard:
            return _hits(shard.query(self._dense_request(vector, limit, where)))

    @store_operation("search")
    def search_lexical(self, query: Sparse, *, limit: int, where: Where) -> list[ScoredPoint]:
        with self._reading() as shard:
            return _hits(shard.query(self._lexical_request(query, limit, where)))

    @store_operation("search")
    def search_both(self, vector: Sequence[float], query: Sparse, *, limit: int, where: Where
                    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        from qdrant_edge import QueryBatchRequest

        with self._reading() as shard:
            dense, lexical = shard.query_batch(QueryBatchRequest([
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

    @store_operation("count points")
    def count(self, where: Where | None = None) -> int:
        from qdrant_edge import CountRequest

        with self._reading() as shard:
            return int(shard.count(CountRequest(filter=to_edge_filter(where))))

    def scroll(self, where: Where, *, batch: int = SCROLL_PAGE) -> Iterator[list[PointPayload]]:
        return scroll_pages(self._scroll_page, where, batch)

    @store_operation("read points")
    def _scroll_page(self, where: Where, offset, batch: int) -> tuple[list[PointPayload], object]:
        from qdrant_edge import ScrollRequest

        with self._reading() as shard:
            records, offset = shard.scroll(ScrollRequest(offset=offset, limit=batch, filter=to_edge_filter(where),
                                                         with_payload=True, with_vector=False))
        return [PointPayload(str(r.id), r.payload or {}) for r in records], offset

    def close(self) -> None:
        with self._write_lock:
            if self._live is not None:
                self._live.shard.flush()
                self._swap(None)


def _close_generation(generation: _Generation) -> None:
    generation.shard.close()
    if generation.replaced:
        shutil.rmtree(generation.path, ignore_errors=True)


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
