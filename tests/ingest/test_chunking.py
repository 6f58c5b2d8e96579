"""Chunks are token-bounded, overlap, keep heading paths and never split code fences into sections."""

from __future__ import annotations

import pytest

from ingest.chunking import Chunker
from ingest.models import Document


@pytest.fixture(scope="module")
def chunker(sift) -> Chunker:
    return Chunker(chunk_size=64, chunk_overlap=8, count_tokens=sift.embedder.count_tokens)


def _doc(text: str) -> Document:
    return Document(id="d", title="Guide", text=text, content_type="text/markdown")


def test_heading_paths_follow_the_outline(chunker):
    text = "# Guide\nIntro.\n\n## Install\nRun it.\n\n### On Linux\nUse apt.\n\n## Usage\nCall it."
    chunks = chunker.chunk_document(_doc(text))
    assert [c.heading for c in chunks] == ["Guide", "Guide > Install", "Guide > Install > On Linux",
                                           "Guide > Usage"]
    assert [c.index for c in chunks] == [0, 1, 2, 3]
    assert chunks[2].embedding_text.startswith("Guide > Guide > Install > On Linux\n")


def test_long_sections_are_split_within_the_token_budget(chunker, sift):
    text = "# Guide\n" + " ".join(f"Sentence number {i} explains one more step." for i in range(80))
    chunks = chunker.chunk_document(_doc(text))
    assert len(chunks) > 3
    assert all(sift.embedder.count_tokens(c.text) <= 64 for c in chunks)
    assert len({c.content_hash for c in chunks}) == 1


def test_chinese_text_is_split_at_sentence_ends(chunker, sift):
    text = "# 指南\n" + "".join(f"这是第{i}个句子，用来说明一个步骤。" for i in range(60))
    chunks = chunker.chunk_document(_doc(text))
    assert len(chunks) > 2
    assert all(sift.embedder.count_tokens(c.text) <= 64 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks[:-1])


def test_hash_in_code_is_not_a_heading(chunker):
    text = "# Guide\n\n```bash\n# install\npip install sift\n```\n"
    chunks = chunker.chunk_document(_doc(text))
    assert len(chunks) == 1 and "# install\npip install sift" in chunks[0].text


def test_overlap_must_be_smaller_than_size(sift):
    with pytest.raises(ValueError, match="chunk_overlap"):
        Chunker(chunk_size=32, chunk_overlap=32, count_tokens=sift.embedder.count_tokens)
