"""Help-centre sources kept in sync: registered sites, durable sync runs, and a scheduler thread.

A *source* is a site URL on a collection with include/exclude path globs, a page cap and an optional
interval. Each sync is a *run* stored in ``sync.sqlite3`` before it starts (queued → running → done or
failed, with progress and one row per page that changed or failed), so runs and schedules survive a
restart: a run cut short is queued again and redone (pages already written come back unchanged).

One run: discover the pages (``ingest.crawl``), skip the ones whose sitemap ``lastmod`` is what it was,
fetch the others conditionally (``ETag``/``Last-Modified``), ingest what came back through the normal
pipeline (the content hash decides created/updated/unchanged), and delete documents whose page answered
404/410 or was missing from the listing two runs in a row. A page that fails to fetch or ingest keeps
its document and its state as they were; the run reports it. Documents are keyed and cited by the page's
final URL (after redirects, or its canonical URL), so one article is one document.
"""

from __future__ import annotations

import logging
import threading
import time

from api.ingestion import IngestItem, IngestPipeline, lower_thread_priority
from api.keys import parse_duration
from api.settings import Settings
from api.sync_store import PageState, Source, SyncStore
from ingest.crawl import SiteClient
from ingest.errors import IngestError
from retrieval.errors import DocumentNotFound

log = logging.getLogger(__name__)

BATCH_PAGES = 8  # pages embedded together
FLUSH_PAGES = 32  # pages fetched before they are written
MISSING_RUNS_TO_DELETE = 2


class _Stopped(Exception):
    """The service is closing: the run stops between pages and runs again at the next start."""


class SyncRunner:
    """One background thread: queues scheduled runs when due and runs queued runs one at a time."""

    def __init__(self, store: SyncStore, pipeline: IngestPipeline, settings: Settings) -> None:
        self.store = store
        self.pipeline = pipeline
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        resumed = self.store.requeue_interrupted()
        if resumed:
            log.warning("redoing %d sync run(s) interrupted by a restart", resumed)
        self._thread = threading.Thread(target=self._loop, name="sync-runs", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def add_source(self, collection: str, url: str, *, include: list[str], exclude: list[str],
                   interval: str | None, max_pages: int | None, run: bool) -> Source:
        """Register a help centre as a source (its page cap at most ``SIFT_SYNC_MAX_PAGES``); with ``run``,
        queue its first run."""
        cap = self.settings.sync_max_pages
        source = self.store.add_source(collection, url, include=include, exclude=exclude,
                                       max_pages=min(max_pages or cap, cap),
                                       interval_s=parse_duration(interval) if interval else None)
        if run:
            self.submit(source.id)
        return source

    def remove_source(self, collection: str, source_id: str, *, delete_documents: bool) -> None:
        """Stop syncing the source; with ``delete_documents``, also delete the documents it synced."""
        for doc_id in self.store.remove_source(collection, source_id):
            if delete_documents and self.pipeline.index.catalog.document(collection, doc_id) is not None:
                self.pipeline.index.delete_document(collection, doc_id)

    def submit(self, source_id: str, trigger: str = "manual") -> str:
        """Queue a run of the source now; returns the run id."""
        run_id = self.store.create_run(source_id, trigger)
        self._wake.set()
        return run_id

    def _loop(self) -> None:
        lower_thread_priority()
        while not self._stop.is_set():
            self.store.schedule_due(time.time())
            claimed = self.store.claim_next()
            if claimed is None:
                self._wake.wait(5.0)
                self._wake.clear()
                continue
            run_id, source_id = claimed
            source = next((s for s in self.store.sources() if s.id == source_id), None)
            if source is None:
                continue
            try:
                self.store.finish(run_id, self.run_source(run_id, source))
            except _Stopped:
                log.info("sync run %s of %s stopped; it runs again at the next start", run_id, source.url)
            except Exception as exc:  # a broken site or store fails the run, never the thread
                log.exception("sync run %s of %s failed", run_id, source.url)
                self.store.finish(run_id, f"{type(exc).__name__}: {exc}")

    def run_source(self, run_id: str, source: Source) -> str | None:
        """Sync the source once; returns why the whole run failed, or None."""
        settings = self.settings
        with SiteClient(source.url, user_agent=settings.sync_user_agent, timeout_s=settings.sync_timeout_s,
                        max_bytes=settings.max_upload_bytes, delay_s=settings.sync_delay_s) as site:
            discovery = site.discover(max_pages=source.max_pages, include=source.include, exclude=source.exclude)
            if not discovery.entries:
                return f"no pages found at {source.url} (no sitemap, and the start page could not be crawled)"
            self.store.discovered(run_id, via=discovery.via, total=len(discovery.entries))
            known = self.store.pages(source.id)
            listed: set[str] = set()
            fetched: list[tuple[IngestItem, PageState]] = []
            written: set[str] = set()  # documents written this run: a second URL onto one is a duplicate
            for entry in discovery.entries:
                if self._stop.is_set():
                    raise _Stopped
                if not site.allowed(entry.url):
                    self.store.record(run_id, entry.url, "disallowed")
                    continue
                listed.add(entry.url)
                state = known.get(entry.url)
                if discovery.via == "sitemap" and state and entry.lastmod and entry.lastmod == state.lastmod:
                    self._keep(run_id, source, state)
                    continue
                try:
                    page = discovery.pages.get(entry.url) or site.fetch(
                        entry.url, etag=state.etag if state else None,
                        last_modified=state.last_modified if state else None)
                except IngestError as exc:
                    self.store.record(run_id, entry.url, "failed", doc_id=state.doc_id if state else None,
                                      error=str(exc))
                    continue
                if page.status == "gone" and state is None:
                    self.store.record(run_id, entry.url, "failed", error="listed, but the page is gone (404/410)")
                elif page.status == "gone":
                    self._delete(run_id, source, entry.url, state.doc_id)
                elif page.status == "not_modified" and state is not None:
                    self._keep(run_id, source, PageState(entry.url, state.doc_id, page.etag, page.last_modified,
                                                         entry.lastmod, 0))
                elif page.status == "not_modified":
                    self.store.record(run_id, entry.url, "failed", error="HTTP 304 to an unconditional request")
                else:
                    item = IngestItem(content=page.content, content_type=page.content_type, doc_id=page.final_url,
                                      url=page.final_url, metadata={"sync_source": source.id})
                    fetched.append((item, PageState(entry.url, page.final_url, page.etag, page.last_modified,
                                                    entry.lastmod, 0)))
                if len(fetched) >= FLUSH_PAGES:  # bounded memory: pages are written as the run goes
                    self._ingest(run_id, source, fetched, known, written)
                    fetched = []
            self._ingest(run_id, source, fetched, known, written)
            if len(discovery.entries) < source.max_pages:  # a capped listing says nothing about the rest
                for url, state in known.items():
                    if url not in listed:
                        self._missing(run_id, source, state)
        return None

    def _keep(self, run_id: str, source: Source, state: PageState) -> None:
        self.store.save_page(source.id, state)
        self.store.record(run_id, state.url, "unchanged", doc_id=state.doc_id)

    def _ingest(self, run_id: str, source: Source, fetched: list[tuple[IngestItem, PageState]],
                known: dict[str, PageState], written: set[str]) -> None:
        """Write the fetched pages (one document per final URL); failures keep what was there."""
        pending = []
        for item, state in fetched:
            if item.doc_id in written:  # a redirect or canonical onto an article already fetched this run
                self.store.save_page(source.id, state)
                self.store.record(run_id, state.url, "unchanged", doc_id=state.doc_id)
                continue
            written.add(item.doc_id)
            pending.append((item, state))
        state_of = {id(item): state for item, state in pending}
        failed: set[int] = set()

        def on_error(item: IngestItem, error: IngestError) -> None:
            failed.add(id(item))
            state = state_of[id(item)]
            previous = known.get(state.url)
            self.store.record(run_id, state.url, "failed", doc_id=previous.doc_id if previous else None,
                              error=str(error))

        batches = [[item for item, _ in pending[i:i + BATCH_PAGES]] for i in range(0, len(pending), BATCH_PAGES)]
        for batch, results in zip(batches, self.pipeline.ingest_stream(source.collection, batches, on_error=on_error),
                                  strict=True):
            written = [item for item in batch if id(item) not in failed]
            for item, result in zip(written, results, strict=True):
                state = state_of[id(item)]
                self.store.save_page(source.id, state)
                self.store.record(run_id, state.url, result.status, doc_id=result.doc_id)
                previous = known.get(state.url)
                if previous and previous.doc_id != state.doc_id:  # the article moved: drop its old copy
                    self._drop_document(source, previous.doc_id, keep_urls={state.url})

    def _delete(self, run_id: str, source: Source, url: str, doc_id: str | None, *, listed: bool = True) -> None:
        """The page is gone: forget it and delete its document (``listed``: it counts towards progress)."""
        self.store.forget_page(source.id, url)
        deleted = doc_id is not None and self._drop_document(source, doc_id, keep_urls={url})
        self.store.record(run_id, url, "deleted" if deleted else "unchanged", doc_id=doc_id, done=listed)

    def _missing(self, run_id: str, source: Source, state: PageState) -> None:
        """A known page the listing left out: deleted on its second run missing."""
        missing = state.missing_runs + 1
        if missing >= MISSING_RUNS_TO_DELETE:
            self._delete(run_id, source, state.url, state.doc_id, listed=False)
            return
        self.store.save_page(source.id, PageState(state.url, state.doc_id, state.etag, state.last_modified,
                                                  state.lastmod, missing))
        self.store.record(run_id, state.url, "missing", doc_id=state.doc_id, done=False)

    def _drop_document(self, source: Source, doc_id: str, keep_urls: set[str]) -> bool:
        """Delete the document unless another page of the source still resolves to it; True if deleted."""
        others = [p for p in self.store.pages(source.id).values() if p.doc_id == doc_id and p.url not in keep_urls]
        if others:
            return False
        try:
            self.pipeline.index.delete_document(source.collection, doc_id)
        except DocumentNotFound:
            return False
        return True
