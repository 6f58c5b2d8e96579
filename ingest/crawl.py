"""Reading a help centre over HTTP: robots.txt, sitemaps (indexes and gzipped ones too), a same-site crawl
when there is no sitemap, and conditional page fetches. No scheduling and no storage: ``api/sync.py`` keeps
the state between runs and decides what to ingest.

robots.txt is read with Protego (wildcards, ``$`` and ``Crawl-delay`` as Google reads them; the stdlib
parser knows neither). Sitemaps are parsed here with lxml on bytes that this module fetched itself, so
every request goes through the one client with its timeout, byte cap, robots check and politeness delay.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import logging
import time
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import lxml.html
from lxml import etree
from protego import Protego

from ingest.errors import DocumentTooLarge, IngestError

log = logging.getLogger(__name__)

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAP_DEPTH = 3  # index → index → urlset is already unusual
HTML_TYPES = ("text/html", "application/xhtml+xml")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


class FetchError(IngestError):
    """A page or sitemap could not be fetched (network error, server error, too large)."""


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """A page the site lists, with the ``lastmod`` it gives (as written, or None)."""

    url: str
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class Discovery:
    """The pages of a site: from its sitemaps (``via="sitemap"``) or from following links (``"crawl"``)."""

    via: Literal["sitemap", "crawl"]
    entries: list[SitemapEntry]
    pages: dict[str, Page]  # pages already fetched while crawling, by requested URL


@dataclass(frozen=True, slots=True)
class Page:
    """The answer to one page request. ``status`` is ``ok``, ``not_modified`` (304) or ``gone`` (404/410)."""

    url: str  # as requested
    final_url: str  # after redirects, or the page's canonical URL on the same site
    status: Literal["ok", "not_modified", "gone"]
    content: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class _Response:
    status_code: int
    url: str
    headers: httpx.Headers
    content: bytes


class SiteClient:
    """One site's HTTP client: user agent, timeouts, byte cap, robots.txt and a delay between requests."""

    def __init__(self, start_url: str, *, user_agent: str, timeout_s: float, max_bytes: int,
                 delay_s: float) -> None:
        parts = urlsplit(start_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise IngestError(f"{start_url!r} is not an http(s) URL")
        self.start_url = start_url
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.user_agent = user_agent
        self.max_bytes = max_bytes
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=True,
                                    headers={"User-Agent": user_agent})
        self._delay_s = delay_s
        self._last_request = 0.0
        self._robots: Protego | None = None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SiteClient:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    # robots.txt

    @property
    def robots(self) -> Protego:
        """The site's robots.txt rules (an empty rule set when it has none)."""
        if self._robots is None:
            text = ""
            try:
                response = self._get(f"{self.origin}/robots.txt")
                if response.status_code == 200:
                    text = response.content.decode("utf-8", "replace")
            except FetchError as exc:
                log.info("no robots.txt for %s: %s", self.origin, exc)
            self._robots = Protego.parse(text)
            crawl_delay = self._robots.crawl_delay(self.user_agent)
            if crawl_delay:
                self._delay_s = max(self._delay_s, float(crawl_delay))
        return self._robots

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets this user agent fetch ``url``."""
        return self.robots.can_fetch(url, self.user_agent)

    # Requests

    def _get(self, url: str, headers: dict[str, str] | None = None) -> _Response:
        """GET with the politeness delay and the byte cap."""
        wait = self._last_request + self._delay_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise DocumentTooLarge(f"{url} is larger than {self.max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
                    chunks.append(chunk)
                return _Response(response.status_code, str(response.url), response.headers, b"".join(chunks))
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {exc}") from exc
        finally:
            self._last_request = time.monotonic()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Page:
        """One page, conditionally when its previous ``ETag``/``Last-Modified`` are given.

        Raises ``FetchError`` for server errors and anything but 2xx, 304, 404 and 410.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = self._get(url, headers)
        final = response.url
        if response.status_code == 304:
            return Page(url, final, "not_modified", etag=etag, last_modified=last_modified)
        if response.status_code in (404, 410):
            return Page(url, final, "gone")
        if not 200 <= response.status_code < 300:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        content_type = response.headers.get("content-type")
        if _is_html(content_type):
            final = self._canonical(response.content, final) or final
        return Page(url, final, "ok", content=response.content, content_type=content_type,
                    etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))

    def _canonical(self, content: bytes, base: str) -> str | None:
        """The page's ``<link rel="canonical">`` when it points into the same site (and not at its home page,
        which a misconfigured site names on every page)."""
        try:
            root = lxml.html.fromstring(content)
        except (etree.ParserError, ValueError):
            return None
        for href in root.xpath('//link[@rel="canonical"]/@href'):
            url = urldefrag(urljoin(base, href.strip())).url
            if self.same_site(url) and urlsplit(url).path not in ("", "/"):
                return url
        return None

    def same_site(self, url: str) -> bool:
        return url.startswith(self.origin + "/") or url == self.origin

    # Discovery

    def sitemap_entries(self, max_pages: int) -> list[SitemapEntry]:
        """Pages listed by the sitemaps robots.txt names, else by ``/sitemap.xml``; empty if there are none."""
        roots = [url for url in self.robots.sitemaps if self.same_site(url)] or [f"{self.origin}/sitemap.xml"]
        entries: dict[str, SitemapEntry] = {}
        for root in roots:
            for entry in self._read_sitemap(root, depth=0):
                entries.setdefault(entry.url, entry)
                if len(entries) >= max_pages:
                    return list(entries.values())
        return list(entries.values())

    def _read_sitemap(self, url: str, depth: int) -> Iterator[SitemapEntry]:
        try:
            response = self._get(url)
        except FetchError as exc:
            log.warning("sitemap %s: %s", url, exc)
            return
        if response.status_code != 200:
            return
        data = response.content
        if data[:2] == b"\x1f\x8b":  # gzipped sitemap (sitemap.xml.gz), whatever its Content-Type says
            try:
                data = _gunzip(data, self.max_bytes)
            except (OSError, EOFError, zlib.error) as exc:
                log.warning("sitemap %s is not valid gzip: %s", url, exc)
                return
        try:
            root = etree.fromstring(data, _XML_PARSER)
        except etree.XMLSyntaxError as exc:
            log.warning("sitemap %s is not XML: %s", url, exc)
            return
        if root is None:
            return
        tag = etree.QName(root).localname
        if tag == "sitemapindex" and depth < MAX_SITEMAP_DEPTH:
            for loc in _texts(root, "sitemap", "loc"):
                child = urljoin(url, loc)
                if self.same_site(child):
                    yield from self._read_sitemap(child, depth + 1)
        elif tag == "urlset":
            for node in root.iter(f"{SITEMAP_NS}url", "url"):
                loc = node.findtext(f"{SITEMAP_NS}loc") or node.findtext("loc")
                if loc and self.same_site(urljoin(url, loc.strip())):
                    lastmod = node.findtext(f"{SITEMAP_NS}lastmod") or node.findtext("lastmod")
                    yield SitemapEntry(urljoin(url, loc.strip()), lastmod.strip() if lastmod else None)

    def crawl(self, *, max_pages: int, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> dict[str, Page]:
        """Follow links breadth-first from the start URL, within its host and path prefix.

        Returns the fetched pages by URL; pages that fail to fetch are logged and left out.
        """
        prefix = self.start_url.rsplit("/", 1)[0] + "/"
        queue, seen, pages = deque([self.start_url]), {self.start_url}, {}
        while queue and len(pages) < max_pages:
            url = queue.popleft()
            if not self.allowed(url):
                continue
            try:
                page = self.fetch(url)
            except IngestError as exc:
                log.warning("crawl: %s", exc)
                continue
            if page.status != "ok":
                continue
            if matches(url, include, exclude):
                pages[url] = page
            if not _is_html(page.content_type):
                continue
            for link in _links(page.content, page.final_url):
                if link not in seen and link.startswith(prefix):
                    seen.add(link)
                    queue.append(link)
        return pages

    def discover(self, *, max_pages: int, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Discovery:
        """The site's pages: its sitemaps when it has any, else a crawl from the start URL."""
        entries = [e for e in self.sitemap_entries(max_pages * 4) if matches(e.url, include, exclude)]
        if entries:
            return Discovery("sitemap", entries[:max_pages], {})
        pages = self.crawl(max_pages=max_pages, include=include, exclude=exclude)
        return Discovery("crawl", [SitemapEntry(url) for url in pages], pages)


def matches(url: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Whether the URL's path matches an ``include`` glob (any, when none are given) and no ``exclude`` glob."""
    path = urlsplit(url).path or "/"
    if include and not any(fnmatch.fnmatchcase(path, pattern) for pattern in include):
        return False
    return not any(fnmatch.fnmatchcase(path, pattern) for pattern in exclude)


def _is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in HTML_TYPES


def _texts(root, parent: str, child: str) -> Iterator[str]:
    for node in root.iter(f"{SITEMAP_NS}{parent}", parent):
        text = node.findtext(f"{SITEMAP_NS}{child}") or node.findtext(child)
        if text and text.strip():
            yield text.strip()


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
        inflated = handle.read(max_bytes + 1)
    if len(inflated) > max_bytes:
        raise DocumentTooLarge(f"a gzipped sitemap inflates past {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
    return inflated


def _links(content: bytes, base: str) -> Iterator[str]:
    """Absolute http(s) links of an HTML page, fragments dropped."""
    try:
        root = lxml.html.fromstring(content)
    except (etree.ParserError, ValueError):
        return
    for href in root.xpath("//a/@href"):
        url = urldefrag(urljoin(base, href.strip())).url
        if url.startswith(("http://", "https://")):
            yield url
