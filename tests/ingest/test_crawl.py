"""Discovery and fetching of a help centre over real HTTP on loopback (ingest/crawl.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.crawl import FetchError, SiteClient, matches
from ingest.errors import DocumentTooLarge
from tests.helpsite import FIXTURES, HelpSite

SLUGS = sorted(p.stem for p in FIXTURES.glob("*.html"))


@pytest.fixture()
def site(tmp_path: Path):
    for page in FIXTURES.glob("*.html"):
        shutil.copy(page, tmp_path / page.name)
    with HelpSite(tmp_path) as served:
        yield served


def client(site: HelpSite, start: str | None = None, *, max_bytes: int = 1 << 20) -> SiteClient:
    return SiteClient(start or f"{site.url}/hc/", user_agent="SiftTest", timeout_s=5, max_bytes=max_bytes,
                      delay_s=0)


def test_sitemap_index_named_by_robots_with_a_gzipped_child(site: HelpSite) -> None:
    site.write_sitemap([(s, "2024-05-01") for s in SLUGS[:4]], name="articles-1.xml.gz", gzipped=True)
    site.write_sitemap([(s, "2024-05-02") for s in SLUGS[4:]], name="articles-2.xml")
    site.write_index(["articles-1.xml.gz", "articles-2.xml"])
    site.write_robots(f"User-agent: *\nAllow: /\nSitemap: {site.url}/sitemap_index.xml\n")
    with client(site) as sc:
        found = sc.discover(max_pages=100)
    assert found.via == "sitemap"
    assert sorted(e.url for e in found.entries) == sorted(site.article_url(s) for s in SLUGS)
    assert {e.lastmod for e in found.entries} == {"2024-05-01", "2024-05-02"}


def test_plain_sitemap_xml_without_robots_and_the_page_cap(site: HelpSite) -> None:
    site.write_sitemap([(s, "2024-05-01") for s in SLUGS])
    with client(site) as sc:
        found = sc.discover(max_pages=3, include=["/hc/articles/*"], exclude=["*-zh"])
    assert found.via == "sitemap"
    assert len(found.entries) == 3
    assert all(not e.url.endswith("-zh") for e in found.entries)


def test_crawl_without_a_sitemap_stays_on_the_host_and_path_prefix(site: HelpSite) -> None:
    links = "".join(f'<a href="/hc/articles/{s}">{s}</a>' for s in SLUGS[:3])
    (site.root / "index.html").write_text(
        f"<html><body><h1>Help</h1>{links}<a href='/status'>status</a>"
        "<a href='http://example.invalid/hc/x'>elsewhere</a></body></html>")
    with client(site) as sc:
        found = sc.discover(max_pages=50)
        only_zh = sc.discover(max_pages=50, include=["/hc/articles/*-zh"])
    assert found.via == "crawl"
    urls = {e.url for e in found.entries}
    assert {e.url for e in only_zh.entries} == {u for u in urls if u.endswith("-zh")} != set()
    # the articles link to each other (related articles), so the crawl reaches more than the index names
    assert {site.article_url(s) for s in SLUGS[:3]} <= urls
    assert all(u.startswith(f"{site.url}/hc/") for u in urls)
    assert not any(path == "/status" for path, _ in site.requests)
    assert set(found.pages) == urls  # crawled pages are kept, not fetched twice


def test_robots_disallow_and_crawl_delay(site: HelpSite) -> None:
    site.write_robots("User-agent: *\nDisallow: /hc/articles/*-zh$\nCrawl-delay: 0.05\n")
    with client(site) as sc:
        assert not sc.allowed(site.article_url("delete-account-zh"))
        assert sc.allowed(site.article_url("reset-password"))
        assert sc._delay_s == pytest.approx(0.05)


def test_conditional_fetch_gone_redirect_and_errors(site: HelpSite) -> None:
    site.redirects["/hc/articles/old-reset"] = "/hc/articles/reset-password"
    with client(site) as sc:
        first = sc.fetch(site.article_url("reset-password"))
        assert first.status == "ok" and first.etag and first.last_modified
        again = sc.fetch(site.article_url("reset-password"), etag=first.etag, last_modified=first.last_modified)
        assert again.status == "not_modified"
        moved = sc.fetch(site.article_url("old-reset"))
        assert moved.final_url == site.article_url("reset-password")
        (site.root / "copy.html").write_text('<html><head><link rel="canonical" href="/hc/articles/export-csv">'
                                             "</head><body><p>Export projects to CSV.</p></body></html>")
        assert sc.fetch(site.article_url("copy")).final_url == site.article_url("export-csv")
        (site.root / "home-canonical.html").write_text('<html><head><link rel="canonical" href="/"></head>'
                                                       "<body><p>An article.</p></body></html>")
        assert sc.fetch(site.article_url("home-canonical")).final_url == site.article_url("home-canonical")
        assert sc.fetch(site.article_url("no-such-article")).status == "gone"
        site.failing.add("/hc/articles/export-csv")
        with pytest.raises(FetchError, match="HTTP 500"):
            sc.fetch(site.article_url("export-csv"))
    with client(site, max_bytes=1000) as small, pytest.raises(DocumentTooLarge):
        small.fetch(site.article_url("reset-password"))


def test_include_and_exclude_globs() -> None:
    assert matches("https://h/hc/en/articles/1", ["/hc/en/*"], [])
    assert not matches("https://h/hc/de/articles/1", ["/hc/en/*"], [])
    assert not matches("https://h/hc/en/drafts/1", [], ["*/drafts/*"])
