"""The multilingual embedder through the real app: cross-lingual answers, safe model switches, clear errors."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import Sift
from api.settings import load_settings
from ingest.encoders import MINILM, MULTILINGUAL_E5
from ingest.errors import EmbedderUnavailable
from retrieval.errors import EmbedderMismatch
from tests.conftest import REPO, SAMPLE_KB, upload_files
from tests.test_cli import SIFT, _env, _free_port

FIXTURES = REPO / "tests" / "ingest" / "fixtures"
MIXED_KB = sorted(SAMPLE_KB.iterdir()) + sorted(FIXTURES.glob("*.html"))
"""English and Chinese help pages (8 sample pages, 4 ingest fixtures)."""

CROSS_LINGUAL = [
    ("忘记密码了，怎么重新设置？", "reset-password.html"),  # Chinese question, English page
    ("怎样邀请同事加入工作区并设置权限？", "team-members.html"),
    ("How do I turn on two-factor authentication?", "two-factor-zh.html"),  # English question, Chinese page
    ("Where can I download my invoices?", "invoices-zh.html"),
]


def _service(data_dir: Path, model: str) -> Sift:
    settings = load_settings(data_dir=data_dir, embed_model=model, rerank_engine="none", qdrant_url=None,
                             _env_file=None)
    return Sift(settings)


@pytest.fixture(scope="module")
def multilingual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on multilingual-e5-small with the mixed zh/en knowledge base in collection ``kb``."""
    service = _service(tmp_path_factory.mktemp("sift-e5"), MULTILINGUAL_E5)
    service.start()
    with TestClient(create_app(sift=service), base_url="http://localhost") as client:
        response = upload_files(client, "kb", MIXED_KB)
        assert response.status_code == 200, response.text
        yield client
    asyncio.run(service.close())


def top_documents(client: TestClient, question: str, n: int = 3) -> list[str]:
    """The first ``n`` distinct pages of the answer (a page may contribute several chunks)."""
    response = client.post("/v1/query", json={"question": question, "collection": "kb", "top_k": 10})
    assert response.status_code == 200, response.text
    return list(dict.fromkeys(r["doc_id"] for r in response.json()["results"]))[:n]


@pytest.mark.parametrize(("question", "page"), CROSS_LINGUAL)
def test_answers_come_from_pages_in_the_other_language(multilingual, question, page):
    assert page in top_documents(multilingual, question)


def test_health_names_the_multilingual_model(multilingual):
    assert multilingual.get("/health").json()["embedder"]["model"].startswith(MULTILINGUAL_E5)


def test_switching_the_model_refuses_then_reembeds(tmp_path):
    """A collection made by MiniLM stops start-up with e5 until ``reembed`` has rebuilt its vectors."""
    minilm = _service(tmp_path, MINILM)
    minilm.start()
    with TestClient(create_app(sift=minilm), base_url="http://localhost") as client:
        assert upload_files(client, "kb", MIXED_KB).status_code == 200
    asyncio.run(minilm.close())

    with pytest.raises(EmbedderMismatch) as refused:
        _service(tmp_path, MULTILINGUAL_E5).start()
    message = str(refused.value)
    assert f"SIFT_EMBED_MODEL={MINILM} again" in message and "sift reembed" in message and "'kb'" in message

    migrating = _service(tmp_path, MULTILINGUAL_E5)
    migrating.start(allow_other_models=True)
    chunks = migrating.index.store.count()
    assert migrating.reembed() == {"kb": chunks}
    asyncio.run(migrating.close())

    service = _service(tmp_path, MULTILINGUAL_E5)
    service.start()  # no longer refused
    with TestClient(create_app(sift=service), base_url="http://localhost") as client:
        for question, page in CROSS_LINGUAL:
            assert page in top_documents(client, question), question
        assert client.get("/v1/collections").status_code == 200
    asyncio.run(service.close())

    with pytest.raises(EmbedderMismatch):  # and now MiniLM is the stranger
        _service(tmp_path, MINILM).start()


@pytest.mark.parametrize("model", ["BAAI/bge-m3", "{empty}"])
def test_a_model_that_cannot_load_stops_start_up_with_one_line(tmp_path, model):
    model = str(tmp_path) if model == "{empty}" else model
    with pytest.raises(EmbedderUnavailable) as stopped:
        _service(tmp_path / "data", model).start()
    message = str(stopped.value)
    assert message.startswith(f"SIFT_EMBED_MODEL={model} cannot be loaded") and "\n" not in message
    assert MULTILINGUAL_E5 in message


@pytest.mark.slow
def test_the_cli_prints_the_bad_model_without_a_traceback(tmp_path):
    env = {**_env(tmp_path / "data", _free_port()), "SIFT_EMBED_MODEL": "BAAI/bge-m3"}
    result = subprocess.run(SIFT + ["query", "hello"], env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 2
    assert "sift: cannot start: SIFT_EMBED_MODEL=BAAI/bge-m3 cannot be loaded" in result.stderr
    assert "Traceback" not in result.stderr
