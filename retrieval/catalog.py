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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
CREATE TABLE IF NOT EXISTS collection_embedders (
    collection TEXT PRIMARY KEY REFERENCES collections(name) ON DELETE CASCADE,
    setting TEXT NOT NULL,
    model TEXT NOT NULL,
    dimension INTEGER NOT NULL
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
class EmbedderRecord:
    """The embedding model that made a collection's vectors."""

    setting: str
    """The ``SIFT_EMBED_MODEL`` value that loads it."""
    model: str
    """Its identity (name, and version where it has one): vectors of two identities never mix."""
    dimension: int


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    """A collection and its settings."""

    name: str
    instruction: str | None
    created_at: float
    documents: int


def open_database(path: Path, schema: str, *, timeout_s: float = 5.0, durable: bool = True) -> sqlite3.Connection:
    """A SQLite connection (WAL, foreign keys) shared by threads, with ``schema`` applied. ``durable``
    syncs every commit to disk; a cache that can be rebuilt passes False (synchronous=NORMAL).

    Callers serialise their own use of it with a lock; transactions are explicit (``transaction``),
    autocommit otherwise.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=timeout_s)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(schema)
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back if anything in between raises, so the connection is
    never left stuck inside a transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


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

    def ensure_collection(self, name: str, embedder: EmbedderRecord) -> None:
        """Create the collection if it does not exist, recording the model its vectors are made with."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR IGNORE INTO collections (name, created_at) VALUES (?, ?)", (name, time.time())
            )
            self._db.execute("INSERT OR IGNORE INTO collection_embedders VALUES (?, ?, ?, ?)",
                             (name, embedder.setting, embedder.model, embedder.dimension))
            self._db.execute("COMMIT")

    def set_embedder(self, name: str, embedder: EmbedderRecord) -> None:
        """Record that the collection's vectors are now made by ``embedder``."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO collection_embedders VALUES (?, ?, ?, ?)",
                             (name, embedder.setting, embedder.model, embedder.dimension))

    def embedders(self) -> dict[str, EmbedderRecord | None]:
        """Each collection's embedding model; None for collections made before Sift recorded it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.name, e.setting, e.model, e.dimension FROM collections c "
                "LEFT JOIN collection_embedders e ON e.collection = c.name ORDER BY c.name"
            ).fetchall()
        return {name: EmbedderRecord(setting, model, dimension) if model else None
                for name, setting, model, dimension in rows}

    def create_collection(self, name: str, instruction: str | None = None) -> bool:
        """Create the collection; False (and nothing changed) if it already exists."""
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO collections (name, instruction, created_at) "
                                      "VALUES (?, ?, ?)", (name, instruction, time.time()))
        return cursor.rowcount > 0

    def remove_collection(self, name: str) -> list[str]:
        """Forget the collection and its documents in one transaction, journaling a pending write for each
        document so that ``pending_writes`` names their chunks until ``end_write``; returns their ids."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            doc_ids = [row[0] for row in self._db.execute(
                "SELECT doc_id FROM documents WHERE collection = ?", (name,))]
            now = time.time()
            self._db.executemany("INSERT OR REPLACE INTO pending_writes VALUES (?, ?, '', ?)",
                                 [(name, doc_id, now) for doc_id in doc_ids])
            self._db.execute("DELETE FROM collections WHERE name = ?", (name,))
            self._db.execute("COMMIT")
        return doc_ids

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

    def documents(self, collection: str, *, limit: int | None = None, offset: int = 0,
                  search: str | None = None) -> list[DocumentRecord]:
        """The collection's documents by id; a page of them with ``limit``/``offset``, and only those whose
        title or id contains ``search`` (case-insensitive) when given."""
        where, args = _document_filter(collection, search)
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM documents WHERE {where} ORDER BY doc_id LIMIT ? OFFSET ?",
                (*args, -1 if limit is None else limit, offset),
            ).fetchall()
        return [DocumentRecord.from_row(row) for row in rows]

    def count_documents(self, collection: str, *, search: str | None = None) -> int:
        """How many documents ``documents`` would list without a page."""
        where, args = _document_filter(collection, search)
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", args).fetchone()[0]

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


def _document_filter(collection: str, search: str | None) -> tuple[str, tuple]:
    """SQL condition and arguments: the collection's documents, those matching ``search`` if given."""
    if not search:
        return "collection = ?", (collection,)
    pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return ("collection = ? AND (title LIKE ? ESCAPE '\\' OR doc_id LIKE ? ESCAPE '\\')",
            (collection, pattern, pattern))
