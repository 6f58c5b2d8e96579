"""Configuration: defaults, environment variables and start-up errors that name the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from api.settings import SettingsError, load_settings
from ingest.encoders import DEFAULT_MODEL
from tests.conftest import REPO


def test_defaults_are_the_embedded_setup(monkeypatch):
    for name in ("SIFT_QDRANT_URL", "SIFT_RERANK_ENGINE", "SIFT_CANDIDATES", "SIFT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.qdrant_url is None
    assert settings.rerank_engine == "none"
    assert settings.candidates == 50
    assert str(settings.data_dir) == "data"
    assert settings.embed_model_path == DEFAULT_MODEL  # a bundled model: no folder, no download


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIFT_QDRANT_URL", "http://qdrant:6333/")
    monkeypatch.setenv("SIFT_RERANK_ENGINE", "vllm-http")
    monkeypatch.setenv("SIFT_RERANK_URL", "http://reranker:8001")
    monkeypatch.setenv("SIFT_CANDIDATES", "80")
    settings = load_settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.qdrant_url == "http://qdrant:6333"
    assert (settings.rerank_engine, settings.rerank_url, settings.candidates) == ("vllm-http",
                                                                                 "http://reranker:8001", 80)


@pytest.mark.parametrize(("value", "expected"), [("", None), ("true", True), ("0", False)])
def test_rerank_compile_is_unset_true_or_false(monkeypatch, value, expected):
    monkeypatch.setenv("SIFT_RERANK_COMPILE", value)
    assert load_settings(_env_file=None).rerank_compile is expected


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SIFT_CANDIDATES": "0"}, "SIFT_CANDIDATES"),
        ({"SIFT_CANDIDATES": "many"}, "SIFT_CANDIDATES"),
        ({"SIFT_RERANK_ENGINE": "magic"}, "SIFT_RERANK_ENGINE"),
        ({"SIFT_QDRANT_URL": "qdrant:6333"}, "SIFT_QDRANT_URL"),
        ({"SIFT_RERANK_ENGINE": "vllm-http"}, "SIFT_RERANK_URL"),
        ({"SIFT_RERANK_ENGINE": "vllm"}, "SIFT_RERANK_MODEL"),
        ({"SIFT_CHUNK_SIZE": "100", "SIFT_CHUNK_OVERLAP": "100"}, "SIFT_CHUNK_OVERLAP"),
        ({"SIFT_RERANK_COMPILE": "sometimes"}, "SIFT_RERANK_COMPILE"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch, env, needle):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=needle):
        load_settings(_env_file=None)


def test_cli_stops_with_the_message(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "query", "hello"], cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "SIFT_CANDIDATES": "-3"}, timeout=120,
    )
    assert result.returncode == 2
    assert "SIFT_CANDIDATES" in result.stderr and "Traceback" not in result.stderr
