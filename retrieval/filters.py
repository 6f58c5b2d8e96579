"""Translate Sift's ``Where`` into each Qdrant back-end's filter type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from retrieval.store import Condition, Where


def _values(condition: Condition) -> tuple[bool, list]:
    """(is_list, values) for a condition that is one value or a list of values."""
    if isinstance(condition, (str, int, bool)):
        return False, [condition]
    return True, list(condition)


def to_edge_filter(where: Where | None):
    """A ``qdrant_edge.Filter`` (or None when there is nothing to filter)."""
    from qdrant_edge import FieldCondition, Filter, MatchAny, MatchValue

    def conditions(fields: Mapping[str, Condition]) -> list:
        out = []
        for key, condition in fields.items():
            is_list, values = _values(condition)
            match = MatchAny(values) if is_list else MatchValue(values[0])
            out.append(FieldCondition(key, match=match))
        return out

    if where is None or not (where.must or where.must_not):
        return None
    return Filter(must=conditions(where.must) or None, must_not=conditions(where.must_not) or None)


def to_client_filter(where: Where | None):
    """A ``qdrant_client.models.Filter`` (or None when there is nothing to filter)."""
    from qdrant_client import models

    def conditions(fields: Mapping[str, Condition]) -> list:
        out = []
        for key, condition in fields.items():
            is_list, values = _values(condition)
            match = models.MatchAny(any=values) if is_list else models.MatchValue(value=values[0])
            out.append(models.FieldCondition(key=key, match=match))
        return out

    if where is None or not (where.must or where.must_not):
        return None
    return models.Filter(must=conditions(where.must) or None, must_not=conditions(where.must_not) or None)


def user_filters(collection: str, filters: Mapping[str, Condition | Sequence] | None) -> Where:
    """The ``Where`` for a search in one collection with optional user metadata filters."""
    return Where(must={**(filters or {}), "collection": collection})
