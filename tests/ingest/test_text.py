"""Bytes become the right text in every supported encoding; binary is refused; text hygiene is applied."""

from __future__ import annotations

import codecs

import pytest

from ingest.errors import BinaryContent
from ingest.text import decode_bytes, fold_text, is_probably_binary, normalize_text

ZH_HANS = "知识库检索服务需要正确处理中文网页。这个段落用于测试编码检测是否可靠，包括标点符号和数字123。"
ZH_HANT = "知識庫檢索服務需要正確處理中文網頁。這個段落用於測試編碼檢測是否可靠，包括標點符號。"
JA = (
    "ナレッジベース検索サービスは日本語のウェブページを正しく処理する必要があります。この段落はテスト用です。"
)
FR = "Le café est très bon à Noël, déjà réservé pour la fête. Ça coûte cher!"


# --- decoding ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (ZH_HANS, "gbk"),
        (ZH_HANS, "gb18030"),
        (ZH_HANT, "big5"),
        (JA, "shift_jis"),
        (FR, "latin-1"),
        ("He said “hello” — it’s a test… of smart quotes.", "cp1252"),
        ("Привет, это тестовый текст на русском языке для проверки кодировки.", "cp1251"),
        (FR + " " + ZH_HANS, "utf-8"),
    ],
)
def test_undeclared_encodings_are_detected(text, encoding):
    assert decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize(
    ("text", "encoding", "declared"),
    [
        (ZH_HANS, "gbk", "gb2312"),
        (ZH_HANT, "big5", "big5"),
        (JA, "shift_jis", "Shift_JIS"),
        (FR, "latin-1", "ISO-8859-1"),
    ],
)
def test_a_declared_charset_is_used(text, encoding, declared):
    assert decode_bytes(text.encode(encoding), declared) == text


@pytest.mark.parametrize(
    "meta",
    ['<meta charset="{charset}">', '<meta http-equiv="Content-Type" content="text/html; charset={charset}">'],
)
@pytest.mark.parametrize(
    ("text", "charset"), [(ZH_HANS, "gbk"), (ZH_HANT, "big5"), (JA, "shift_jis"), ("Noël", "iso-8859-1")]
)
def test_a_meta_charset_is_used(meta, text, charset):
    html = f"<html><head>{meta.format(charset=charset)}</head><body><p>{text}</p></body></html>"
    assert decode_bytes(html.encode(charset)) == html


def test_utf8_mislabelled_as_latin1_stays_utf8():
    assert decode_bytes("Crème brûlée".encode(), "iso-8859-1") == "Crème brûlée"


def test_a_wrong_declaration_falls_back_to_detection():
    assert decode_bytes(ZH_HANS.encode("gbk"), "utf-8") == ZH_HANS


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_byte_order_marks_win_and_are_dropped(bom, encoding):
    text = "<p>Grüße, 你好</p>"
    assert decode_bytes(bom + text.encode(encoding), "iso-8859-1") == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(encoding):
    text = "<html><body><p>Plain ASCII mostly, with ümlauts and 中文.</p></body></html>"
    assert decode_bytes(text.encode(encoding)) == text


def test_empty_bytes_are_empty_text():
    assert decode_bytes(b"") == ""


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
        b"\x7fELF\x02\x01\x01\x00",
        b"text with a NUL\x00byte and \x01\x02\x03 controls",
        bytes(range(256)) * 8,
    ],
)
def test_binary_bytes_are_refused(data):
    assert is_probably_binary(data)
    with pytest.raises(BinaryContent):
        decode_bytes(data)


def test_text_is_not_binary():
    assert not is_probably_binary(b"Hello\tworld\r\n")
    assert not is_probably_binary(b"MZ Technologies: RIFF and ID3 tags explained")  # ASCII "signatures"
    assert not is_probably_binary(ZH_HANS.encode("gbk"))
    assert not is_probably_binary("hi".encode("utf-16"))


# --- normalisation -----------------------------------------------------------------------------------


def test_stored_text_keeps_the_authors_characters():
    assert normalize_text("请问：如何设置ＶＰＮ？（见下文）｜步骤１") == "请问：如何设置ＶＰＮ？（见下文）｜步骤１"
    assert normalize_text("ｶﾀｶﾅ ½ ﬁle") == "ｶﾀｶﾅ ½ ﬁle"
    assert normalize_text("Cafe\u0301") == "Café"  # canonical composition only (NFC): it looks the same


def test_folded_text_is_half_width():
    assert fold_text("ＡＢＣ　１２３！（ｔｅｓｔ）") == "ABC 123!(test)"
    assert fold_text("ｶﾀｶﾅ") == "カタカナ"
    assert fold_text("设置ＶＰＮ？（见下文）｜") == "设置VPN?(见下文)|"


def test_zero_width_and_control_characters_are_removed():
    text = "zero\u200bwidth\u200c non\u200djoiner\u2060word\ufeff bell\x07 escape\x1b[0m nul\x00"
    assert normalize_text(text) == "zerowidth nonjoinerword bell escape[0m nul"


def test_whitespace_is_collapsed_with_at_most_one_blank_line():
    text = "  first   line\t\twith  tabs  \r\n\r\n\r\n\n\nsecond\u00a0\u00a0line \u3000 end\n\n"
    assert normalize_text(text) == "first line with tabs\n\nsecond line end"


def test_keep_newlines_false_gives_one_line():
    assert normalize_text(" a \n\n b\tc\n", keep_newlines=False) == "a b c"


def test_code_fences_keep_their_whitespace():
    text = "Run:\n\n\n\n```python\ndef f():\n    return  1\n\n\n\nprint(f())   \n```\n\n\n\nDone   here."
    assert (
        normalize_text(text)
        == "Run:\n\n```python\ndef f():\n    return  1\n\n\n\nprint(f())\n```\n\nDone here."
    )


def test_an_unclosed_fence_is_closed():
    assert normalize_text("```\n  code") == "```\n  code\n```"


def test_nested_list_items_keep_their_indentation():
    text = "1. one\n    - nested   item\n2. two"
    assert normalize_text(text) == "1. one\n    - nested item\n2. two"
