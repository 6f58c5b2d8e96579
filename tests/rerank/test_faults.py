"""Sift against a real vLLM server that is late, hangs, dies and comes back (loopback only).

One Sift service, started before its reranker server and never restarted, through the real HTTP app:
it reports ``loading`` and serves retrieval order until the server is up; a server that hangs (SIGSTOP)
costs a caller no more than its deadline and does not hold the worker; a server killed mid-stream
(SIGKILL) gives degraded answers, and once it is started again Sift reranks again by itself. The
engine is given only the served model name: prompts are cut with the server's own tokenizer.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import Sift
from api.settings import load_settings
from rerank.base import RerankPair
from tests.conftest import SAMPLE_KB, upload_files
from tests.rerank.conftest import SERVED_NAME, VllmServer
from tests.rerank.model_card import MAX_LENGTH, card_scores

pytestmark = [pytest.mark.slow, pytest.mark.vllm]

QUESTION = {"question": "How do I reset my password?", "collection": "kb", "top_k": 3, "candidates": 8}
DOCUMENTS = ["Reset links expire after 30 minutes.", "Refunds take 5-10 business days.", "重置密码请点击忘记密码。"]
TIMEOUT_S = 20.0
HUNG_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def server(tiny_model: str, vllm_env: dict[str, str]) -> Iterator[VllmServer]:
    """The server, not started yet: the tests start, pause, kill and restart it."""
    process = VllmServer(tiny_model, vllm_env)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sift(tmp_path_factory, server: VllmServer) -> Iterator[Sift]:
    settings = load_settings(
        _env_file=None, data_dir=tmp_path_factory.mktemp("faults"), rerank_engine="vllm-http",
        rerank_url=server.url, rerank_model=SERVED_NAME, rerank_max_length=MAX_LENGTH, rerank_timeout_s=TIMEOUT_S,
    )
    service = Sift(settings)
    service.start()
    yield service
    asyncio.run(service.close())


@pytest.fixture(scope="module")
def client(sift: Sift) -> Iterator[TestClient]:
    with TestClient(create_app(sift=sift), base_url="http://localhost") as test_client:
        assert upload_files(test_client, "kb", sorted(SAMPLE_KB.iterdir())).status_code == 200
        yield test_client


def _ask(client: TestClient) -> tuple[dict, float]:
    started = time.monotonic()
    response = client.post("/v1/query", json=QUESTION)
    assert response.status_code == 200, response.text
    return response.json(), time.monotonic() - started


def _until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not {what} after {timeout_s} s"
        time.sleep(0.5)


def test_loading_until_the_server_is_up_then_scores_like_the_model_card(client, sift, server, tiny_model):
    reranker = client.get("/health").json()["reranker"]
    assert reranker["state"] == "loading" and reranker["ready"] is False
    body, _ = _ask(client)
    assert body["reranked"] is False and "loading" in body["rerank_error"] and body["results"]
    refused = client.post("/v1/rerank", json={"query": "reset password", "documents": DOCUMENTS})
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "reranker_unavailable"

    server.start()
    server.wait_healthy()
    _until(lambda: client.get("/health").json()["reranker"]["state"] == "ready", 60, "ready")
    assert sift.reranker.engine._local_tokenizer is None  # only the served name: the server tokenizes

    body, _ = _ask(client)
    assert body["reranked"] is True and body["rerank_error"] is None
    results = client.post("/v1/rerank", json={"query": "reset password", "documents": DOCUMENTS}).json()["results"]
    scores = [r["relevance_score"] for r in sorted(results, key=lambda r: r["index"])]
    expected = card_scores(tiny_model, [RerankPair("reset password", d) for d in DOCUMENTS], max_length=MAX_LENGTH)
    assert scores == pytest.approx(expected, abs=1e-5)


def test_a_hung_server_costs_the_caller_its_deadline_and_frees_the_worker(client, sift, server):
    sift.reranker.timeout_s = HUNG_TIMEOUT_S
    server.signal(signal.SIGSTOP)
    try:
        body, took = _ask(client)
        # The service's own wait and the engine's deadline-bound HTTP call end at the same moment; either
        # may report it first.
        assert body["reranked"] is False and body["results"]
        assert "timed out" in body["rerank_error"] or "before the deadline" in body["rerank_error"]
        assert took < HUNG_TIMEOUT_S + 3
        # The engine call gives up at the deadline too (it used to wait 60 s, then retry).
        _until(lambda: sift.reranker.scoring == 0, 2, "idle")
    finally:
        server.signal(signal.SIGCONT)
        sift.reranker.timeout_s = TIMEOUT_S
    body, took = _ask(client)
    assert body["reranked"] is True and took < 5


def test_a_server_killed_mid_stream_degrades_answers_until_it_is_back(client, sift, server):
    answers: list[tuple[int, dict, float]] = []  # (status, body, seconds) of a client asking all along
    stop = threading.Event()

    def ask_all_along() -> None:
        while not stop.is_set():
            started = time.monotonic()
            response = client.post("/v1/query", json=QUESTION)
            answers.append((response.status_code, response.json(), time.monotonic() - started))
            time.sleep(0.2)

    asker = threading.Thread(target=ask_all_along, daemon=True)
    asker.start()
    try:
        _until(lambda: any(body.get("reranked") for _, body, _ in answers), 30, "reranked")
        server.kill()
        killed = len(answers)
        _until(lambda: len(answers) >= killed + 3, 30, "answered after the kill")
        rerank = client.post("/v1/rerank", json={"query": "q", "documents": ["a"]})
        assert rerank.status_code == 503 and "retry-after" in rerank.headers
        restarted = len(answers)
        server.start()
        server.wait_healthy()
        _until(lambda: any(body.get("reranked") for _, body, _ in answers[restarted:]), 30, "reranked again")
    finally:
        stop.set()
        asker.join(TIMEOUT_S + 10)

    assert all(status == 200 and body["results"] for status, body, _ in answers)
    down = [body for _, body, _ in answers[killed + 1 : restarted]]  # the first may have been in flight
    assert down and all(not body["reranked"] and "unreachable" in body["rerank_error"] for body in down)
    assert max(took for _, _, took in answers[killed:restarted]) < 8  # refused connections are not retried long
    assert client.get("/health").json()["reranker"]["state"] == "ready"  # the same Sift, never restarted
