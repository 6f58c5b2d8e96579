"""Errors raised by the rerank stage."""


class RerankError(Exception):
    """Base class for reranker failures."""


class RerankerNotConfigured(RerankError):
    """No reranker is configured (``SIFT_RERANK_ENGINE=none``): permanent, retrying cannot help."""


class RerankerUnavailable(RerankError):
    """The engine cannot score right now (not loaded, unreachable, out of memory, timed out)."""


class RerankerStarting(RerankerUnavailable):
    """The reranker server is not up yet (unreachable, or answering 502/503/504); it may come up later."""


class RerankerOverloaded(RerankError):
    """The request queue is full; the caller should retry later."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PromptTooLong(RerankError, ValueError):
    """Instruction and query alone exceed the reranker's maximum prompt length."""
