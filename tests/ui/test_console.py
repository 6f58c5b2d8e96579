"""The web console in headless Chromium, through the real app: real reranker, embeddings, store and HTTP.

Each test saves a screenshot of the pages it visits under tests/artifacts/console/ (or $SIFT_TEST_ARTIFACTS).
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from api.ingestion import IngestItem
from api.keys import Scope
from rerank.base import RerankPair
from tests.conftest import SAMPLE_KB
from tests.ui.conftest import ARTIFACTS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

QUERY = "How do I reset my password?"
LINES = ["Refunds are issued to the original payment method within 10 days.",
         "To reset your password, open Settings, choose Security and click Reset password.",
         "Export your workspace data as a ZIP archive from the Admin page."]


def test_playground_ranks_lines_by_the_reranker(site, reranking_sift, visit):
    url, _ = site
    v = visit(url)
    page = v.page
    page.goto("/")
    assert page.url.endswith("/ui/rerank")
    expect(page.locator("#reranker-note")).to_contain_text("tiny-reranker (transformers engine)")
    page.get_by_label("Query").fill(QUERY)
    page.get_by_label("Documents (one per line)").fill("\n".join([LINES[0], "", LINES[1], LINES[2]]))
    page.get_by_role("button", name="Rerank").click()
    rows = page.locator("#rerank-table tbody tr")
    rows.first.wait_for()
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    v.screenshot("rerank")

    expected = reranking_sift.reranker.engine.score([RerankPair(QUERY, line, None) for line in LINES])
    order = sorted(range(3), key=lambda i: -expected[i])
    assert [int(c[0]) for c in cells] == [1, 2, 3]
    assert [c[3] for c in cells] == [LINES[i] for i in order]
    assert [int(c[2]) for c in cells] == [(1, 3, 4)[i] for i in order]  # original line numbers, blank line kept
    assert [float(c[1]) for c in cells] == pytest.approx([expected[i] for i in order], abs=1e-3)


def test_without_a_reranker_the_console_says_so(plain_site, sift, collection, visit):
    v = visit(plain_site)
    v.page.goto("/ui/rerank")
    note = v.page.locator("#reranker-note")
    expect(note).to_contain_text("No reranker is loaded")
    expect(note).to_contain_text("SIFT_RERANK_ENGINE")
    expect(v.page.get_by_role("button", name="Rerank")).to_be_disabled()
    v.screenshot("rerank-no-reranker")

    sift.ingest(collection, [IngestItem(content=(SAMPLE_KB / "reset-password.html").read_bytes(),
                                        name="reset-password.html")])
    v.page.goto(f"/ui/ask?collection={collection}")
    v.page.get_by_label("Question").fill(QUERY)
    v.page.get_by_role("button", name="Ask").click()
    expect(v.page.locator("#ask-reranked")).to_have_text(
        "Not reranked, shown in retrieval order: no reranker configured (SIFT_RERANK_ENGINE=none)")
    assert "rerank" not in v.page.locator("#ask-timings").inner_text()
    expect(v.page.locator("#ask-results li .scores").first).to_contain_text("score")


DROPPED_FILE = """() => {
    const dropped = new DataTransfer();
    dropped.items.add(new File(["# Dropped page\\n\\nThis page arrived by drag and drop."], "dropped.md",
                               {type: "text/markdown"}));
    return dropped;
}"""


def _zip_of(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.write(SAMPLE_KB / name, f"guides/{name}")
        archive.writestr("guides/empty.html", "<html><body></body></html>")
    return buffer.getvalue()


def test_upload_ask_read_and_delete(site, visit, tmp_path):
    url, _ = site
    v = visit(url)
    page = v.page
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto("/ui/kb")
    page.get_by_label("New collection").fill("help")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("link", name="help", exact=True).click()
    page.wait_for_url(re.compile(r"/ui/kb/help$"))

    status = page.locator("#upload-status")
    page.get_by_label("Files").set_input_files(str(SAMPLE_KB / "reset-password.html"))
    expect(status).to_have_text("Done. Documents written: 1; files failed: 0.")
    page.get_by_label("Files").set_input_files(files=[{
        "name": "more.zip", "mimeType": "application/zip",
        "buffer": _zip_of("billing-refunds.html", "two-factor-zh.html")}])
    expect(status).to_have_text("Done. Documents written: 2; files failed: 1.")
    assert "guides/empty.html" in page.locator("#upload-problems").inner_text()
    folder = tmp_path / "handbook"
    (folder / "billing").mkdir(parents=True)
    (folder / "intro.md").write_text("# Handbook\n\nWelcome to the team handbook.")
    (folder / "billing" / "invoices.md").write_text("# Invoices\n\nInvoices are sent on the first of the month.")
    page.get_by_label("Folder").set_input_files(str(folder))
    expect(status).to_have_text("Done. Documents written: 2; files failed: 0.")
    expect(page.locator("#documents")).to_contain_text("handbook/billing/invoices.md")
    page.locator("#dropzone").dispatch_event("drop", {"dataTransfer": page.evaluate_handle(DROPPED_FILE)})
    expect(status).to_have_text("Done. Documents written: 1; files failed: 0.")
    rows = page.locator("#documents tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#page-info")).to_have_text("1–6 of 6")
    v.screenshot("collection")
    page.get_by_label("Search titles").fill("refund")
    page.get_by_role("button", name="Search").click()
    page.wait_for_function("document.querySelectorAll('#documents tr').length === 1")
    assert "guides/billing-refunds.html" in rows.first.inner_text()

    page.goto("/ui/ask?collection=help")
    expect(page.get_by_label("Collection")).to_have_value("help")
    page.get_by_label("Question").fill(QUERY)
    page.get_by_label("Passages (top_k)").fill("3")
    page.get_by_role("button", name="Ask").click()
    first = page.locator("#ask-results li").first
    first.wait_for()
    assert first.locator(".cite").inner_text() == "[1]"
    assert "reset your password" in page.locator("#ask-results").inner_text().lower()
    context = page.get_by_label("Context as sent to the integration").input_value()
    assert context.startswith("[1] ") and "reset" in context.lower()
    assert page.locator("#ask-reranked").inner_text().startswith("Reranked")
    assert "rerank" in page.locator("#ask-timings").inner_text()
    assert "P(yes)" in first.locator(".scores").inner_text() and "retrieval" in first.locator(".scores").inner_text()
    v.screenshot("ask")

    reset = page.locator("#ask-results li", has_text="reset your password").first
    reset.locator("a.title").click()
    page.wait_for_url(re.compile(r"/ui/kb/help/document\?id=reset-password\.html"))
    chunks = page.locator("#chunks li")
    chunks.first.wait_for()
    assert chunks.count() >= 1 and "#0" in chunks.first.inner_text()
    assert "password" in page.locator("#chunks").inner_text().lower()
    v.screenshot("document")
    page.get_by_role("button", name="Delete document").click()
    page.wait_for_url(re.compile(r"/ui/kb/help$"))
    page.wait_for_function("document.querySelectorAll('#documents tr').length === 5")
    assert "reset-password.html" not in page.locator("#documents").inner_text()

    page.goto("/ui/kb")
    page.get_by_label("New collection").fill("scratch")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Delete collection scratch").click()
    page.wait_for_function("!document.querySelector('[data-collection=scratch]')")
    assert page.locator("[data-collection=help]").count() == 1
    v.screenshot("collections")


PAGES = {  # each console page, and what shows once its data has arrived
    "/ui/rerank": "#reranker-note:not([hidden])",
    "/ui/ask?collection=help": "#ask-collection option",
    "/ui/kb": "#collections article",
    "/ui/kb/help": "#documents a",
    "/ui/kb/help/document?id=more.zip/guides/billing-refunds.html": "#chunks li",
    "/ui/status": "#status-cards article",
}


def test_status_page_and_offline_api_docs(site, visit):
    url, _ = site
    v = visit(url)
    page = v.page
    timings = {}
    for path, ready in PAGES.items():
        loads = []
        for _ in range(4):  # the first load compiles the template; the best of the rest filters a busy machine
            page.goto(path)
            page.locator(ready).first.wait_for(state="attached")
            loads.append(page.evaluate("performance.now()"))  # ms since this page's navigation started
        timings[path] = round(min(loads[1:]))
    (ARTIFACTS / "page-load-ms.json").write_text(json.dumps(timings, indent=1))
    assert max(timings.values()) < 1000, timings
    page.goto("/ui/status")
    page.locator("#status-cards article").first.wait_for()
    text = page.locator("#status-cards").inner_text()
    assert "tiny-reranker" in text and "0.1.0" in text and "Jobs queued" in text and "embedded" in text
    assert page.locator("#status-overall").inner_text() == "Everything is ready."
    v.screenshot("status")
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()  # Swagger UI rendered the operations from local files
    v.screenshot("swagger", full_page=False)
    page.goto("/redoc")
    page.get_by_text("Sift").first.wait_for()
    page.locator("[data-section-id]").first.wait_for()
    v.screenshot("redoc", full_page=False)


def test_language_follows_the_browser_and_can_be_switched(site, visit):
    url, _ = site
    v = visit(url, locale="zh-CN")
    page = v.page
    page.goto("/ui/rerank")
    assert page.locator("h1").inner_text() == "重排序试验台"
    assert page.get_by_label("查询").is_visible()
    v.screenshot("rerank-zh")
    page.get_by_label("语言").select_option("en")
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("h1").inner_text() == "Rerank playground"
    page.goto("/ui/status")  # the choice is remembered
    assert page.locator("h1").inner_text() == "Status"


def test_a_key_scoped_to_one_collection_sees_only_that_collection(site, reranking_sift, visit):
    """Runs last in this module: once a key exists, the server requires keys."""
    url, app = site
    page_html = (SAMPLE_KB / "billing-refunds.html").read_bytes()
    reranking_sift.ingest("team-a", [IngestItem(content=page_html, name="billing-refunds.html")])
    reranking_sift.index.create_collection("team-b")
    _, secret = app.state.keys.create(name="helpdesk", scopes={Scope.QUERY}, collections={"team-a"})
    v = visit(url)
    page = v.page
    page.goto("/ui/kb")
    expect(page.locator("#key-panel")).to_be_visible()
    expect(page.locator("#content")).to_be_hidden()
    v.screenshot("key-required")
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Use key").click()
    expect(page.locator("#key-error")).to_have_text("the API key is not valid")
    page.get_by_label("API key").fill(secret)
    page.get_by_role("button", name="Use key").click()
    expect(page.locator("#collections article")).to_have_count(1)
    expect(page.locator("[data-collection=team-a]")).to_be_visible()
    assert "team-b" not in page.locator("#collections").inner_text()
    expect(page.locator("#create-form")).to_be_hidden()  # a query key may not create collections
    assert page.locator("#collections button").count() == 0  # nor delete them
    expect(page.locator("#who")).to_contain_text("helpdesk")
    v.screenshot("collections-scoped-key")
    page.goto("/ui/ask")
    expect(page.get_by_label("Collection").locator("option")).to_have_text(["team-a (1)"])
    page.goto("/ui/kb/team-a")
    expect(page.locator("#documents tr")).to_have_count(1)
    assert page.locator("#documents button").count() == 0  # nor delete documents
    expect(page.locator("#upload")).to_be_hidden()
    page.goto("/ui/kb/team-b")
    expect(page.locator("#load-error")).to_contain_text("may not use the collection 'team-b'")
