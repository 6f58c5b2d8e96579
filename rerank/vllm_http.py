"""The ``vllm-http`` engine: a running vLLM server (``SIFT_RERANK_URL``) scores Sift's own prompts.

Start the server with the reranker overrides, for example::

    python -m vllm.entrypoints.launchers.api_server.entry --model Qwen/Qwen3-Reranker-4B --runner pooling \\
        --hf-overrides '{"architectures": ["Qwen3ForSequenceClassification"],
                         "classifier_from_token": ["no", "yes"], "is_original_qwen3_reranker": true}'

(``vllm serve … `` where the ``vllm`` command works). Sift sends complete, already formatted prompts to
``POST /classify``, which tokenizes each text as a whole and returns sigmoid(l_yes - l_no) = P(yes).
``/score`` and ``/rerank`` are not used: they build the prompt themselves (a chat template, or
``text_1 + text_2`` in some versions and a tokenizer pair in others), so the result would depend on
the server's version and template. Documents are cut to ``max_length`` here, with the reranker's
tokenizer, by the same function the other engines use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx

from rerank.base import RerankEngine, RerankPair
from rerank.errors import RerankerUnavailable
from rerank.prompt import build_prompts

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})


class VllmHttpEngine(RerankEngine):
    """Qwen3-Reranker behind a vLLM OpenAI-compatible server, called over pooled HTTP connections."""

    engine = "vllm-http"

    def __init__(
        self,
        model: str | None,
        *,
        url: str,
        max_length: int = 8192,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        max_connections: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(model or "")
        self.url = url.rstrip("/").removesuffix("/v1")
        self.max_length = max_length
        self.retries = retries
        self.backoff_s = backoff_s
        self._timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._transport = transport
        self._client: httpx.Client | None = None
        self._tokenizer: Any = None
        self.served_model: str | None = None

    def warm_up(self) -> None:
        """Open the connection pool, check ``/health``, learn the served model, its limit and tokenizer."""
        self._client = httpx.Client(
            base_url=self.url, timeout=self._timeout, limits=self._limits, transport=self._transport
        )
        self._request("GET", "/health")
        cards = self._request("GET", "/v1/models").json()["data"]
        if not cards:
            raise RerankerUnavailable(f"the vLLM server at {self.url} serves no model")
        card = next((c for c in cards if self.model in (c["id"], c.get("root"))), cards[0])
        self.served_model = card["id"]
        server_limit = card.get("max_model_len")
        if server_limit and server_limit < self.max_length:
            logger.warning(
                "SIFT_RERANK_MAX_LENGTH=%d exceeds the server's max_model_len %d; using %d",
                self.max_length, server_limit, server_limit,
            )
            self.max_length = server_limit
        self._tokenizer = _load_tokenizer(self.model or card.get("root") or card["id"])
        self.ready = True
        logger.info("vllm-http reranker %s at %s ready", self.served_model, self.url)

    def score(self, pairs: Sequence[RerankPair]) -> list[float]:
        """P(yes) for each pair from one ``POST /classify`` with the formatted prompts."""
        if not self.ready:
            raise RerankerUnavailable("the vllm-http reranker is not connected (warm_up not called)")
        if not pairs:
            return []
        prompts = build_prompts(self._tokenizer, pairs, max_length=self.max_length)
        body = {"model": self.served_model, "input": prompts}
        data = self._request("POST", "/classify", json=body).json()["data"]
        if len(data) != len(prompts):
            raise RerankerUnavailable(f"vLLM server returned {len(data)} scores for {len(prompts)} prompts")
        return [item["probs"][0] for item in sorted(data, key=lambda item: item["index"])]

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call with retries and exponential backoff on connection errors, timeouts and 5xx."""
        assert self._client is not None
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as e:
                if last:
                    raise RerankerUnavailable(f"vLLM server {self.url} unreachable: {e!r}") from e
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES or last:
                    raise RerankerUnavailable(
                        f"vLLM server {self.url}{path} answered {response.status_code}: {response.text[:500]}"
                    )
            delay = self.backoff_s * 2**attempt
            logger.warning("vLLM server %s%s failed, retry %d in %.1fs", self.url, path, attempt + 1, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self.ready = False


def _load_tokenizer(source: str) -> Any:
    """The reranker's tokenizer, for cutting documents to max_length before they are sent."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source)
