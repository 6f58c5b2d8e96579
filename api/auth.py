"""Who is asking, and may they: API keys checked per route by scope and collection.

Routes declare what they need with ``require(Scope.X)``; the dependency finds the key in
``Authorization: Bearer …`` (what the Cohere SDK, LangChain, LlamaIndex, Dify and RAGFlow send) or
``X-API-Key``, and checks the route's ``{collection}`` when it has one. Routes that take the
collection from the body call ``principal.require_collection`` themselves.

Sift is *open* (every request may do everything) only while no key exists, ``SIFT_ADMIN_KEY`` is
unset and ``SIFT_AUTH`` is not ``off``; ``check_bind`` then allows only a loopback address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.keys import ApiKey, KeyStore, Scope, secret_digest, secrets_equal

if TYPE_CHECKING:
    from api.settings import Settings


class AccessError(Exception):
    """Base class for requests that are refused for who sent them."""


class Unauthenticated(AccessError):
    """No key, or a key that is unknown, revoked or expired (401)."""


class Forbidden(AccessError):
    """A valid key without the scope or the collection the request needs (403)."""


class RateLimited(AccessError):
    """The key has used its request rate or its concurrent uploads (429)."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a key (or the bootstrap admin key, or everyone while Sift is open)."""

    name: str
    key_id: str | None
    scopes: frozenset[Scope]
    collections: frozenset[str] | None  # None: every collection

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes

    @property
    def rate_key(self) -> str:
        return self.key_id or self.name

    def can(self, scope: Scope) -> bool:
        return self.is_admin or scope in self.scopes

    def may_use(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections

    def require_scope(self, scope: Scope) -> None:
        if not self.can(scope):
            raise Forbidden(f"this API key ({self.name}) lacks the {scope.value!r} scope")

    def require_collection(self, collection: str) -> None:
        if not self.may_use(collection):
            raise Forbidden(f"this API key ({self.name}) may not use the collection {collection!r}")

    @classmethod
    def from_key(cls, key: ApiKey) -> Principal:
        return cls(name=key.name, key_id=key.id, scopes=key.scopes, collections=key.collections)


OPEN = Principal(name="open", key_id=None, scopes=frozenset(Scope), collections=None)
BOOTSTRAP_ADMIN = Principal(name="SIFT_ADMIN_KEY", key_id="admin", scopes=frozenset(Scope), collections=None)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def auth_required(settings: Settings, keys: KeyStore) -> bool:
    """Whether requests need a key: unless ``SIFT_AUTH=off``, once an admin key is set or any key exists."""
    if settings.auth == "off":
        return False
    return settings.admin_key is not None or keys.has_keys()


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, keys: KeyStore, host: str) -> str | None:
    """Why Sift must not serve on ``host`` (an open server on a non-loopback address), or None."""
    if is_loopback(host) or auth_required(settings, keys) or settings.auth == "off":
        return None
    return (f"refusing to serve on {host} without API keys: anyone who can reach it could read and change "
            "every collection. Create an admin key first (`sift keys create --scope admin --name ops`, or set "
            "SIFT_ADMIN_KEY), serve on 127.0.0.1, or set SIFT_AUTH=off to serve without keys on purpose.")


def identify(settings: Settings, keys: KeyStore, secret: str | None) -> Principal:
    """The principal a presented secret stands for; raises ``Unauthenticated`` when it stands for none."""
    if not auth_required(settings, keys):
        return OPEN
    if not secret:
        raise Unauthenticated("this server requires an API key: send 'Authorization: Bearer <key>' or "
                              "'X-API-Key: <key>'")
    admin_key = settings.admin_key
    if admin_key is not None and secrets_equal(secret, secret_digest(admin_key.get_secret_value())):
        return BOOTSTRAP_ADMIN
    key = keys.verify(secret)
    if key is None:
        raise Unauthenticated("the API key is not valid")
    if key.revoked_at is not None:
        raise Unauthenticated(f"the API key {key.id} ({key.name}) was revoked")
    if key.expired:
        raise Unauthenticated(f"the API key {key.id} ({key.name}) has expired")
    keys.touch(key.id)
    return Principal.from_key(key)


# Declared as security schemes so the OpenAPI document (and /docs' Authorize button) knows both ways.
_bearer = HTTPBearer(auto_error=False, description="An API key as a Bearer token.")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal:
    """The caller of this request (authenticated once per request, off the event loop)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    secret = bearer.credentials if bearer is not None else api_key
    state = request.app.state
    principal = await run_in_threadpool(identify, state.settings, state.keys, secret)
    state.rate_limits.hit(principal)
    request.state.principal = principal
    return principal


def require(scope: Scope):
    """A dependency: the caller, who must hold ``scope`` and may use the route's ``{collection}``."""

    async def dependency(request: Request,
                         principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        principal.require_scope(scope)
        collection = request.path_params.get("collection")
        if collection is not None:
            principal.require_collection(collection)
        return principal

    return dependency


async def optional_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal | None:
    """The caller if a valid key was sent (or Sift is open), else None; for routes anyone may call."""
    try:
        return await current_principal(request, bearer, api_key)
    except Unauthenticated:
        return None


QueryAccess = Annotated[Principal, Depends(require(Scope.QUERY))]
WriteAccess = Annotated[Principal, Depends(require(Scope.WRITE))]
AdminAccess = Annotated[Principal, Depends(require(Scope.ADMIN))]
MetricsAccess = Annotated[Principal, Depends(require(Scope.METRICS))]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
