"""Per-key limits: requests per minute (a moving window, from the ``limits`` library) and concurrent uploads."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.auth import Principal, RateLimited


class RateLimits:
    """The limits of one server process. ``0`` turns a limit off."""

    def __init__(self, *, requests_per_minute: int, concurrent_uploads: int) -> None:
        self._per_minute = RateLimitItemPerMinute(requests_per_minute) if requests_per_minute else None
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._max_uploads = concurrent_uploads
        self._uploads: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, principal: Principal) -> None:
        """Count one request of the principal; raises ``RateLimited`` past the per-minute limit.

        An open server (no keys, loopback only) has no principal to count for, so it is not limited."""
        if self._per_minute is None or principal.key_id is None:
            return
        if not self._limiter.hit(self._per_minute, principal.rate_key):
            reset_at = self._limiter.get_window_stats(self._per_minute, principal.rate_key).reset_time
            raise RateLimited(
                f"rate limit of {self._per_minute.amount} requests a minute reached for {principal.name} "
                "(SIFT_RATE_LIMIT_PER_MINUTE)", retry_after_s=max(1.0, math.ceil(reset_at - time.time())))

    @contextmanager
    def upload_slot(self, principal: Principal) -> Iterator[None]:
        """Hold one of the principal's concurrent-upload slots; raises ``RateLimited`` when none is free."""
        key = principal.rate_key
        with self._lock:
            held = self._uploads.get(key, 0)
            if self._max_uploads and held >= self._max_uploads:
                raise RateLimited(f"{principal.name} already has {held} uploads in progress; the limit is "
                                  f"{self._max_uploads} (SIFT_MAX_CONCURRENT_UPLOADS)", retry_after_s=2.0)
            self._uploads[key] = held + 1
        try:
            yield
        finally:
            with self._lock:
                self._uploads[key] -= 1
                if not self._uploads[key]:
                    del self._uploads[key]
