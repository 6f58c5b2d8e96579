"""Cohere's rerank API, v1 and v2, with Jina's ``usage`` (what their SDKs and RAG frameworks send and read).

Shapes follow the ``cohere`` Python SDK 5.x (``raw_base_client.py`` ``rerank`` for v1,
``v2/raw_client.py`` for v2). Unknown request fields are ignored, as Cohere's API does. Sift's
extension: ``instruction``, the rerank instruction for this request.
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from api.schemas import Count, RequestBody, WholeNumber

Text = Annotated[str, Field(max_length=200_000)]
SEARCH_UNIT_DOCUMENTS = 100  # Cohere bills one search unit per query of up to 100 documents


class RerankV1In(RequestBody):
    query: str = Field(..., min_length=1, max_length=8000)
    documents: list[Text | dict[str, Any]] = Field(..., min_length=1, max_length=1000,
                                                    description="Strings, or objects with a text field.")
    model: str | None = None
    top_n: Annotated[int, Field(ge=1), WholeNumber] | None = None
    rank_fields: list[str] | None = Field(
        None, min_length=1, description="Object fields to rank on, in order, as 'field: value' lines; default text."
    )
    return_documents: bool = False
    max_chunks_per_doc: Annotated[int, Field(ge=1, le=100), WholeNumber] | None = Field(
        None, description="Split a long document into up to this many pieces; its score is the best "
                                        "piece's. Default: one piece, cut inside the document."
    )
    instruction: str | None = Field(None, max_length=2000, description="Sift: the rerank instruction.")

    @model_validator(mode="after")
    def _rankable(self) -> RerankV1In:
        for index, document in enumerate(self.documents):
            if isinstance(document, dict):
                fields = self.rank_fields or ["text"]
                if not any(field in document for field in fields):
                    raise ValueError(f"documents[{index}] has none of the fields {fields}")
        return self

    def texts(self) -> list[str]:
        """The text ranked for each document."""
        return [rank_text(document, self.rank_fields) for document in self.documents]


def rank_text(document: str | dict[str, Any], rank_fields: list[str] | None) -> str:
    """A string document itself; an object's ``text``, or its ``rank_fields`` as ``field: value`` lines."""
    if isinstance(document, str):
        return document
    if not rank_fields:
        return str(document["text"])
    return "\n".join(f"{field}: {document[field]}" for field in rank_fields if field in document)


class RerankV2In(RequestBody):
    model: str = Field(..., min_length=1, description="Required by Cohere v2; Sift serves one model whatever it is.")
    query: str = Field(..., min_length=1, max_length=8000)
    documents: list[Text] = Field(..., min_length=1, max_length=1000)
    top_n: Annotated[int, Field(ge=1), WholeNumber] | None = None
    max_tokens_per_doc: Annotated[int, Field(ge=1), WholeNumber] | None = Field(
        None, description="Cut each document to its first N tokens.")
    return_documents: bool = Field(False, description="Early v2 API; the current one never returns documents.")
    priority: Count | None = None
    instruction: str | None = Field(None, max_length=2000, description="Sift: the rerank instruction.")


class ApiVersion(BaseModel):
    version: str


class BilledUnits(BaseModel):
    search_units: int


class Tokens(BaseModel):
    input_tokens: int


class Meta(BaseModel):
    api_version: ApiVersion
    billed_units: BilledUnits
    tokens: Tokens


class Usage(BaseModel):
    """Jina's usage block (RAGFlow and Jina clients read ``total_tokens``)."""

    total_tokens: int
    prompt_tokens: int


class RerankResult(BaseModel):
    index: int
    relevance_score: float
    document: dict[str, Any] | None = None


class RerankV1Out(BaseModel):
    id: str
    model: str
    results: list[RerankResult]
    meta: Meta
    usage: Usage


class RerankV2Out(BaseModel):
    id: str
    results: list[RerankResult]
    meta: Meta


def ranked(scores: list[float], top_n: int | None) -> list[int]:
    """Document indexes by score, best first, at most ``top_n``; ties keep input order."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    return order[:top_n] if top_n else order


def meta(version: str, documents: int, tokens: int) -> Meta:
    return Meta(api_version=ApiVersion(version=version),
                billed_units=BilledUnits(search_units=math.ceil(documents / SEARCH_UNIT_DOCUMENTS)),
                tokens=Tokens(input_tokens=tokens))


def response_id() -> str:
    return str(uuid.uuid4())
