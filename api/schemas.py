"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from api.service import Answer

COLLECTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
FILTER_KEYS = ("doc_id", "title", "url", "source", "heading", "language")
FilterValue = str | int | bool | list[str] | list[int]


def _whole_number(value: object) -> object:
    """``4.0`` as 4: JSON Schema counts it as an integer, and strict validation alone would refuse it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


WholeNumber = BeforeValidator(_whole_number)
Count = Annotated[int, WholeNumber]
"""An integer field of a request body. One that may be null puts its bounds first, inside the union:
``Annotated[int, Field(ge=1), WholeNumber] | None`` (elsewhere they would not reach the OpenAPI document)."""


class RequestBody(BaseModel):
    """A request body whose fields take exactly the types the OpenAPI document gives them: no lax
    coercions (``false`` for a number, ``"5"`` for an integer). Unknown fields are ignored, as clients
    of the APIs Sift speaks (Cohere, TEI, Dify) expect."""

    model_config = ConfigDict(strict=True)


class Strict(RequestBody):
    """A request body of Sift's own API: unknown fields are refused too."""

    model_config = ConfigDict(extra="forbid", strict=True)


VISIBLE = r"[^\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
"""A character that is not whitespace, spelled out: Python's ``\\s`` and JSON Schema's (ECMAScript) differ."""

NOT_BLANK = {"pattern": VISIBLE}
"""JSON Schema of a text that must hold more than whitespace (``is_blank`` checks it, and says so in words)."""


def is_blank(text: str) -> bool:
    """Whether ``text`` holds nothing but whitespace (``VISIBLE``'s complement)."""
    return re.search(VISIBLE, text) is None


DURATION_PATTERN = r"^0*[1-9][0-9]{0,4}\s*[smhdwSMHDW]$"
"""A positive duration such as 90d, 12h or 2w (``api.keys.parse_duration``), at most 99999 units."""

DOC_ID_PATTERN = r"^(?!.*/chunks$)[^\x00-\x1f\x7f]{1,512}$"
"""A document id: 1-512 characters, no control characters, not ending in ``/chunks`` (that URL reads the
chunks of the document named before it)."""

FILTER_KEY_PATTERN = rf"^(?:{'|'.join(FILTER_KEYS)}|metadata\.[A-Za-z0-9_.-]+)$"


# Documents

class DocumentIn(Strict):
    id: str | None = Field(None, min_length=1, max_length=512, json_schema_extra={"pattern": DOC_ID_PATTERN})
    title: str | None = Field(None, max_length=1000)
    url: str | None = Field(None, max_length=4096)
    content: str = Field(..., min_length=1, description="The document's text, HTML or Markdown.")
    content_type: str = Field("text/plain", description="text/html, text/markdown or text/plain.")
    metadata: dict[str, str | int | float | bool | list[str | int]] = Field(
        default_factory=dict, description="Filterable as metadata.KEY (a list matches any of its values).")


class DocumentsIn(Strict):
    documents: list[DocumentIn] = Field(..., min_length=1, max_length=1000)


class DocumentWritten(BaseModel):
    id: str
    title: str
    chunks: int
    status: Literal["created", "updated", "unchanged"]
    warnings: list[str] = Field(default_factory=list, description="Content the cleaner left out, if much.")


class DocumentsWritten(BaseModel):
    documents: list[DocumentWritten]


class JobAccepted(BaseModel):
    job_id: str
    state: Literal["queued"]
    status_url: str


class JobFiles(BaseModel):
    total: int
    done: int
    failed: int
    pending: int


class JobError(BaseModel):
    file: str
    error: str


class JobDocument(BaseModel):
    id: str
    status: Literal["created", "updated", "unchanged"]
    chunks: int
    warnings: list[str] = Field(default_factory=list, description="Content the cleaner left out, if much.")


class JobOut(BaseModel):
    id: str
    collection: str
    state: Literal["queued", "running", "done", "failed"]
    files: JobFiles
    chunks_done: int
    documents: list[JobDocument]
    errors: list[JobError]
    error: str | None
    created_at: float
    updated_at: float


class DocumentOut(BaseModel):
    id: str
    title: str
    url: str | None
    source: str | None
    content_type: str
    chunks: int
    content_hash: str
    updated_at: float
    language: str | None = Field(None, description="From the page (<html lang>, front matter), if it says.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Given, or from the page; on every chunk.")


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]
    total: int = Field(description="Documents matching the request (every page of them).")
    offset: int = 0
    limit: int | None = Field(None, description="The page size asked for; null: every document.")


class ChunkOut(BaseModel):
    id: str
    index: int
    heading: str = Field(description="The heading path above the chunk (H1 > H2 > …).")
    text: str


class DocumentChunksOut(BaseModel):
    document: DocumentOut
    chunks: list[ChunkOut] = Field(description="The live version's chunks in document order.")


class CollectionOut(BaseModel):
    name: str
    documents: int
    instruction: str | None
    created_at: float


class CollectionsOut(BaseModel):
    collections: list[CollectionOut]


class CollectionIn(Strict):
    name: str = Field(..., pattern=COLLECTION_PATTERN)
    instruction: str | None = Field(None, max_length=2000, description="Default rerank instruction.")


class CollectionDeleted(BaseModel):
    name: str
    documents: int = Field(description="How many documents were deleted with it.")


class CollectionSettingsIn(Strict):
    instruction: str | None = Field(None, max_length=2000, description="Default rerank instruction; null clears.")


# Query

class QueryIn(Strict):
    question: str = Field(..., min_length=1, max_length=100_000, description="At most SIFT_MAX_QUESTION_CHARS.",
                          json_schema_extra=NOT_BLANK)
    collection: str = Field("default", pattern=COLLECTION_PATTERN)
    top_k: Count = Field(5, ge=1, le=100)
    candidates: Annotated[int, Field(ge=1, le=1000), WholeNumber] | None = Field(
        None, description="Default SIFT_CANDIDATES; at most SIFT_MAX_CANDIDATES.")
    instruction: str | None = Field(None, max_length=2000)
    mode: Literal["dense", "lexical", "hybrid"] | None = Field(None, description="Default SIFT_SEARCH_MODE.")
    filters: dict[str, FilterValue] | None = Field(
        None, description=f"Exact-match payload filters on {', '.join(FILTER_KEYS)} or metadata.KEY.",
        json_schema_extra={"propertyNames": {"pattern": FILTER_KEY_PATTERN}},
    )
    min_score: float | None = Field(
        None, ge=0.0, le=1.0, description="Leave out results scored below this; none left: answered is false."
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if is_blank(value):
            raise ValueError("question must not be blank")
        return value

    @field_validator("filters")
    @classmethod
    def _known_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for key in value or {}:
            if not re.fullmatch(FILTER_KEY_PATTERN, key):
                raise ValueError(f"unknown filter field {key!r}; use {', '.join(FILTER_KEYS)} or metadata.KEY")
        return value


class QueryResult(BaseModel):
    rank: int
    doc_id: str
    chunk_id: str
    title: str
    url: str | None
    source: str | None
    heading: str
    text: str
    score: float = Field(description="In [0, 1], comparable across languages and modes: the reranker's P(yes) "
                                     "when reranked, else the calibrated retrieval score (P(relevant)).")
    retrieval_score: float = Field(description="The raw first-stage score (cosine, BM25 or fused).")


class QueryOut(BaseModel):
    results: list[QueryResult]
    context: str = Field(description="The results as cited passages [1], [2], … within the token budget.")
    answered: bool = Field(description="Whether any result scored at least min_score (any result at all without).")
    reranked: bool
    rerank_error: str | None = Field(None, description="Why the results are in retrieval order, if they are.")
    timings_ms: dict[str, float]

    @classmethod
    def from_answer(cls, answer: Answer) -> QueryOut:
        return cls(
            results=[
                QueryResult(
                    rank=r.rank, doc_id=r.candidate.doc_id, chunk_id=r.candidate.chunk_id,
                    title=r.candidate.title, url=r.candidate.url, source=r.candidate.source,
                    heading=r.candidate.heading, text=r.candidate.text, score=r.score,
                    retrieval_score=r.candidate.score,
                )
                for r in answer.results
            ],
            context=answer.context,
            answered=answer.answered,
            reranked=answer.reranked,
            rerank_error=answer.rerank_error,
            timings_ms=answer.timings_ms,
        )


# API keys

class KeyIn(Strict):
    name: str = Field(..., min_length=1, max_length=200)
    scopes: list[Literal["query", "write", "metrics", "admin"]] = Field(..., min_length=1)
    collections: list[Annotated[str, Field(pattern=COLLECTION_PATTERN)]] | None = Field(
        None, description="Collections the key may use; null = every collection."
    )
    expires_in: str | None = Field(None, description="Lifetime such as 90d, 12h or 2w; null = never expires.",
                                   pattern=DURATION_PATTERN)


class KeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    collections: list[str] | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None
    active: bool


class KeyCreated(KeyOut):
    secret: str = Field(description="The key itself: send it as 'Authorization: Bearer <secret>'. Shown once.")


class KeysOut(BaseModel):
    keys: list[KeyOut]


# Health

class RerankerHealth(BaseModel):
    engine: str
    model: str | None
    state: Literal["absent", "loading", "ready", "failed"] = Field(
        description="absent: none configured; loading: its server is not up yet; failed: see the log."
    )
    ready: bool
    error: str | None = None
    queued: int = 0


class ProbeOut(BaseModel):
    status: Literal["ok", "unavailable"]
    reason: str | None = None


class WhoAmIOut(BaseModel):
    name: str = Field(description="The key's name; 'open' while the server needs no key.")
    key_id: str | None
    scopes: list[str]
    collections: list[str] | None = Field(description="Collections the key may use; null = every collection.")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    version: str | None = None
    auth: Literal["open", "keys", "off"] = Field(description="open: no keys exist (loopback only); keys: required.")
    store: dict[str, Any]
    embedder: dict[str, Any]
    reranker: RerankerHealth
    jobs: dict[str, int] | None = Field(None, description="Ingestion jobs by state: queued, running.")
