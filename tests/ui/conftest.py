"""Browser fixtures: the real app served by uvicorn on a loopback port, and Debian's headless Chromium.

Chromium comes from the ``chromium`` apt package (``scripts/install_chromium.sh``, run by ``make test``);
Playwright drives that executable and never downloads a browser of its own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.service import Sift
from api.settings import load_settings
from tests.conftest import REPO
from tests.rerank.conftest import builder, tiny_model  # noqa: F401 - the tiny real reranker, built once
from tests.rerank.model_card import MAX_LENGTH

CHROMIUM = os.environ.get("SIFT_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SIFT_TEST_ARTIFACTS", REPO / "tests" / "artifacts")) / "console"
REDOC_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"
VIEWPORT = {"width": 1366, "height": 860}  # a laptop screen


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free loopback port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture(scope="module")
def reranking_sift(tmp_path_factory: pytest.TempPathFactory, tiny_model: str) -> Iterator[Sift]:  # noqa: F811
    """A started service of its own (fresh data dir) with the tiny Qwen3 reranker on the transformers engine."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("console-data"), rerank_engine="transformers",
                             rerank_model=tiny_model, rerank_max_length=MAX_LENGTH, qdrant_url=None,
                             _env_file=None)
    service = Sift(settings)
    service.start()
    yield service
    # Playwright's sync API keeps an event loop on this thread, so the service closes on another.
    closer = threading.Thread(target=asyncio.run, args=(service.close(),))
    closer.start()
    closer.join()


@pytest.fixture(scope="module")
def site(reranking_sift: Sift) -> Iterator[tuple[str, FastAPI]]:
    """Base URL and app of the real app serving ``reranking_sift`` (open: no keys yet)."""
    app = create_app(sift=reranking_sift)
    with serve(app) as url:
        yield url, app


@pytest.fixture(scope="module")
def plain_site(sift: Sift) -> Iterator[str]:
    """Base URL of the real app on the shared service, which has no reranker."""
    with serve(create_app(sift=sift)) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make install-test` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Visit:
    """A fresh browser context that fails the test if a page asks anything of another host (no CDN)."""

    def __init__(self, browser, base_url: str, locale: str = "en-US") -> None:
        self.base_url = base_url
        self.foreign: list[str] = []
        self.console_errors: list[str] = []
        self.context = browser.new_context(base_url=base_url, locale=locale, viewport=VIEWPORT)
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("response", self._check_asset)
        self.page.set_default_timeout(15_000)

    def _only_local(self, route) -> None:
        if route.request.url.startswith(self.base_url):
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def _check_asset(self, response) -> None:
        """Pages and assets must load; API answers (/v1, /health) may be errors the page shows."""
        path = response.url.removeprefix(self.base_url)
        if response.status >= 400 and not path.startswith(("/v1/", "/health")):
            self.console_errors.append(f"{response.status} for {response.url}")

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        self.context.close()
        # ReDoc's "powered by" badge is the one thing that names a CDN; offline it is just a missing image.
        foreign = [url for url in self.foreign if url != REDOC_BADGE]
        assert foreign == [], f"pages fetched from other hosts: {foreign}"
        # Failed loads are judged above (foreign hosts) and in _check_asset (own pages and assets).
        unexpected = [e for e in self.console_errors if not e.startswith("Failed to load resource")]
        assert unexpected == [], f"errors in the page's console: {unexpected}"


@pytest.fixture()
def visit(browser) -> Iterator:
    """``visit(base_url, locale=...)`` opens a checked browser context; all are closed after the test."""
    opened: list[Visit] = []

    def open_visit(base_url: str, locale: str = "en-US") -> Visit:
        opened.append(Visit(browser, base_url, locale))
        return opened[-1]

    yield open_visit
    for one in opened:
        one.close()

