"""API keys: created with a name, scopes and collections, stored hashed, revocable, optionally expiring.

A key's secret is ``sift_<id>_<43 random characters>``. Only its SHA-256 is stored: the secret is
shown once, at creation. SHA-256 (not a slow password hash) is right here because the secret has
256 random bits; nothing can be guessed by trying. Every process that opens the data folder (the
server and ``sift keys`` alike) reads the same SQLite file, so a key created or revoked by the CLI
takes effect at the server's next request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from retrieval.catalog import open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,             -- JSON list of scope names
    collections TEXT,                 -- JSON list of collection names; NULL = every collection
    secret_sha256 TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    last_used_at REAL
);
"""
_SECRET = re.compile(r"^sift_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
_DURATION = re.compile(r"^([0-9]+)\s*([smhdw])$")
_MAX_DURATION_UNITS = 99_999
TOUCH_INTERVAL_S = 60.0
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Scope(StrEnum):
    """What a key may do. ``admin`` includes the others."""

    QUERY = "query"  # ask, rerank, read documents and collections
    WRITE = "write"  # upload, update, delete documents; follow ingestion jobs
    METRICS = "metrics"  # read /metrics (a Prometheus scraper's key)
    ADMIN = "admin"  # keys, collection settings, everything


class UnknownKey(LookupError):
    """No key has that id."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    name: str
    scopes: frozenset[Scope]
    collections: frozenset[str] | None  # None: every collection
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= time.time()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and not self.expired


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90d``, ``12h``, ``30m``, ``2w`` or ``45s``."""
    match = _DURATION.match(text.strip().lower())
    if not match or not 0 < int(match.group(1)) <= _MAX_DURATION_UNITS:
        raise ValueError(f"invalid duration {text!r}: use a number from 1 to {_MAX_DURATION_UNITS} and a unit "
                         "s, m, h, d or w (e.g. 90d)")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secrets_equal(secret: str, digest: str) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    return hmac.compare_digest(secret_digest(secret), digest)


class KeyStore:
    """The ``api_keys`` table in ``DATA_DIR/keys.sqlite3``; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self._db = open_database(Path(path), SCHEMA)
        self._lock = threading.Lock()
        self._touched: dict[str, float] = {}
        self._has_keys = False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, *, name: str, scopes: set[Scope] | frozenset[Scope], collections: set[str] | None = None,
               expires_in_s: float | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret (the only time the secret is available)."""
        if not name.strip():
            raise ValueError("a key needs a name")
        if not scopes:
            raise ValueError("a key needs at least one scope: query, write or admin")
        key_id = secrets.token_hex(6)
        secret = f"sift_{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        key = ApiKey(id=key_id, name=name.strip(), scopes=frozenset(Scope(s) for s in scopes),
                     collections=frozenset(collections) if collections is not None else None, created_at=now,
                     expires_at=now + expires_in_s if expires_in_s else None)
        with self._lock:
            self._db.execute(
                "INSERT INTO api_keys (id, name, scopes, collections, secret_sha256, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key.id, key.name, json.dumps(sorted(key.scopes)),
                 json.dumps(sorted(key.collections)) if key.collections is not None else None,
                 secret_digest(secret), key.created_at, key.expires_at),
            )
        return key, secret

    def verify(self, secret: str) -> ApiKey | None:
        """The key a presented secret belongs to (revoked and expired ones included), or None."""
        match = _SECRET.match(secret)
        if not match:
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM api_keys WHERE id = ?", (match.group(1),)).fetchone()
        if row is None or not secrets_equal(secret, row[4]):
            return None
        return _key(row)

    def touch(self, key_id: str) -> None:
        """Record that the key was just used (shown by ``sift keys list``), at most once a minute per key,
        so that requests do not each wait for a durable write."""
        now = time.time()
        with self._lock:
            if now - self._touched.get(key_id, 0.0) < TOUCH_INTERVAL_S:
                return
            self._touched[key_id] = now
            self._db.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (now, key_id))

    def get(self, key_id: str) -> ApiKey:
        with self._lock:
            row = self._db.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise UnknownKey(f"no API key has the id {key_id!r}")
        return _key(row)

    def list(self) -> list[ApiKey]:
        """Every key, newest first, revoked and expired ones included."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM api_keys ORDER BY created_at DESC").fetchall()
        return [_key(row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key at once; revoking twice keeps the first time."""
        with self._lock:
            updated = self._db.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                                       (time.time(), key_id)).rowcount
        if not updated:
            raise UnknownKey(f"no API key has the id {key_id!r}")
        return self.get(key_id)

    def has_keys(self) -> bool:
        """Whether any key was ever created. From then on every request needs a key, even once all
        keys are revoked or expired: revoking the last key must not open the server."""
        if self._has_keys:  # keys are never deleted, so once true it stays true
            return True
        with self._lock:
            self._has_keys = self._db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None
        return self._has_keys


def _key(row: tuple) -> ApiKey:
    key_id, name, scopes, collections, _digest, created_at, expires_at, revoked_at, last_used_at = row
    return ApiKey(id=key_id, name=name, scopes=frozenset(Scope(s) for s in json.loads(scopes)),
                  collections=frozenset(json.loads(collections)) if collections is not None else None,
                  created_at=created_at, expires_at=expires_at, revoked_at=revoked_at, last_used_at=last_used_at)
