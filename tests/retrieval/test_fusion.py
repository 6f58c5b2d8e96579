"""Fusion of dense and lexical candidates on hand-made lists."""

from __future__ import annotations

import pytest

from retrieval.fusion import DEFAULT_FUSION, FusionConfig, dbsf, fuse, lexical_weight, rrf

DENSE = [("a", 0.82), ("b", 0.74), ("c", 0.71), ("d", 0.69)]
"""A confident dense list: best cosine above ``dense_confident``."""


def _ids(ranked):
    return [i for i, _ in ranked]


def test_an_absent_signal_leaves_the_other_untouched():
    assert fuse(DENSE, [], limit=10) == DENSE
    lexical = [("x", 12.0), ("a", 3.0)]
    assert fuse([], lexical, limit=10) == lexical


def test_a_flat_lexical_list_does_not_reorder_a_confident_dense_one():
    flat = [(i, 5.0) for i in ("d", "c", "b", "a")]
    assert _ids(fuse(DENSE, flat, limit=10, query="apple pie")) == ["a", "b", "c", "d"]


def test_a_weak_lexical_match_does_not_overturn_a_clear_dense_winner():
    lexical = [("d", 9.0), ("a", 7.0), ("b", 6.5), ("c", 6.0)]
    assert _ids(fuse(DENSE, lexical, limit=4, query="how to sort a list")) == ["a", "b", "d", "c"]


def test_a_strong_lexical_match_wins_when_dense_is_unsure():
    unsure = [("a", 0.42), ("b", 0.41), ("c", 0.40), ("d", 0.40)]
    lexical = [("d", 30.0), ("a", 4.0), ("b", 3.0), ("c", 2.0)]
    assert _ids(fuse(unsure, lexical, limit=4, query="error code E1234"))[0] == "d"


def test_a_chinese_question_is_decided_by_lexical():
    lexical = [("c", 20.0), ("a", 12.0), ("b", 11.0), ("d", 10.0)]
    assert _ids(fuse(DENSE, lexical, limit=1, query="生命数耗完即算为什么？")) == ["c"]
    assert _ids(fuse(DENSE, lexical, limit=1, query="what happens when lives run out")) == ["a"]


def test_the_lexical_weight_grows_with_cjk_share_and_low_cosine():
    config = FusionConfig(lexical_weight=0.01, cjk_boost=10.0, dense_confident=0.7)
    assert lexical_weight(DENSE, "english words", config) == pytest.approx(0.01)
    assert lexical_weight(DENSE, "中文问题", config) == pytest.approx(0.11)
    assert lexical_weight([("a", 0.35)], "english", config) == pytest.approx(0.02)
    assert lexical_weight([("a", -0.2)], None, config) > 1.0


def test_ids_in_one_list_only_get_that_lists_floor():
    dense = [("a", 0.9), ("b", 0.8)]
    lexical = [("c", 10.0), ("a", 5.0)]  # as long as the dense list: "b" ranked below its cut
    fused = dict(fuse(dense, lexical, limit=10, query="q"))
    weight = lexical_weight(dense, "q")
    assert fused["b"] == pytest.approx(0.8 + weight * 5.0)
    assert fused["c"] == pytest.approx(0.8 + weight * 10.0)
    assert fused["a"] == pytest.approx(0.9 + weight * 5.0)


def test_a_short_lexical_list_holds_every_match_so_the_rest_score_zero():
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    fused = dict(fuse(dense, [("c", 4.0)], limit=10, query="q"))
    assert fused["a"] == pytest.approx(0.9)
    assert fused["b"] == pytest.approx(0.8)


def test_ties_break_by_best_rank_then_id():
    dense = [("b", 0.8), ("a", 0.8), ("c", 0.8)]
    lexical = [("z", 1.0), ("y", 1.0), ("c", 1.0)]
    first = fuse(dense, lexical, limit=6, query="q")
    assert first == fuse(dense, lexical, limit=6, query="q")
    # all six fused scores tie: ids at rank 0 first (b, z), then rank 1 (a, y), then c
    assert _ids(first) == ["b", "z", "a", "y", "c"]


def test_limit_cuts_the_fused_list():
    lexical = [(f"l{i}", 10.0 - i) for i in range(4)]
    assert len(fuse(DENSE, lexical, limit=3)) == 3
    assert len(fuse(DENSE, lexical, limit=100)) == 8
    with pytest.raises(ValueError):
        fuse(DENSE, lexical, limit=0)


def test_invalid_config_is_rejected():
    with pytest.raises(ValueError):
        FusionConfig(dense_confident=0)
    assert DEFAULT_FUSION.candidates >= 50


def test_rrf_follows_qdrants_formula():
    fused = dict(rrf([[("a", 9.0), ("b", 1.0)], [("b", 3.0)]], limit=5, k=2))
    assert fused["a"] == pytest.approx(1 / 2)
    assert fused["b"] == pytest.approx(1 / 3 + 1 / 2)
    weighted = dict(rrf([[("a", 1.0)], [("b", 1.0)]], limit=5, k=60, weights=[1.0, 2.0]))
    assert weighted["b"] == pytest.approx(1 / (0.5 + 59)) and weighted["a"] == pytest.approx(1 / 60)


def test_dbsf_scales_mean_plus_minus_three_sigma_to_unit_range():
    fused = dbsf([[("a", 3.0), ("b", 2.0), ("c", 1.0)]], limit=3)
    # mean 2, sample σ 1: a → (3 − 2 + 3) / 6
    assert fused == [("a", pytest.approx(4 / 6)), ("b", pytest.approx(0.5)), ("c", pytest.approx(2 / 6))]
