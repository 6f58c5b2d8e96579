"""SIGKILL at chosen moments of a real server process (``SIFT_CRASH_AT``): nothing is lost or half-written.

Each test starts ``sift serve``, makes it die at one crash point (``retrieval.crashpoints``), starts
it again on the same data folder and checks what a client sees: every document whole (one version,
all of its chunks), questions answered, and new writes accepted.
"""

from __future__ import annotations

import signal
import threading

import httpx
import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow


def _guide(version: str, paragraphs: int = 12) -> dict:
    content = "\n\n".join(f"Guide {version}, step {i}: open the {version} settings page and press button {i}."
                          for i in range(paragraphs))
    return {"id": "guide", "title": f"Guide {version}", "content": content}


def _chunks(url: str, collection: str, doc_id: str) -> dict:
    response = httpx.get(f"{url}/v1/collections/{collection}/documents/{doc_id}/chunks", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_killed_between_vectors_and_catalog_the_last_acknowledged_version_stays_whole(tmp_path):
    data_dir = tmp_path / "data"
    with ServerProcess(data_dir) as server:
        assert httpx.post(f"{server.url}/v1/collections/kb/documents", json={"documents": [_guide("alpha")]},
                          timeout=60).status_code == 200
        server.stop()

    crashing = ServerProcess(data_dir, SIFT_CRASH_AT="index.vectors_flushed").start()
    try:
        with pytest.raises(httpx.TransportError):  # the process dies before it can answer
            httpx.post(f"{crashing.url}/v1/collections/kb/documents",
                       json={"documents": [_guide("beta", paragraphs=30)]}, timeout=60)
        assert crashing.wait_for_exit() == -signal.SIGKILL
    finally:
        crashing.kill()

    with ServerProcess(data_dir) as server:
        live = _chunks(server.url, "kb", "guide")
        assert live["document"]["title"] == "Guide alpha"
        assert len(live["chunks"]) == live["document"]["chunks"]
        assert all("alpha" in chunk["text"] and "beta" not in chunk["text"] for chunk in live["chunks"])
        answer = httpx.post(f"{server.url}/v1/query", json={"question": "beta settings page button",
                                                             "collection": "kb"}, timeout=60).json()
        assert answer["results"] and all("beta" not in r["text"] for r in answer["results"])

        again = httpx.post(f"{server.url}/v1/collections/kb/documents",
                           json={"documents": [_guide("beta", paragraphs=30)]}, timeout=60)
        assert again.json()["documents"][0]["status"] == "updated"
        live = _chunks(server.url, "kb", "guide")
        assert len(live["chunks"]) == live["document"]["chunks"]
        assert all("beta" in chunk["text"] for chunk in live["chunks"])


@pytest.mark.parametrize("point", ["rebuild.copy_optimized", "rebuild.state_saved"])
def test_killed_during_an_index_rebuild_with_questions_running_every_document_survives(tmp_path, point):
    data_dir = tmp_path / "data"
    documents = [{"id": f"doc-{i:02d}", "title": f"Topic {i}",
                  "content": " ".join(f"Topic {i} paragraph {j} explains setting {j}." for j in range(40))}
                 for i in range(30)]
    # A rebuild as soon as there is anything to index and writes have stopped.
    server = ServerProcess(data_dir, SIFT_CRASH_AT=point, SIFT_INDEX_MIN_POINTS="1", SIFT_INDEX_QUIET_S="0",
                           SIFT_ASYNC_FILES="100").start()
    statuses: list[int] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                statuses.append(httpx.post(f"{server.url}/v1/query", json={"question": "topic 7 setting 3",
                                                                           "collection": "kb"}, timeout=30
                                           ).status_code)
            except httpx.TransportError:
                return  # the process is gone

    try:
        response = httpx.post(f"{server.url}/v1/collections/kb/documents", json={"documents": documents},
                              timeout=120)
        assert response.status_code == 200
        asker = threading.Thread(target=ask)
        asker.start()
        assert server.wait_for_exit(timeout_s=90) == -signal.SIGKILL  # the maintainer reached the point
        stop.set()
        asker.join(timeout=30)
    finally:
        stop.set()
        server.kill()
    assert statuses and set(statuses) == {200}  # questions kept being answered until the crash

    with ServerProcess(data_dir) as server:
        listed = httpx.get(f"{server.url}/v1/collections/kb/documents", timeout=30).json()
        assert listed["total"] == len(documents)
        for document in listed["documents"]:
            live = _chunks(server.url, "kb", document["id"])
            assert len(live["chunks"]) == document["chunks"] > 0
        answer = httpx.post(f"{server.url}/v1/query", json={"question": "topic 7 setting 3", "collection": "kb"},
                            timeout=60).json()
        assert answer["results"][0]["doc_id"] == "doc-07"
        more = httpx.post(f"{server.url}/v1/collections/kb/documents",
                          json={"documents": [{"id": "late", "content": "A page written after the crash."}]},
                          timeout=60)
        assert more.json()["documents"][0]["status"] == "created"
