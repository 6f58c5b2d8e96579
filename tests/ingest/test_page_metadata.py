"""What a page says about itself fills title, url, language and metadata, never the text."""

from __future__ import annotations

from ingest.loaders import load_document
from ingest.page_metadata import html_metadata, split_front_matter

FRONT_MATTER_PAGE = """---
title: 重置密码
url: https://help.example.com/account/reset
lang: zh-CN
tags: [账户, 安全]
product: router
updated: 2024-05-02
---
# 忘记密码怎么办？

在登录页点击“忘记密码”，按提示操作。
"""

HEAD = """<!doctype html>
<html lang="zh_CN"><head><title>VPN 使用指南</title>
<link rel="stylesheet" href="/site.css">
<link rel="Canonical" href="https://help.example.com/vpn">
<meta property="og:url" content="https://help.example.com/og-vpn">
<meta name="Description" content="如何连接公司 VPN。">
</head><body><h1>VPN 使用指南</h1><p>打开客户端，输入工号和密码，点击连接。连接成功后图标变为绿色。</p></body></html>"""


def test_front_matter_becomes_title_url_language_and_metadata():
    page, body = split_front_matter(FRONT_MATTER_PAGE)
    assert (page.title, page.url, page.language) == ("重置密码", "https://help.example.com/account/reset", "zh-CN")
    assert page.metadata == {"tags": ["账户", "安全"], "product": "router", "updated": "2024-05-02"}
    assert body.startswith("# 忘记密码怎么办？")


def test_a_markdown_document_takes_its_front_matter_and_keeps_it_out_of_the_text():
    document = load_document(FRONT_MATTER_PAGE, doc_id="reset.md", name="reset.md")
    assert document.title == "重置密码"
    assert document.url == "https://help.example.com/account/reset"
    assert document.language == "zh-CN"
    assert document.metadata == {"tags": ["账户", "安全"], "product": "router", "updated": "2024-05-02"}
    assert document.text.startswith("# 忘记密码怎么办？")
    for leaked in ("---", "product", "router", "tags", "2024"):
        assert leaked not in document.text


def test_what_the_uploader_gives_wins_over_the_page():
    document = load_document(FRONT_MATTER_PAGE, doc_id="reset.md", name="reset.md", title="Reset",
                             url="https://kb.example.com/reset", metadata={"product": "switch", "team": "it"})
    assert (document.title, document.url) == ("Reset", "https://kb.example.com/reset")
    assert document.metadata["product"] == "switch" and document.metadata["team"] == "it"
    assert document.metadata["tags"] == ["账户", "安全"]


def test_rules_around_prose_are_not_front_matter():
    text = "---\n\nJust a note between two rules.\n\n---\n\nThe body."
    page, body = split_front_matter(text)
    assert page.metadata == {} and page.title is None
    assert body == text
    assert "Just a note" in load_document(text, doc_id="n.md", name="n.md").text


def test_broken_yaml_keeps_every_line():
    text = "---\ntitle: [unclosed\n---\nBody text."
    assert split_front_matter(text)[1] == text
    assert "unclosed" in load_document(text, doc_id="b.md", name="b.md").text


def test_html_head_gives_canonical_url_language_and_description():
    page = html_metadata(HEAD)
    assert page.url == "https://help.example.com/vpn"  # canonical before og:url
    assert page.language == "zh-CN"
    assert page.metadata == {"description": "如何连接公司 VPN。"}


def test_og_url_and_og_description_when_nothing_better():
    page = html_metadata('<html><head><meta property="og:url" content="https://x.example/a">'
                         '<meta property="og:description" content="About A"></head><body><p>A</p></body></html>')
    assert (page.url, page.language, page.metadata) == ("https://x.example/a", None, {"description": "About A"})


def test_a_relative_canonical_is_not_a_url():
    assert html_metadata('<html><head><link rel="canonical" href="/vpn"></head><body></body></html>').url is None


def test_an_html_document_is_filled_from_its_head_unless_given():
    document = load_document(HEAD, doc_id="vpn.html", name="vpn.html")
    assert document.url == "https://help.example.com/vpn"
    assert document.language == "zh-CN"
    assert document.metadata == {"description": "如何连接公司 VPN。"}
    assert "如何连接公司" not in document.text
    given = load_document(HEAD, doc_id="vpn.html", name="vpn.html", url="https://kb.example.com/vpn",
                          metadata={"description": "mine"})
    assert given.url == "https://kb.example.com/vpn" and given.metadata == {"description": "mine"}


def test_metadata_is_part_of_the_content_hash():
    plain = load_document(HEAD, doc_id="vpn.html", name="vpn.html")
    tagged = load_document(HEAD, doc_id="vpn.html", name="vpn.html", metadata={"team": "it"})
    assert plain.text == tagged.text and plain.content_hash != tagged.content_hash
