"""Engine selection and the vllm-http engine's failure handling (against a fake server and a silent socket)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from rerank.base import RerankPair
from rerank.engines import create_engine
from rerank.errors import RerankerStarting, RerankerUnavailable
from rerank.prompt import SUFFIX, build_prompt
from rerank.torch_engine import TransformersEngine
from rerank.vllm_http import VllmHttpEngine
from rerank.vllm_local import VllmEngine
from tests.rerank.model_card import MAX_LENGTH, contract_pairs


def test_none_means_no_engine() -> None:
    assert create_engine("none", model=None, url=None) is None


def test_engines_are_built_cold() -> None:
    torch_engine = create_engine("transformers", model="/models/reranker", max_length=4096)
    vllm_engine = create_engine("vllm", model="/models/reranker")
    http_engine = create_engine("vllm-http", model=None, url="http://reranker:8000/v1/")
    assert isinstance(torch_engine, TransformersEngine) and torch_engine.max_length == 4096
    assert isinstance(vllm_engine, VllmEngine) and vllm_engine.max_length == 8192
    assert isinstance(http_engine, VllmHttpEngine) and http_engine.url == "http://reranker:8000"
    assert not any(engine.ready for engine in (torch_engine, vllm_engine, http_engine))


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        (dict(engine="onnx", model="m"), "SIFT_RERANK_ENGINE"),
        (dict(engine="vllm", model=None), "SIFT_RERANK_MODEL"),
        (dict(engine="transformers", model=""), "SIFT_RERANK_MODEL"),
        (dict(engine="vllm-http", model=None, url=None), "SIFT_RERANK_URL"),
        (dict(engine="vllm-http", model=None, url="reranker:8000"), "SIFT_RERANK_URL"),
        (dict(engine="vllm", model="m", max_length=32769), "SIFT_RERANK_MAX_LENGTH"),
        (dict(engine="transformers", model="m", max_length=0), "SIFT_RERANK_MAX_LENGTH"),
    ],
)
def test_bad_settings_name_the_setting(kwargs: dict, setting: str) -> None:
    engine = kwargs.pop("engine")
    with pytest.raises(ValueError, match=setting):
        create_engine(engine, **{"url": None, **kwargs})


@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [dict(share_prefix=False), dict(share_prefix=True, max_batch_tokens=700), dict(max_batch_size=3)],
    ids=["no-shared-prefix", "shared-prefix-small-batches", "three-per-batch"],
)
def test_transformers_engine_options_keep_the_model_cards_scores(tiny_model, card_reference, options) -> None:
    engine = TransformersEngine(tiny_model, max_length=MAX_LENGTH, dtype="float32", device="cpu", **options)
    engine.warm_up()
    assert engine.score(contract_pairs()) == pytest.approx(card_reference, abs=1e-5)
    engine.close()


def test_unloaded_engines_are_unavailable() -> None:
    for engine in (TransformersEngine("m"), VllmEngine("m"), VllmHttpEngine("m", url="http://x")):
        with pytest.raises(RerankerUnavailable):
            engine.score([RerankPair("q", "d")])


class FakeVllmServer:
    """Answers like a vLLM server; ``failures`` lists what the next /classify calls get first."""

    def __init__(self, failures: list[int | type[Exception]] | None = None) -> None:
        self.failures = list(failures or [])
        self.classify_bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200)
        if request.url.path == "/v1/models":
            card = {"id": "reranker", "root": "/srv/m", "max_model_len": 300}
            return httpx.Response(200, json={"data": [card]})
        assert request.url.path == "/classify"
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, int):
                return httpx.Response(failure, text="engine busy")
            raise failure("boom", request=request)
        payload = json.loads(request.content)
        self.classify_bodies.append(payload)
        count = len(payload["input"])
        data = [{"index": i, "label": None, "probs": [i / 10], "num_classes": 1} for i in range(count)]
        return httpx.Response(200, json={"data": data[::-1]})  # out of order on purpose


def http_engine(tiny_model: str, server: FakeVllmServer, attempts: int = 3) -> VllmHttpEngine:
    engine = VllmHttpEngine(
        tiny_model, url="http://fake:8000", max_length=8192, attempts=attempts, backoff_s=0.0,
        transport=httpx.MockTransport(server),
    )
    engine.warm_up()
    return engine


def test_http_engine_sends_sifts_prompts_and_keeps_order(tiny_model: str) -> None:
    server = FakeVllmServer()
    engine = http_engine(tiny_model, server)
    pairs = [RerankPair("q", "short"), RerankPair("q", "long " * 1000, "steer")]
    assert engine.score(pairs) == [0.0, 0.1]
    assert engine.served_model == "reranker" and engine.max_length == 300  # the server's limit wins
    sent = server.classify_bodies[0]
    assert sent["model"] == "reranker"
    assert sent["input"][0] == build_prompt("q", "short")
    assert sent["input"][1].startswith(build_prompt("q", "", "steer").removesuffix(SUFFIX) + "long long")
    assert sent["input"][1].endswith(SUFFIX) and len(sent["input"][1]) < len("long " * 1000)


@pytest.mark.parametrize(
    "failures", [[503], [502, 504], [httpx.ConnectError], [httpx.RemoteProtocolError, 503], [httpx.ConnectTimeout]]
)
def test_http_engine_retries_connection_errors_and_502_503_504(tiny_model: str, failures: list) -> None:
    engine = http_engine(tiny_model, FakeVllmServer(failures), attempts=3)
    assert engine.score([RerankPair("q", "d")]) == [0.0]


def test_http_engine_gives_up_as_unavailable(tiny_model: str) -> None:
    engine = http_engine(tiny_model, FakeVllmServer([503, 503, 503]), attempts=3)
    with pytest.raises(RerankerUnavailable, match="503"):
        engine.score([RerankPair("q", "d")])
    engine = http_engine(tiny_model, FakeVllmServer([httpx.ConnectError] * 3), attempts=3)
    with pytest.raises(RerankerUnavailable, match="unreachable"):
        engine.score([RerankPair("q", "d")])


@pytest.mark.parametrize("failure", [400, 500, httpx.ReadTimeout], ids=["400", "500", "read-timeout"])
def test_http_engine_does_not_retry_other_failures(tiny_model: str, failure) -> None:
    """A read timeout means the server may still be working: a retry would pile more work onto it."""
    server = FakeVllmServer([failure, failure])
    engine = http_engine(tiny_model, server, attempts=3)
    with pytest.raises(RerankerUnavailable):
        engine.score([RerankPair("q", "d")])
    assert server.failures == [failure]


def test_http_engine_retries_stop_at_the_deadline(tiny_model: str) -> None:
    server = FakeVllmServer([503] * 1000)
    engine = VllmHttpEngine(tiny_model, url="http://fake:8000", attempts=1000, backoff_s=0.05, max_backoff_s=0.05,
                            transport=httpx.MockTransport(server))
    engine.warm_up()
    started = time.monotonic()
    with pytest.raises(RerankerUnavailable, match="503"):
        engine.score([RerankPair("q", "d")], deadline=started + 0.5)
    assert time.monotonic() - started < 0.7
    # It did retry, with pauses, and stopped: jittered pauses of up to 0.05 s average 0.025 s, so about 20
    # attempts fit in 0.5 s (the count varies with the jitter); without pauses there would be hundreds.
    assert 3 < 1000 - len(server.failures) < 60


@pytest.fixture()
def hanging_server() -> Iterator[str]:
    """A loopback HTTP server that is healthy and serves a model, but never answers ``/classify``."""
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = json.dumps({"data": [{"id": "reranker", "max_model_len": 512}]}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            release.wait(10)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def test_http_engine_gives_up_on_a_hung_server_at_the_deadline(tiny_model: str, hanging_server: str) -> None:
    engine = VllmHttpEngine(tiny_model, url=hanging_server)
    engine.warm_up()
    started = time.monotonic()
    with pytest.raises(RerankerUnavailable, match="did not answer before the deadline"):
        engine.score([RerankPair("q", "d")], deadline=started + 0.5)
    assert 0.45 < time.monotonic() - started < 1.0  # its own deadline, not a fixed 60 s timeout, no retries
    engine.close()


def test_http_engine_unreachable_at_start_is_starting(tiny_model: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    engine = VllmHttpEngine(tiny_model, url="http://fake:8000", backoff_s=0.0, transport=httpx.MockTransport(refuse))
    with pytest.raises(RerankerStarting, match="unreachable"):
        engine.warm_up()
    assert not engine.ready
