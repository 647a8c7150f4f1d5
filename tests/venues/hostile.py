"""A pass-through HTTP proxy that can turn hostile: garbage, truncated or mistyped bodies.

Venue-neutral: it forwards path, query, body and headers verbatim and only rewrites the
answer when ``mode`` is set, so any REST adapter can be pointed at it.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from aiohttp import web

MODES = ("garbage", "truncated", "wrong_types", "missing_fields")


def _mistype(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _mistype(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mistype(v) for v in obj]
    if isinstance(obj, str):
        return {"surprise": [obj]}
    if isinstance(obj, bool):
        return "maybe"
    if isinstance(obj, int | float):
        return [obj]
    return obj


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {}
    if isinstance(obj, list):
        return [_strip(v) for v in obj] or [{}]
    return obj


def mangle(mode: str, body: bytes) -> bytes:
    if mode == "garbage":
        return b"<html><body>502 Bad Gateway</body></html>"
    if mode == "truncated":
        return body[: max(1, len(body) // 2)]
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return b"{"
    if mode == "wrong_types":
        return orjson.dumps(_mistype(data))
    return orjson.dumps(_strip(data))


class HostileProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode: str | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> HostileProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._session is not None
        skip = {"host", "content-length", "transfer-encoding", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        body = await request.read()
        url = self.upstream + request.rel_url.raw_path_qs
        async with self._session.request(
            request.method, url, headers=headers, data=body or None
        ) as resp:
            data = await resp.read()
            out_headers = {
                k: v for k, v in resp.headers.items()
                if k.lower() not in skip and k.lower() != "content-encoding"
            }
            status = resp.status
        if self.mode is not None:
            data = mangle(self.mode, data)
        return web.Response(status=status, body=data, headers=out_headers)
