"""Embeddings remembered by content: equal text under the same model is never encoded twice."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.models import sha256_hex
from retrieval.catalog import open_database, transaction

SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL);"


class EmbeddingCache:
    """float32 vectors in SQLite, keyed by a digest of (model, text). Safe across threads and processes."""

    def __init__(self, path: str | Path, model_key: str) -> None:
        self.path = Path(path)
        self.model_key = model_key
        self._db = open_database(self.path, SCHEMA, timeout_s=30, durable=False)  # a cache: rebuilt if lost
        self._lock = threading.Lock()

    def key(self, text: str) -> str:
        return sha256_hex(self.model_key, text)

    def get_many(self, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Cached vectors by position in ``texts``."""
        keys = [self.key(text) for text in texts]
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = keys[start:start + 500]
                marks = ",".join("?" * len(batch))
                found.update(self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch))
        return {i: np.frombuffer(found[k], dtype=np.float32) for i, k in enumerate(keys) if k in found}

    def put_many(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(self.key(text), np.asarray(vector, dtype=np.float32).tobytes())
                for text, vector in zip(texts, vectors, strict=True)]
        with self._lock, transaction(self._db):
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
