"""Errors raised by the rerank stage."""


class RerankError(Exception):
    """Base class for reranker failures."""


class RerankerUnavailable(RerankError):
    """The engine cannot score right now (not loaded, unreachable, out of memory, timed out)."""


class RerankerOverloaded(RerankError):
    """The request queue is full; the caller should retry later."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PromptTooLong(RerankError, ValueError):
    """Instruction and query alone exceed the reranker's maximum prompt length."""


class RerankerNotConfigured(RerankError):
    """No reranker is configured (``SIFT_RERANK_ENGINE=none``): a permanent condition, not worth a retry."""
