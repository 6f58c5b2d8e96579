"""One contract, run against both Qdrant back-ends: the embedded engine and the client API.

The client back-end runs against qdrant-client's in-memory mode here (no server on CI); with
a Qdrant server, set SIFT_TEST_QDRANT_URL to run the same contract against it.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from retrieval.edge_store import EdgeStore
from retrieval.errors import StoreIncompatible
from retrieval.server_store import ServerStore
from retrieval.store import Sparse, StoredPoint, Where

DIM = 8


@pytest.fixture(params=["edge", "client"])
def store(request, tmp_path):
    if request.param == "edge":
        backend = EdgeStore(tmp_path / "shard")
    else:
        url = os.environ.get("SIFT_TEST_QDRANT_URL", ":memory:")
        backend = ServerStore(url, collection=f"test_{uuid.uuid4().hex[:8]}")
    backend.open(DIM)
    yield backend
    backend.close()


def _points(n: int, *, collection: str, doc: str, version: str = "v1", seed: int = 0) -> list[StoredPoint]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM))
    return [
        StoredPoint(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{collection}/{doc}/{version}/{i}")),
            dense=(v / np.linalg.norm(v)).tolist(),
            lexical=Sparse([i % 7, 100 + i], [1.0, 1.0]),
            payload={"collection": collection, "doc_id": doc, "content_hash": version, "chunk_index": i,
                     "metadata": {"lang": "en" if i % 2 else "zh"}},
        )
        for i, v in enumerate(vectors)
    ]


def test_upsert_is_idempotent_and_counts_by_filter(store):
    points = _points(5, collection="a", doc="d1") + _points(3, collection="b", doc="d2", seed=1)
    store.upsert(points)
    store.upsert(points)
    assert store.count() == 8
    assert store.count(Where(must={"collection": "a"})) == 5
    assert store.count(Where(must={"doc_id": ["d1", "d2"]})) == 8


def test_scroll_yields_every_matching_point_once_in_batches(store):
    store.upsert(_points(7, collection="a", doc="d1") + _points(4, collection="b", doc="d2", seed=1))
    batches = list(store.scroll(Where(must={"collection": "a"}), batch=3))
    ids = [point.id for batch in batches for point in batch]
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert sorted(ids) == sorted(p.id for p in _points(7, collection="a", doc="d1"))
    assert {point.payload["doc_id"] for batch in batches for point in batch} == {"d1"}


def test_search_finds_the_exact_vector_within_the_filter(store):
    points = _points(20, collection="a", doc="d1") + _points(20, collection="b", doc="d2", seed=1)
    store.upsert(points)
    target = points[7]
    hits = store.search(target.dense, limit=5, where=Where(must={"collection": "a"}))
    assert hits[0].id == target.id
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert all(h.payload["collection"] == "a" for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    nested = store.search(target.dense, limit=50, where=Where(must={"collection": "a", "metadata.lang": "zh"}))
    assert len(nested) == 10 and all(h.payload["metadata"]["lang"] == "zh" for h in nested)


def test_delete_by_filter_with_must_not(store):
    store.upsert(_points(4, collection="a", doc="d1", version="v1"))
    store.upsert(_points(2, collection="a", doc="d1", version="v2", seed=3))
    store.delete(Where(must={"collection": "a", "doc_id": "d1"}, must_not={"content_hash": "v2"}))
    assert store.count() == 2
    assert store.count(Where(must={"content_hash": "v2"})) == 2
    with pytest.raises(ValueError):
        store.delete(Where())


def test_lexical_search_weights_rare_terms_by_idf(store):
    points = _points(20, collection="a", doc="d1")
    store.upsert(points)
    where = Where(must={"collection": "a"})
    # Term 105 is in one point only (rare, high IDF); term 0 in three (i % 7 == 0).
    hits = store.search_lexical(Sparse([105, 0], [1.0, 1.0]), limit=5, where=where)
    assert hits[0].id == points[5].id
    assert {h.id for h in hits[1:4]} == {points[0].id, points[7].id, points[14].id}
    assert hits[0].score > hits[1].score > 0
    dense, lexical = store.search_both(points[3].dense, Sparse([105], [1.0]), limit=3, where=where)
    assert dense[0].id == points[3].id and [h.id for h in lexical] == [points[5].id]


def test_both_backends_return_the_same_ranking(tmp_path):
    points = _points(200, collection="a", doc="d1", seed=5)
    query = _points(1, collection="a", doc="q", seed=9)[0].dense
    rankings = []
    for backend in (EdgeStore(tmp_path / "shard"), ServerStore(":memory:", collection="same")):
        backend.open(DIM)
        backend.upsert(points)
        where = Where(must={"collection": "a"})
        dense, lexical = backend.search_both(query, Sparse([3, 150], [1.0, 1.0]), limit=10, where=where)
        # Lexical scores tie often (many points share a term); compare scores, and the top id.
        rankings.append(([h.id for h in dense], lexical[0].id, [round(h.score, 4) for h in lexical]))
        backend.close()
    assert rankings[0] == rankings[1]


def test_embedded_store_survives_reopen_and_checks_dimension(tmp_path):
    store = EdgeStore(tmp_path / "shard")
    store.open(DIM)
    store.upsert(_points(3, collection="a", doc="d1"))
    store.close()

    reopened = EdgeStore(tmp_path / "shard")
    reopened.open(DIM)
    assert reopened.count() == 3
    reopened.close()

    with pytest.raises(StoreIncompatible, match="8-d vectors"):
        EdgeStore(tmp_path / "shard").open(DIM * 2)


def test_scroll_reads_payloads_by_filter_across_pages(store):
    store.upsert(_points(300, collection="a", doc="d1") + _points(4, collection="a", doc="d2", seed=1))
    records = [r for page in store.scroll(Where(must={"collection": "a", "doc_id": "d1"})) for r in page]
    assert len(records) == 300  # more than one page of the engine's scroll
    assert sorted(r.payload["chunk_index"] for r in records) == list(range(300))
    assert all(r.payload["doc_id"] == "d1" for r in records)
    assert len({r.id for r in records}) == 300
    assert list(store.scroll(Where(must={"collection": "nope"}))) == []
