"""One contract for every bundled encoder: its own token counts, prefix truncation, unit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.chunking import Chunker
from ingest.encoders import BUNDLED, MULTILINGUAL_E5, load_encoder
from ingest.models import Document

TEXT = ("To reset your password, open the sign-in page and click Forgot password. "
        "如果您忘记了密码，请在登录页面点击“忘记密码”，然后按照邮件中的链接设置新密码。") * 3


@pytest.fixture(scope="module", params=BUNDLED)
def encoder(request):
    return load_encoder(request.param)


def test_truncate_keeps_the_longest_prefix_that_fits(encoder):
    for limit in (1, 7, 40):
        cut = encoder.truncate(TEXT, limit)
        assert TEXT.startswith(cut)
        assert encoder.count_tokens(cut) <= limit
        assert encoder.count_tokens(TEXT[: len(cut) + 2]) > limit  # two more characters would not fit
    assert encoder.truncate("short", 40) == "short"


def test_chunks_fit_the_chunk_size_in_the_models_own_tokens(encoder):
    chunker = Chunker(chunk_size=48, chunk_overlap=8, count_tokens=encoder.count_tokens)
    chunks = chunker.chunk_document(Document(id="d", title="t", text=TEXT, content_type="text/plain"))
    assert len(chunks) > 2
    assert all(encoder.count_tokens(chunk.text) <= 48 for chunk in chunks)


def test_vectors_are_unit_rows_of_the_models_dimension(encoder):
    passages = encoder.encode_passages(["first passage", "第二段"])
    queries = encoder.encode_queries(["a question"])
    assert passages.shape == (2, encoder.dimension) and queries.shape == (1, encoder.dimension)
    assert passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([passages, queries]), axis=1), 1.0, atol=1e-5)
    assert encoder.encode_passages([]).shape == (0, encoder.dimension)


def test_multilingual_model_puts_a_translation_before_same_language_text():
    """Language centring: the English answer beats an unrelated Chinese page for a Chinese question."""
    encoder = load_encoder(MULTILINGUAL_E5)
    question = encoder.encode_queries(["忘记密码了怎么办？"])[0]
    english_answer, unrelated_chinese = encoder.encode_passages([
        "If you forgot your password, click Forgot password on the sign-in page to get a reset link.",
        "团队版可以按 1 TB 为单位购买额外存储，费用按剩余账期折算。",
    ])
    assert question @ english_answer > question @ unrelated_chinese + 0.1
