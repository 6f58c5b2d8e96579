"""The reranker engine interface: score (query, document) pairs as P(yes)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RerankPair:
    """One query/document pair with the instruction that steers its judgement."""

    query: str
    document: str
    instruction: str | None = None


class RerankEngine(ABC):
    """A loaded reranker model. Constructors are cheap; ``warm_up`` loads the model."""

    #: Engine name as configured in ``SIFT_RERANK_ENGINE``.
    engine: str = ""
    #: Longest prompt in tokens; documents are cut inside so that the prompt fits.
    max_length: int = 8192

    def __init__(self, model: str) -> None:
        self.model = model
        self.ready = False

    @property
    def tokenizer(self) -> Any | None:
        """The reranker's Hugging Face tokenizer once warmed up (engines keep it as ``_tokenizer``), else None."""
        return getattr(self, "_tokenizer", None)

    @abstractmethod
    def warm_up(self) -> None:
        """Load the model (or connect to the server) so that ``score`` is fast; sets ``ready``."""

    @abstractmethod
    def score(self, pairs: Sequence[RerankPair], *, deadline: float | None = None) -> list[float]:
        """Relevance of each pair as P(yes) in [0, 1], in input order.

        ``deadline`` (``time.monotonic()`` seconds) is when the callers stop waiting: engines that wait on
        something (a server) give up then; in-process engines finish the batch they started. Raises
        ``RerankerUnavailable`` when the engine cannot score.
        """

    def close(self) -> None:  # noqa: B027 - engines without resources need no cleanup
        """Release the model or connections."""
