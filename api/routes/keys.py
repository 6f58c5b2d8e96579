"""API keys over HTTP (admin only): create (the secret is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request

from api.auth import AdminAccess
from api.errors import ERROR_RESPONSES
from api.keys import ApiKey, parse_duration
from api.schemas import KeyCreated, KeyIn, KeyOut, KeysOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERROR_RESPONSES)


@router.post("", response_model=KeyCreated, status_code=201)
async def create_key(body: KeyIn, request: Request, _: AdminAccess) -> KeyCreated:
    """A new key; the answer holds its secret, which is never shown again."""
    expires_in = parse_duration(body.expires_in) if body.expires_in else None
    key, secret = await run_in_threadpool(
        request.app.state.keys.create, name=body.name, scopes=set(body.scopes),
        collections=set(body.collections) if body.collections is not None else None, expires_in_s=expires_in,
    )
    return KeyCreated(**key_out(key).model_dump(), secret=secret)


@router.get("", response_model=KeysOut)
async def list_keys(request: Request, _: AdminAccess) -> KeysOut:
    """Every key (never its secret), revoked and expired ones included."""
    return KeysOut(keys=[key_out(k) for k in await run_in_threadpool(request.app.state.keys.list)])


@router.delete("/{key_id}", response_model=KeyOut)
async def revoke_key(key_id: str, request: Request, _: AdminAccess) -> KeyOut:
    """Revoke a key; it is refused from the next request on."""
    return key_out(await run_in_threadpool(request.app.state.keys.revoke, key_id))


def key_out(key: ApiKey) -> KeyOut:
    return KeyOut(id=key.id, name=key.name, scopes=sorted(key.scopes),
                  collections=sorted(key.collections) if key.collections is not None else None,
                  created_at=key.created_at, expires_at=key.expires_at, revoked_at=key.revoked_at,
                  last_used_at=key.last_used_at, active=key.active)
