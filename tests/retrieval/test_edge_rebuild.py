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


def test_writes_during_a_rebuild_are_kept_and_readers_keep_their_shard(tmp_path):
    store = EdgeStore(tmp_path / "qdrant")
    store.open(DIM)
    store.upsert(_points(2000, collection="a", doc="d1", seed=21))
    where = Where(must={"collection": "a"})
    late = _points(50, collection="a", doc="d2", seed=22)

    # A query that holds the old shard across the swap.
    with store._reading() as old_shard:
        rebuild = threading.Thread(target=store.rebuild_index)
        rebuild.start()
        written = 0
        while rebuild.is_alive() and written < len(late):  # writes do not wait for the optimizer
            store.upsert(late[written:written + 10])
            written += 10
        store.upsert(late[written:])
        store.delete(Where(must={"collection": "a", "doc_id": "d1"}, must_not={}))
        rebuild.join()
        from qdrant_edge import CountRequest

        assert old_shard.count(CountRequest()) >= 0  # still open: no crash reading a replaced shard
    assert store.count(where) == 50  # every write made during the rebuild is in the new shard
    assert store.count(Where(must={"collection": "a", "doc_id": "d1"})) == 0
    assert sorted(p.name for p in (tmp_path / "qdrant").iterdir()) == ["CURRENT.json", "shard-000002"]
    store.close()


def test_a_rebuild_past_its_time_limit_is_stopped_and_the_live_shard_kept(tmp_path):
    from retrieval.errors import StoreUnavailable

    store = EdgeStore(tmp_path / "qdrant", rebuild_timeout_s=0.01)
    store.open(DIM)
    store.upsert(_points(500, collection="a", doc="d1", seed=31))
    try:
        store.rebuild_index()
        raise AssertionError("the rebuild should have been stopped")
    except StoreUnavailable as exc:
        assert "longer than" in str(exc)
    assert sorted(p.name for p in (tmp_path / "qdrant").iterdir()) == ["CURRENT.json", "shard-000001"]
    store.upsert(_points(5, collection="a", doc="d2", seed=32))  # writes are not stuck
    assert store.count() == 505
    store.close()
