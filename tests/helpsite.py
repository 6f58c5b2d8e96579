"""A small help centre served over real HTTP on loopback, for the sync tests.

Articles live in a folder as ``SLUG.html`` and are served at ``/hc/articles/SLUG`` with a strong ``ETag``
(the content's hash) and a ``Last-Modified`` (the file's mtime, or one set by the test), answering
conditional requests with 304. The test writes ``robots.txt`` and the sitemaps itself, can redirect a
path, and can make paths answer 500.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterable
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "helpcentre"


class HelpSite:
    """``with HelpSite(folder) as site:`` serves ``folder`` at ``site.url`` (127.0.0.1, a free port)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.failing: set[str] = set()
        self.redirects: dict[str, str] = {}
        self.last_modified: dict[str, float] = {}
        self.requests: list[tuple[str, str]] = []  # (path, If-None-Match or If-Modified-Since or "")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HelpSite:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._server.shutdown()
        self._server.server_close()

    def article_url(self, slug: str) -> str:
        return f"{self.url}/hc/articles/{slug}"

    def write_sitemap(self, entries: Iterable[tuple[str, str]], *, name: str = "sitemap.xml",
                      gzipped: bool = False) -> None:
        """A urlset of (slug, lastmod) entries."""
        urls = "".join(f"<url><loc>{self.article_url(slug)}</loc><lastmod>{lastmod}</lastmod></url>"
                       for slug, lastmod in entries)
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               f"{urls}</urlset>").encode()
        (self.root / name).write_bytes(gzip.compress(xml) if gzipped else xml)

    def write_index(self, names: Iterable[str], *, name: str = "sitemap_index.xml") -> None:
        sitemaps = "".join(f"<sitemap><loc>{self.url}/{n}</loc></sitemap>" for n in names)
        (self.root / name).write_text('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
                                      f'"http://www.sitemaps.org/schemas/sitemap/0.9">{sitemaps}</sitemapindex>')

    def write_robots(self, text: str) -> None:
        (self.root / "robots.txt").write_text(text)

    def file_for(self, path: str) -> Path | None:
        if path.startswith("/hc/articles/"):
            return self.root / f"{path.removeprefix('/hc/articles/')}.html"
        if path in ("/hc", "/hc/"):
            return self.root / "index.html"
        return self.root / path.lstrip("/") if path.count("/") == 1 else None


def _handler(site: HelpSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            site.requests.append((path, self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since")
                                  or ""))
            if path in site.failing:
                return self._send(500, b"internal error", "text/plain")
            if path in site.redirects:
                self.send_response(301)
                self.send_header("Location", site.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            file = site.file_for(path)
            if file is None or not file.is_file():
                return self._send(404, b"not found", "text/plain")
            data = file.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
            modified = site.last_modified.get(path, file.stat().st_mtime)
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", None, etag=etag, modified=modified)
            since = self.headers.get("If-Modified-Since")
            if since and not self.headers.get("If-None-Match") and \
                    int(modified) <= parsedate_to_datetime(since).timestamp():
                return self._send(304, b"", None, etag=etag, modified=modified)
            kind = {".html": "text/html; charset=utf-8", ".xml": "application/xml", ".txt": "text/plain",
                    ".gz": "application/gzip"}.get(file.suffix, "application/octet-stream")
            return self._send(200, data, kind, etag=etag, modified=modified)

        def _send(self, status: int, body: bytes, content_type: str | None, *, etag: str | None = None,
                  modified: float | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
            if modified is not None:
                self.send_header("Last-Modified", formatdate(modified, usegmt=True))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler
