"""Retrieval scores mapped to [0, 1] so that one threshold means the same in every language and mode.

Raw first-stage scores are on different scales: a cosine for dense, BM25 points for lexical, and for
hybrid cosine + λ_q · BM25, where λ_q grows elevenfold for a Chinese question (``retrieval/fusion.py``).
An off-topic Chinese question can therefore outscore the right answer to an English one. The
calibrated score is the estimated probability that the chunk's document is relevant: a logistic
regression per search mode on the raw score, the question's CJK share, their product and the
log of the rank.

The constants below were fitted by ``python bench/calibration.py`` with all-MiniLM-L6-v2 + BM25 on
half of the questions of scifact (English), cmrc2018_zh_trial (Chinese) and cosqa_dev (code), plus
off-topic questions from the other sets; docs/benchmarks.md ("Score calibration") reports them on the
held-out half. Refit them when the embedder or the fusion changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from retrieval.lexical import cjk_share

# mode: (intercept, w_score, w_cjk, w_score·cjk, w_log_rank). Fitted by bench/calibration.py on the fit half
# of scifact, cmrc2018_zh_trial and cosqa_dev questions (+ off-topic questions across the sets), top 10 each,
# all-MiniLM-L6-v2 + BM25 and the default fusion; held-out ECE 0.005 (dense), 0.010 (lexical), 0.006 (hybrid).
CALIBRATION: dict[str, tuple[float, ...]] = {
    "dense": (-5.5481, 7.4482, -1.6765, 1.2925, -0.8782),
    "lexical": (-2.9411, 0.0955, 0.9396, -0.0448, -1.6462),
    "hybrid": (-2.8191, 3.0463, -0.3516, -2.4617, -1.6587),
}


def features(score: float, *, question: str | None = None, rank: int, cjk: float | None = None
             ) -> tuple[float, float, float, float]:
    """The regression's inputs for one result: raw score, CJK share, their product, log(rank)."""
    share = cjk_share(question or "") if cjk is None else cjk
    return score, share, score * share, math.log(rank)


def probability(weights: Sequence[float], score: float, *, rank: int, cjk: float) -> float:
    """The logistic model ``weights`` (intercept first) applied to one result."""
    z = weights[0] + sum(w * f for w, f in zip(weights[1:], features(score, rank=rank, cjk=cjk), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def calibrated_scores(scores: Sequence[float], *, question: str, mode: str) -> list[float]:
    """P(relevant) of each result of one question, given in rank order (best first)."""
    share = cjk_share(question)
    return [probability(CALIBRATION[mode], score, rank=rank, cjk=share) for rank, score in enumerate(scores, start=1)]
