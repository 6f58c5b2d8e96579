"""Fusion of the dense and lexical candidate lists into one ranking.

Sift's rule (``fuse``) adds raw scores: cosine + λ_q · BM25. Raw scores keep what per-list
normalisation (RRF, DBSF, min-max) throws away: how strong the best match is in absolute terms. A
code question whose best BM25 hit matches only common words stays a weak lexical signal even when its
list looks peaked, and a Chinese question that MiniLM cannot read gets near-equal cosines everywhere.
λ_q, the BM25 points one cosine point is worth for this query, grows

- with the share of the query written in CJK (``cjk_boost``): MiniLM reads English only, so for
  Chinese, Japanese or Korean questions lexical decides; the multilingual model reads them, and
  gets no boost;
- when the best cosine is below ``dense_confident``: a dense list that found nothing convincing
  leaves the decision to lexical.

The parameters depend on the embedding model (``fusion_for``): cosines of another model have
another scale. Each model's were measured with bench/embedders.py, tuned on half of each set's
questions and checked on the other half.

Both lists should be the top ``FusionConfig.candidates`` (100) of their signal; the fused list is cut
to ``limit``. ``rrf`` and ``dbsf`` are Qdrant's rules, kept for comparison (bench/fusion_study.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.lexical import cjk_share

Ranked = Sequence[tuple[str, float]]
"""(id, score) pairs, best first."""


@dataclass(frozen=True, slots=True)
class FusionConfig:
    """Parameters of ``fuse``, measured on scifact, cmrc2018 and cosqa with all-MiniLM-L6-v2."""

    lexical_weight: float = 0.009
    """λ: cosine points per BM25 point for an English query with a confident dense list."""
    cjk_boost: float = 10.0
    """λ is multiplied by 1 + cjk_boost · (CJK share of the query); 0 for a multilingual embedder."""
    dense_confident: float = 0.7
    """Best cosine at which dense counts fully; below it λ grows by dense_confident / best cosine."""
    candidates: int = 100
    """How many candidates each signal should contribute before fusion."""

    def __post_init__(self) -> None:
        if self.lexical_weight < 0 or self.cjk_boost < 0 or self.dense_confident <= 0 or self.candidates < 1:
            raise ValueError(f"invalid fusion config: {self}")


DEFAULT_FUSION = FusionConfig()


MULTILINGUAL_FUSION = FusionConfig(lexical_weight=0.005, cjk_boost=0.0, dense_confident=0.7)
"""For multilingual-e5-small (language-centred): the best mean dev nDCG@10 of bench/embedders.py's grid.
It reads Chinese, so CJK questions get no lexical boost (in a mixed collection one lifts Chinese pages
that share characters with the question above the English answer)."""


def fusion_for(model: str) -> FusionConfig:
    """The fusion measured for an embedding model (bench/embedders.py); MiniLM's for unmeasured ones."""
    return MULTILINGUAL_FUSION if model.startswith("multilingual-e5-small") else DEFAULT_FUSION


def lexical_weight(dense: Ranked, query: str | None, config: FusionConfig = DEFAULT_FUSION) -> float:
    """λ_q: what one BM25 point is worth in cosine points for this query and dense list."""
    weight = config.lexical_weight * (1.0 + config.cjk_boost * cjk_share(query or ""))
    best = max((score for _, score in dense), default=0.0)
    return weight * max(1.0, config.dense_confident / max(best, 1e-3))


def fuse(
    dense: Ranked, lexical: Ranked, *, limit: int, query: str | None = None,
    config: FusionConfig = DEFAULT_FUSION,
) -> list[tuple[str, float]]:
    """One ranking of both lists by cosine + λ_q · BM25, best first, at most ``limit`` long.

    A candidate missing from a list gets that list's lowest score (it ranked below the cut), or BM25 0
    where the lexical list is shorter than the dense one (it then holds every match).
    """
    if limit < 1:
        raise ValueError(f"limit must be ≥ 1, got {limit}")
    if not dense or not lexical:
        return [(i, float(s)) for i, s in (dense or lexical)[:limit]]
    weight = lexical_weight(dense, query, config)
    dense_scores, lexical_scores = dict(dense), dict(lexical)
    dense_floor = min(dense_scores.values())
    lexical_floor = min(lexical_scores.values()) if len(lexical) >= len(dense) else 0.0
    fused = {
        i: dense_scores.get(i, dense_floor) + weight * lexical_scores.get(i, lexical_floor)
        for i in dense_scores.keys() | lexical_scores.keys()
    }
    return _best(fused, _first_ranks(dense, lexical), limit)


def rrf(lists: Sequence[Ranked], *, limit: int, k: int = 60,
        weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion, Qdrant's formula: Σ 1 / ((rank + 1) / weight + k − 1)."""
    weights = weights or [1.0] * len(lists)
    fused: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        if weight <= 0:
            continue
        for rank, (i, _) in enumerate(ranked):
            fused[i] = fused.get(i, 0.0) + 1.0 / ((rank + 1) / weight + k - 1)
    return _best(fused, _first_ranks(*lists), limit)


def dbsf(lists: Sequence[Ranked], *, limit: int,
         weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Distribution-based score fusion, Qdrant's formula: each list scaled so mean ± 3σ maps to 0…1."""
    weights = weights or [1.0] * len(lists)
    fused: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for i, score in _distribution_normalised(ranked):
            fused[i] = fused.get(i, 0.0) + weight * score
    return _best(fused, _first_ranks(*lists), limit)


def _distribution_normalised(ranked: Ranked) -> list[tuple[str, float]]:
    if len(ranked) < 2:
        return [(i, 0.5) for i, _ in ranked]
    scores = [s for _, s in ranked]
    mean = sum(scores) / len(scores)
    std = math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1))
    if std == 0:
        return [(i, 0.5) for i, _ in ranked]
    return [(i, (s - mean + 3 * std) / (6 * std)) for i, s in ranked]


def _first_ranks(*lists: Ranked) -> dict[str, int]:
    """Best rank of each id in any list: the tie-break, so equal scores keep a stable order."""
    ranks: dict[str, int] = {}
    for ranked in lists:
        for rank, (i, _) in enumerate(ranked):
            if rank < ranks.get(i, rank + 1):
                ranks[i] = rank
    return ranks


def _best(scores: dict[str, float], ranks: dict[str, int], limit: int) -> list[tuple[str, float]]:
    order = sorted(scores, key=lambda i: (-scores[i], ranks[i], i))
    return [(i, scores[i]) for i in order[:limit]]
