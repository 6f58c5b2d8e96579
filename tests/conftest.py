"""Shared fixtures: one started Sift service (real MiniLM, real embedded Qdrant) for the session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import Sift
from api.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE_KB = REPO / "api" / "sample_kb"


@pytest.fixture(scope="session")
def sift(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sift]:
    """A started service on a fresh data dir, with no reranker (engine ``none``)."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("sift-data"), rerank_engine="none",
                             qdrant_url=None, _env_file=None)
    service = Sift(settings)
    service.start()
    yield service
    service.index.close()


@pytest.fixture()
def client(sift: Sift) -> Iterator[TestClient]:
    """Real HTTP through the FastAPI app, on the shared service."""
    with TestClient(create_app(sift=sift), base_url="http://localhost") as test_client:
        yield test_client


@pytest.fixture()
def collection() -> str:
    """A collection name no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"


def upload_files(client: TestClient, collection: str, paths: list[Path]):
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    return client.post(f"/v1/collections/{collection}/documents", files=files)


def point_count(sift: Sift, collection: str | None = None) -> int:
    from retrieval.store import Where

    return sift.index.store.count(Where(must={"collection": collection}) if collection else None)


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
