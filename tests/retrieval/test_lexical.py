"""The lexical encoder: tokenisation per script, BM25 tf saturation, stable term indices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.lexical import AVG_LEN, LexicalEncoder, cjk_share, term_index, tokenize

REPO = Path(__file__).resolve().parents[2]


def test_english_is_stemmed_and_stopwords_dropped():
    assert tokenize("The dogs were running to the houses") == ["dog", "run", "hous"]
    assert tokenize("Running RUNS run") == ["run", "run", "run"]


def test_chinese_is_character_unigrams_and_bigrams():
    assert tokenize("机器学习") == ["机", "器", "学", "习", "机器", "器学", "学习"]
    assert tokenize("中") == ["中"]


def test_japanese_and_korean_runs_are_split_like_chinese():
    assert tokenize("京都タワー") == ["京", "都", "タ", "ワ", "ー",
                                      "京都", "都タ", "タワ", "ワー"]
    assert tokenize("한국어 문서") == ["한", "국", "어", "한국", "국어", "문", "서", "문서"]


def test_code_identifiers_split_and_keep_the_whole():
    assert tokenize("parseHTTPResponse") == ["pars", "http", "respons", "parsehttpresponse"]
    assert tokenize("max_retry_count") == ["max", "retri", "count", "max_retry_count"]
    assert tokenize("utf8Decode") == ["utf", "8", "decod", "utf8decode"]
    assert tokenize("os.path.join(a, b)") == ["os", "path", "join"]


def test_mixed_text_splits_each_run_by_its_script():
    assert tokenize("用Python读取JSON文件") == [
        "用", "python", "读", "取", "读取", "json", "文", "件", "文件",
    ]


def test_full_width_input_is_normalised():
    assert tokenize("ＨＴＴＰ　Ｓｅｒｖｅｒ１２") == tokenize("HTTP Server12")
    assert tokenize("ｐａｒｓｅＪＳＯＮ") == ["pars", "json", "parsejson"]


def test_traditional_and_simplified_chinese_give_the_same_terms():
    assert tokenize("這個軟體的設定頁面裡") == tokenize("这个软体的设定页面里")
    assert tokenize("衞生署") == tokenize("卫生署")  # Hong Kong variant
    assert tokenize("東京") == ["东", "京", "东京"]  # kanji with a simplified form fold too, on both sides


def test_cjk_share_counts_positions():
    assert cjk_share("how to parse json") == 0.0
    assert cjk_share("怎么解析") == 1.0
    assert cjk_share("用 Python 解析") == pytest.approx(3 / 4)
    assert cjk_share("") == 0.0


def test_term_indices_are_stable_31_bit_crc():
    assert term_index("run") == 1349952704  # CRC-32 of b"run" & 0x7FFFFFFF, in every process
    assert term_index("学习") == term_index("学习") < 2**31
    code = "from retrieval.lexical import term_index; print(term_index('run'), term_index('学习'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123"}, cwd=REPO)
    assert out.stdout.split() == [str(term_index("run")), str(term_index("学习"))]


def test_document_values_are_saturated_term_frequencies():
    encoder = LexicalEncoder(k1=1.2, b=0.75, avg_len=4.0)
    indices, values = encoder.encode_document("apple apple apple banana")
    weights = dict(zip(indices, values, strict=True))
    # len = 4 positions = avg_len, so the norm is k1 and w(tf) = tf·2.2/(tf + 1.2)
    assert weights[term_index("appl")] == pytest.approx(3 * 2.2 / (3 + 1.2))
    assert weights[term_index("banana")] == pytest.approx(2.2 / (1 + 1.2))
    assert all(v < 1.2 + 1 for v in values)


def test_longer_documents_weigh_a_term_less():
    encoder = LexicalEncoder()
    short = dict(zip(*encoder.encode_document("apple pie"), strict=True))
    filler = " ".join(f"word{i}x" for i in range(300))
    long = dict(zip(*encoder.encode_document(f"apple {filler}"), strict=True))
    assert long[term_index("appl")] < short[term_index("appl")]


def test_cjk_bigrams_do_not_count_towards_length():
    encoder = LexicalEncoder(avg_len=AVG_LEN)
    # 4 characters = 4 positions, although 7 terms are emitted
    indices, values = encoder.encode_document("机器学习")
    norm = 1.2 * (0.25 + 0.75 * 4 / AVG_LEN)
    assert len(indices) == 7
    assert values[0] == pytest.approx(2.2 / (1 + norm))


def test_query_has_one_unit_weight_per_distinct_term():
    indices, values = LexicalEncoder().encode_query("apples and apple pie")
    assert indices == [term_index("appl"), term_index("pie")]
    assert values == [1.0, 1.0]


def test_empty_text_gives_an_empty_vector():
    assert LexicalEncoder().encode_document("  , . ") == ([], [])
    assert LexicalEncoder().encode_query("the of and") == ([], [])


def test_invalid_parameters_are_rejected():
    with pytest.raises(ValueError):
        LexicalEncoder(b=1.5)
