"""Who the presented key is: its scopes and collections, so clients (the console) show only what it may do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal, current_principal
from api.errors import ERROR_RESPONSES
from api.schemas import WhoAmIOut

router = APIRouter(prefix="/v1", tags=["keys"], responses=ERROR_RESPONSES)

AnyKey = Annotated[Principal, Depends(current_principal)]
"""Any valid key, whatever its scopes (401 says why a key is refused)."""


@router.get("/whoami", response_model=WhoAmIOut)
async def whoami(principal: AnyKey) -> WhoAmIOut:
    """The caller's key: its name, scopes and collections ('open' with every scope while no key exists)."""
    return WhoAmIOut(name=principal.name, key_id=principal.key_id, scopes=sorted(s.value for s in principal.scopes),
                     collections=sorted(principal.collections) if principal.collections is not None else None)
