"""The reranker behind the real HTTP app: reranked answers, instruction precedence, overload and failure.

All of it runs the transformers engine on the tiny random Qwen3 model: this proves wiring, prompt and
scoring, not ranking quality.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import Sift
from api.settings import load_settings
from tests.conftest import SAMPLE_KB, upload_files

pytestmark = pytest.mark.slow


def _service(tmp_path, tiny_model: str, **overrides) -> Sift:
    settings = load_settings(_env_file=None, data_dir=tmp_path / "data", rerank_engine="transformers",
                             rerank_model=tiny_model, **overrides)
    service = Sift(settings)
    service.start()
    return service


@pytest.fixture(scope="module")
def reranking(tmp_path_factory, tiny_model) -> Iterator[Sift]:
    service = _service(tmp_path_factory.mktemp("rerank"), tiny_model)
    with TestClient(create_app(sift=service), base_url="http://localhost") as client:
        assert upload_files(client, "kb", sorted(SAMPLE_KB.iterdir())).status_code == 200
    yield service
    asyncio.run(service.close())


@pytest.fixture()
def client(reranking) -> Iterator[TestClient]:
    with TestClient(create_app(sift=reranking), base_url="http://localhost") as test_client:
        yield test_client


def test_query_is_reranked_by_p_yes(client):
    body = client.post("/v1/query", json={"question": "reset my password", "collection": "kb", "top_k": 5,
                                          "candidates": 8}).json()
    assert body["reranked"] is True and body["rerank_error"] is None
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s < 1.0 for s in scores)
    assert [r["score"] for r in body["results"]] != [r["retrieval_score"] for r in body["results"]]
    assert "rerank" in body["timings_ms"]


def test_health_reports_a_ready_reranker(client, tiny_model):
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert health["reranker"]["engine"] == "transformers" and health["reranker"]["ready"] is True
    assert health["reranker"]["model"] == tiny_model


def test_rerank_endpoint_is_cohere_compatible(client, reranking):
    documents = ["Reset links expire after 30 minutes.", {"text": "Refunds take 5-10 business days."}, "VPN"]
    body = client.post("/v1/rerank", json={"query": "password reset", "documents": documents, "top_n": 2,
                                           "return_documents": True}).json()
    assert body["model"] == reranking.reranker.status()["model"]
    assert len(body["results"]) == 2
    first, second = body["results"]
    assert first["relevance_score"] >= second["relevance_score"]
    texts = [d if isinstance(d, str) else d["text"] for d in documents]
    assert first["document"]["text"] == texts[first["index"]]
    plain = client.post("/v1/rerank", json={"query": "password reset", "documents": documents}).json()
    assert len(plain["results"]) == 3 and "document" not in plain["results"][0]
    by_index = {r["index"]: r["relevance_score"] for r in plain["results"]}
    assert by_index[first["index"]] == pytest.approx(first["relevance_score"], abs=1e-6)


def test_instruction_precedence(client, reranking):
    docs = ["Reset links expire after 30 minutes.", "Refunds take 5-10 business days."]

    def scores(instruction=None):
        body = {"query": "password", "documents": docs, **({"instruction": instruction} if instruction else {})}
        return [r["relevance_score"] for r in sorted(client.post("/v1/rerank", json=body).json()["results"],
                                                     key=lambda r: r["index"])]

    default, custom = scores(), scores("Judge whether the passage is about billing")
    assert default != custom  # the instruction reaches the model
    assert reranking.reranker.resolve_instruction("req", "coll") == "req"
    assert reranking.reranker.resolve_instruction(None, "coll") == "coll"
    reranking.reranker.default_instruction = "env"
    try:
        assert reranking.reranker.resolve_instruction(None, None) == "env"
    finally:
        reranking.reranker.default_instruction = None
    assert reranking.reranker.resolve_instruction(None, None) is None  # the model card's default

    question = {"question": "reset my password", "collection": "kb", "top_k": 3, "candidates": 5}
    with_request = client.post("/v1/query", json={**question, "instruction": "Find billing pages"}).json()
    client.patch("/v1/collections/kb", json={"instruction": "Find billing pages"})
    try:
        with_collection = client.post("/v1/query", json=question).json()
    finally:
        client.patch("/v1/collections/kb", json={"instruction": None})
    plain = client.post("/v1/query", json=question).json()
    assert [r["score"] for r in with_collection["results"]] == [r["score"] for r in with_request["results"]]
    assert [r["score"] for r in plain["results"]] != [r["score"] for r in with_request["results"]]


def test_overload_gives_503_with_retry_after_and_degraded_queries(reranking):
    service = reranking.reranker
    service.max_queue, old_queue = 1, service.max_queue
    documents = [f"Document number {i} about resetting passwords and billing." for i in range(40)]

    async def burst():
        transport = httpx.ASGITransport(app=create_app(sift=reranking))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            reranks = [client.post("/v1/rerank", json={"query": "reset", "documents": documents})
                       for _ in range(12)]
            queries = [client.post("/v1/query", json={"question": "reset password", "collection": "kb",
                                                      "candidates": 10}) for _ in range(4)]
            return await asyncio.gather(*reranks, *queries)

    try:
        responses = asyncio.run(burst())
    finally:
        service.max_queue = old_queue
    reranks, queries = responses[:12], responses[12:]
    refused = [r for r in reranks if r.status_code == 503]
    assert refused and any(r.status_code == 200 for r in reranks)
    assert all(int(r.headers["retry-after"]) >= 1 and "queue is full" in r.json()["error"]["message"]
               for r in refused)
    assert all(r.status_code == 200 for r in queries)
    degraded = [q.json() for q in queries if not q.json()["reranked"]]
    assert all("queue is full" in q["rerank_error"] and q["results"] for q in degraded)


def test_timeout_degrades_queries_and_refuses_rerank(reranking):
    service = reranking.reranker
    service.timeout_s, old = 1e-6, service.timeout_s
    try:
        with TestClient(create_app(sift=reranking), base_url="http://localhost") as client:
            body = client.post("/v1/query", json={"question": "reset password", "collection": "kb"}).json()
            assert body["reranked"] is False and "timed out" in body["rerank_error"] and body["results"]
            response = client.post("/v1/rerank", json={"query": "q", "documents": ["a", "b"]})
            assert response.status_code == 503 and "timed out" in response.json()["error"]["message"]
            assert "retry-after" in response.headers
    finally:
        service.timeout_s = old


def test_a_model_that_cannot_load_is_reported_loudly(tmp_path, caplog):
    service = _service(tmp_path, str(tmp_path / "no-such-model"))
    try:
        assert "RERANKER NOT LOADED" in caplog.text
        with TestClient(create_app(sift=service), base_url="http://localhost") as client:
            health = client.get("/health").json()
            assert health["status"] == "degraded" and health["reranker"]["ready"] is False
            assert "failed to load" in health["reranker"]["error"]
            client.post("/v1/collections/x/documents", json={"documents": [{"content": "Password resets."}]})
            body = client.post("/v1/query", json={"question": "password", "collection": "x"}).json()
            assert body["reranked"] is False and "failed to load" in body["rerank_error"]
            assert client.post("/v1/rerank", json={"query": "q", "documents": ["a"]}).status_code == 503
    finally:
        asyncio.run(service.close())


def test_a_query_too_long_for_the_reranker_is_a_client_error(client, reranking):
    engine = reranking.reranker.engine
    engine.max_length, old = 64, engine.max_length
    try:
        question = "how do I reset the password of my account " * 10
        response = client.post("/v1/rerank", json={"query": question, "documents": ["a", "b"]})
        assert response.status_code == 422
        assert "SIFT_RERANK_MAX_LENGTH" in response.json()["error"]["message"]
        body = client.post("/v1/query", json={"question": question, "collection": "kb"}).json()
        assert body["reranked"] is False and "SIFT_RERANK_MAX_LENGTH" in body["rerank_error"] and body["results"]
    finally:
        engine.max_length = old
