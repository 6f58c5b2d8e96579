"""The packed forward pass: its layout, and its hidden states against transformers' own Qwen3 model."""

from __future__ import annotations

import pytest
import torch

from rerank.qwen3_packed import PackedQwen3, common_prefix_length, pack_rows


def test_layout_of_a_shared_prefix_group_and_a_lone_row() -> None:
    rows = pack_rows([([7, 8], [[1, 2, 3], [4]]), ([], [[5, 6]])], "cpu")
    assert rows.input_ids.tolist() == [7, 8, 1, 2, 3, 4, 5, 6]
    assert rows.position_ids.tolist() == [0, 1, 2, 3, 4, 2, 0, 1]  # rests continue after their prefix
    # Each row's whole prompt, padded to the longest (5) with token 0: 7 8 1 2 3 | 7 8 4 _ _ | 5 6 _ _ _
    assert (rows.rows, rows.width) == (3, 5)
    assert rows.pad_index.tolist() == [0, 1, 2, 3, 4, 0, 1, 5, 0, 0, 6, 7, 0, 0, 0]
    # Prefix outputs come from the group's first row; every other token from its own row.
    assert rows.unpad_index.tolist() == [0, 1, 2, 3, 4, 7, 10, 11]
    assert rows.last.tolist() == [4, 5, 7]


def test_every_row_keeps_a_token_of_its_own() -> None:
    assert common_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2
    assert common_prefix_length([[1, 2], [1, 3]]) == 1
    assert common_prefix_length([[1, 2, 3]]) == 0
    with pytest.raises(ValueError, match="at least one token"):
        pack_rows([([1, 2], [[3], []])], "cpu")


@pytest.fixture(scope="module")
def tiny_lm(tiny_model: str):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()


@pytest.mark.parametrize("compile", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["eager", "compiled"])
def test_last_hidden_states_match_transformers(tiny_lm, compile: bool) -> None:
    generator = torch.Generator().manual_seed(0)
    prefix = torch.randint(0, 151_000, (9,), generator=generator).tolist()
    rests = [torch.randint(0, 151_000, (n,), generator=generator).tolist() for n in (5, 1, 12)]
    lone = torch.randint(0, 151_000, (7,), generator=generator).tolist()
    prompts = [prefix + rest for rest in rests] + [lone]

    packed = PackedQwen3(tiny_lm, compile=compile).last_hidden([(prefix, rests), ([], [lone])])
    with torch.inference_mode():
        expected = torch.stack([tiny_lm.model(torch.tensor([ids])).last_hidden_state[0, -1] for ids in prompts])
    torch.testing.assert_close(packed, expected, atol=1e-5, rtol=1e-5)
