"""Request and response bodies of the helpdesk integration: help-centre sync sources and ticket suggestions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas import COLLECTION_PATTERN, DURATION_PATTERN, NOT_BLANK, Count, Strict, WholeNumber, is_blank

# Sync sources

PathGlob = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^/")]


class SourceIn(Strict):
    url: str = Field(..., max_length=2048, pattern=r"^https?://", description="The help centre's start URL.")
    include: list[PathGlob] = Field(default_factory=list, max_length=50,
                                    description="Path globs to sync, e.g. /hc/en-us/articles/*; empty: all.")
    exclude: list[PathGlob] = Field(default_factory=list, max_length=50, description="Path globs to leave out.")
    interval: str | None = Field(None, pattern=DURATION_PATTERN,
                                 description="Sync again this often, e.g. 6h or 1d; null: only when asked.")
    max_pages: Annotated[int, Field(ge=1), WholeNumber] | None = Field(
        None, description="Page cap; at most and by default SIFT_SYNC_MAX_PAGES.")
    run: bool = Field(True, description="Start a first sync at once.")


class SyncCounts(BaseModel):
    created: int
    updated: int
    unchanged: int
    deleted: int
    missing: int = Field(description="Left out of the listing once; deleted if left out again.")
    disallowed: int = Field(description="Listed but disallowed by robots.txt.")
    failed: int


class SyncChange(BaseModel):
    url: str
    doc_id: str | None
    status: str


class SyncError(BaseModel):
    url: str
    error: str | None


class SyncRunOut(BaseModel):
    id: str
    source_id: str
    state: Literal["queued", "running", "done", "failed"]
    trigger: Literal["manual", "schedule"]
    via: Literal["sitemap", "crawl"] | None
    pages_total: int
    pages_done: int
    counts: SyncCounts
    changes: list[SyncChange] = Field(description="Pages created, updated, deleted, missing or disallowed.")
    errors: list[SyncError] = Field(description="Pages that failed; their documents were left as they were.")
    error: str | None = Field(description="Why the whole run failed, if it did.")
    created_at: float
    started_at: float | None
    finished_at: float | None


class SourceOut(BaseModel):
    id: str
    collection: str
    url: str
    include: list[str]
    exclude: list[str]
    max_pages: int
    interval_s: float | None
    next_run_at: float | None
    created_at: float
    last_run: SyncRunOut | None


class SourcesOut(BaseModel):
    sources: list[SourceOut]


class SyncRunAccepted(BaseModel):
    run_id: str
    state: Literal["queued"]
    status_url: str


# Tickets

class TicketIn(Strict):
    subject: str = Field("", max_length=2000)
    body: str = Field(..., min_length=1, max_length=1_000_000, description="Text or HTML; a whole thread is fine.",
                      json_schema_extra=NOT_BLANK)
    collection: str | None = Field(None, pattern=COLLECTION_PATTERN, description="Default: 'default'.")
    collections: list[Annotated[str, Field(pattern=COLLECTION_PATTERN)]] | None = Field(
        None, max_length=20, description="Search several collections; merged by score.")
    top_k: Count = Field(3, ge=1, le=20, description="Suggested articles (one per document).")
    instruction: str | None = Field(None, max_length=2000)
    language: str | None = Field(None, max_length=16, description="The ticket's language (en, zh, de, fr, ja, …) "
                                 "for its reply headers and sign-offs; English and Chinese are always known.")
    min_score: float | None = Field(None, description="`answered` from this score on; default SIFT_TICKET_MIN_SCORE.")

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if is_blank(value):
            raise ValueError("body must not be blank")
        return value

    def collection_names(self) -> list[str]:
        names = list(self.collections or [])
        if self.collection and self.collection not in names:
            names.insert(0, self.collection)
        return names or ["default"]


class SuggestedArticle(BaseModel):
    doc_id: str
    collection: str
    title: str
    url: str | None = Field(description="The article's public URL (its help-centre page when synced).")
    passage: str = Field(description="The article's best passage for this ticket.")
    heading: str
    score: float


class TicketSuggestion(BaseModel):
    question: str = Field(description="The question Sift built from the ticket: subject and latest message.")
    articles: list[SuggestedArticle]
    context: str = Field(description="The articles' best passages as cited context [1], [2], …")
    answered: bool = Field(description="Whether the best article's score reaches min_score.")
    min_score: float
    reranked: bool
    rerank_error: str | None = None
    timings_ms: dict[str, float]
