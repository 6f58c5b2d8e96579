"""Dify's External Knowledge API: requests built as Dify builds them, answers and errors as Dify's spec says.

The request body and headers copy ``ExternalDatasetService.fetch_external_knowledge_retrieval`` and
``check_endpoint_and_api_key`` of langgenius/dify, api/services/external_knowledge_service.py at commit
68d5f22311030fd3949b210881a96f304ef91469: ``data=json.dumps(params)`` with ``Content-Type:
application/json`` and ``Authorization: Bearer <key>``; ``metadata_condition`` null unless set; the
endpoint check is a bare POST with only the Authorization header.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import Scope
from api.service import Sift
from api.settings import load_settings
from tests.conftest import SAMPLE_KB, upload_files


def dify_request(knowledge_id: str, query: str, *, top_k: int = 3, threshold: float | None = None,
                 metadata_condition: dict | None = None, api_key: str | None = None) -> dict:
    """Keyword arguments for ``TestClient.post`` that reproduce Dify's request."""
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    params = {
        "retrieval_setting": {"top_k": top_k, "score_threshold": threshold if threshold is not None else 0.0},
        "query": query,
        "knowledge_id": knowledge_id,
        "metadata_condition": metadata_condition,
    }
    return {"content": json.dumps(params), "headers": headers}


@pytest.fixture(scope="module")
def kb(sift) -> str:
    with TestClient(create_app(sift=sift), base_url="http://localhost") as client:
        assert upload_files(client, "dify-kb", sorted(SAMPLE_KB.iterdir())).status_code == 200
        client.post("/v1/collections/dify-kb/documents", json={"documents": [
            {"id": "vpn", "title": "VPN setup", "content": "Install the VPN client and sign in with your SSO account.",
             "metadata": {"team": "it"}}]})
    return "dify-kb"


def test_records_have_dify_fields_and_scores_in_0_1(client, kb):
    response = client.post("/retrieval", **dify_request(kb, "I forgot my password, how do I get a new one?"))
    assert response.status_code == 200, response.text
    records = response.json()["records"]
    assert len(records) == 3
    assert set(records[0]) == {"content", "score", "title", "metadata"}
    assert records[0]["metadata"]["doc_id"] == "reset-password.html"
    assert isinstance(records[0]["metadata"], dict) and None not in records[0]["metadata"].values()
    assert all(0.0 <= r["score"] <= 1.0 for r in records)
    assert [r["score"] for r in records] == sorted((r["score"] for r in records), reverse=True)
    query = client.post("/v1/query", json={"question": "I forgot my password, how do I get a new one?",
                                           "collection": kb, "top_k": 3}).json()
    assert [r["score"] for r in records] == [r["score"] for r in query["results"]]
    assert [r["content"] for r in records] == [r["text"] for r in query["results"]]


def test_score_threshold_leaves_records_out(client, kb):
    question = "I forgot my password, how do I get a new one?"
    records = client.post("/retrieval", **dify_request(kb, question, top_k=5)).json()["records"]
    cut = (records[0]["score"] + records[-1]["score"]) / 2
    kept = client.post("/retrieval", **dify_request(kb, question, top_k=5, threshold=cut)).json()["records"]
    assert 1 <= len(kept) < len(records) and all(r["score"] >= cut for r in kept)
    assert client.post("/retrieval", **dify_request(kb, question, threshold=1.0)).json() == {"records": []}


def test_metadata_condition_filters(client, kb):
    condition = {"logical_operator": "and",
                 "conditions": [{"name": "team", "comparison_operator": "is", "value": "it"}]}
    records = client.post("/retrieval", **dify_request(kb, "password", metadata_condition=condition)).json()["records"]
    assert [r["metadata"]["doc_id"] for r in records] == ["vpn"]
    older_spec = {"conditions": [{"name": ["doc_id"], "comparison_operator": "in", "value": ["vpn", "x"]}]}
    records = client.post("/retrieval", **dify_request(kb, "password", metadata_condition=older_spec)).json()
    assert [r["metadata"]["doc_id"] for r in records["records"]] == ["vpn"]
    unsupported = {"conditions": [{"name": "team", "comparison_operator": "contains", "value": "i"}]}
    response = client.post("/retrieval", **dify_request(kb, "password", metadata_condition=unsupported))
    assert response.status_code == 400
    assert response.json()["error_code"] == 400 and "contains" in response.json()["error_msg"]


def test_unknown_knowledge_is_2001(client):
    response = client.post("/retrieval", **dify_request("no-such-collection", "password"))
    assert response.status_code == 404
    assert response.json()["error_code"] == 2001 and "no-such-collection" in response.json()["error_msg"]


def test_invalid_request_keeps_difys_error_shape(client, kb):
    response = client.post("/retrieval", json={"knowledge_id": kb, "query": "q"})
    assert response.status_code == 422
    assert response.json()["error_code"] == 422 and "retrieval_setting" in response.json()["error_msg"]


@pytest.fixture(scope="module")
def keyed(tmp_path_factory) -> Iterator[tuple[TestClient, str, str]]:
    """A server that requires keys: (client, a query key for 'kb' only, a write-only key)."""
    settings = load_settings(_env_file=None, data_dir=tmp_path_factory.mktemp("dify-keys"), rerank_engine="none")
    service = Sift(settings)
    service.start()
    app = create_app(sift=service)
    with TestClient(app, base_url="http://localhost") as client:
        assert upload_files(client, "kb", sorted(SAMPLE_KB.iterdir())).status_code == 200
        client.post("/v1/collections/other/documents", json={"documents": [{"content": "Other things."}]})
        _, query_key = app.state.keys.create(name="dify", scopes={Scope.QUERY}, collections={"kb"})
        _, write_key = app.state.keys.create(name="writer", scopes={Scope.WRITE})
        yield client, query_key, write_key
    asyncio.run(service.close())


def test_dify_with_a_key(keyed):
    client, key, _ = keyed
    response = client.post("/retrieval", **dify_request("kb", "refund for the annual plan", api_key=key))
    assert response.status_code == 200, response.text
    assert response.json()["records"][0]["metadata"]["doc_id"] == "billing-refunds.html"


@pytest.mark.parametrize(("authorization", "code"), [
    (None, 1001), ("Token abc", 1001), ("Bearer not-a-key", 1002),
])
def test_auth_errors_are_difys_1001_and_1002_with_403(keyed, authorization, code):
    client, _, _ = keyed
    request = dify_request("kb", "password")
    if authorization:
        request["headers"]["Authorization"] = authorization
    response = client.post("/retrieval", **request)
    assert response.status_code == 403
    assert response.json()["error_code"] == code
    if code == 1001:
        assert response.json()["error_msg"].startswith("Invalid Authorization header format")


def test_key_without_the_collection_or_scope_is_1002(keyed):
    client, query_key, write_key = keyed
    for key, knowledge in ((query_key, "other"), (write_key, "kb")):
        response = client.post("/retrieval", **dify_request(knowledge, "password", api_key=key))
        assert response.status_code == 403 and response.json()["error_code"] == 1002, response.text


def test_difys_endpoint_check_passes_with_a_good_key_and_fails_with_a_bad_one(keyed):
    """Dify registers the API after a bare POST: 403 and 404 fail it, anything else passes."""
    client, key, _ = keyed
    assert client.post("/retrieval", headers={"Authorization": f"Bearer {key}"}).status_code not in (403, 404, 502)
    assert client.post("/retrieval", headers={"Authorization": "Bearer wrong"}).status_code == 403
