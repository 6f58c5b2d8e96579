"""Liveness and readiness of the store, the embedder and the reranker."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SiftDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
async def health(sift: SiftDep) -> HealthOut:
    """``ok`` when every part is ready; ``degraded`` (still 200) when e.g. the reranker is absent."""
    return HealthOut(**sift.health())
