"""Every bad input gets a 4xx naming the problem, and the store is unchanged."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLE_KB, point_count, upload_files

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@pytest.fixture()
def seeded(client, sift, collection):
    """A collection with one document, and the store's point count."""
    assert upload_files(client, collection, [SAMPLE_KB / "data-export.md"]).status_code == 200
    return collection, point_count(sift)


def _assert_error(response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    for needle in needles:
        assert needle in message, message


def _files(*parts):
    return [("files", part) for part in parts]


@pytest.mark.parametrize(
    ("parts", "status", "needles"),
    [
        ([("empty.html", b"", "text/html")], 400, ["empty.html", "empty"]),
        ([("logo.html", PNG, "text/html")], 415, ["logo.html"]),
        ([("report.xlsx", b"PK\x03\x04....", "application/vnd.ms-excel")], 415, ["unsupported", "report.xlsx"]),
        ([("blank.html", b"<html><body><script>x()</script>  </body></html>", "text/html")], 422, ["blank.html"]),
        # One bad file among good ones: nothing of the request is written.
        ([("ok.md", b"# Fine\n\nA fine page.", "text/markdown"), ("bad.txt", PNG, "text/plain")], 415, ["bad.txt"]),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(client, sift, seeded, parts, status, needles):
    collection, points = seeded
    response = client.post(f"/v1/collections/{collection}/documents", files=_files(*parts))
    _assert_error(response, status, *needles)
    assert point_count(sift) == points
    ids = [d["id"] for d in client.get(f"/v1/collections/{collection}/documents").json()["documents"]]
    assert ids == ["data-export.md"]


def test_oversize_file_gets_413(client, sift, seeded, monkeypatch):
    collection, points = seeded
    monkeypatch.setattr(sift.settings, "max_upload_bytes", 4096)
    response = client.post(f"/v1/collections/{collection}/documents",
                           files=_files(("big.txt", b"word " * 2000, "text/plain")))
    _assert_error(response, 413, "big.txt", "4096")
    response = client.post(f"/v1/collections/{collection}/documents",
                           json={"documents": [{"content": "word " * 2000}]})
    _assert_error(response, 413, "4096")
    assert point_count(sift) == points


@pytest.mark.parametrize(
    ("body", "status", "needles"),
    [
        (b'{"documents": [', 400, ["malformed JSON"]),
        (b'{"documents": []}', 400, ["documents"]),
        (b'{"documents": [{"title": "no content"}]}', 400, ["content", "Field required"]),
        (b'{"documents": [{"content": "x", "content_type": "application/pdf"}]}', 415, ["application/pdf"]),
        (b'{"docs": [{"content": "x"}]}', 400, ["documents"]),
    ],
)
def test_bad_json_uploads(client, sift, seeded, body, status, needles):
    collection, points = seeded
    response = client.post(f"/v1/collections/{collection}/documents", content=body,
                           headers={"content-type": "application/json"})
    _assert_error(response, status, *needles)
    assert point_count(sift) == points


def test_upload_without_files_or_json(client, seeded):
    collection, _ = seeded
    _assert_error(client.post(f"/v1/collections/{collection}/documents", content=b"hello",
                              headers={"content-type": "text/plain"}), 400, "multipart/form-data")
    _assert_error(client.post(f"/v1/collections/{collection}/documents", data={"other": "x"}), 400, "files")


def test_invalid_collection_name(client):
    response = client.post("/v1/collections/bad name!/documents", json={"documents": [{"content": "x"}]})
    assert response.status_code == 422


def test_unknown_collection_and_document(client, seeded):
    collection, _ = seeded
    _assert_error(client.post("/v1/query", json={"question": "hi", "collection": "no-such"}), 404, "no-such")
    _assert_error(client.get("/v1/collections/no-such/documents"), 404, "no-such")
    _assert_error(client.get(f"/v1/collections/{collection}/documents/missing.html"), 404, "missing.html")
    _assert_error(client.delete(f"/v1/collections/{collection}/documents/missing.html"), 404, "missing.html")


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"question": "hi", "top_k": 0}, ["top_k"]),
        ({"question": "hi", "top_k": 101}, ["top_k"]),
        ({"question": "hi", "candidates": 0}, ["candidates"]),
        ({"question": "hi", "candidates": 5000}, ["candidates"]),
        ({"question": "   "}, ["question"]),
        ({}, ["question", "Field required"]),
        ({"question": "hi", "filters": {"collection": "other"}}, ["unknown filter field 'collection'"]),
        ({"question": "hi", "surprise": 1}, ["surprise"]),
        ({"question": "\x1d\u3000"}, ["question must not be blank"]),
        ({"question": "hi", "min_score": False}, ["min_score"]),  # a boolean is not a number
        ({"question": "hi", "top_k": "5"}, ["top_k"]),
    ],
)
def test_bad_queries(client, seeded, body, needles):
    collection, _ = seeded
    _assert_error(client.post("/v1/query", json={"collection": collection, **body}), 422, *needles)


def test_whole_numbers_are_integers(client, seeded):
    collection, _ = seeded
    response = client.post("/v1/query", json={"question": "export", "collection": collection, "top_k": 2.0})
    assert response.status_code == 200 and len(response.json()["results"]) <= 2


def test_a_document_id_may_not_end_in_chunks(client, sift, seeded):
    collection, points = seeded
    _assert_error(client.post(f"/v1/collections/{collection}/documents",
                              json={"documents": [{"id": "guide/chunks", "content": "x"}]}), 400, "/chunks")
    assert point_count(sift) == points
    # That URL reads chunks only: no DELETE of a document named "…/chunks" hides behind it.
    response = client.delete(f"/v1/collections/{collection}/documents/data-export.md/chunks")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert point_count(sift) == points


def test_malformed_query_json(client):
    response = client.post("/v1/query", content=b"{not json", headers={"content-type": "application/json"})
    _assert_error(response, 422, "JSON")


def test_rerank_bad_input(client):
    _assert_error(client.post("/v1/rerank", json={"query": "q", "documents": []}), 422, "documents")
    _assert_error(client.post("/v1/rerank", json={"documents": ["a"]}), 422, "query")
    _assert_error(client.post("/v1/rerank", json={"query": "q", "documents": ["a"], "top_n": 0}), 422, "top_n")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/rerank", {"query": "q", "documents": ["a", {"text": "b"}]}),
    ("POST", "/v2/rerank", {"model": "m", "query": "q", "documents": ["a"]}),
    ("POST", "/rerank", {"query": "q", "texts": ["a"]}),
    ("GET", "/info", None),
])
def test_rerank_without_a_reranker_is_a_permanent_501_not_fake_scores(client, method, path, body):
    response = client.request(method, path, json=body)
    _assert_error(response, 501, "no reranker is configured")
    assert response.json()["error"]["code"] == "reranker_not_configured"
    assert "retry-after" not in response.headers  # permanent: nothing to wait for


def test_rerank_protocols_bad_input(client):
    _assert_error(client.post("/v2/rerank", json={"query": "q", "documents": ["a"]}), 422, "model")
    _assert_error(client.post("/v2/rerank", json={"model": "m", "query": "q", "documents": [{"text": "a"}]}),
                  422, "documents")
    _assert_error(client.post("/rerank", json={"query": "q", "texts": []}), 422, "texts")
    _assert_error(client.post("/rerank", json={"query": "q", "texts": ["a"], "truncation_direction": "up"}),
                  422, "truncation_direction")
    _assert_error(client.post("/v1/rerank", json={"query": "q", "documents": [{"title": "a"}]}), 422, "text")
    _assert_error(client.post("/v1/rerank", json={"query": "q", "documents": [{"text": "a"}],
                                                  "rank_fields": ["title"]}), 422, "title")


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "needles"),
    [
        ("bomb.zip", _zip({"a.txt": b"0" * 50_000}), 413, ["a.txt", "decompresses"]),
        ("nested.zip", _zip({"inner.zip": _zip({"a.txt": b"hi"})}), 400, ["nested archives"]),
        ("empty.zip", _zip({"logo.png": b"\x89PNG"}), 400, ["no supported documents"]),
        ("broken.zip", b"PK\x03\x04 not really", 400, ["not a valid zip"]),
        ("page.html.gz", b"\x1f\x8b not gzip", 400, ["not valid gzip"]),
        ("bomb.txt.gz", __import__("gzip").compress(b"0" * 50_000), 413, ["decompresses"]),
    ],
)
def test_bad_archives(client, sift, seeded, monkeypatch, name, data, status, needles):
    collection, points = seeded
    monkeypatch.setattr(sift.settings, "max_upload_bytes", 20_000)
    response = client.post(f"/v1/collections/{collection}/documents", files=_files((name, data, "application/zip")))
    _assert_error(response, status, *needles)
    assert point_count(sift) == points


def test_too_many_files_in_one_request(client, sift, seeded, monkeypatch):
    collection, points = seeded
    monkeypatch.setattr(sift.settings, "max_files_per_request", 2)
    archive = _zip({f"n{i}.txt": b"note" for i in range(3)})
    response = client.post(f"/v1/collections/{collection}/documents", files=_files(("notes.zip", archive, "x")))
    _assert_error(response, 413, "3 entries", "SIFT_MAX_FILES_PER_REQUEST")
    response = client.post(f"/v1/collections/{collection}/documents",
                           json={"documents": [{"content": "a"}, {"content": "b"}, {"content": "c"}]})
    _assert_error(response, 413, "SIFT_MAX_FILES_PER_REQUEST")
    assert point_count(sift) == points
