"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from api.service import Answer

COLLECTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
FILTER_KEYS = ("doc_id", "title", "url", "source", "heading", "language")
FilterValue = str | int | bool | list[str] | list[int]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Documents

class DocumentIn(Strict):
    id: str | None = Field(None, min_length=1, max_length=512)
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


class CollectionOut(BaseModel):
    name: str
    documents: int
    instruction: str | None
    created_at: float


class CollectionsOut(BaseModel):
    collections: list[CollectionOut]


class CollectionSettingsIn(Strict):
    instruction: str | None = Field(None, max_length=2000, description="Default rerank instruction; null clears.")


# Query

class QueryIn(Strict):
    question: str = Field(..., min_length=1, max_length=8000)
    collection: str = Field("default", pattern=COLLECTION_PATTERN)
    top_k: int = Field(5, ge=1, le=100)
    candidates: int = Field(50, ge=1, le=1000)
    instruction: str | None = Field(None, max_length=2000)
    mode: Literal["dense", "lexical", "hybrid"] | None = Field(None, description="Default SIFT_SEARCH_MODE.")
    filters: dict[str, FilterValue] | None = Field(
        None, description=f"Exact-match payload filters on {', '.join(FILTER_KEYS)} or metadata.KEY."
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question must not be blank")
        return value

    @field_validator("filters")
    @classmethod
    def _known_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for key in value or {}:
            if key not in FILTER_KEYS and not re.fullmatch(r"metadata\.[A-Za-z0-9_.-]+", key):
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
    score: float = Field(description="Reranker P(yes) when reranked, else the retrieval score.")
    retrieval_score: float


class QueryOut(BaseModel):
    results: list[QueryResult]
    context: str = Field(description="The results as cited passages [1], [2], … within the token budget.")
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
            reranked=answer.reranked,
            rerank_error=answer.rerank_error,
            timings_ms=answer.timings_ms,
        )


# Rerank (Cohere/Jina-compatible)

class TextDocument(BaseModel):
    text: str


class RerankIn(BaseModel):
    query: str = Field(..., min_length=1, max_length=8000)
    documents: list[Annotated[str, Field(max_length=200_000)] | TextDocument] = Field(
        ..., min_length=1, max_length=1000
    )
    top_n: int | None = Field(None, ge=1)
    return_documents: bool = False
    instruction: str | None = Field(None, max_length=2000)
    model: str | None = None

    def texts(self) -> list[str]:
        return [doc if isinstance(doc, str) else doc.text for doc in self.documents]


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: TextDocument | None = None


class RerankOut(BaseModel):
    model: str
    results: list[RerankResult]


# Health

class RerankerHealth(BaseModel):
    engine: str
    model: str | None
    ready: bool
    error: str | None = None
    queued: int = 0


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    store: dict[str, Any]
    embedder: dict[str, Any]
    reranker: RerankerHealth
