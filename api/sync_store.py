"""Where help-centre sync keeps its state: sources, each page's validators, and runs (``sync.sqlite3``)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.catalog import open_database

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


class SourceNotFound(LookupError):
    """No sync source (or run) has that id in that collection."""


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
