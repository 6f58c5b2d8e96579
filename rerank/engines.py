"""Build the configured reranker engine (engines import their heavy dependencies lazily)."""

from __future__ import annotations

from rerank.base import RerankEngine


def create_engine(engine: str, *, model: str | None, url: str | None, max_length: int = 8192
                  ) -> RerankEngine | None:
    """The engine named by ``SIFT_RERANK_ENGINE``; None for ``none``."""
    if engine == "none":
        return None
    if engine == "transformers":
        from rerank.torch_engine import TorchReranker

        return TorchReranker(model or "", max_length=max_length)
    if engine == "vllm":
        from rerank.vllm_local import VllmReranker

        return VllmReranker(model or "", max_length=max_length)
    if engine == "vllm-http":
        from rerank.vllm_http import VllmHttpReranker

        return VllmHttpReranker(url or "", model=model, max_length=max_length)
    raise ValueError(f"SIFT_RERANK_ENGINE must be none, vllm, vllm-http or transformers, not {engine!r}")
