"""Durable ingestion jobs: uploads stored in SQLite, processed in the background, resumed after a restart.

A job's files (with their bytes) are written in one transaction when it is accepted, so an
accepted job is never lost. One worker thread runs jobs in order; each file is written atomically
by the index, so a crash leaves every document whole or absent and the resumed job finishes the
rest (documents already written come back as ``unchanged``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.ingestion import IngestItem, IngestPipeline, lower_thread_priority
from ingest.errors import IngestError
from retrieval.catalog import open_database, transaction

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    collection TEXT NOT NULL,
    state TEXT NOT NULL,              -- queued, running, done, failed
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS job_files (
    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    name TEXT,
    content_type TEXT,
    doc_id TEXT,
    title TEXT,
    url TEXT,
    metadata TEXT NOT NULL,
    content BLOB,                     -- dropped once the file is done
    is_text INTEGER NOT NULL,
    state TEXT NOT NULL,              -- pending, done, failed
    status TEXT,                      -- created, updated, unchanged
    result_id TEXT,
    chunks INTEGER,
    error TEXT,
    warnings TEXT,                    -- JSON list: what cleaning left out
    PRIMARY KEY (job_id, seq)
);
"""
BATCH_FILES = 8
PRUNE_EVERY_S = 3600.0


class JobStore:
    """Jobs and their files in ``jobs.sqlite3``."""

    def __init__(self, path: str | Path) -> None:
        self._db = open_database(Path(path), SCHEMA, timeout_s=30)
        self._lock = threading.Lock()
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(job_files)")}
        if "warnings" not in columns:  # a jobs database from before per-file warnings
            self._db.execute("ALTER TABLE job_files ADD COLUMN warnings TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, collection: str, items: Sequence[IngestItem]) -> str:
        """Store a new queued job with all its files; returns its id."""
        job_id = uuid.uuid4().hex
        now = time.time()
        rows = [
            (job_id, seq, item.name, item.content_type, item.doc_id, item.title, item.url,
             json.dumps(dict(item.metadata)), item.content.encode("utf-8") if isinstance(item.content, str)
             else item.content, isinstance(item.content, str), "pending")
            for seq, item in enumerate(items)
        ]
        with self._lock, transaction(self._db):
            self._db.execute("INSERT INTO jobs VALUES (?, ?, 'queued', ?, ?, NULL)", (job_id, collection, now, now))
            self._db.executemany(
                "INSERT INTO job_files (job_id, seq, name, content_type, doc_id, title, url, metadata, content, "
                "is_text, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return job_id

    def requeue_interrupted(self) -> int:
        """Jobs that were running when the process died go back to the queue."""
        with self._lock:
            return self._db.execute(
                "UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'", (time.time(),)
            ).rowcount

    def claim_next(self) -> tuple[str, str] | None:
        """(job id, collection) of the oldest queued job, now marked running."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, collection FROM jobs WHERE state = 'queued' ORDER BY created_at LIMIT 1").fetchone()
            if row:
                self._db.execute("UPDATE jobs SET state = 'running', updated_at = ? WHERE id = ?",
                                 (time.time(), row[0]))
        return row

    def pending_files(self, job_id: str) -> list[tuple[int, IngestItem]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, name, content_type, doc_id, title, url, metadata, content, is_text FROM job_files "
                "WHERE job_id = ? AND state = 'pending' ORDER BY seq", (job_id,)).fetchall()
        return [
            (seq, IngestItem(content=content.decode("utf-8") if is_text else bytes(content), name=name,
                             content_type=content_type, doc_id=doc_id, title=title, url=url,
                             metadata=json.loads(metadata)))
            for seq, name, content_type, doc_id, title, url, metadata, content, is_text in rows
        ]

    def file_done(self, job_id: str, seq: int, *, doc_id: str, status: str, chunks: int,
                  warnings: Sequence[str] = ()) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE job_files SET state = 'done', status = ?, result_id = ?, chunks = ?, warnings = ?, "
                "content = NULL WHERE job_id = ? AND seq = ?",
                (status, doc_id, chunks, json.dumps(list(warnings)), job_id, seq))
            self._db.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (time.time(), job_id))

    def file_failed(self, job_id: str, seq: int, error: str) -> None:
        with self._lock:
            self._db.execute("UPDATE job_files SET state = 'failed', error = ?, content = NULL "
                             "WHERE job_id = ? AND seq = ?", (error, job_id, seq))

    def finish(self, job_id: str, error: str | None = None) -> None:
        """Mark the job done or failed; the uploaded bytes of its files are not kept either way."""
        with self._lock, transaction(self._db):
            self._db.execute("UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE id = ?",
                             ("failed" if error else "done", error, time.time(), job_id))
            self._db.execute("UPDATE job_files SET content = NULL WHERE job_id = ?", (job_id,))

    def prune(self, older_than_s: float) -> int:
        """Forget jobs that finished more than ``older_than_s`` seconds ago; returns how many."""
        with self._lock:
            removed = self._db.execute("DELETE FROM jobs WHERE state IN ('done', 'failed') AND updated_at < ?",
                                       (time.time() - older_than_s,)).rowcount
        if removed:
            log.info("pruned %d finished ingestion job(s)", removed)
        return removed

    def waiting(self) -> dict[str, int]:
        """How many jobs are queued and running: the ingestion queue's depth."""
        with self._lock:
            rows = dict(self._db.execute("SELECT state, COUNT(*) FROM jobs WHERE state IN ('queued', 'running') "
                                         "GROUP BY state").fetchall())
        return {"queued": rows.get("queued", 0), "running": rows.get("running", 0)}

    def counts(self) -> dict[str, int]:
        """How many jobs are in each state."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {state: 0 for state in ("queued", "running", "done", "failed")} | dict(rows)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's state, progress, per-file errors and written documents."""
        with self._lock:
            job = self._db.execute("SELECT id, collection, state, created_at, updated_at, error FROM jobs "
                                   "WHERE id = ?", (job_id,)).fetchone()
            if job is None:
                return None
            files = self._db.execute("SELECT seq, name, doc_id, state, status, result_id, chunks, error, warnings "
                                     "FROM job_files WHERE job_id = ? ORDER BY seq", (job_id,)).fetchall()
        counts = {"total": len(files), "done": 0, "failed": 0, "pending": 0}
        for file in files:
            counts[file[3]] += 1
        return {
            "id": job[0], "collection": job[1], "state": job[2], "created_at": job[3], "updated_at": job[4],
            "error": job[5],
            "files": counts,
            "chunks_done": sum(f[6] or 0 for f in files if f[3] == "done" and f[4] != "unchanged"),
            "documents": [{"id": f[5], "status": f[4], "chunks": f[6], "warnings": json.loads(f[8] or "[]")}
                          for f in files if f[3] == "done"],
            "errors": [{"file": f[1] or f[2] or f"#{f[0]}", "error": f[7]} for f in files if f[3] == "failed"],
        }


class JobRunner:
    """One background thread that runs queued jobs through the ingest pipeline."""

    def __init__(self, jobs: JobStore, pipeline: IngestPipeline, *, retention_s: float = 7 * 86400) -> None:
        self.jobs = jobs
        self.pipeline = pipeline
        self.retention_s = retention_s
        self._pruned_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        resumed = self.jobs.requeue_interrupted()
        if resumed:
            log.warning("resuming %d ingestion job(s) interrupted by a restart", resumed)
        self._thread = threading.Thread(target=self._loop, name="ingest-jobs", daemon=True)
        self._thread.start()
        self._wake.set()

    def submit(self, collection: str, items: Sequence[IngestItem]) -> str:
        job_id = self.jobs.create(collection, items)
        self._wake.set()
        return job_id

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        lower_thread_priority()
        while not self._stop.is_set():
            claimed = self.jobs.claim_next()
            if claimed is None:
                if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
                    self._pruned_at = time.monotonic()
                    self.jobs.prune(self.retention_s)
                self._wake.wait(5.0)
                self._wake.clear()
                continue
            job_id, collection = claimed
            try:
                if self._run(job_id, collection):
                    self.jobs.finish(job_id)
            except Exception as exc:  # a broken store fails the job, never the worker
                log.exception("ingestion job %s failed", job_id)
                self.jobs.finish(job_id, f"{type(exc).__name__}: {exc}")

    def _run(self, job_id: str, collection: str) -> bool:
        """Ingest the job's pending files; False if stopped first (the job resumes at the next start)."""
        files = self.jobs.pending_files(job_id)
        seq_of = {id(item): seq for seq, item in files}
        failed: set[int] = set()

        def on_error(item: IngestItem, error: IngestError) -> None:
            failed.add(seq_of[id(item)])
            self.jobs.file_failed(job_id, seq_of[id(item)], str(error))

        batches = [[item for _, item in files[i:i + BATCH_FILES]] for i in range(0, len(files), BATCH_FILES)]
        for batch, results in zip(batches, self.pipeline.ingest_stream(collection, batches, on_error=on_error),
                                  strict=True):
            written = [seq_of[id(item)] for item in batch if seq_of[id(item)] not in failed]
            for seq, result in zip(written, results, strict=True):
                self.jobs.file_done(job_id, seq, doc_id=result.doc_id, status=result.status, chunks=result.chunks,
                                    warnings=result.warnings)
            if self._stop.is_set():
                return False
        return True
