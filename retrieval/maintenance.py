"""Background index maintenance: rebuild the embedded store's HNSW index after large ingests.

A rebuild starts once enough points were written since the last one and writes have been quiet
for a while, so a running ingest is not slowed down; queries are served throughout.
"""

from __future__ import annotations

import logging
import threading
import time

from retrieval.edge_store import EdgeStore

log = logging.getLogger(__name__)


class IndexMaintainer:
    """A daemon thread that calls ``EdgeStore.rebuild_index`` when it is worth it."""

    def __init__(self, store: EdgeStore, *, min_points: int, quiet_s: float, poll_s: float = 5.0) -> None:
        self.store = store
        self.min_points = min_points
        self.quiet_s = quiet_s
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rebuilds = 0
        self.error: str | None = None

    def due(self) -> bool:
        """Enough unindexed points, and no write for ``quiet_s`` seconds."""
        quiet = time.monotonic() - self.store.last_write >= self.quiet_s
        return self.store.unindexed_writes >= self.min_points and quiet

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="index-maintenance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=600)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            if not self.due():
                continue
            try:
                if self.store.rebuild_index():
                    self.rebuilds += 1
                self.error = None
            except Exception as exc:  # keep serving from the current index
                self.error = f"{type(exc).__name__}: {exc}"
                log.error("index rebuild failed, will retry: %s", self.error)
