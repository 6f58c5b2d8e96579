"""The ``vllm-http`` engine: a running vLLM server (``SIFT_RERANK_URL``) scores Sift's own prompts.

Start the server with the reranker overrides, for example::

    vllm serve Qwen/Qwen3-Reranker-4B --served-model-name Qwen3-Reranker-4B --runner pooling \\
        --hf-overrides '{"architectures": ["Qwen3ForSequenceClassification"],
                         "classifier_from_token": ["no", "yes"], "is_original_qwen3_reranker": true}'

Sift sends complete, already formatted prompts to ``POST /classify``, which tokenizes each text as a whole
and returns sigmoid(l_yes - l_no) = P(yes). ``/score`` and ``/rerank`` are not used: they build the prompt
themselves (a chat template, or ``text_1 + text_2`` in some versions and a tokenizer pair in others), so the
result would depend on the server's version and template. Documents are cut to ``max_length`` by the same
function the other engines use, with the reranker's tokenizer: from ``SIFT_RERANK_MODEL`` when it is a model
folder, else the server's own ``POST /tokenize`` and ``/detokenize`` (no hub, no local copy needed).

Failures: connection errors and 502/503/504 are retried with exponential backoff and full jitter (``tenacity``),
within the callers' deadline; a read timeout is not retried (the server may still be working on it, and a
retry would pile more work onto it), nor is any other status. httpx's own transport retries cover connection
failures only, with no status codes and no deadline, hence tenacity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from rerank.base import RerankEngine, RerankPair
from rerank.errors import RerankerStarting, RerankerUnavailable
from rerank.prompt import PREFIX, SUFFIX, PromptTokenizer, build_prompts

logger = logging.getLogger(__name__)

#: Statuses that say the server (or a proxy before it) is not up or too busy right now.
RETRY_STATUSES = frozenset({502, 503, 504})
#: Failures to reach the server at all; the request did not get a complete answer.
CONNECTION_ERRORS = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)
CONNECT_TIMEOUT_S = 5.0
#: Time limit of each start-up probe (health, models, tokenizer); the service retries warm-up until it is up.
PROBE_TIMEOUT_S = 10.0


class VllmHttpEngine(RerankEngine):
    """Qwen3-Reranker behind a vLLM OpenAI-compatible server, called over pooled HTTP connections."""

    engine = "vllm-http"

    def __init__(
        self,
        model: str | None,
        *,
        url: str,
        max_length: int = 8192,
        attempts: int = 3,
        backoff_s: float = 0.25,
        max_backoff_s: float = 2.0,
        max_connections: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(model or "")
        self.url = url.rstrip("/").removesuffix("/v1")
        self.max_length = max_length
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._transport = transport
        self._client: httpx.Client | None = None
        self._local_tokenizer: PromptTokenizer | None = None
        self._frame_ids: dict[str, list[int]] = {}
        self.served_model: str | None = None

    def warm_up(self) -> None:
        """Check ``/health``, learn the served model, its limit and the tokenizer.

        Raises ``RerankerStarting`` while the server is unreachable or answers 502/503/504 (the service
        tries again later), ``RerankerUnavailable`` when it answers something else.
        """
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, limits=self._limits, transport=self._transport)
        probe = dict(deadline=time.monotonic() + PROBE_TIMEOUT_S, attempts=1)
        try:
            self._request("GET", "/health", **probe)
            cards = self._request("GET", "/v1/models", **probe).json()["data"]
        except RerankerUnavailable as e:
            if isinstance(e.__cause__, httpx.TimeoutException):  # accepting connections, not answering yet
                raise RerankerStarting(str(e)) from e
            raise
        if not cards:
            raise RerankerUnavailable("the vLLM server serves no model")
        card = next((c for c in cards if self.model in (c["id"], c.get("root"), Path(c["id"]).name)), None)
        if card is None:
            card = cards[0]
            logger.warning("the vLLM server at %s does not serve %r; using its model %r",
                           self.url, self.model, card["id"])
        self.served_model = card["id"]
        server_limit = card.get("max_model_len")
        if server_limit and server_limit < self.max_length:
            logger.warning(
                "SIFT_RERANK_MAX_LENGTH=%d exceeds the server's max_model_len %d; using %d",
                self.max_length, server_limit, server_limit,
            )
            self.max_length = server_limit
        if self.model and Path(self.model).is_dir():
            from transformers import AutoTokenizer

            self._local_tokenizer = AutoTokenizer.from_pretrained(self.model)
            source = f"the model folder {self.model}"
        else:
            self._local_tokenizer = None
            tokenizer = _ServerTokenizer(self, deadline=time.monotonic() + PROBE_TIMEOUT_S)
            self._frame_ids = {text: tokenizer.encode(text) for text in (PREFIX, SUFFIX)}
            source = "the server's /tokenize"
        self.ready = True
        logger.info("vllm-http reranker %s at %s ready (tokenizer: %s)", self.served_model, self.url, source)

    def score(self, pairs: Sequence[RerankPair], *, deadline: float | None = None) -> list[float]:
        """P(yes) for each pair from one ``POST /classify`` with the formatted prompts, by ``deadline``."""
        if not self.ready:
            raise RerankerUnavailable("the vllm-http reranker is not connected (warm_up not called)")
        if not pairs:
            return []
        tokenizer = self._local_tokenizer or _ServerTokenizer(self, deadline=deadline)
        prompts = build_prompts(tokenizer, pairs, max_length=self.max_length)
        body = {"model": self.served_model, "input": prompts}
        data = self._request("POST", "/classify", deadline=deadline, json=body).json()["data"]
        if len(data) != len(prompts):
            raise RerankerUnavailable(f"the vLLM server returned {len(data)} scores for {len(prompts)} prompts")
        return [item["probs"][0] for item in sorted(data, key=lambda item: item["index"])]

    def _request(
        self, method: str, path: str, *, deadline: float | None, attempts: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One call, retried on connection errors and 502/503/504 with backoff, all before ``deadline``."""
        stop = stop_after_attempt(attempts or self.attempts)
        if deadline is not None:
            stop |= stop_before_delay(max(deadline - time.monotonic(), 0.0))
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            wait=wait_random_exponential(multiplier=self.backoff_s, max=self.max_backoff_s),
            stop=stop,
            reraise=True,
            before_sleep=lambda state: logger.warning(
                "vLLM server %s%s: %s; attempt %d failed, retrying in %.2f s", self.url, path,
                state.outcome.exception() if state.outcome else "", state.attempt_number, state.upcoming_sleep,
            ),
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, path, deadline, **kwargs)
        except _Retryable as e:
            logger.warning("vLLM server %s%s gave up: %s", self.url, path, e)
            raise RerankerStarting(str(e)) from e
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _attempt(self, method: str, path: str, deadline: float | None, **kwargs: Any) -> httpx.Response:
        assert self._client is not None, "warm_up opens the client"
        if deadline is None:
            timeout = httpx.Timeout(None, connect=CONNECT_TIMEOUT_S)
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RerankerUnavailable("the vLLM server did not answer before the deadline")
            timeout = httpx.Timeout(left, connect=min(CONNECT_TIMEOUT_S, left))
        try:
            response = self._client.request(method, path, timeout=timeout, **kwargs)
        except CONNECTION_ERRORS as e:
            raise _Retryable(f"the vLLM server is unreachable ({type(e).__name__})") from e
        except httpx.TimeoutException as e:
            raise RerankerUnavailable("the vLLM server did not answer before the deadline") from e
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(f"the vLLM server answered {response.status_code}")
        if response.status_code >= 400:
            raise RerankerUnavailable(
                f"the vLLM server answered {path} with {response.status_code}: {response.text[:300]}"
            )
        return response

    def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self.ready = False


class _Retryable(Exception):
    """A failure worth another attempt: no connection, or 502/503/504."""


class _ServerTokenizer:
    """The vLLM server's ``/tokenize`` and ``/detokenize`` as a ``PromptTokenizer``, within one deadline."""

    def __init__(self, engine: VllmHttpEngine, *, deadline: float | None) -> None:
        self._engine = engine
        self._deadline = deadline

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        if not add_special_tokens and text in self._engine._frame_ids:
            return self._engine._frame_ids[text]
        body = {"model": self._engine.served_model, "prompt": text, "add_special_tokens": add_special_tokens}
        return self._engine._request("POST", "/tokenize", deadline=self._deadline, json=body).json()["tokens"]

    def decode(self, token_ids: list[int]) -> str:
        body = {"model": self._engine.served_model, "tokens": list(token_ids)}
        return self._engine._request("POST", "/detokenize", deadline=self._deadline, json=body).json()["prompt"]
