"""Every failure has its status and one error shape; health probes for orchestrators."""

from __future__ import annotations

import json
import re

from tests.conftest import SAMPLE_KB


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body["error"]


def test_unknown_routes_wrong_methods_and_unparsable_bodies_share_the_error_shape(client, collection):
    assert "/docs" in _error(client.get("/v1/nothing-here"), 404, "not_found")["message"]
    response = client.put(f"/v1/collections/{collection}/documents/some-id")
    _error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET"
    _error(client.post("/v1/query", content=b"{not json", headers={"content-type": "application/json"}),
           422, "invalid_request")
    _error(client.post(f"/v1/collections/{collection}/documents", content=b"--x\r\n",
                       headers={"content-type": "multipart/form-data"}), 400, "bad_request")


def test_openapi_references_only_defined_schemas(client):
    document = client.get("/openapi.json").json()
    references = set(re.findall(r"#/components/schemas/([\w.-]+)", json.dumps(document)))
    assert references <= set(document["components"]["schemas"])
    upload = document["paths"]["/v1/collections/{collection}/documents"]["post"]
    json_body = upload["requestBody"]["content"]["application/json"]["schema"]
    assert json_body == {"$ref": "#/components/schemas/DocumentsIn"}
    assert {"401", "403", "413", "429", "503"} <= set(upload["responses"])


def test_store_failure_is_503_with_retry_after_then_recovers(client, collection, sift):
    files = [("files", ("data-export.md", (SAMPLE_KB / "data-export.md").read_bytes(), "text/markdown"))]
    assert client.post(f"/v1/collections/{collection}/documents", files=files).status_code == 200
    question = {"question": "How do I export my data?", "collection": collection}
    assert client.get("/readyz").status_code == 200
    generation = sift.index.store._live
    path, shard = generation.path, generation.shard
    shard.close()
    try:
        error = _error(client.post("/v1/query", json=question), 503, "store_unavailable")
        assert "vector store" in error["message"] and str(path) not in error["message"]
        response = client.post("/v1/query", json=question)
        assert 1 <= int(response.headers["retry-after"]) <= 60
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        health = client.get("/health").json()
        assert health["status"] == "degraded" and health["store"]["ready"] is False
        assert client.get("/livez").status_code == 200
    finally:
        generation.shard = type(shard).load(str(path))
    assert client.post("/v1/query", json=question).status_code == 200
    assert client.get("/readyz").json() == {"status": "ok", "reason": None}


def test_metrics_count_requests_stages_and_unreranked_answers(client, collection):
    files = [("files", ("data-export.md", (SAMPLE_KB / "data-export.md").read_bytes(), "text/markdown"))]
    assert client.post(f"/v1/collections/{collection}/documents", files=files).status_code == 200
    answered = client.post("/v1/query", json={"question": "export my data", "collection": collection},
                           headers={"X-Request-ID": "ticket-42"})
    assert answered.headers["x-request-id"] == "ticket-42"
    assert len(client.get("/livez").headers["x-request-id"]) == 32
    text = client.get("/metrics").text
    for needle in ('http_requests_total{handler="/v1/query",method="POST",status="2xx"}',
                   'sift_stage_seconds_count{stage="retrieve"}', 'sift_answers_not_reranked_total{reason="absent"}',
                   "sift_rerank_queue_depth", 'sift_ingest_jobs{state="done"}', "sift_store_points",
                   "sift_ingested_chunks_total"):
        assert needle in text, needle
