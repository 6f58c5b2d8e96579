"""The Qwen3-Reranker model card's own scoring recipe: the yardstick Sift's engines are held to.

Kept as the card writes it (https://huggingface.co/Qwen/Qwen3-Reranker-4B, "Transformers Usage"):
its own prompt strings, truncation of the whole user turn, one left-padded batch, logits at every
position. Nothing here comes from ``rerank.prompt`` or the engines, so a mistake there cannot hide
in the reference. The tests score with it on CPU in fp32, ``bench/rerank_gpu.py`` on the GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rerank.base import RerankPair

CARD_PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the "
    'Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n'
)
CARD_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"


def card_format_instruction(instruction, query, doc):
    if instruction is None:
        instruction = "Given a web search query, retrieve relevant passages that answer the query"
    return "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}".format(  # noqa: UP032
        instruction=instruction, query=query, doc=doc
    )


def card_input_ids(tokenizer: Any, pairs: Sequence[RerankPair], max_length: int = 8192) -> list[list[int]]:
    """``process_inputs`` of the model card, before padding: prefix + truncated body + suffix."""
    prefix_tokens = tokenizer.encode(CARD_PREFIX, add_special_tokens=False)
    suffix_tokens = tokenizer.encode(CARD_SUFFIX, add_special_tokens=False)
    texts = [card_format_instruction(p.instruction, p.query, p.document) for p in pairs]
    inputs = tokenizer(
        texts, padding=False, truncation="longest_first", return_attention_mask=False,
        max_length=max_length - len(prefix_tokens) - len(suffix_tokens),
    )
    return [prefix_tokens + ids + suffix_tokens for ids in inputs["input_ids"]]


class CardReranker:
    """The card's ``AutoModelForCausalLM`` with its ``compute_logits``, loaded once."""

    def __init__(self, model_dir: str, *, device: str = "cpu", dtype: str = "float32", max_length: int = 8192):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).to(device).eval()
        self.token_false_id = self.tokenizer.convert_tokens_to_ids("no")
        self.token_true_id = self.tokenizer.convert_tokens_to_ids("yes")

    def score(self, pairs: Sequence[RerankPair]) -> list[float]:
        """P(yes) of every pair from one padded batch, logits taken at the last position."""
        import torch

        inputs = self.tokenizer.pad(
            {"input_ids": card_input_ids(self.tokenizer, pairs, self.max_length)}, padding=True, return_tensors="pt"
        ).to(self.model.device)
        with torch.no_grad():
            batch_scores = self.model(**inputs).logits[:, -1, :]
        true_vector = batch_scores[:, self.token_true_id]
        false_vector = batch_scores[:, self.token_false_id]
        batch_scores = torch.stack([false_vector, true_vector], dim=1)
        batch_scores = torch.nn.functional.log_softmax(batch_scores, dim=1)
        return batch_scores[:, 1].exp().tolist()

    def close(self) -> None:
        """Drop the model."""
        self.model = None
