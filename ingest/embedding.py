"""Dense embeddings of chunks and questions, with the model chosen by ``SIFT_EMBED_MODEL``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.embedding_cache import EmbeddingCache
from ingest.encoders import Encoder, load_encoder

log = logging.getLogger(__name__)


class Embedder:
    """Normalised dense embeddings for chunks and questions, safe to call from many threads.

    The constructor is cheap; ``warm_up`` loads the model (``ingest.encoders``: a bundled name or a
    sentence-transformers folder) and raises ``EmbedderUnavailable`` if it cannot.

    Questions have a lane of their own: the model is loaded twice, one instance for questions and one
    for passages, each encoding one batch at a time under its own lock. A question therefore never
    queues behind an ingest batch; it only shares the cores, where ingestion threads run at a lower
    priority (``api.ingestion.lower_thread_priority``). One shared lock would be worse than it looks:
    a low-priority ingest batch holding it runs slowly exactly when questions keep the cores busy,
    and every question waits for it. The second instance costs the model's size in memory once more
    (90 MB for all-MiniLM-L6-v2); ``bench/load.py`` measures what it buys.
    """

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32,
                 cache_path: str | Path | None = None) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.cache_path = cache_path
        self._encoder: Encoder | None = None
        self._query_encoder: Encoder | None = None
        self._cache: EmbeddingCache | None = None
        self._passage_lock = threading.Lock()
        self._query_lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._encoder is not None

    def warm_up(self) -> None:
        """Load the model (never from a hub: nothing downloads at run time)."""
        if self._encoder is not None:
            return
        encoder = load_encoder(self.model_name, device=self.device)
        self._query_encoder = load_encoder(self.model_name, device=self.device)
        if self.cache_path is not None:
            self._cache = EmbeddingCache(self.cache_path, f"{encoder.name}|{encoder.max_tokens}")
        self._encoder = encoder
        log.info("embedder loaded: %s (dim %d, max %d tokens)", encoder.name, self.dimension, self.max_tokens)

    @property
    def encoder(self) -> Encoder:
        """The loaded model."""
        if self._encoder is None:
            raise RuntimeError("Embedder.warm_up() must run before embedding")
        return self._encoder

    @property
    def model_id(self) -> str:
        """The name the catalog records as the maker of a collection's vectors."""
        return self.encoder.name

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    @property
    def max_tokens(self) -> int:
        return self.encoder.max_tokens

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own tokenizer (what the chunker and the context budget count)."""
        return self.encoder.count_tokens(text)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` tokens (original casing kept)."""
        return self.encoder.truncate(text, max_tokens)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (cached texts are not encoded again)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        cached = self._cache.get_many(texts) if self._cache else {}
        for i, vector in cached.items():
            out[i] = vector
        missing = [i for i in range(len(texts)) if i not in cached]
        if missing:
            todo = [texts[i] for i in missing]
            vectors = np.concatenate([
                self._encode(todo[start:start + self.batch_size], query=False)
                for start in range(0, len(todo), self.batch_size)
            ])
            out[missing] = vectors
            if self._cache:
                self._cache.put_many(todo, vectors)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """The unit-length vector of one question (questions are never cached)."""
        return self._encode([text], query=True)[0]

    def close(self) -> None:
        if self._cache:
            self._cache.close()

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        """One batch through the question or the passage instance, under that instance's lock."""
        passages = self.encoder  # raises until warm_up has loaded both
        if query:
            with self._query_lock:
                return self._query_encoder.encode_queries(texts)
        with self._passage_lock:
            return passages.encode_passages(texts)
