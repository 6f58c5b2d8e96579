"""Limits counted on the bytes actually read: each one a byte over, chunked bodies too, broken containers
and bombs answered 4xx with the store unchanged and the server's memory growth bounded."""

from __future__ import annotations

import io
import random
import struct
import threading
import time
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from api.app import create_app
from tests.conftest import SAMPLE_KB, live_server, point_count

MiB = 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


class PeakRss:
    """The highest resident size of this process (the server runs in it) while the block runs."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start


@pytest.fixture()
def limited(sift, monkeypatch):
    """Small limits, so that 'one byte over' is cheap to send."""
    for name, value in {"max_upload_bytes": 64 * 1024, "max_request_bytes": 256 * 1024,
                        "max_body_bytes": 32 * 1024, "max_inflated_bytes": 512 * 1024,
                        "max_files_per_request": 5, "max_question_chars": 100, "max_candidates": 80,
                        "rerank_max_documents": 10}.items():
        monkeypatch.setattr(sift.settings, name, value)
    return sift.settings


@pytest.fixture()
def seeded(client, sift, collection):
    files = [("files", ("data-export.md", (SAMPLE_KB / "data-export.md").read_bytes(), "text/markdown"))]
    assert client.post(f"/v1/collections/{collection}/documents", files=files).status_code == 200
    return collection, point_count(sift)


def _error(response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    for needle in needles:
        assert needle in message, message


def _chunks(total: int, size: int = 16 * 1024, first: bytes = b"") -> Iterator[bytes]:
    yield first
    sent = len(first)
    while sent < total:
        part = min(size, total - sent)
        yield b" " * part
        sent += part


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _files(*parts):
    return [("files", part) for part in parts]


# Each limit one byte over, then exactly at the limit.

def test_json_body_one_byte_over_with_and_without_content_length(client, limited, seeded, sift):
    collection, points = seeded
    body = b'{"question": "vpn", "collection": "%s"}' % collection.encode()
    at_limit = body + b" " * (limited.max_body_bytes - len(body))
    assert client.post("/v1/query", content=at_limit, headers={"content-type": "application/json"}
                       ).status_code == 200
    _error(client.post("/v1/query", content=at_limit + b" ", headers={"content-type": "application/json"}),
           413, "SIFT_MAX_BODY_BYTES")
    with live_server(create_app(sift=sift)) as url:
        chunked = httpx.post(f"{url}/v1/query", content=_chunks(len(at_limit) + 1, first=body),
                             headers={"content-type": "application/json", "host": "localhost"})
        assert "content-length" not in chunked.request.headers
        _error(chunked, 413, "SIFT_MAX_BODY_BYTES")
    assert point_count(sift) == points


def test_chunked_upload_over_the_request_limit(limited, seeded, sift):
    collection, points = seeded
    start = b'{"documents": [{"content": "'
    with live_server(create_app(sift=sift)) as url:
        response = httpx.post(f"{url}/v1/collections/{collection}/documents?async=true",
                              content=_chunks(limited.max_request_bytes + 1, first=start),
                              headers={"content-type": "application/json", "host": "localhost"})
    _error(response, 413, "SIFT_MAX_REQUEST_BYTES")
    assert point_count(sift) == points


def test_declared_content_length_over_the_limit_is_refused_before_reading(client, limited, seeded):
    collection, _ = seeded
    response = client.post(f"/v1/collections/{collection}/documents", content=b"{}",
                           headers={"content-type": "application/json",
                                    "content-length": str(limited.max_request_bytes + 1)})
    _error(response, 413, str(limited.max_request_bytes + 1), "SIFT_MAX_REQUEST_BYTES")


def test_json_document_one_byte_over_is_413_not_a_job(client, limited, seeded, sift):
    collection, points = seeded
    for size, status in ((limited.max_upload_bytes + 1, 413), (limited.max_upload_bytes, 202)):
        response = client.post(f"/v1/collections/{collection}/documents?async=true",
                               json={"documents": [{"id": f"big-{size}", "content": "x" * size}]})
        assert response.status_code == status, response.text
    _error(client.post(f"/v1/collections/{collection}/documents",
                       json={"documents": [{"content": "y" * (limited.max_upload_bytes + 1)}]}),
           413, "SIFT_MAX_UPLOAD_BYTES")


def test_question_candidates_and_rerank_documents_limits(client, limited, seeded):
    collection, _ = seeded
    ok = {"question": "q" * limited.max_question_chars, "collection": collection,
          "candidates": limited.max_candidates}
    assert client.post("/v1/query", json=ok).status_code == 200
    _error(client.post("/v1/query", json={**ok, "question": "q" * (limited.max_question_chars + 1)}),
           413, "SIFT_MAX_QUESTION_CHARS")
    _error(client.post("/v1/query", json={**ok, "candidates": limited.max_candidates + 1}),
           413, "SIFT_MAX_CANDIDATES")
    _error(client.post("/v1/rerank", json={"query": "q", "documents": ["d"] * (limited.rerank_max_documents + 1)}),
           413, "SIFT_RERANK_MAX_DOCUMENTS")
    refused = client.post("/v1/rerank", json={"query": "q", "documents": ["d"] * 5000})
    assert 400 <= refused.status_code < 500


def test_files_per_request_counts_archive_members_across_archives(client, limited, seeded, sift):
    collection, points = seeded
    archives = [(f"part{i}.zip", _zip({f"n{i}-{j}.txt": b"note" for j in range(2)}), "application/zip")
                for i in range(3)]  # 6 documents, the limit is 5
    _error(client.post(f"/v1/collections/{collection}/documents", files=_files(*archives)),
           413, "SIFT_MAX_FILES_PER_REQUEST")
    assert point_count(sift) == points


def test_inflated_bytes_are_counted_across_all_archives_of_a_request(client, limited, seeded, sift):
    collection, points = seeded
    member = b"a" * (60 * 1024)  # under the per-document limit, each archive alone under the budget
    archives = [(f"bulk{i}.zip", _zip({f"d{i}-{j}.txt": member for j in range(1)}), "application/zip")
                for i in range(5)]
    assert sum(len(a[1]) for a in archives) < 10 * 1024
    limited.max_inflated_bytes = 4 * len(member)
    _error(client.post(f"/v1/collections/{collection}/documents", files=_files(*archives)),
           413, "SIFT_MAX_INFLATED_BYTES")
    assert point_count(sift) == points


def _lying_size_zip() -> bytes:
    """A zip whose headers say its member is 10 bytes while it inflates to 1 MiB."""
    data = bytearray(_zip({"small.txt": b"z" * MiB}))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset:at + offset + 4] = struct.pack("<I", 10)
    return bytes(data)


def _bad_crc_zip() -> bytes:
    data = bytearray(_zip({"page.txt": b"hello world"}, zipfile.ZIP_STORED))
    at = data.find(b"hello")
    data[at] = ord("j")
    return bytes(data)


def _method_zip(method: int, flag: int = 0) -> bytes:
    data = bytearray(_zip({"page.txt": b"hello world"}, zipfile.ZIP_STORED))
    for signature, method_at, flag_at in ((b"PK\x03\x04", 8, 6), (b"PK\x01\x02", 10, 8)):
        at = data.find(signature)
        data[at + method_at:at + method_at + 2] = struct.pack("<H", method)
        data[at + flag_at:at + flag_at + 2] = struct.pack("<H", flag)
    return bytes(data)


def _random_text(size: int) -> bytes:
    letters = random.Random(7).choices("abcdefghijklmnopqrstuvwxyz ", k=size)
    return "".join(letters).encode()


def _docx_bomb() -> bytes:
    return _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document>" + b" " * (8 * MiB)})


@pytest.mark.parametrize(
    ("name", "data", "status", "needles"),
    [
        ("lying.zip", _lying_size_zip(), 400, ["lying.zip/small.txt", "CRC"]),  # read no further than it claims
        ("crc.zip", _bad_crc_zip(), 400, ["crc.zip/page.txt", "CRC"]),
        ("deflate64.zip", _method_zip(9), 400, ["deflate64"]),
        ("locked.zip", _method_zip(0, flag=1), 400, ["encrypted"]),
        ("truncated.zip", _zip({"a.txt": _random_text(5000)})[:2000], 400, ["truncated.zip", "not a valid zip"]),
        ("broken.txt.gz", b"\x1f\x8b\x08\x00garbage", 400, ["broken.txt.gz", "not valid gzip"]),
        ("bomb.docx", _docx_bomb(), 413, ["bomb.docx"]),
        ("broken.docx", b"PK\x03\x04 not really a zip", 400, ["broken.docx"]),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>",
         400, ["broken.pdf", "PDF"]),
    ],
)
def test_malformed_containers_are_4xx_naming_the_file(client, limited, seeded, sift, name, data, status, needles):
    collection, points = seeded
    with PeakRss() as rss:
        response = client.post(f"/v1/collections/{collection}/documents", files=_files((name, data, "x")))
    _error(response, status, *needles)
    assert point_count(sift) == points
    assert rss.growth < 64 * MiB, rss.growth


def test_invalid_utf8_and_deeply_nested_json_are_400(client, seeded, sift):
    collection, points = seeded
    url = f"/v1/collections/{collection}/documents"
    _error(client.post(url, content=b'{"documents": [{"content": "\xff\xfe"}]}',
                       headers={"content-type": "application/json"}), 400, "UTF-8")
    _error(client.post(url, content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"}),
           400, "nested")
    assert point_count(sift) == points


def test_a_200_mb_chunked_body_stops_at_the_limit_with_bounded_memory(sift, seeded):
    """The real server under default limits: a client streams 200 MB of JSON; the server stops reading at
    SIFT_MAX_REQUEST_BYTES (64 MiB) and its memory grows by less than that plus a margin."""
    collection, points = seeded
    with live_server(create_app(sift=sift)) as url, PeakRss() as rss:
        started = time.perf_counter()
        try:
            response = httpx.post(f"{url}/v1/collections/{collection}/documents",
                                  content=_chunks(200 * MiB, size=MiB, first=b'{"documents": [{"content": "'),
                                  headers={"content-type": "application/json", "host": "localhost"}, timeout=60)
            _error(response, 413, "SIFT_MAX_REQUEST_BYTES")
        except httpx.TransportError:
            pass  # the server may close the connection while the client is still sending: refused all the same
        elapsed = time.perf_counter() - started
    assert rss.growth < 64 * MiB + 48 * MiB, rss.growth
    assert elapsed < 30
    assert point_count(sift) == points
