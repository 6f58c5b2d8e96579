"""Heavy request work runs off the event loop: questions keep their latency while a large upload and a
100,000-deep nested page are parsed and cleaned."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

from api.app import create_app
from tests.conftest import SAMPLE_KB, live_server

pytestmark = pytest.mark.slow


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _ask(client: httpx.Client, collection: str, count: int) -> list[float]:
    """Latencies of lexical questions (no embedding: the encoder's own queueing is not what is measured)."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.post("/v1/query", json={"question": "export my data", "collection": collection,
                                                  "mode": "lexical"})
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return latencies


def test_questions_stay_fast_while_heavy_uploads_are_parsed(sift, collection):
    deep = "<html><body>" + "<div>" * 100_000 + "<p>Deep text.</p>" + "</div>" * 100_000 + "</body></html>"
    big_json = {"documents": [{"id": f"bulk-{i}", "content": "word " * 200_000} for i in range(3)]}  # ~3 MB
    with live_server(create_app(sift=sift)) as url, httpx.Client(base_url=url, headers={"host": "localhost"},
                                                                 timeout=120) as client:
        files = [("files", ("data-export.md", (SAMPLE_KB / "data-export.md").read_bytes(), "text/markdown"))]
        assert client.post(f"/v1/collections/{collection}/documents", files=files).status_code == 200
        _ask(client, collection, 5)  # warm up
        idle = _ask(client, collection, 40)
        statuses: list[int] = []
        jobs: list[str | None] = []

        def upload() -> None:
            with httpx.Client(base_url=url, headers={"host": "localhost"}, timeout=300) as uploader:
                statuses.append(uploader.post(f"/v1/collections/{collection}/documents",
                                              files=[("files", ("deep.html", deep.encode(), "text/html"))]
                                              ).status_code)
                accepted = uploader.post(f"/v1/collections/{collection}-bulk/documents?async=true", json=big_json)
                statuses.append(accepted.status_code)
                jobs.append(accepted.json().get("job_id"))

        worker = threading.Thread(target=upload)
        worker.start()
        busy = _ask(client, collection, 40)
        worker.join(timeout=300)
        if jobs and jobs[0]:  # the shared service's job runner must be free for the tests that follow
            deadline = time.monotonic() + 300
            while client.get(f"/v1/jobs/{jobs[0]}").json()["state"] not in ("done", "failed"):
                assert time.monotonic() < deadline, "the bulk job did not finish"
                time.sleep(0.5)
    assert statuses == [200, 202]
    # 2x idle, or idle + 0.3 s where idle is a few milliseconds and below the scheduler's noise on 2 cores.
    # Parsing on the event loop stalls questions for seconds here; off the loop, p95 was 0.10-0.12 s on
    # the 2-core machines this suite runs on (the parse and the ingest threads still share the cores).
    assert _p95(busy) <= max(2 * _p95(idle), _p95(idle) + 0.3), (_p95(idle), _p95(busy))
