"""kill -9 during a large ingest: every document stays whole or absent, and the job resumes to the end."""

from __future__ import annotations

import time

import httpx
import pytest

from ingest.encoders import MINILM
from retrieval.catalog import Catalog, EmbedderRecord
from retrieval.edge_store import EdgeStore
from retrieval.index import KnowledgeIndex
from retrieval.store import Where
from tests.server_process import ServerProcess

DOCS = 150


def _check_whole_or_absent(data_dir) -> tuple[int, int]:
    """Open the store as the next server would; return (documents, points) after recovery."""
    index = KnowledgeIndex(EdgeStore(data_dir / "qdrant"), Catalog(data_dir / "catalog.sqlite3"))
    index.open(EmbedderRecord(MINILM, MINILM, 384))
    try:
        records = index.catalog.documents("big") if index.catalog.collection("big") else []
        for record in records:
            live = Where(must={"collection": "big", "doc_id": record.doc_id, "content_hash": record.content_hash})
            assert index.store.count(live) == record.chunks, record.doc_id
        points = index.store.count(Where(must={"collection": "big"}))
        assert points == sum(r.chunks for r in records)
        return len(records), points
    finally:
        index.close()


@pytest.mark.slow
def test_kill_9_mid_ingest_then_resume(tmp_path):
    data_dir = tmp_path / "data"
    documents = [{"id": f"doc-{i:03d}", "title": f"Topic {i}",
                  "content": " ".join(f"Paragraph {j} of document {i} explains step {j}." for j in range(60))}
                 for i in range(DOCS)]
    with ServerProcess(data_dir, SIFT_MAX_FILES_PER_REQUEST="500") as server:
        response = httpx.post(f"{server.url}/v1/collections/big/documents?async=true",
                              json={"documents": documents}, timeout=60)
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        while True:
            job = httpx.get(f"{server.url}/v1/jobs/{job_id}").json()
            assert job["state"] != "failed", job
            if job["files"]["done"] >= 10:
                break
            time.sleep(0.05)
        assert job["state"] == "running"
    # leaving the block killed it with SIGKILL

    written, _ = _check_whole_or_absent(data_dir)
    assert 10 <= written < DOCS

    with ServerProcess(data_dir, SIFT_MAX_FILES_PER_REQUEST="500") as server:
        deadline = time.monotonic() + 300
        while (job := httpx.get(f"{server.url}/v1/jobs/{job_id}").json())["state"] != "done":
            assert job["state"] != "failed" and time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["files"] == {"total": DOCS, "done": DOCS, "failed": 0, "pending": 0}
        again = httpx.post(f"{server.url}/v1/collections/big/documents",
                           json={"documents": documents[:20]}, timeout=120).json()
        assert {d["status"] for d in again["documents"]} == {"unchanged"}
        server.stop()

    assert _check_whole_or_absent(data_dir)[0] == DOCS
