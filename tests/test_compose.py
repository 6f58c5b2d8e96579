"""docker-compose.yml parses and wires the API to the Qdrant server and the vLLM reranker."""

from __future__ import annotations

import json

import yaml

from api.settings import load_settings
from tests.conftest import REPO


def test_compose_wires_the_three_services():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"qdrant", "reranker", "api"}

    assert services["qdrant"]["image"].startswith("qdrant/qdrant")
    assert "healthcheck" in services["qdrant"] and services["qdrant"]["volumes"]

    reranker = services["reranker"]
    args = reranker["command"]
    assert "--model=Qwen/Qwen3-Reranker-4B" in args and "--runner=pooling" in args
    overrides = json.loads(next(a for a in args if a.startswith("--hf-overrides=")).split("=", 1)[1])
    assert overrides == {"architectures": ["Qwen3ForSequenceClassification"],
                         "classifier_from_token": ["no", "yes"], "is_original_qwen3_reranker": True}
    devices = reranker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    port = next(a for a in args if a.startswith("--port=")).split("=")[1]

    api = services["api"]
    assert api["build"] == "." and (REPO / "Dockerfile").is_file()
    assert {name: dep["condition"] for name, dep in api["depends_on"].items()} == {
        "qdrant": "service_healthy", "reranker": "service_healthy"}
    env = api["environment"]
    assert env["SIFT_QDRANT_URL"] == "http://qdrant:6333"
    assert env["SIFT_RERANK_URL"] == f"http://reranker:{port}"
    settings = load_settings(_env_file=None, **{k.removeprefix("SIFT_").lower(): v for k, v in env.items()})
    assert settings.rerank_engine == "vllm-http"
