"""Liveness and readiness of the store, the embedder and the reranker."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.auth import MaybePrincipal, auth_required
from api.deps import SiftDep
from api.schemas import HealthOut, ProbeOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut,
            openapi_extra={"security": [{}]})  # a key is optional: it only unlocks the detailed report
async def health(request: Request, sift: SiftDep, principal: MaybePrincipal) -> HealthOut:
    """``ok`` when every part is ready; ``degraded`` (still 200) when e.g. the reranker is absent.

    Anyone may ask; locations, model folders and raw errors are shown to admin keys only."""
    settings = request.app.state.settings
    detailed = principal is not None and principal.is_admin and principal.key_id is not None
    report = await run_in_threadpool(sift.health, detailed=detailed)
    mode = "off" if settings.auth == "off" else "keys" if auth_required(settings, request.app.state.keys) else "open"
    return HealthOut(**report, auth=mode, version=request.app.version)


@router.get("/livez", response_model=ProbeOut)
async def livez() -> ProbeOut:
    """The process answers (for a liveness probe: restart only when this fails)."""
    return ProbeOut(status="ok")


@router.get("/readyz", response_model=ProbeOut, responses={503: {"model": ProbeOut, "description": "Not ready"}})
async def readyz(request: Request) -> ProbeOut | JSONResponse:
    """200 once the store and the embedder are ready and while the store answers; else 503 with Retry-After."""
    sift = getattr(request.app.state, "sift", None)
    problem = "starting" if sift is None or not sift.embedder.ready else await run_in_threadpool(_store_problem, sift)
    if problem is None:
        return ProbeOut(status="ok")
    return JSONResponse(ProbeOut(status="unavailable", reason=problem).model_dump(), status_code=503,
                        headers={"Retry-After": "5"})


def _store_problem(sift) -> str | None:
    try:
        sift.index.store.count()
    except Exception:  # any failure means: not ready
        return "the vector store cannot be reached"
    return None
