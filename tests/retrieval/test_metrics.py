"""Metrics against cases computed by hand."""

from __future__ import annotations

import math

import pytest

from retrieval.metrics import mrr_at_k, ndcg_at_k, percentile, recall_at_k


def test_ndcg_by_hand():
    # Relevant at ranks 1 and 3 of 2 relevant: (1 + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at_k(["a", "x", "b", "y"], {"a", "b"}, 10) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == 1.0
    assert ndcg_at_k(["x", "y"], {"a"}, 10) == 0.0
    # Only the top k count: the relevant doc at rank 3 is outside k=2.
    assert ndcg_at_k(["x", "y", "a"], {"a"}, 2) == 0.0
    # More relevant docs than k: the ideal DCG is capped at k.
    assert ndcg_at_k(["a", "b"], {"a", "b", "c"}, 2) == 1.0


def test_recall_and_mrr_by_hand():
    assert recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}, 50) == 0.5
    assert recall_at_k(["a", "x", "b"], {"b"}, 2) == 0.0
    assert mrr_at_k(["x", "y", "a"], {"a"}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x"] * 10 + ["a"], {"a"}, 10) == 0.0
    assert recall_at_k([], set(), 5) == ndcg_at_k([], set()) == 0.0


def test_percentile():
    assert percentile([10, 20, 30, 40], 50) == 25
    assert percentile([5], 95) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == pytest.approx(9.55)
