"""Pick and configure the reranker engine named by ``SIFT_RERANK_ENGINE``."""

from __future__ import annotations

from typing import Any

from rerank.base import RerankEngine

ENGINES = ("none", "transformers", "vllm", "vllm-http")
MAX_LENGTH_LIMIT = 32768


def create_engine(
    engine: str,
    *,
    model: str | None,
    url: str | None = None,
    max_length: int = 8192,
    device: str | None = None,
    dtype: str = "auto",
    compile: bool | None = None,
    enforce_eager: bool = False,
    engine_args: dict[str, Any] | None = None,
) -> RerankEngine | None:
    """A not yet warmed-up engine for the settings, or ``None`` for engine "none".

    ``model`` is a local model directory (or a cached hub name); for "vllm-http" it is the served model name,
    or a model folder whose tokenizer Sift then uses instead of the server's ``/tokenize``. ``device``, ``dtype`` and
    ``compile`` (None: on CUDA only) apply to "transformers"; ``dtype``, ``enforce_eager`` and ``engine_args`` (extra
    ``vllm.LLM`` arguments) to "vllm".
    """
    if engine not in ENGINES:
        raise ValueError(f"SIFT_RERANK_ENGINE must be one of {', '.join(ENGINES)}; got {engine!r}")
    if engine == "none":
        return None
    if not 1 <= max_length <= MAX_LENGTH_LIMIT:
        raise ValueError(f"SIFT_RERANK_MAX_LENGTH must be between 1 and {MAX_LENGTH_LIMIT}; got {max_length}")
    if engine == "vllm-http":
        if not url or not url.startswith(("http://", "https://")):
            raise ValueError(f"SIFT_RERANK_URL must be the vLLM server's http(s) URL; got {url!r}")
        from rerank.vllm_http import VllmHttpEngine

        return VllmHttpEngine(model, url=url, max_length=max_length)
    if not model:
        raise ValueError(f"SIFT_RERANK_MODEL (the reranker model folder) is required for engine {engine!r}")
    if engine == "transformers":
        from rerank.torch_engine import TransformersEngine

        return TransformersEngine(model, max_length=max_length, device=device, dtype=dtype, compile=compile)
    from rerank.vllm_local import VllmEngine

    return VllmEngine(
        model, max_length=max_length, dtype=dtype, enforce_eager=enforce_eager, engine_args=engine_args
    )
