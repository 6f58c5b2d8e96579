"""Stop a request's work when its client goes away, so that nobody's reranking is done for nothing."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request, Response

#: nginx's "client closed request": never seen by the client, only in access logs.
CLIENT_CLOSED_REQUEST = 499

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


async def _client_gone(request: Request) -> None:
    """Return once the server reports ``http.disconnect`` (the body has already been read by then)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def cancel_on_disconnect(handler: Handler) -> Handler:
    """Run a route (which must take ``request: Request``) and cancel it when its client disconnects.

    The route's awaits then raise ``CancelledError``: a rerank request is dropped from the queue before it
    is scored. The same pattern as vLLM's ``with_cancellation``.
    """

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        work = asyncio.ensure_future(handler(*args, **kwargs))
        watch = asyncio.ensure_future(_client_gone(kwargs["request"]))
        try:
            await asyncio.wait((work, watch), return_when=asyncio.FIRST_COMPLETED)
        finally:
            watch.cancel()
            if not work.done():
                work.cancel()
                await asyncio.wait((work,))  # let it unwind (a queued rerank job is cancelled with it)
        if work.cancelled():
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        return work.result()

    return wrapper  # type: ignore[return-value]
