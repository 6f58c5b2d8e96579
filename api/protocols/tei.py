"""Hugging Face Text Embeddings Inference: ``POST /rerank`` and ``GET /info`` as TEI's router defines them.

Shapes follow ``router/src/http/types.rs`` (``RerankRequest``, ``Rank``) and ``router/src/lib.rs``
(``Info``) of huggingface/text-embeddings-inference. Dify's and RAGFlow's "Hugging Face / TEI"
providers, R2R and Haystack's TEI ranker call these.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas import RequestBody
from rerank.prompt import DEFAULT_INSTRUCTION


class TeiRerankIn(RequestBody):
    query: str = Field(..., min_length=1, max_length=8000)
    texts: list[Annotated[str, Field(max_length=200_000)]] = Field(..., min_length=1, max_length=1000)
    truncate: bool | None = Field(None, description="Accepted; Sift always cuts a long text inside it, never fails.")
    truncation_direction: Literal["left", "right", "Left", "Right"] = Field(
        "right", description="right: keep a long text's start; left: keep its end."
    )
    raw_scores: bool = Field(False, description="Logits log(p / (1 − p)) instead of P(yes).")
    return_text: bool = False
    instruction: str | None = Field(None, max_length=2000, description="Sift: the rerank instruction.")

    @property
    def keep(self) -> Literal["start", "end"]:
        return "end" if self.truncation_direction.lower() == "left" else "start"


class TeiRank(BaseModel):
    index: int
    score: float
    text: str | None = None


def raw_score(probability: float) -> float:
    """The logit of P(yes): Qwen3-Reranker's yes-minus-no logit difference."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


class ClassifierModel(BaseModel):
    id2label: dict[str, str]
    label2id: dict[str, int]


class ModelType(BaseModel):
    reranker: ClassifierModel


class TeiInfo(BaseModel):
    model_id: str
    model_sha: str | None = None
    model_dtype: str
    model_type: ModelType
    max_concurrent_requests: int
    max_input_length: int
    max_batch_tokens: int
    max_batch_requests: int | None = None
    max_client_batch_size: int
    auto_truncate: bool = True
    tokenization_workers: int = 1
    version: str
    sha: str | None = None
    docker_label: str | None = None
    instruction: str = Field(DEFAULT_INSTRUCTION, description="Sift: the default rerank instruction.")
