"""The ``transformers`` engine: the model card's P(yes) on torch, CPU or GPU, done lean.

The checkpoint is loaded with transformers; the forward pass is ``rerank.qwen3_packed``: rows packed
without padding, the common prefix of rows that share a query (system text, instruction, query)
computed once per micro-batch, only each row's last position through the final layer's MLP, and
only the two LM-head rows of "no" and "yes" (in fp32), so no vocabulary-sized logits are ever built.
Rows are sorted by length within each query, and a micro-batch holds at most ``max_batch_tokens``
of rows x its longest prompt (the padded size attention sees). On CUDA, small batches replay
captured CUDA graphs, unshared: a graph needs a fixed layout, and sharing saves little there.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

from rerank.base import RerankEngine, RerankPair
from rerank.errors import RerankerUnavailable
from rerank.prompt import build_prompts

logger = logging.getLogger(__name__)

DTYPES = ("auto", "float32", "bfloat16", "float16")


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
        compile: bool | str | None = None,
        max_batch_tokens: int | None = None,
        max_batch_size: int = 64,
        share_prefix: bool = True,
        cuda_graphs: bool = True,
    ) -> None:
        """``compile``: True or a ``torch.compile`` mode for the dense parts of every layer; None compiles on
        CUDA only (there about 20 s more start-up and a third less time per call; on CPU it needs a C
        compiler).

        ``share_prefix``: compute the common prefix of rows with the same query once (off only to
        measure what it saves). ``cuda_graphs``: replay captured graphs for small batches on CUDA.
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
        self.cuda_graphs = cuda_graphs
        self._tokenizer: Any = None
        self._backbone: Any = None
        self._head: Any = None  # [2, hidden] fp32: the "no" and "yes" rows of the LM head

    def warm_up(self) -> None:
        """Load tokenizer and model, keep the packed backbone and the two head rows, run one pair."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from rerank.qwen3_packed import PackedQwen3

        device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.dtype == "auto":
            dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        else:
            dtype = getattr(torch, self.dtype)
        if self.max_batch_tokens is None:
            self.max_batch_tokens = 65536 if device.type == "cuda" else 8192
        if self.compile is None:
            self.compile = device.type == "cuda"

        self._tokenizer = AutoTokenizer.from_pretrained(self.model)
        lm = AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype).to(device).eval()
        token_ids = [self._tokenizer.convert_tokens_to_ids(token) for token in ("no", "yes")]
        self._head = lm.get_output_embeddings().weight[token_ids].detach().float().clone()
        self._backbone = PackedQwen3(lm, compile=self.compile, cuda_graphs=self.cuda_graphs)
        self.ready = True
        self.score([RerankPair(query="warm-up", document="warm-up")])
        logger.info(
            "transformers reranker %s ready on %s (%s, compile=%s, share_prefix=%s, cuda_graphs=%s)",
            self.model, device, dtype, self.compile, self.share_prefix, self.cuda_graphs,
        )

    def score(self, pairs: Sequence[RerankPair], *, deadline: float | None = None) -> list[float]:
        """P(yes) for each pair, computed in packed micro-batches."""
        if not self.ready:
            raise RerankerUnavailable("the transformers reranker is not loaded (warm_up not called)")
        if not pairs:
            return []
        import torch

        prompts = build_prompts(self._tokenizer, pairs, max_length=self.max_length)
        token_ids = self._tokenizer(prompts, add_special_tokens=False, return_attention_mask=False)["input_ids"]
        groups = [(pair.query, pair.instruction) for pair in pairs]
        first_seen = {key: number for number, key in reversed(list(enumerate(groups)))}
        # Rows of one query together, longest first, so that each micro-batch pads little.
        order = sorted(range(len(pairs)), key=lambda i: (first_seen[groups[i]], -len(token_ids[i])))
        try:
            # Queue every micro-batch before waiting for any result.
            launched = [self._launch(batch, token_ids, groups) for batch in self._micro_batches(order, token_ids)]
            scores = [0.0] * len(pairs)
            for rows, probabilities in launched:
                for index, value in zip(rows, probabilities.tolist(), strict=True):
                    scores[index] = value
        except torch.OutOfMemoryError as e:
            raise RerankerUnavailable(f"out of memory scoring {len(pairs)} pairs") from e
        except RuntimeError as e:
            raise RerankerUnavailable(f"the transformers reranker failed: {e}") from e
        return scores

    def _micro_batches(self, order: list[int], token_ids: list[list[int]]) -> list[list[int]]:
        """``order`` cut, in order, into batches of at most ``max_batch_size`` rows and at most
        ``max_batch_tokens`` of rows x longest row."""
        batches: list[list[int]] = []
        longest = 0
        for index in order:
            length = len(token_ids[index])
            if batches and len(batches[-1]) < self.max_batch_size:
                width = max(longest, length)
                if (len(batches[-1]) + 1) * width <= self.max_batch_tokens:
                    batches[-1].append(index)
                    longest = width
                    continue
            batches.append([index])
            longest = length
        return batches

    def _launch(self, batch: list[int], token_ids: list[list[int]], groups: list[Hashable]) -> tuple[list[int], Any]:
        """Queue the forward pass of ``batch`` (one shared prefix per query); returns the rows in packed
        order and their P(yes) as a device tensor, not waited for."""
        import torch

        from rerank.qwen3_packed import common_prefix_length

        members: dict[Hashable, list[int]] = {}
        for index in batch:
            members.setdefault(groups[index], []).append(index)
        longest = max(len(token_ids[index]) for index in batch)
        share = self.share_prefix and self._backbone.graph_for(len(batch), longest) is None
        packed_groups = []
        for rows in ([token_ids[i] for i in group] for group in members.values()):
            shared = common_prefix_length(rows) if share else 0
            packed_groups.append((rows[0][:shared], [row[shared:] for row in rows]))
        hidden = self._backbone.last_hidden(packed_groups)
        logits = hidden.float() @ self._head.T  # [rows, 2]: l_no, l_yes
        return [index for group in members.values() for index in group], torch.softmax(logits, dim=-1)[:, 1]

    def close(self) -> None:
        """Drop the model and free its memory."""
        on_gpu = self._backbone is not None and self._backbone.device.type == "cuda"
        self._backbone = self._head = None
        self.ready = False
        if on_gpu:
            import torch

            torch.cuda.empty_cache()
