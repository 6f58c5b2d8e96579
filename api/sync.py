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

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.ingestion import IngestItem, IngestPipeline
from api.settings import Settings
from ingest.crawl import SiteClient
from ingest.errors import IngestError
from retrieval.catalog import open_database
from retrieval.errors import DocumentNotFound

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    url TEXT NOT NULL,
    include TEXT NOT NULL,            -- JSON list of path globs
    exclude TEXT NOT NULL,
    max_pages INTEGER NOT NULL,
    interval_s REAL,                  -- NULL: runs only when asked
    next_run_at REAL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS source_pages (
    source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    url TEXT NOT NULL,                -- as listed or linked
    doc_id TEXT NOT NULL,             -- the final or canonical URL
    etag TEXT,
    last_modified TEXT,
    lastmod TEXT,                     -- the sitemap's
    missing_runs INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, url)
);
CREATE TABLE IF NOT EXISTS sync_runs (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    state TEXT NOT NULL,              -- queued, running, done, failed
    trigger TEXT NOT NULL,            -- manual, schedule
    via TEXT,                         -- sitemap, crawl
    pages_total INTEGER NOT NULL DEFAULT 0,
    pages_done INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS sync_pages (
    run_id TEXT NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    doc_id TEXT,
    status TEXT NOT NULL,             -- created, updated, unchanged, deleted, missing, disallowed, failed
    error TEXT
);
CREATE INDEX IF NOT EXISTS sync_pages_run ON sync_pages(run_id);
"""
STATUSES = ("created", "updated", "unchanged", "deleted", "missing", "disallowed", "failed")
RUNS_KEPT = 20  # per source
BATCH_PAGES = 8
MISSING_RUNS_TO_DELETE = 2


class SourceNotFound(LookupError):
    """No sync source (or run) has that id in that collection."""


class _Stopped(Exception):
    """The service is closing: the run stops between pages and runs again at the next start."""


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    collection: str
    url: str
    include: list[str]
    exclude: list[str]
    max_pages: int
    interval_s: float | None
    next_run_at: float | None
    created_at: float


@dataclass(frozen=True, slots=True)
class PageState:
    url: str
    doc_id: str
    etag: str | None
    last_modified: str | None
    lastmod: str | None
    missing_runs: int


class SyncStore:
    """Sources, their pages' state and their runs in ``sync.sqlite3``."""

    def __init__(self, path: str | Path) -> None:
        self._db = open_database(Path(path), SCHEMA, timeout_s=30)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # Sources

    def add_source(self, collection: str, url: str, *, include: Sequence[str], exclude: Sequence[str],
                   max_pages: int, interval_s: float | None) -> Source:
        now = time.time()
        source = Source(uuid.uuid4().hex[:16], collection, url, list(include), list(exclude), max_pages, interval_s,
                        now + interval_s if interval_s else None, now)
        self._execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (source.id, collection, url, json.dumps(source.include), json.dumps(source.exclude),
                       max_pages, interval_s, source.next_run_at, now))
        return source

    def sources(self, collection: str | None = None) -> list[Source]:
        where, args = ("WHERE collection = ?", (collection,)) if collection else ("", ())
        rows = self._query(f"SELECT * FROM sources {where} ORDER BY created_at", args)
        return [Source(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), *r[5:]) for r in rows]

    def source(self, collection: str, source_id: str) -> Source:
        found = [s for s in self.sources(collection) if s.id == source_id]
        if not found:
            raise SourceNotFound(f"sync source {source_id!r} does not exist in collection {collection!r}")
        return found[0]

    def remove_source(self, collection: str, source_id: str) -> list[str]:
        """Forget the source, its pages and runs; returns the document ids it had written."""
        self.source(collection, source_id)
        doc_ids = [r[0] for r in self._query("SELECT DISTINCT doc_id FROM source_pages WHERE source_id = ?",
                                             (source_id,))]
        self._execute("DELETE FROM sources WHERE id = ?", (source_id,))
        return doc_ids

    # Pages

    def pages(self, source_id: str) -> dict[str, PageState]:
        rows = self._query("SELECT url, doc_id, etag, last_modified, lastmod, missing_runs FROM source_pages "
                           "WHERE source_id = ?", (source_id,))
        return {r[0]: PageState(*r) for r in rows}

    def save_page(self, source_id: str, state: PageState) -> None:
        self._execute("INSERT OR REPLACE INTO source_pages VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (source_id, state.url, state.doc_id, state.etag, state.last_modified, state.lastmod,
                       state.missing_runs))

    def forget_page(self, source_id: str, url: str) -> None:
        self._execute("DELETE FROM source_pages WHERE source_id = ? AND url = ?", (source_id, url))

    # Runs

    def create_run(self, source_id: str, trigger: str) -> str:
        run_id = uuid.uuid4().hex
        self._execute("INSERT INTO sync_runs (id, source_id, state, trigger, created_at) VALUES (?, ?, 'queued', ?, ?)",
                      (run_id, source_id, trigger, time.time()))
        return run_id

    def schedule_due(self, now: float) -> list[str]:
        """Queue a run for every source whose interval has come round (and that has none waiting)."""
        due = self._query(
            "SELECT id, interval_s FROM sources s WHERE interval_s IS NOT NULL AND next_run_at <= ? AND NOT EXISTS "
            "(SELECT 1 FROM sync_runs r WHERE r.source_id = s.id AND r.state IN ('queued', 'running'))", (now,))
        runs = []
        for source_id, interval_s in due:
            runs.append(self.create_run(source_id, "schedule"))
            self._execute("UPDATE sources SET next_run_at = ? WHERE id = ?", (now + interval_s, source_id))
        return runs

    def requeue_interrupted(self) -> int:
        """Runs cut short by a restart are redone from the start."""
        with self._lock:
            self._db.execute("DELETE FROM sync_pages WHERE run_id IN "
                             "(SELECT id FROM sync_runs WHERE state = 'running')")
            return self._db.execute("UPDATE sync_runs SET state = 'queued', pages_done = 0 WHERE state = 'running'"
                                    ).rowcount

    def claim_next(self) -> tuple[str, str] | None:
        """(run id, source id) of the oldest queued run, now running."""
        with self._lock:
            row = self._db.execute("SELECT id, source_id FROM sync_runs WHERE state = 'queued' ORDER BY created_at "
                                   "LIMIT 1").fetchone()
            if row:
                self._db.execute("UPDATE sync_runs SET state = 'running', started_at = ? WHERE id = ?",
                                 (time.time(), row[0]))
        return row

    def discovered(self, run_id: str, *, via: str, total: int) -> None:
        """How the run found its pages, and how many it will go through."""
        self._execute("UPDATE sync_runs SET via = ?, pages_total = ? WHERE id = ?", (via, total, run_id))

    def record(self, run_id: str, url: str, status: str, *, doc_id: str | None = None, error: str | None = None,
               done: bool = True) -> None:
        """One page's outcome; ``done`` counts it towards the run's progress."""
        with self._lock:
            self._db.execute("INSERT INTO sync_pages VALUES (?, ?, ?, ?, ?)", (run_id, url, doc_id, status, error))
            if done:
                self._db.execute("UPDATE sync_runs SET pages_done = pages_done + 1 WHERE id = ?", (run_id,))

    def finish(self, run_id: str, error: str | None = None) -> None:
        with self._lock:
            self._db.execute("UPDATE sync_runs SET state = ?, error = ?, finished_at = ? WHERE id = ?",
                             ("failed" if error else "done", error, time.time(), run_id))
            self._db.execute(
                "DELETE FROM sync_runs WHERE source_id = (SELECT source_id FROM sync_runs WHERE id = ?) AND id NOT IN "
                "(SELECT id FROM sync_runs r WHERE r.source_id = (SELECT source_id FROM sync_runs WHERE id = ?) "
                "ORDER BY created_at DESC LIMIT ?)", (run_id, run_id, RUNS_KEPT))

    def run(self, run_id: str) -> dict[str, Any] | None:
        """A run's state, progress, counts by status, changed pages and per-page errors."""
        rows = self._query("SELECT id, source_id, state, trigger, via, pages_total, pages_done, created_at, "
                           "started_at, finished_at, error FROM sync_runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        keys = ("id", "source_id", "state", "trigger", "via", "pages_total", "pages_done", "created_at",
                "started_at", "finished_at", "error")
        out = dict(zip(keys, rows[0], strict=True))
        pages = self._query("SELECT url, doc_id, status, error FROM sync_pages WHERE run_id = ? ORDER BY rowid",
                            (run_id,))
        counts = Counter(p[2] for p in pages)
        out["counts"] = {status: counts.get(status, 0) for status in STATUSES}
        out["changes"] = [{"url": p[0], "doc_id": p[1], "status": p[2]} for p in pages
                          if p[2] not in ("unchanged", "failed")]
        out["errors"] = [{"url": p[0], "error": p[3]} for p in pages if p[2] == "failed"]
        return out

    def last_run(self, source_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT id FROM sync_runs WHERE source_id = ? ORDER BY created_at DESC LIMIT 1",
                           (source_id,))
        return self.run(rows[0][0]) if rows else None


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

    def submit(self, source_id: str, trigger: str = "manual") -> str:
        """Queue a run of the source now; returns the run id."""
        run_id = self.store.create_run(source_id, trigger)
        self._wake.set()
        return run_id

    def _loop(self) -> None:
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
            self._ingest(run_id, source, fetched, known)
            if len(discovery.entries) < source.max_pages:  # a capped listing says nothing about the rest
                for url, state in known.items():
                    if url not in listed:
                        self._missing(run_id, source, state)
        return None

    def _keep(self, run_id: str, source: Source, state: PageState) -> None:
        self.store.save_page(source.id, state)
        self.store.record(run_id, state.url, "unchanged", doc_id=state.doc_id)

    def _ingest(self, run_id: str, source: Source, fetched: list[tuple[IngestItem, PageState]],
                known: dict[str, PageState]) -> None:
        """Write the fetched pages (one document per final URL); failures keep what was there."""
        by_doc: dict[str, tuple[IngestItem, PageState]] = {}
        for item, state in fetched:
            if item.doc_id in by_doc:  # a redirect or canonical onto an article already fetched this run
                self.store.save_page(source.id, state)
                self.store.record(run_id, state.url, "unchanged", doc_id=state.doc_id)
                continue
            by_doc[item.doc_id] = (item, state)
        pending = list(by_doc.values())
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
