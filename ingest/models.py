"""The values that flow through ingestion: a cleaned document and its chunks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ingest.text import fold_text


def sha256_hex(*parts: str) -> str:
    """A stable hex digest of text parts (NUL-separated so parts cannot run together)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Document:
    """A cleaned document, ready to chunk. ``text`` is Markdown-flavoured plain text."""

    id: str
    title: str
    text: str
    content_type: str
    source: str | None = None
    url: str | None = None
    warnings: tuple[str, ...] = ()  # what cleaning left out that a reader may miss; not part of the content
    language: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Digest of everything that shapes the stored chunks and their payloads: title, url, language,
        metadata and text. A change of metadata alone is a new version, so that every chunk carries it."""
        metadata = json.dumps(self.metadata, sort_keys=True, ensure_ascii=False, default=str)
        return sha256_hex(self.title, self.url or "", self.language or "", metadata, self.text)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One retrievable piece of a document, with where it came from."""

    doc_id: str
    index: int
    text: str
    heading: str
    title: str
    url: str | None
    source: str | None
    content_hash: str
    language: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def chunk_hash(self) -> str:
        """Digest of the chunk's own text; equal texts embed to equal vectors."""
        return sha256_hex(self.text)

    @property
    def embedding_text(self) -> str:
        """What is indexed (embedder and lexical terms): the text under its title and heading path, folded."""
        return embedding_text(self.title, self.heading, self.text)


def embedding_text(title: str, heading: str, text: str) -> str:
    """A chunk's text under its document title and heading path, folded, as it is embedded and indexed."""
    header = " > ".join(part for part in (title, heading) if part)
    return fold_text(f"{header}\n{text}" if header else text)
