"""The Qwen3-Reranker prompt, built in exactly one place.

The text is token-identical to the model card
(https://huggingface.co/Qwen/Qwen3-Reranker-4B): a fixed system text, the user turn
``<Instruct>: …\\n<Query>: …\\n<Document>: …`` and an assistant turn whose empty
``<think>`` block ends with a blank line. The model then answers "yes" or "no" and the
relevance score is P(yes) over those two tokens.

Run ``python -m rerank.prompt --query Q --document D [--instruction I]`` to print the text.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from rerank.base import RerankPair
from rerank.errors import PromptTooLong

DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and "
    'the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
#: How many tokens a cut may step back before falling back to a search over characters.
MAX_CUT_STEPS = 4


def format_pair(query: str, document: str, instruction: str | None = None) -> str:
    """The user-turn body: instruction, query and document in the model card's layout."""
    instruction = instruction or DEFAULT_INSTRUCTION
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}"


def build_prompt(query: str, document: str, instruction: str | None = None) -> str:
    """The complete prompt text that the reranker scores for one (query, document) pair."""
    return PREFIX + format_pair(query, document, instruction) + SUFFIX


class PromptTokenizer(Protocol):
    """What cutting a prompt needs from the reranker's tokenizer; Hugging Face tokenizers have it."""

    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]:
        """Token ids of ``text``."""
        ...

    def decode(self, token_ids: list[int]) -> str:
        """The text of ``token_ids``."""
        ...


def truncate_document(
    tokenizer: PromptTokenizer, query: str, document: str, instruction: str | None = None, *, max_length: int
) -> str:
    """The document, cut at its end so that ``build_prompt`` fits in ``max_length`` tokens.

    Only the document is cut: the prefix, instruction, query and the ``</think>\\n\\n`` ending always
    survive, so the cut prompt is the model card's truncation (the first tokens of the user turn kept).
    ``tokenizer`` is the reranker's (a Hugging Face tokenizer, or the vLLM server's endpoints). Raises
    ``PromptTooLong`` when the instruction and query alone do not fit.
    """
    if len(build_prompt(query, document, instruction).encode()) <= max_length:
        return document  # every token covers at least one byte, so the prompt fits
    budget = max_length - count_tokens(tokenizer, PREFIX) - count_tokens(tokenizer, SUFFIX)
    body = format_pair(query, document, instruction)
    doc_start = len(body) - len(document)
    token_ids = tokenizer.encode(body, add_special_tokens=False)
    if len(token_ids) <= budget:
        return document
    # The model card keeps the first ``budget`` tokens. A cut inside a character (its bytes split over
    # tokens) decodes to U+FFFD, and re-tokenizing the cut text can merge differently: step back a little.
    for keep in range(budget, max(budget - MAX_CUT_STEPS, 0), -1):
        kept = tokenizer.decode(token_ids[:keep])
        if len(kept) >= doc_start and body.startswith(kept) and count_tokens(tokenizer, kept) <= budget:
            return kept[doc_start:]
    # The tokenizer does not round-trip this text (e.g. it normalises it): the longest document prefix that fits.
    fits = bisect.bisect_right(
        range(len(document) + 1), budget, key=lambda cut: count_tokens(tokenizer, body[: doc_start + cut])
    )
    if fits == 0:
        fixed = count_tokens(tokenizer, build_prompt(query, "", instruction))
        raise PromptTooLong(
            f"instruction and query take {fixed} tokens, more than the reranker's {max_length} "
            "(SIFT_RERANK_MAX_LENGTH)"
        )
    return document[: fits - 1]


def count_tokens(tokenizer: PromptTokenizer, text: str) -> int:
    """Tokens of ``text`` without special tokens."""
    return len(tokenizer.encode(text, add_special_tokens=False))


def document_pieces(
    tokenizer: Any, query: str, documents: Sequence[str], instruction: str | None = None, *, max_length: int,
    max_tokens: int | None = None, keep: Literal["start", "end"] = "start", max_chunks: int = 1,
) -> tuple[list[str], list[int], int]:
    """The texts to score for ``documents``, the document each belongs to, and the tokens they take.

    ``tokenizer`` is a Hugging Face tokenizer (the cut follows its character offsets).

    A document that fits the prompt is passed unchanged. ``max_tokens`` first cuts each document to
    its first (``keep="start"``) or last (``"end"``) tokens. What is left of a longer document is cut
    to the room the prompt leaves for it, or with ``max_chunks`` > 1 split into up to that many
    consecutive pieces that each fit (Cohere's ``max_chunks_per_doc``: the caller keeps the best
    piece's score). The token count is query plus document tokens of every piece, the template not
    included (what rerank APIs report as usage).
    """
    room = max_length - count_tokens(tokenizer, build_prompt(query, "", instruction))
    if room < 1:  # the engine refuses such a prompt with PromptTooLong
        return list(documents), list(range(len(documents))), 0
    query_tokens = count_tokens(tokenizer, query)
    pieces: list[str] = []
    owners: list[int] = []
    tokens = 0
    for index, document in enumerate(documents):
        offsets = tokenizer(document, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        limit = min(max_tokens or len(offsets), room * max_chunks)
        if len(offsets) <= min(limit, room):
            pieces.append(document)
            owners.append(index)
            tokens += query_tokens + len(offsets)
            continue
        kept = offsets[:limit] if keep == "start" else offsets[-limit:]
        for start in range(0, len(kept), room):
            window = kept[start:start + room]
            pieces.append(document[window[0][0]:window[-1][1]])
            owners.append(index)
            tokens += query_tokens + len(window)
    return pieces, owners, tokens


def build_prompts(tokenizer: PromptTokenizer, pairs: Sequence[RerankPair], *, max_length: int) -> list[str]:
    """The prompts of ``pairs``, each document cut so the whole prompt fits ``max_length`` tokens."""
    return [
        build_prompt(
            pair.query,
            truncate_document(tokenizer, pair.query, pair.document, pair.instruction, max_length=max_length),
            pair.instruction,
        )
        for pair in pairs
    ]


def main(argv: list[str] | None = None) -> None:
    """Print the exact prompt for one pair (no trailing newline is added)."""
    parser = argparse.ArgumentParser(prog="python -m rerank.prompt", description=main.__doc__)
    parser.add_argument("--query", required=True)
    parser.add_argument("--document", required=True)
    parser.add_argument("--instruction", default=None)
    args = parser.parse_args(argv)
    sys.stdout.write(build_prompt(args.query, args.document, args.instruction))


if __name__ == "__main__":
    main()
