"""Liveness and readiness of the store, the embedder and the reranker."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import MaybePrincipal, auth_required
from api.deps import SiftDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
async def health(request: Request, sift: SiftDep, principal: MaybePrincipal) -> HealthOut:
    """``ok`` when every part is ready; ``degraded`` (still 200) when e.g. the reranker is absent.

    Anyone may ask; locations, model folders and raw errors are shown to admin keys only."""
    settings = request.app.state.settings
    detailed = principal is not None and principal.is_admin and principal.key_id is not None
    report = await run_in_threadpool(sift.health, detailed=detailed)
    mode = "off" if settings.auth == "off" else "keys" if auth_required(settings, request.app.state.keys) else "open"
    return HealthOut(**report, auth=mode, version=request.app.version)
