"""Dify's External Knowledge API: what Dify sends to ``POST {endpoint}/retrieval`` and expects back.

Shapes follow Dify's published spec (docs.dify.ai "External Knowledge API") and the request that
``ExternalDatasetService.fetch_external_knowledge_retrieval`` builds (langgenius/dify
``api/services/external_knowledge_service.py``): ``metadata_condition`` is null unless set by an API caller.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import FILTER_KEYS, Count, FilterValue, RequestBody


class RetrievalSetting(RequestBody):
    top_k: Count = Field(..., ge=1, le=100)
    score_threshold: float = Field(0.0, ge=0.0, le=1.0, description="0.0 when the threshold is off in Dify.")


class Condition(RequestBody):
    name: str | list[str] = Field(..., description="A metadata field (Dify's older spec: a list of them).")
    comparison_operator: str
    value: str | int | float | list[str] | None = None


class MetadataCondition(RequestBody):
    logical_operator: Literal["and", "or"] | None = "and"
    conditions: list[Condition] | None = None


class RetrievalIn(RequestBody):
    knowledge_id: str = Field(..., min_length=1, description="The Sift collection.")
    query: str = Field(..., min_length=1, max_length=8000)
    retrieval_setting: RetrievalSetting
    metadata_condition: MetadataCondition | None = None


class Record(BaseModel):
    content: str
    score: float
    title: str
    metadata: dict[str, Any]


class RetrievalOut(BaseModel):
    records: list[Record]


class ErrorOut(BaseModel):
    error_code: int
    error_msg: str


# Dify's documented error codes.
INVALID_AUTHORIZATION_HEADER = 1001
AUTHORIZATION_FAILED = 1002
KNOWLEDGE_NOT_FOUND = 2001

EQUALS = {"is", "="}


class UnsupportedCondition(ValueError):
    """A metadata condition that Sift's exact-match filters cannot express."""


def sift_filters(condition: MetadataCondition | None) -> dict[str, FilterValue] | None:
    """Dify's metadata condition as Sift's exact-match filters (``is``/``=``/``in``, joined by ``and``).

    ``name`` is a Sift field (doc_id, title, url, source, heading) or a document metadata key. Raises
    ``UnsupportedCondition`` for anything else rather than ignoring it.
    """
    if condition is None or not condition.conditions:
        return None
    if condition.logical_operator == "or" and len(condition.conditions) > 1:
        raise UnsupportedCondition("Sift joins metadata conditions with 'and' only")
    filters: dict[str, FilterValue] = {}
    for item in condition.conditions:
        names = item.name if isinstance(item.name, list) else [item.name]
        operator = item.comparison_operator
        value: FilterValue
        if operator in EQUALS and isinstance(item.value, str | int):
            value = item.value
        elif operator in EQUALS and isinstance(item.value, float) and item.value.is_integer():
            value = int(item.value)
        elif operator == "in" and isinstance(item.value, list) and item.value:
            value = list(item.value)
        else:
            raise UnsupportedCondition(f"metadata operator {operator!r} with value {item.value!r} is not supported; "
                                       "use 'is', '=' or 'in'")
        for name in names:
            key = name if name in FILTER_KEYS else f"metadata.{name}"
            if key in filters:
                raise UnsupportedCondition(f"two conditions on {name!r}")
            filters[key] = value
    return filters
