"""Every step, heading, table row and code block survives on pages of every common shape; the chrome goes.

The fixtures are one English and one Chinese help page (``fixtures/pages/src/*.md``, the gold) rendered by
the real generators (MkDocs, Material, Sphinx themes) and by the help-centre layouts of
``bench/help_layouts.py``; ``python bench/docs_pages.py --fixtures tests/ingest/fixtures/pages`` rebuilds them.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from pathlib import Path

import pytest

from ingest.html import clean_html

PAGES = Path(__file__).parent / "fixtures" / "pages"
KINDS = sorted({path.name.split("-vpn-")[0] for path in PAGES.glob("*-vpn-*.html.gz")})

# Chrome each layout puts around the article: none of it may reach the text.
COMMON_CHROME = ["We use cookies", "Accept all", "Printer setup"]  # cookie banner; the sibling page in the nav
CHROME = {
    "bare": ["Back to the help index", "Contact"],
    "mkdocs": ["Edit on", "Keyboard Shortcuts", "Documentation built with MkDocs", "Previous"],
    "mkdocs-readthedocs": ["Edit on", "Built with MkDocs", "Search docs", "Previous"],
    "mkdocs-material": ["Skip to content", "Table of contents", "Made with", "Back to top"],
    "sphinx-alabaster": ["Navigation", "Related Topics", "Quick search", "Powered by Sphinx"],
    "sphinx-rtd": ["Built with Sphinx", "Search docs", "View page source"],
    "sphinx-furo": ["Made with Sphinx", "On this page", "Skip to content"],
    "sphinx-pydata": ["Skip to main content", "On this page", "Created using", "Back to top"],
    "zendesk": ["Was this article helpful", "Related articles", "Submit a request", "Sign in", "Return to top",
                "found this helpful", "Comments", "Example Help Center", "Guides"],
    "freshdesk": ["How can we help you today", "Did you find it helpful", "Related Articles", "Help Desk Software",
                  "Solution home", "New support ticket", "Modified on"],
    "intercom": ["Did this answer your question", "All Collections", "Written by", "Go to example.com"],
    "confluence": ["Page tree", "Be the first to like this", "Powered by", "Write a comment", "Space tools",
                   "Created by"],
    "docusaurus": ["Edit this page", "Last updated on", "Skip to main content", "Built with Docusaurus", "Blog",
                   "Previous"],
    "gitbook": ["Was this helpful", "Powered by GitBook", "On this page", "Previous", "Ctrl K"],
}


def words(text: str) -> str:
    """Word tokens, NFKC-folded and lower-cased, joined by spaces (so containment respects word edges)."""
    return " " + " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())) + " "


def gold_blocks(markdown: str) -> dict[str, list[str]]:
    """The page's own headings, list items, table rows and code blocks, from its Markdown source."""
    code = re.findall(r"```\w*\n(.*?)```", markdown, re.S)
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    prose = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", prose)  # links keep their text
    return {
        "heading": re.findall(r"^#{2,6} (.+)$", prose, re.M),
        "list item": re.findall(r"^\s*(?:\d+\.|-) (.+)$", prose, re.M),
        "table row": [row for row in re.findall(r"^\|(.+)\|$", prose, re.M) if not set(row) <= set("|- ")],
        "code block": code,
    }


def page(kind: str, lang: str):
    return clean_html(gzip.decompress((PAGES / f"{kind}-vpn-{lang}.html.gz").read_bytes()))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_block_of_the_article_is_kept(kind, lang):
    source = (PAGES / "src" / f"vpn-{lang}.md").read_text(encoding="utf-8")
    cleaned = page(kind, lang)
    text = words(cleaned.text)
    title = source.splitlines()[0].removeprefix("# ")
    assert words(title) in words(cleaned.title) + text
    lead = re.findall(r"^[^#|\-\d`\s].+$", source, re.M)  # paragraphs
    blocks = {"paragraph": lead, **gold_blocks(source)}
    missing = {kind: [b for b in found if words(b) not in text] for kind, found in blocks.items()}
    assert missing == {k: [] for k in blocks}
    assert cleaned.warnings == ()


@pytest.mark.parametrize("kind", KINDS)
def test_site_chrome_is_dropped(kind):
    text = page(kind, "en").text
    assert [chrome for chrome in COMMON_CHROME + CHROME[kind] if chrome in text] == []
    assert "¶" not in text and not re.search(r"^#+ .*#$", text, re.M)  # heading permalinks


def test_the_issue_example_bare_body_keeps_headings_and_steps():
    html = (
        "<!DOCTYPE html><html><head><title>VPN 使用指南</title></head><body><h1>VPN 使用指南</h1>"
        "<p>公司 VPN 让您在家或出差时安全地访问内部系统。本文介绍如何连接以及常见问题的排查方法。</p>"
        "<p>首次使用前，请确认您已经在 IT 门户中申请了 VPN 账号，并安装了最新版本的客户端。</p>"
        "<h2>排查步骤</h2><ol><li>检查网络连接是否正常，尝试打开任意外部网站。</li>"
        "<li>确认客户端版本为 5.2 或更高版本。</li><li>重新输入账号和一次性验证码后再次连接。</li>"
        "<li>如果仍然失败，重启电脑后再试一次。</li></ol>"
        "<h2>联系支持</h2><p>如果以上步骤都无法解决问题，请发送邮件至 it@example.com，并附上客户端日志。</p>"
        "</body></html>"
    )
    text = words(clean_html(html).text)
    for block in ("排查步骤", "检查网络连接是否正常", "确认客户端版本为 5.2 或更高版本",
                  "重新输入账号和一次性验证码后再次连接", "如果仍然失败", "联系支持", "请发送邮件至 it@example.com"):
        assert words(block) in text
