"""The packed forward pass: its layout, and its hidden states against transformers' own Qwen3 model."""

from __future__ import annotations

import pytest
import torch

from rerank.qwen3_packed import PackedQwen3, common_prefix_length, pack_rows


def test_layout_of_a_shared_prefix_group_and_a_lone_row() -> None:
    rows = pack_rows([([7, 8], [[1, 2, 3], [4]]), ([], [[5, 6]])], "cpu")
    assert rows.input_ids.tolist() == [7, 8, 1, 2, 3, 4, 5, 6]
    assert rows.position_ids.tolist() == [0, 1, 2, 3, 4, 2, 0, 1]  # rests continue after their prefix
    # Segments: the prefix (attends to itself), each rest (prefix keys, then its own), the lone row.
    assert rows.cu_q.tolist() == [0, 2, 5, 6, 8]
    assert rows.key_index is not None
    assert rows.key_index.tolist() == [0, 1, 0, 1, 2, 3, 4, 0, 1, 5, 6, 7]
    assert rows.cu_k.tolist() == [0, 2, 7, 10, 12]
    assert (rows.max_q, rows.max_k) == (3, 5)
    assert rows.last.tolist() == [4, 5, 7]


def test_rows_without_a_shared_prefix_need_no_key_gather() -> None:
    rows = pack_rows([([], [[1, 2], [3]])], "cpu")
    assert rows.key_index is None
    assert rows.cu_q.tolist() == rows.cu_k.tolist() == [0, 2, 3]


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

    packed = PackedQwen3(tiny_lm, compile=compile).last_hidden(pack_rows([(prefix, rests), ([], [lone])], "cpu"))
    with torch.inference_mode():
        expected = torch.stack([tiny_lm.model(torch.tensor([ids])).last_hidden_state[0, -1] for ids in prompts])
    torch.testing.assert_close(packed, expected, atol=1e-5, rtol=1e-5)
