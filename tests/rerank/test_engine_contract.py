"""One contract, run against every reranker engine: transformers, vllm (in-process) and vllm-http, the last
both with the model folder's tokenizer and given only the served name (prompts cut by the server's /tokenize).

Every engine must give the model card's P(yes) on the same 50 pairs (fp32, within 1e-5), hence the
same order as each other; keep input order; let the instruction matter; and cut long documents so
that the prompt's ending survives.
"""

from __future__ import annotations

import random

import pytest

from rerank.base import RerankEngine, RerankPair
from tests.rerank.model_card import MAX_LENGTH, card_scores, contract_pairs

FP32_TOLERANCE = 1e-5
LONG_DOCUMENT = " ".join(f"Sentence {i} says something about the water cycle." for i in range(400))


def test_scores_match_the_model_card(engine: RerankEngine, card_reference: list[float]) -> None:
    scores = engine.score(contract_pairs())
    assert len(scores) == 50
    assert all(0.0 <= s <= 1.0 for s in scores)
    worst = max(abs(a - b) for a, b in zip(scores, card_reference, strict=True))
    assert worst < FP32_TOLERANCE, f"{engine.engine}: max |score - model card| = {worst:.2e}"


def test_order_matches_the_model_card(engine: RerankEngine, card_reference: list[float]) -> None:
    scores = engine.score(contract_pairs())
    # Ranks must agree wherever the reference separates two documents by more than the tolerance.
    for i in range(len(scores)):
        for j in range(len(scores)):
            if card_reference[i] > card_reference[j] + 2 * FP32_TOLERANCE:
                assert scores[i] > scores[j], (engine.engine, i, j)


def test_scores_keep_input_order(engine: RerankEngine) -> None:
    pairs = contract_pairs()
    shuffled = list(range(len(pairs)))
    random.Random(7).shuffle(shuffled)
    in_order = engine.score(pairs)
    reordered = engine.score([pairs[i] for i in shuffled])
    assert reordered == pytest.approx([in_order[i] for i in shuffled], abs=FP32_TOLERANCE)


def test_instruction_changes_scores(engine: RerankEngine) -> None:
    pairs = contract_pairs()[:10]
    plain = engine.score(pairs)
    steered = engine.score(
        [RerankPair(p.query, p.document, "Retrieve passages written in French about cooking") for p in pairs]
    )
    assert max(abs(a - b) for a, b in zip(plain, steered, strict=True)) > 1e-3


def test_long_document_is_cut_and_the_ending_kept(engine: RerankEngine, tiny_model: str) -> None:
    long_pair = RerankPair("What drives the water cycle?", LONG_DOCUMENT, None)
    short_pair = RerankPair("What drives the water cycle?", "Evaporation and condensation.", None)
    # The vLLM engines would reject a prompt over max_model_len; the model card cuts the same way.
    scores = engine.score([long_pair, short_pair])
    expected = card_scores(tiny_model, [long_pair, short_pair], max_length=MAX_LENGTH)
    assert scores == pytest.approx(expected, abs=FP32_TOLERANCE)


def test_no_pairs_no_scores(engine: RerankEngine) -> None:
    assert engine.score([]) == []
