"""The document catalog: which documents and collections exist, and which version of each is live.

The catalog (SQLite under ``SIFT_DATA_DIR``) is the commit point of an ingest: a pending-write
row is journaled, new chunks are written to Qdrant, the catalog row switches to the new
``content_hash``, old chunks are deleted and the journal row is removed. Searches drop hits whose
hash is not the live one, so a reader never sees half a document or two versions of it; after a
crash, the journal names exactly the documents whose stray chunks must be cleaned up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ADDED_COLUMNS = (("language", "TEXT"), ("metadata", "TEXT NOT NULL DEFAULT '{}'"))
"""Columns of ``documents`` newer than the first catalogs: added in place when a catalog lacks them."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    instruction TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL REFERENCES collections(name) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    source TEXT,
    content_type TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    language TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (collection, doc_id)
);
CREATE TABLE IF NOT EXISTS pending_writes (
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    started_at REAL NOT NULL,
    PRIMARY KEY (collection, doc_id, content_hash)
);
"""


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """The live version of one document."""

    collection: str
    doc_id: str
    title: str
    url: str | None
    source: str | None
    content_type: str
    content_hash: str
    chunks: int
    updated_at: float
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: tuple) -> DocumentRecord:
        """A record from a ``SELECT *`` row of ``documents`` (metadata is stored as JSON)."""
        *fields, metadata = row
        return cls(*fields, metadata=json.loads(metadata or "{}"))


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    """A collection and its settings."""

    name: str
    instruction: str | None
    created_at: float
    documents: int


def open_database(path: Path, schema: str, *, timeout_s: float = 5.0) -> sqlite3.Connection:
    """A durable SQLite connection (WAL, full sync, foreign keys) shared by threads, with ``schema`` applied.

    Callers serialise their own use of it with a lock; transactions are explicit (autocommit otherwise).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=timeout_s)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(schema)
    return db


class Catalog:
    """Thread-safe access to the catalog database."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = open_database(self.path, SCHEMA)
        self._lock = threading.Lock()
        present = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        for name, declaration in ADDED_COLUMNS:
            if name not in present:
                self._db.execute(f"ALTER TABLE documents ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Collections

    def ensure_collection(self, name: str) -> None:
        """Create the collection if it does not exist."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO collections (name, created_at) VALUES (?, ?)", (name, time.time())
            )

    def set_instruction(self, name: str, instruction: str | None) -> None:
        """Set the collection's default rerank instruction (None clears it)."""
        with self._lock:
            self._db.execute("UPDATE collections SET instruction = ? WHERE name = ?", (instruction, name))

    def collection(self, name: str) -> CollectionRecord | None:
        rows = self._collections("WHERE c.name = ?", (name,))
        return rows[0] if rows else None

    def collections(self) -> list[CollectionRecord]:
        return self._collections("", ())

    def _collections(self, where: str, args: tuple) -> list[CollectionRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.name, c.instruction, c.created_at, COUNT(d.doc_id) FROM collections c "
                f"LEFT JOIN documents d ON d.collection = c.name {where} GROUP BY c.name ORDER BY c.name",
                args,
            ).fetchall()
        return [CollectionRecord(*row) for row in rows]

    # Documents

    def document(self, collection: str, doc_id: str) -> DocumentRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM documents WHERE collection = ? AND doc_id = ?", (collection, doc_id)
            ).fetchone()
        return DocumentRecord.from_row(row) if row else None

    def documents(self, collection: str) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM documents WHERE collection = ? ORDER BY doc_id", (collection,)
            ).fetchall()
        return [DocumentRecord.from_row(row) for row in rows]

    def live_hashes(self, collection: str, doc_ids: Iterable[str]) -> dict[str, str]:
        """``doc_id -> content_hash`` of the live version of each listed document that exists."""
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT doc_id, content_hash FROM documents WHERE collection = ? AND doc_id IN ({marks})",
                (collection, *ids),
            ).fetchall()
        return dict(rows)

    def commit_document(self, record: DocumentRecord) -> None:
        """Make ``record`` the live version of its document (insert or replace)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO documents (collection, doc_id, title, url, source, content_type, "
                "content_hash, chunks, updated_at, language, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.collection, record.doc_id, record.title, record.url, record.source,
                 record.content_type, record.content_hash, record.chunks, record.updated_at,
                 record.language, json.dumps(record.metadata, ensure_ascii=False)),
            )

    def begin_write(self, collection: str, doc_id: str, content_hash: str) -> None:
        """Journal a write before any of its chunks reach the store."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO pending_writes VALUES (?, ?, ?, ?)",
                             (collection, doc_id, content_hash, time.time()))

    def end_write(self, collection: str, doc_id: str, content_hash: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM pending_writes WHERE collection = ? AND doc_id = ? AND content_hash = ?",
                             (collection, doc_id, content_hash))

    def pending_writes(self) -> list[tuple[str, str, str]]:
        """(collection, doc_id, content_hash) of writes that did not finish."""
        with self._lock:
            return self._db.execute("SELECT collection, doc_id, content_hash FROM pending_writes").fetchall()

    def remove_document(self, collection: str, doc_id: str) -> bool:
        """Forget the document; True if it existed."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM documents WHERE collection = ? AND doc_id = ?", (collection, doc_id)
            )
        return cursor.rowcount > 0
