"""Checks every request passes before any route runs: its Host, its Origin, and the size of its body.

- **Host** (against DNS rebinding): ``SIFT_ALLOWED_HOSTS`` when set; else, while Sift is open (no
  keys), only loopback names, so a page on another site cannot reach an open server through a
  name that resolves to 127.0.0.1.
- **Origin** (against cross-site writes from a visitor's browser): a request that changes anything
  and carries an ``Origin`` must come from Sift's own origin or one in ``SIFT_CORS_ORIGINS``.
- **Body size**, counted on the bytes actually read (chunked bodies included), never trusted from
  ``Content-Length``: uploads may send ``SIFT_MAX_REQUEST_BYTES``, every other route ``SIFT_MAX_BODY_BYTES``.
"""

from __future__ import annotations

import json
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import auth_required, is_loopback

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UPLOAD_PATH = re.compile(r"^/v1/collections/[^/]+/documents/?$")


class RequestTooLarge(HTTPException):
    """The body grew past its limit while being read (413). An ``HTTPException`` so that FastAPI's body
    parsing passes it through instead of turning it into a 400."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes ({setting})")


class RequestGuards:
    """Pure ASGI middleware (no buffering): Host and Origin checks, then a counting ``receive``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings = state.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        refusal = self._refusal(scope, headers, host, open_server=not auth_required(settings, state.keys))
        if refusal is not None:
            status, code, message = refusal
            await _send_error(send, status, code, message)
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit, setting = ((settings.max_request_bytes, "SIFT_MAX_REQUEST_BYTES")
                          if UPLOAD_PATH.match(scope["path"]) else (settings.max_body_bytes, "SIFT_MAX_BODY_BYTES"))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _send_error(send, 413, "too_large", f"request body is {declared} bytes; the limit is {limit} "
                                                      f"({setting})")
            return
        await self.app(scope, _counting(receive, limit, setting), send)

    def _refusal(self, scope: Scope, headers: dict[str, str], host: str,
                 *, open_server: bool) -> tuple[int, str, str] | None:
        settings = scope["app"].state.settings
        hostname = _hostname(host)
        allowed = settings.allowed_hosts
        if allowed and "*" not in allowed and hostname not in allowed:
            return 400, "host_not_allowed", f"the Host {hostname!r} is not allowed here (SIFT_ALLOWED_HOSTS)"
        if not allowed and open_server and not is_loopback(hostname):
            return 400, "host_not_allowed", (f"the Host {hostname!r} is not a loopback name; a server without "
                                             "API keys answers only to localhost (see SIFT_ALLOWED_HOSTS)")
        origin = headers.get("origin")
        if origin is not None and scope["method"] not in SAFE_METHODS:
            own = f"{scope.get('scheme', 'http')}://{host}".lower()
            if origin.lower() != own and origin not in settings.cors_origins:
                return 403, "origin_not_allowed", (f"requests that change data from the origin {origin!r} are "
                                                   "refused; allow it with SIFT_CORS_ORIGINS")
        return None


def _hostname(host: str) -> str:
    """``host`` without its port: ``example.com:8000`` → ``example.com``, ``[::1]:8000`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _counting(receive: Receive, limit: int, setting: str) -> Receive:
    read = 0

    async def counted() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > limit:
                raise RequestTooLarge(limit, setting)
        return message

    return counted


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
