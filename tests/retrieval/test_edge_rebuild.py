"""The embedded store rebuilds its HNSW index on a copy, in a subprocess, while queries go on."""

from __future__ import annotations

import json
import threading
import time

from retrieval.edge_store import EdgeStore
from retrieval.store import Where
from tests.retrieval.test_store_contract import DIM, _points


def test_rebuild_swaps_in_an_indexed_copy_and_queries_continue(tmp_path):
    store = EdgeStore(tmp_path / "qdrant")
    store.open(DIM)
    points = _points(3000, collection="a", doc="d1", seed=11)
    for start in range(0, len(points), 500):
        store.upsert(points[start:start + 500])
    assert store.unindexed_writes == 3000
    where = Where(must={"collection": "a"})
    before = [h.id for h in store.search(points[42].dense, limit=10, where=where)]

    served, done = [], threading.Event()
    rebuild = threading.Thread(target=lambda: (store.rebuild_index(), done.set()))
    rebuild.start()
    while not done.is_set():
        started = time.perf_counter()
        store.search(points[len(served) % 100].dense, limit=10, where=where)
        served.append(time.perf_counter() - started)
    rebuild.join()

    assert len(served) >= 5, "queries stalled during the rebuild"
    state = json.loads((tmp_path / "qdrant" / "CURRENT.json").read_text())
    assert state == {"shard": "shard-000002", "indexed_points": 3000}
    assert sorted(p.name for p in (tmp_path / "qdrant").iterdir()) == ["CURRENT.json", "shard-000002"]
    assert store.unindexed_writes == 0 and store.rebuild_index() is False
    assert [h.id for h in store.search(points[42].dense, limit=10, where=where)] == before

    store.upsert(_points(5, collection="a", doc="d2", seed=12))
    store.close()
    reopened = EdgeStore(tmp_path / "qdrant")
    reopened.open(DIM)
    assert reopened.count() == 3005 and reopened.unindexed_writes == 5
    reopened.close()
