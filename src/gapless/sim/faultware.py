"""aiohttp middleware applying venue-neutral faults (outage, latency) to every non-admin path."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from .core.faults import Faults

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ADMIN_PREFIX = "/__sim/"


def abort_connection(request: web.Request) -> web.Response:
    """Close the client's connection without an answer."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)  # never reaches the client


def make_fault_middleware(faults: Faults, outage_body: bytes = b"Service Unavailable",
                          content_type: str = "text/plain") -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        if faults.outage == "refuse":
            return abort_connection(request)
        if faults.latency_ms > 0:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.outage == "503":
            return web.Response(status=503, body=outage_body, content_type=content_type)
        return await handler(request)

    return fault_middleware
