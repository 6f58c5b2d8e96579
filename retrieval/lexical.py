"""BM25-style sparse vectors for Qdrant's IDF modifier, computed offline (no model).

Qdrant scores a query against a stored point as Σ_t idf(t) · q_t · d_t with
idf(t) = ln(1 + (N − n_t + 0.5) / (n_t + 0.5)) over the stored sparse vectors, so the
document side carries BM25's saturated term frequency and the query side 1.0 per term.

Tokenisation, after folding (NFKC, then traditional Chinese to simplified) and per run of one script:
- Han, kana and hangul runs: character unigrams and bigrams (CJK has no spaces to split on).
- Other words: split on camelCase, snake_case and letter/digit boundaries, lowercased, English
  stopwords dropped, Snowball-stemmed; a word split into parts also keeps its whole lowercased form,
  so ``parseHTTPResponse`` matches both ``http response`` and the identifier itself.

A term's index is its CRC-32 (31 bits): stable across processes, machines and languages.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

from ingest.text import fold_text
from retrieval.chinese import to_simplified

K1 = 1.2
"""BM25 term-frequency saturation."""
B = 0.75
"""BM25 length normalisation strength."""
AVG_LEN = 100.0
"""Positions (kept words, CJK characters) in a typical chunk: Sift's chunks are bounded (~240 model
tokens, about 110 positions of English), so a constant replaces the corpus average BM25 would use."""

_CJK = (
    "\u1100-\u11ff\u3005\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\U00020000-\U0003134f"
)
_WORD = re.compile(r"\w+")
"""A run of word characters (letters, digits, underscore) of any script."""
_CJK_RUN = re.compile(f"([{_CJK}]+)")
"""Splits a word into its CJK and other runs (CJK at odd positions)."""
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
"""Parts of an ASCII identifier: ``parseHTTPResponse2`` → parse, HTTP, Response, 2."""
_NON_ASCII_PART = re.compile(r"[^\W\d_]+|\d+")
"""Parts of a non-ASCII word: letters and digits apart."""

STOPWORDS = frozenset("""
a about above after again against ain all am an and any are aren as at be because been before being
below between both but by can couldn d did didn do does doesn doing don down during each few for from
further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is
isn it its itself just ll m ma me mightn more most mustn my myself needn no nor not now o of off on once
only or other our ours ourselves out over own re s same shan she should shouldn so some such t than that
the their theirs them themselves then there these they this those through to too under until up ve very
was wasn we were weren what when where which while who whom why will with won wouldn y you your yours
yourself yourselves
""".split())
"""English stopwords (NLTK's list, without the contractions that ``\\w+`` never yields)."""


def _stemmer():
    try:
        import Stemmer
    except ImportError as exc:  # pragma: no cover - exercised only without the dependency
        raise ImportError("retrieval.lexical needs PyStemmer: pip install PyStemmer") from exc
    return Stemmer.Stemmer("english")


_STEM = _stemmer().stemWord


@lru_cache(maxsize=1 << 16)
def _word_terms(word: str) -> tuple[tuple[str, ...], int]:
    """(terms, positions) of one non-CJK word or identifier in its original case."""
    if word.isascii():
        simple = word.isalpha() and (word.islower() or word[1:].islower())
        parts = [word] if simple else _PART.findall(word)
    else:
        parts = _NON_ASCII_PART.findall(word)
    terms = []
    for part in parts:
        low = part.lower()
        if low in STOPWORDS or (len(low) == 1 and not low.isdigit()):
            continue
        terms.append(_STEM(low) if low.isalpha() else low)
    positions = len(terms)
    if len(parts) > 1:
        terms.append(word.lower())
        positions = max(positions, 1)
    return tuple(terms), positions


def lexical_form(text: str) -> str:
    """The text the terms are taken from: width and compatibility forms folded (NFKC), traditional Chinese
    as simplified, so that a question in either script or width finds a chunk in the other."""
    return to_simplified(fold_text(text))


def _analyze(text: str) -> tuple[list[str], int]:
    """(terms, length). Length counts positions (a CJK character, a kept word part), not the bigrams
    and whole identifiers added on top, so Chinese and code chunks are not judged long for them."""
    terms: list[str] = []
    length = 0
    for word in _WORD.findall(lexical_form(text)):
        pieces = _CJK_RUN.split(word) if not word.isascii() else (word,)
        for k, piece in enumerate(pieces):
            if k % 2:  # a CJK run: unigrams and bigrams
                run = piece.lower()
                terms.extend(run)
                terms.extend(map(str.__add__, run, run[1:]))
                length += len(run)
            elif piece:
                word_terms, positions = _word_terms(piece)
                terms.extend(word_terms)
                length += positions
    return terms, length


def tokenize(text: str) -> list[str]:
    """The lexical terms of ``text``, in order, repeated as often as they occur."""
    return _analyze(text)[0]


def cjk_share(text: str) -> float:
    """Share of ``text``'s positions (a CJK character or another word) that are CJK; 0 for none."""
    cjk = words = 0
    for word in _WORD.findall(fold_text(text)):
        pieces = _CJK_RUN.split(word) if not word.isascii() else (word,)
        cjk += sum(len(piece) for piece in pieces[1::2])
        words += sum(1 for piece in pieces[::2] if piece)
    return cjk / (cjk + words) if cjk else 0.0


def term_index(term: str) -> int:
    """Stable 31-bit index of a term: CRC-32 of its UTF-8, the same in every process and language."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


class LexicalEncoder:
    """Sparse BM25 vectors: saturated term frequencies for documents, unit weights for queries."""

    def __init__(self, *, k1: float = K1, b: float = B, avg_len: float = AVG_LEN) -> None:
        if k1 <= 0 or not 0 <= b <= 1 or avg_len <= 0:
            raise ValueError(f"need k1 > 0, 0 ≤ b ≤ 1, avg_len > 0; got {k1=}, {b=}, {avg_len=}")
        self.k1, self.b, self.avg_len = k1, b, avg_len

    def encode_document(self, text: str) -> tuple[list[int], list[float]]:
        """Indices and BM25 tf weights tf·(k1+1)/(tf + k1·(1−b+b·len/avg_len)) of a chunk's terms."""
        terms, length = _analyze(text)
        counts: dict[int, int] = {}
        for term, tf in Counter(terms).items():
            index = term_index(term)
            counts[index] = counts.get(index, 0) + tf
        norm = self.k1 * (1.0 - self.b + self.b * length / self.avg_len)
        top = self.k1 + 1.0
        return list(counts), [tf * top / (tf + norm) for tf in counts.values()]

    def encode_query(self, text: str) -> tuple[list[int], list[float]]:
        """Indices of a question's distinct terms, each with weight 1.0 (Qdrant multiplies in idf)."""
        indices = list(dict.fromkeys(map(term_index, tokenize(text))))
        return indices, [1.0] * len(indices)
