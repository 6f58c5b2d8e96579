"""The ``transformers`` engine: the model card's P(yes) on torch, CPU or GPU, done lean.

Per batch only the last position's hidden state goes through the head, and the head is just the
two LM-head rows of "no" and "yes" (in fp32), so no vocabulary-sized logits are ever built. Pairs
are sorted by length into micro-batches with left padding, so the last position is every row's
real last token; positions count from each row's first real token, as if unpadded.

Prefix reuse (on by default on CPU): the rows of a micro-batch (one query against many documents)
share their first tokens (system text, instruction, query). That common prefix runs once; its keys
and values are broadcast to every row, and only the rest of each row is computed. On CPU, which is
compute-bound, this saves most of the work for short documents. On a GPU it is off by default: the
extra forward pass and the non-causal attention mask it needs cost more than the saved tokens
(H100, 0.6B shape, 50 x 512 tokens: 204 ms with, 161 ms without).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rerank.base import RerankEngine, RerankPair
from rerank.errors import RerankerUnavailable
from rerank.prompt import build_prompts

logger = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")
MIN_SHARED_PREFIX = 16  # shorter common prefixes are not worth a separate forward pass


class TransformersEngine(RerankEngine):
    """Qwen3-Reranker scored with ``AutoModelForCausalLM`` in this process."""

    engine = "transformers"

    def __init__(
        self,
        model: str,
        *,
        max_length: int = 8192,
        device: str | None = None,
        dtype: str = "auto",
        compile: bool | str = False,
        max_batch_tokens: int | None = None,
        max_batch_size: int = 64,
        share_prefix: bool | None = None,
    ) -> None:
        """``compile``: True or a ``torch.compile`` mode (e.g. "reduce-overhead" for CUDA graphs).

        ``share_prefix``: None chooses by device (on for CPU, off for CUDA).
        """
        super().__init__(model)
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        self.max_length = max_length
        self.device = device
        self.dtype = dtype
        self.compile = compile
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_size = max_batch_size
        self.share_prefix = share_prefix
        self._tokenizer: Any = None
        self._backbone: Any = None
        self._config: Any = None
        self._device: Any = None
        self._head: Any = None  # [2, hidden] fp32: the "no" and "yes" rows of the LM head

    def warm_up(self) -> None:
        """Load tokenizer and model, keep the backbone and the two head rows, run one pair."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.dtype == "auto":
            dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        else:
            dtype = getattr(torch, self.dtype)
        if self.max_batch_tokens is None:
            self.max_batch_tokens = 65536 if device.type == "cuda" else 8192
        if self.share_prefix is None:
            self.share_prefix = device.type == "cpu"

        self._tokenizer = AutoTokenizer.from_pretrained(self.model, padding_side="left")
        lm = AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype).to(device).eval()
        token_ids = [self._tokenizer.convert_tokens_to_ids(token) for token in ("no", "yes")]
        self._head = lm.get_output_embeddings().weight[token_ids].detach().float().clone()
        self._backbone = lm.base_model
        self._config = lm.config
        if self.compile:
            mode = self.compile if isinstance(self.compile, str) else None
            self._backbone = torch.compile(self._backbone, mode=mode, dynamic=True)
        self._device = device
        self.ready = True
        self.score([RerankPair(query="warm-up", document="warm-up")])
        logger.info(
            "transformers reranker %s ready on %s (%s, compile=%s, share_prefix=%s)",
            self.model, device, dtype, self.compile, self.share_prefix,
        )

    def score(self, pairs: Sequence[RerankPair]) -> list[float]:
        """P(yes) for each pair, computed in length-sorted micro-batches."""
        if not self.ready:
            raise RerankerUnavailable("the transformers reranker is not loaded (warm_up not called)")
        if not pairs:
            return []
        import torch

        prompts = build_prompts(self._tokenizer, pairs, max_length=self.max_length)
        token_ids = self._tokenizer(prompts, add_special_tokens=False)["input_ids"]
        scores: list[float] = [0.0] * len(pairs)
        try:
            for batch in self._micro_batches(token_ids):
                for index, value in zip(batch, self._score_batch([token_ids[i] for i in batch]), strict=True):
                    scores[index] = value
        except torch.OutOfMemoryError as e:
            raise RerankerUnavailable(f"out of memory scoring {len(pairs)} pairs") from e
        except RuntimeError as e:
            raise RerankerUnavailable(f"the transformers reranker failed: {e}") from e
        return scores

    def _micro_batches(self, token_ids: list[list[int]]) -> list[list[int]]:
        """Indices grouped longest first so that rows x longest row stays within max_batch_tokens."""
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]), reverse=True)
        batches: list[list[int]] = []
        for index in order:
            if batches:
                batch = batches[-1]
                longest = len(token_ids[batch[0]])
                if len(batch) < self.max_batch_size and (len(batch) + 1) * longest <= self.max_batch_tokens:
                    batch.append(index)
                    continue
            batches.append([index])
        return batches

    def _score_batch(self, rows: list[list[int]]) -> list[float]:
        import torch

        shared = self._shared_prefix_length(rows)
        cache = self._prefix_cache(rows[0][:shared], len(rows)) if shared else None
        rests = [row[shared:] for row in rows]
        width = max(len(rest) for rest in rests)
        input_ids = torch.full((len(rows), width), self._tokenizer.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, rest in enumerate(rests):
            input_ids[i, width - len(rest) :] = torch.tensor(rest)
            attention_mask[i, width - len(rest) :] = 1
        position_ids = shared + (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
        if shared:
            attention_mask = torch.cat([torch.ones((len(rows), shared), dtype=torch.long), attention_mask], 1)
        with torch.inference_mode():
            hidden = self._backbone(
                input_ids=input_ids.to(self._device),
                attention_mask=attention_mask.to(self._device),
                position_ids=position_ids.to(self._device),
                past_key_values=cache,
                use_cache=cache is not None,
            ).last_hidden_state[:, -1]
            logits = hidden.float() @ self._head.T  # [rows, 2]: l_no, l_yes
            return torch.softmax(logits, dim=-1)[:, 1].tolist()

    def _shared_prefix_length(self, rows: list[list[int]]) -> int:
        """Tokens all rows start with (each row keeps at least its last token); 0 if not worth it."""
        if not self.share_prefix or len(rows) < 2:
            return 0
        limit = min(len(row) for row in rows) - 1
        first = rows[0]
        shared = 0
        while shared < limit and all(row[shared] == first[shared] for row in rows):
            shared += 1
        return shared if shared >= MIN_SHARED_PREFIX else 0

    def _prefix_cache(self, prefix: list[int], rows: int) -> Any:
        """Keys and values of ``prefix``, computed once and broadcast to ``rows`` rows."""
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self._config)
        with torch.inference_mode():
            self._backbone(
                input_ids=torch.tensor([prefix], device=self._device),
                position_ids=torch.arange(len(prefix), device=self._device)[None],
                past_key_values=cache,
                use_cache=True,
            )
            layers = [(layer.keys, layer.values) for layer in cache.layers]
            return DynamicCache(
                ddp_cache_data=[(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in layers],
                config=self._config,
            )

    def close(self) -> None:
        """Drop the model and free its memory."""
        on_gpu = self._device is not None and self._device.type == "cuda"
        self._backbone = self._head = None
        self.ready = False
        if on_gpu:
            import torch

            torch.cuda.empty_cache()
