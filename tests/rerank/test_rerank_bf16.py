"""In bf16 (the GPU default) the engines stay within 0.02 of the fp32 model card and of each other."""

from __future__ import annotations

import pytest

from rerank.engines import create_engine
from tests.rerank.model_card import MAX_LENGTH, contract_pairs

BF16_TOLERANCE = 0.02


@pytest.mark.slow
@pytest.mark.vllm
def test_bf16_engines_agree(tiny_model: str, card_reference: list[float], vllm_env) -> None:
    scores = {}
    for name, options in (("transformers", {"device": "cpu"}), ("vllm", {"enforce_eager": True})):
        engine = create_engine(name, model=tiny_model, max_length=MAX_LENGTH, dtype="bfloat16", **options)
        engine.warm_up()
        try:
            scores[name] = engine.score(contract_pairs())
        finally:
            engine.close()
    for name, values in scores.items():
        assert values == pytest.approx(card_reference, abs=BF16_TOLERANCE), name
    assert scores["transformers"] == pytest.approx(scores["vllm"], abs=BF16_TOLERANCE)
