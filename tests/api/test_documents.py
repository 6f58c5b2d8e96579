"""Upload, list, read, replace and delete documents through the real HTTP app."""

from __future__ import annotations

from tests.conftest import SAMPLE_KB, point_count, upload_files


def test_multipart_upload_creates_documents_with_chunks(client, sift, collection):
    paths = sorted(SAMPLE_KB.iterdir())
    response = upload_files(client, collection, paths)
    assert response.status_code == 200, response.text
    documents = response.json()["documents"]
    assert [d["id"] for d in documents] == [p.name for p in paths]
    assert all(d["status"] == "created" and d["chunks"] >= 1 for d in documents)
    assert point_count(sift, collection) == sum(d["chunks"] for d in documents)

    listed = client.get(f"/v1/collections/{collection}/documents").json()["documents"]
    assert {d["id"] for d in listed} == {p.name for p in paths}
    titles = {d["id"]: d["title"] for d in listed}
    assert titles["reset-password.html"].startswith("How to reset your password")
    assert titles["data-export.md"] == "Exporting your workspace data"
    assert all(len(d["content_hash"]) == 64 and d["updated_at"] > 0 for d in listed)

    names = [c["name"] for c in client.get("/v1/collections").json()["collections"]]
    assert collection in names


def test_reingest_unchanged_changes_nothing(client, sift, collection):
    page = SAMPLE_KB / "billing-refunds.html"
    first = upload_files(client, collection, [page]).json()["documents"][0]
    before = client.get(f"/v1/collections/{collection}/documents/billing-refunds.html").json()
    points = point_count(sift, collection)

    again = upload_files(client, collection, [page]).json()["documents"][0]
    assert again["status"] == "unchanged" and again["chunks"] == first["chunks"]
    assert point_count(sift, collection) == points
    after = client.get(f"/v1/collections/{collection}/documents/billing-refunds.html").json()
    assert after == before


def test_changed_content_replaces_every_chunk(client, sift, collection):
    old = {"id": "faq", "title": "FAQ", "content": "Our office opens at nine. " * 200, "content_type": "text/plain"}
    created = client.post(f"/v1/collections/{collection}/documents", json={"documents": [old]}).json()
    assert created["documents"][0]["status"] == "created"
    assert created["documents"][0]["chunks"] > 1

    new = {**old, "content": "Support is available around the clock on weekdays."}
    updated = client.post(f"/v1/collections/{collection}/documents", json={"documents": [new]}).json()
    assert updated["documents"][0] == {"id": "faq", "title": "FAQ", "chunks": 1, "status": "updated",
                                        "warnings": []}
    assert point_count(sift, collection) == 1

    answer = client.post("/v1/query", json={"question": "when does the office open", "collection": collection})
    texts = [r["text"] for r in answer.json()["results"]]
    assert texts == ["Support is available around the clock on weekdays."]


def test_delete_removes_every_chunk(client, sift, collection):
    upload_files(client, collection, [SAMPLE_KB / "reset-password.html", SAMPLE_KB / "data-export.md"])
    export_chunks = client.get(f"/v1/collections/{collection}/documents/data-export.md").json()["chunks"]
    total = point_count(sift, collection)

    response = client.delete(f"/v1/collections/{collection}/documents/reset-password.html")
    assert response.status_code == 204
    assert point_count(sift, collection) == export_chunks < total
    assert client.get(f"/v1/collections/{collection}/documents/reset-password.html").status_code == 404
    results = client.post("/v1/query", json={"question": "reset my password", "collection": collection}).json()
    assert {r["doc_id"] for r in results["results"]} == {"data-export.md"}


def test_json_upload_keeps_ids_urls_and_metadata_filters(client, collection):
    documents = [
        {"id": "vpn-win", "title": "VPN on Windows", "url": "https://help.example/vpn-win",
         "content": "<h1>VPN on Windows</h1><p>Install the VPN client from the Software Center.</p>",
         "content_type": "text/html", "metadata": {"os": "windows"}},
        {"id": "vpn-mac", "title": "VPN on macOS", "url": "https://help.example/vpn-mac",
         "content": "# VPN on macOS\n\nInstall the VPN client from Self Service.", "content_type": "text/markdown",
         "metadata": {"os": "mac"}},
    ]
    response = client.post(f"/v1/collections/{collection}/documents", json={"documents": documents})
    assert response.status_code == 200, response.text

    body = {"question": "install the VPN client", "collection": collection, "filters": {"metadata.os": "mac"}}
    results = client.post("/v1/query", json=body).json()["results"]
    assert [r["doc_id"] for r in results] == ["vpn-mac"]
    assert results[0]["url"] == "https://help.example/vpn-mac"


def test_collection_instruction_is_stored(client, collection):
    upload_files(client, collection, [SAMPLE_KB / "data-export.md"])
    response = client.patch(f"/v1/collections/{collection}", json={"instruction": "Find admin how-tos"})
    assert response.status_code == 200
    assert response.json()["instruction"] == "Find admin how-tos"
    assert client.patch("/v1/collections/nope-missing", json={"instruction": "x"}).status_code == 404


def test_zip_and_gzip_uploads_are_unpacked(client, collection):
    import gzip
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("help/reset-password.html", (SAMPLE_KB / "reset-password.html").read_bytes())
        archive.writestr("help/export.md", (SAMPLE_KB / "data-export.md").read_bytes())
        archive.writestr("help/logo.png", b"\x89PNG\r\n\x1a\n")  # not a document type: skipped
    files = [("files", ("kb.zip", buffer.getvalue(), "application/zip")),
             ("files", ("billing.html.gz", gzip.compress((SAMPLE_KB / "billing-refunds.html").read_bytes()),
                        "application/gzip"))]
    response = client.post(f"/v1/collections/{collection}/documents", files=files)
    assert response.status_code == 200, response.text
    assert [d["id"] for d in response.json()["documents"]] == [
        "kb.zip/help/reset-password.html", "kb.zip/help/export.md", "billing.html"]
