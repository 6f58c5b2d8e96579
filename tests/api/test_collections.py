"""Create and delete collections, page and search documents, read a document's chunks, ask who a key is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore, Scope
from tests.conftest import SAMPLE_KB, point_count, upload_files


def test_create_then_delete_a_collection_with_its_documents(client, sift, collection):
    created = client.post("/v1/collections", json={"name": collection, "instruction": "Find help articles"})
    assert created.status_code == 201, created.text
    assert created.json()["documents"] == 0 and created.json()["instruction"] == "Find help articles"
    assert created.headers["location"] == f"/v1/collections/{collection}"
    again = client.post("/v1/collections", json={"name": collection})
    assert again.status_code == 409 and again.json()["error"]["code"] == "collection_exists"

    upload_files(client, collection, sorted(SAMPLE_KB.iterdir()))
    assert point_count(sift, collection) > 0
    deleted = client.delete(f"/v1/collections/{collection}")
    documents = len(list(SAMPLE_KB.iterdir()))
    assert deleted.status_code == 200 and deleted.json() == {"name": collection, "documents": documents}
    assert point_count(sift, collection) == 0
    assert sift.index.catalog.pending_writes() == []
    assert client.get(f"/v1/collections/{collection}/documents").status_code == 404
    assert collection not in [c["name"] for c in client.get("/v1/collections").json()["collections"]]
    assert client.delete(f"/v1/collections/{collection}").status_code == 404


def test_documents_are_paged_and_searchable_by_title(client, collection):
    documents = [{"id": f"doc-{i:02d}", "title": f"{'Refund' if i % 3 == 0 else 'Login'} guide {i}",
                  "content": f"Article number {i} about accounts."} for i in range(10)]
    assert client.post(f"/v1/collections/{collection}/documents", json={"documents": documents}).status_code == 200
    everything = client.get(f"/v1/collections/{collection}/documents").json()
    assert everything["total"] == 10 and len(everything["documents"]) == 10 and everything["limit"] is None

    page = client.get(f"/v1/collections/{collection}/documents", params={"limit": 4, "offset": 4}).json()
    assert [d["id"] for d in page["documents"]] == ["doc-04", "doc-05", "doc-06", "doc-07"]
    assert page["total"] == 10 and page["offset"] == 4 and page["limit"] == 4

    found = client.get(f"/v1/collections/{collection}/documents", params={"q": "refund", "limit": 2}).json()
    assert found["total"] == 4 and [d["id"] for d in found["documents"]] == ["doc-00", "doc-03"]
    assert client.get(f"/v1/collections/{collection}/documents", params={"q": "50%"}).json()["total"] == 0
    assert client.get(f"/v1/collections/{collection}/documents", params={"limit": 0}).status_code == 422


def test_chunks_of_a_document_are_its_live_version_in_order(client, sift, collection):
    long_text = "\n\n".join(f"## Step {i}\n\n" + f"Do step {i} carefully. " * 40 for i in range(8))
    body = {"documents": [{"id": "guides/setup.md", "title": "Setup", "content": long_text,
                           "content_type": "text/markdown"}]}
    written = client.post(f"/v1/collections/{collection}/documents", json=body).json()["documents"][0]
    assert written["chunks"] > 2

    response = client.get(f"/v1/collections/{collection}/documents/guides/setup.md/chunks")
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["document"]["id"] == "guides/setup.md"
    chunks = payload["chunks"]
    assert [c["index"] for c in chunks] == list(range(written["chunks"]))
    assert "Step 0" in chunks[0]["heading"] and "Step 7" in chunks[-1]["heading"]
    assert "Do step 0 carefully." in chunks[0]["text"]

    body["documents"][0]["content"] = "# Setup\n\nJust one short step."
    client.post(f"/v1/collections/{collection}/documents", json=body)
    replaced = client.get(f"/v1/collections/{collection}/documents/guides/setup.md/chunks").json()["chunks"]
    assert len(replaced) == 1 and replaced[0]["text"].endswith("Just one short step.")
    assert client.get(f"/v1/collections/{collection}/documents/nope/chunks").status_code == 404
    # The plain document route still answers for the same id.
    assert client.get(f"/v1/collections/{collection}/documents/guides/setup.md").json()["chunks"] == 1


def test_health_reports_version_and_ingestion_queue(client):
    health = client.get("/health").json()
    assert health["version"] == "0.1.0"
    assert health["jobs"] == {"queued": 0, "running": 0}


@pytest.fixture()
def keyed(sift, tmp_path) -> Iterator[tuple[TestClient, KeyStore]]:
    """The shared service behind an app whose own key store holds keys, so it requires them."""
    app = create_app(sift=sift)
    app.state.keys.close()
    app.state.keys = KeyStore(tmp_path / "keys.sqlite3")
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client, app.state.keys


def test_collection_routes_check_scope_and_collection(keyed, collection):
    client, keys = keyed
    _, writer = keys.create(name="writer", scopes={Scope.WRITE}, collections={collection})
    _, admin = keys.create(name="ops", scopes={Scope.ADMIN})
    as_writer = {"Authorization": f"Bearer {writer}"}
    assert client.post("/v1/collections", json={"name": collection}).status_code == 401
    assert client.post("/v1/collections", json={"name": "other-" + collection}, headers=as_writer).status_code == 403
    assert client.post("/v1/collections", json={"name": collection}, headers=as_writer).status_code == 201
    assert client.delete(f"/v1/collections/{collection}", headers=as_writer).status_code == 403
    assert client.delete(f"/v1/collections/{collection}",
                         headers={"Authorization": f"Bearer {admin}"}).status_code == 200

    me = client.get("/v1/whoami", headers=as_writer).json()
    assert me["name"] == "writer" and me["scopes"] == ["write"] and me["collections"] == [collection]
    assert client.get("/v1/whoami").status_code == 401


def test_a_collection_delete_cut_short_is_finished_at_the_next_start(client, sift, collection):
    upload_files(client, collection, [SAMPLE_KB / "billing-refunds.html", SAMPLE_KB / "reset-password.html"])
    assert point_count(sift, collection) > 0
    # What a crash right after the catalog forgot the collection leaves: its chunks, and their journal rows.
    assert sorted(sift.index.catalog.remove_collection(collection)) == ["billing-refunds.html", "reset-password.html"]
    assert client.get(f"/v1/collections/{collection}/documents").status_code == 404
    assert point_count(sift, collection) > 0
    assert sift.index.recover() == 2
    assert point_count(sift, collection) == 0
    assert sift.index.catalog.pending_writes() == []
