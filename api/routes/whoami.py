"""Who the presented key is: its scopes and collections, so clients (the console) show only what it may do."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import MaybePrincipal, Unauthenticated
from api.errors import ERROR_RESPONSES
from api.schemas import WhoAmIOut

router = APIRouter(prefix="/v1", tags=["keys"], responses=ERROR_RESPONSES)


@router.get("/whoami", response_model=WhoAmIOut)
async def whoami(principal: MaybePrincipal) -> WhoAmIOut:
    """The caller's key (any scope); 401 without a valid one where keys are required."""
    if principal is None:
        raise Unauthenticated("this server requires an API key: send 'Authorization: Bearer <key>'")
    return WhoAmIOut(name=principal.name, key_id=principal.key_id, scopes=sorted(s.value for s in principal.scopes),
                     collections=sorted(principal.collections) if principal.collections is not None else None)
