"""A pass-through HTTP proxy that can turn hostile: garbage, truncated or mistyped bodies,
an error page echoing the request's headers, or a request held in transit and delivered late.

Venue-neutral: it forwards path, query, body and headers verbatim and only rewrites the
answer when ``mode`` is set, so any REST adapter can be pointed at it.

``hold(seconds, match)``: requests whose path contains ``match`` are held that long before
they are forwarded (the client usually times out meanwhile; the venue still gets the request,
late). ``delivered`` lists the held requests that reached the upstream, with the time,
status and body of the venue's answer to each, so a test can first check that its fault fired.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import orjson
from aiohttp import web

MODES = ("garbage", "truncated", "wrong_types", "missing_fields")
#: answers with a 502 page that echoes the request headers (Authorization included)
ECHO_HEADERS = "echo_headers"


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
        self.hold_s = 0.0
        self.hold_match = ""
        self.hold_method: str | None = None
        self.hold_count: int | None = None
        self.held = 0  # held requests received
        self.delivered: list[tuple[float, int, bytes]] = []  # (loop time, status, body) upstream
        self._held_tasks: set[asyncio.Task[Any]] = set()
        self._delivered_event = asyncio.Event()

    def hold(self, seconds: float, match: str = "", method: str | None = None,
             count: int | None = None) -> None:
        """Hold requests whose path contains ``match`` (and, if given, whose method is
        ``method``) ``seconds`` in transit, then deliver them; only the next ``count`` such
        requests if given (``hold(5, method="POST", count=1)``: the next create)."""
        self.hold_s, self.hold_match, self.hold_method = seconds, match, method
        self.hold_count = count
        self.held = 0
        self.delivered.clear()
        self._delivered_event.clear()

    async def wait_delivered(self, n: int = 1, timeout: float = 30.0) -> None:
        """Wait until ``n`` held requests have reached the upstream (and it answered)."""
        async with asyncio.timeout(timeout):
            while len(self.delivered) < n:
                self._delivered_event.clear()
                await self._delivered_event.wait()

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
        for t in list(self._held_tasks):
            with contextlib.suppress(BaseException):
                await t
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
        if self.mode == ECHO_HEADERS:
            echoed = "".join(f"<li>{k}: {v}</li>" for k, v in request.headers.items())
            page = f"<html><body><h1>502 Bad Gateway</h1><ul>{echoed}</ul></body></html>"
            return web.Response(status=502, text=page, content_type="text/html")
        if (self.hold_s > 0 and self.hold_match in request.path
                and self.hold_method in (None, request.method)
                and (self.hold_count is None or self.held < self.hold_count)):
            self.held += 1
            # shielded: the request reaches the venue even after the client gave up on it
            task = asyncio.ensure_future(self._deliver_late(request.method, url, headers, body))
            self._held_tasks.add(task)
            task.add_done_callback(self._held_tasks.discard)
            status, data, out_headers = await asyncio.shield(task)
            return web.Response(status=status, body=data, headers=out_headers)
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
        await self.before_answer(request, body)
        return web.Response(status=status, body=data, headers=out_headers)

    async def before_answer(self, request: web.Request, body: bytes) -> None:
        """Called after the venue answered a forwarded request, before the answer goes back
        to the client: a subclass may hold it here (default: deliver at once)."""

    async def _deliver_late(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        assert self._session is not None
        await asyncio.sleep(self.hold_s)
        async with self._session.request(method, url, headers=headers, data=body or None) as resp:
            data = await resp.read()
            status = resp.status
        self.delivered.append((asyncio.get_running_loop().time(), status, data))
        self._delivered_event.set()
        return status, data, {"Content-Type": resp.headers.get("Content-Type", "application/json")}
