"""HTML cleaning keeps what a knowledge base needs (headings, lists, tables, code), drops page furniture."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.errors import BinaryContent, EmptyDocument
from ingest.html import CleanedPage, clean_html

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def text_of(html: str | bytes) -> str:
    return clean_html(html).text


# --- whole pages -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def help_article() -> CleanedPage:
    return clean_html(fixture("help_article.html"), url="https://help.acme.example/sso")


def test_page_keeps_the_article_with_its_structure(help_article):
    text = help_article.text
    assert help_article.title == "Configure single sign-on (SSO) – Acme Help Center"
    assert text.startswith("Single sign-on lets the people in your organization sign in to Acme")
    assert "\n\n## Before you begin\n\n" in text
    assert "\n\n### Attribute mapping\n\n" in text
    assert "- A verified email domain for your organization\n" in text
    assert "1. In Acme, open Settings and choose Security.\n2. Click Add identity provider" in text
    assert "3. Paste the metadata URL of your identity provider, or upload its XML file.\n    - Okta:" in text
    assert "| Acme field | SAML attribute | Required |\n| --- | --- | --- |\n| Email | NameID | Yes |" in text
    assert "| Last name | sn \\| surname | No |" in text
    assert '```bash\ncurl -X POST https://api.acme.example/v1/sso/providers \\\n  -H "Authorization' in text
    assert '```\n{\n  "id": "sso_42",\n  "status": "pending"\n```' in text  # gutter line numbers dropped
    assert "are rejected.\nAlso make sure the ACS URL has no trailing slash." in text


@pytest.mark.parametrize(
    "furniture",
    [
        "We use cookies",  # cookie banner
        "Accept all",  # button
        "API reference",  # navigation
        "Search the help center",  # search form
        "Administration",  # breadcrumbs
        "Updated 3 days ago",
        "Internal note",  # display:none
        "Draft paragraph",  # hidden attribute
        "Share on Twitter",
        "Related articles",
        "Provision users with SCIM",
        "Great article",  # comments
        "Popular topics",  # sidebar
        "Privacy",  # footer
        "trackPageView",  # script
        "color: red",  # style
        "\n1\n2\n3\n",  # highlighter gutter
    ],
)
def test_page_furniture_is_dropped(help_article, furniture):
    assert furniture not in help_article.text


def test_the_heading_repeating_the_title_is_not_repeated(help_article):
    assert "# Configure single sign-on" not in help_article.text


def test_a_step_list_that_article_extractors_drop_is_kept():
    text = text_of(fixture("layout_table_steps.html"))
    assert "## Steps\n\n1. Locate the small Reset hole on the back of the router.\n2. Press and hold" in text
    assert "4. Connect to the default network printed on the label.\n\n## Default settings" in text
    assert "| Address | 192.168.0.1 |" in text
    assert "```\ncurl http://192.168.0.1/status\n# prints the firmware version\n```" in text
    assert "Copyright 2009" not in text


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_a_chinese_page_in_a_legacy_encoding(encoding):
    page = clean_html(fixture("zh_article.html").encode(encoding))
    assert page.title == "如何重置路由器密码 - 帮助中心"
    assert page.text.startswith(
        "如果您忘记了路由器的管理密码，可以通过恢复出厂设置来重置密码。"
    )  # the author's full-width comma stays (folding is for the index only)
    assert (
        "## 使用复位按钮\n\n1. 保持路由器通电，找到机身背面的复位孔。\n2. 用牙签或回形针按住复位按钮约十秒钟。"
        in page.text
    )
    assert "| 管理地址 | 192.168.1.1 |" in page.text
    assert "请联系我们的技术支持团队。" in page.text
    for furniture in ("首页", "交换机", "版权所有"):
        assert furniture not in page.text


def test_a_chinese_fragment_in_big5_without_declaration():
    html = (
        "<h2>常見問題</h2><p>知識庫檢索服務需要正確處理中文網頁。這個段落用於測試編碼檢測是否可靠。</p>"
        "<ul><li>第一項</li><li>第二項</li></ul>"
    )
    assert text_of(html.encode("big5")) == (
        "## 常見問題\n\n"
        "知識庫檢索服務需要正確處理中文網頁。這個段落用於測試編碼檢測是否可靠。\n\n"
        "- 第一項\n- 第二項"
    )


def test_a_page_too_short_for_article_extraction_is_kept_whole():
    html = (
        "<!DOCTYPE html><html><head><title>FAQ</title></head>"
        "<body><h1>Opening hours</h1><p>Mon-Fri 9-17.</p></body></html>"
    )
    page = clean_html(html)
    assert page.title == "FAQ"
    assert page.text == "# Opening hours\n\nMon-Fri 9-17."


# --- fragments ---------------------------------------------------------------------------------------


def test_a_fragment_keeps_all_of_its_content():
    page = clean_html(fixture("helpdesk_fragment.html"))
    assert page.title == ""
    assert page.text == (
        "To export your data, go to Account › Data export.\n\n"
        "Exports include tickets, contacts and attachments.\nLarge accounts may take up to an hour.\n\n"
        "## Export formats\n\n"
        "- CSV – one file per object type\n- JSON – a single archive\n\n"
        "Note: the download link expires after 7 days.\n\n"
        "| Plan | Exports per day |\n| --- | --- |\n| Free | 1 |\n| Business | 10 |\n\n"
        "Contact support if an export fails."
    )


def test_a_fragment_keeps_its_notes_and_bylines_but_not_navigation_or_forms():
    html = (
        "<p>Set the timeout.</p><aside class='note'><p>Tip: the default is 30 s.</p></aside>"
        "<footer>Written by the support team</footer><nav><a href='#a'>Jump to top</a></nav>"
        "<form><p>Was this article helpful?</p><button>Yes</button></form>"
    )
    assert text_of(html) == "Set the timeout.\n\nTip: the default is 30 s.\n\nWritten by the support team"


def test_a_fragment_title_comes_from_its_h1_which_stays_in_the_text():
    page = clean_html("<h1>Reset your password</h1><p>Open Settings.</p>")
    assert page.title == "Reset your password"
    assert page.text == "# Reset your password\n\nOpen Settings."


# --- elements ----------------------------------------------------------------------------------------


def test_headings():
    html = "".join(f"<h{n}>Level {n}</h{n}><p>Text {n}.</p>" for n in range(1, 7))
    assert text_of(html) == "\n\n".join(f"{'#' * n} Level {n}\n\nText {n}." for n in range(1, 7))


def test_lists_ordered_nested_and_with_start():
    html = (
        "<ul><li>alpha</li><li><p>beta one</p><p>beta two</p></li></ul>"
        "<ol start='3'><li>three<ol><li>sub a</li><li>sub b<ul><li>deep</li></ul></li></ol></li>"
        "<li>four</li></ol>"
    )
    assert text_of(html) == (
        "- alpha\n- beta one beta two\n\n3. three\n    1. sub a\n    2. sub b\n        - deep\n4. four"
    )


def test_tables_are_rows_with_the_header_first():
    html = (
        "<table><caption>Limits</caption><tbody><tr><td>Free</td><td>1 | 2</td></tr></tbody>"
        "<thead><tr><th>Plan</th><th>Seats</th></tr></thead><tfoot><tr><td>All</td><td>∞</td></tr></tfoot></table>"
    )
    assert text_of(html) == "Limits\n\n| Plan | Seats |\n| --- | --- |\n| Free | 1 \\| 2 |\n| All | ∞ |"


def test_rows_of_different_width_are_padded():
    assert text_of("<table><tr><th>a</th><th>b</th></tr><tr><td colspan=2>wide</td></tr></table>") == (
        "| a | b |\n| --- | --- |\n| wide | |"
    )


def test_layout_tables_are_not_rendered_as_rows():
    html = (
        "<table role='presentation'><tr><td><p>Left column text.</p></td>"
        "<td><p>Right column text.</p></td></tr>"
        "</table><table><tr><td><table><tr><td>inner</td></tr></table></td></tr></table>"
    )
    assert text_of(html) == "Left column text.\n\nRight column text.\n\ninner"


def test_pre_keeps_line_breaks_and_indentation():
    html = '<pre class="language-python">def f():\n    if  x:\n\n        return 1\n</pre>'
    assert text_of(html) == "```python\ndef f():\n    if  x:\n\n        return 1\n```"


@pytest.mark.parametrize(
    "html",
    [
        # Pygments/Jekyll: a gutter cell beside a code cell
        '<table class="highlighttable"><tr><td class="linenos"><pre>1\n2</pre></td>'
        '<td class="code"><pre>x = 1\ny = 2</pre></td></tr></table>',
        # Rouge
        '<table class="rouge-table"><tbody><tr>'
        '<td class="rouge-gutter gl"><pre class="lineno">1\n2\n</pre></td>'
        '<td class="rouge-code"><pre>x = 1\ny = 2\n</pre></td></tr></tbody></table>',
        # GitHub gist: one row per line, numbers in data attributes
        '<table class="highlight">'
        '<tr><td class="blob-num" data-line-number="1"></td><td class="blob-code">x = 1</td></tr>'
        '<tr><td class="blob-num" data-line-number="2"></td><td class="blob-code">y = 2</td></tr></table>',
        # line-number spans inside the code
        '<pre><code><span class="line-number">1</span>x = 1\n'
        '<span class="line-number">2</span>y = 2</code></pre>',
        # one element per line
        '<pre><div class="line">x = 1</div><div class="line">y = 2</div></pre>',
        # a code element with <br>
        "<div><code>x = 1<br>y = 2</code></div>",
    ],
)
def test_syntax_highlighted_code_keeps_only_the_code(html):
    assert text_of(html) == "```\nx = 1\ny = 2\n```"


def test_inline_code_and_br():
    assert text_of("<p>Run <code>make   test</code><br>then <kbd>Ctrl</kbd>+<kbd>C</kbd></p>") == (
        "Run `make test`\nthen Ctrl+C"
    )


def test_double_br_separates_paragraphs():
    assert text_of("<div>one<br>two<br><br><br>three</div>") == "one\ntwo\n\nthree"


def test_entities_are_decoded_and_markup_in_text_is_kept():
    html = (
        "<p>Fish &amp; chips &lt;script&gt;alert(1)&lt;/script&gt; "
        "caf&eacute; it&#8217;s&nbsp;ok &#x1F600;</p>"
    )
    assert text_of(html) == "Fish & chips <script>alert(1)</script> café it’s ok 😀"


def test_malformed_and_nested_markup():
    html = "<div><p>one<p>two <b>bold <i>both</b> italic</i><ul><li>a<li>b</ul>tail<table><tr><td>cell"
    assert text_of(html) == "one\n\ntwo bold both italic\n\n- a\n- b\n\ntail\n\ncell"


def test_deeply_nested_markup_does_not_crash():
    assert text_of("<div>" * 5000 + "deep text" + "</div>" * 5000) == "deep text"


def test_repetitive_pages_stay_fast():
    rows = "".join("<tr><td>0</td><td>0</td><td>0</td></tr>" for _ in range(2000))
    items = "".join("<li>ok</li>" for _ in range(2000))
    html = (
        "<html><head><title>Zeros</title></head><body><p>" + "Some introduction text. " * 20 + "</p>"
        f"<table><tr><th>a</th><th>b</th><th>c</th></tr>{rows}</table><ul>{items}</ul></body></html>"
    )
    started = time.perf_counter()
    text = text_of(html)
    assert time.perf_counter() - started < 5  # quadratic matching took over 10 s here
    assert text.count("| 0 | 0 | 0 |") == 2000


def test_hidden_elements_are_dropped():
    html = (
        "<p>shown</p><p hidden>h1</p><div aria-hidden='true'>h2</div><span style='display: none'>h3</span>"
        "<div style='color:red;visibility:hidden'>h4</div><template><p>h5</p></template><!-- h6 -->"
        "<p>also shown</p>"
    )
    assert text_of(html) == "shown\n\nalso shown"


def test_forms_and_embedded_objects_are_dropped():
    html = (
        "<p>Question?</p><form><label>Email</label><input value='x'><select><option>A</option></select>"
        "<button>Send</button></form><iframe src='https://video'>fallback</iframe><svg><text>logo</text></svg>"
        "<noscript>Enable JavaScript</noscript><p>Answer.</p>"
    )
    assert text_of(html) == "Question?\n\nAnswer."


def test_text_is_cleaned_but_keeps_the_authors_characters():
    assert text_of("<p>ＡＢＣ　１２３\u200b！</p><p>zero\u200dwidth\ufeff</p>") == "ＡＢＣ １２３！\n\nzerowidth"


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n ",
        "<html><head><title>Only a title</title></head><body></body></html>",
        "<script>var x = 1;</script><style>p {}</style>",
        "<div hidden>nothing visible</div>",
    ],
)
def test_nothing_left_raises_empty_document(html):
    with pytest.raises(EmptyDocument):
        clean_html(html)


def test_binary_bytes_raise_binary_content():
    with pytest.raises(BinaryContent):
        clean_html(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")


def test_bytes_with_a_meta_charset():
    html = (
        '<html><head><meta charset="shift_jis"><title>日本語</title></head>'
        "<body><p>こんにちは世界</p></body></html>"
    )
    page = clean_html(html.encode("shift_jis"))
    assert (page.title, page.text) == ("日本語", "こんにちは世界")
