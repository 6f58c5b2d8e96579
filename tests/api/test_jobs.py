"""Large or ``?async=true`` uploads become durable jobs with progress and per-file errors."""

from __future__ import annotations

import time

from tests.conftest import SAMPLE_KB, point_count
from tests.ingest.test_office import make_pdf


def _wait(client, job_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_async_upload_runs_as_a_job(client, sift, collection):
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in sorted(SAMPLE_KB.iterdir())]
    files.append(("files", ("broken.html", b"\x89PNG\r\n\x1a\n" + bytes(500), "text/html")))
    files.append(("files", ("manual.pdf", make_pdf([["Printer setup", "Press the blue button."]]), "application/pdf")))
    response = client.post(f"/v1/collections/{collection}/documents?async=true", files=files)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["state"] == "queued" and response.headers["location"] == accepted["status_url"]

    job = _wait(client, accepted["job_id"])
    assert job["state"] == "done"
    pages = len(list(SAMPLE_KB.iterdir()))
    assert job["files"] == {"total": pages + 2, "done": pages + 1, "failed": 1, "pending": 0}
    assert job["errors"] == [{"file": "broken.html", "error": job["errors"][0]["error"]}]
    assert "binary" in job["errors"][0]["error"]
    assert {d["status"] for d in job["documents"]} == {"created"}
    assert job["chunks_done"] == point_count(sift, collection)

    answer = client.post("/v1/query", json={"question": "printer blue button", "collection": collection}).json()
    assert answer["results"][0]["doc_id"] == "manual.pdf"


def test_many_files_switch_to_a_job(client, sift, collection, monkeypatch):
    monkeypatch.setattr(sift.settings, "async_files", 2)
    documents = [{"id": f"n{i}", "content": f"Note {i} about topic {i}."} for i in range(3)]
    response = client.post(f"/v1/collections/{collection}/documents", json={"documents": documents})
    assert response.status_code == 202
    job = _wait(client, response.json()["job_id"])
    assert job["files"]["done"] == 3 and job["chunks_done"] == 3


def test_unknown_job_is_404(client):
    response = client.get("/v1/jobs/does-not-exist")
    assert response.status_code == 404 and "does-not-exist" in response.json()["error"]["message"]
