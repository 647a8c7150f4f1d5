from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from gapless.model.errors import (
    CircuitOpen,
    Disconnected,
    MalformedResponse,
    Outcome,
    RequestTimeout,
    VenueUnavailable,
)
from gapless.transport.breaker import BreakerSet, BreakerState, ConnKind, FailureKind
from gapless.transport.clock import FakeClock
from gapless.transport.http import HttpClient


class Server:
    def __init__(self) -> None:
        self.peers: set[object] = set()
        self.seen_queries: list[str] = []
        self.app = web.Application()
        r = self.app.router
        r.add_route("*", "/ok", self.ok)
        r.add_get("/slow", self.slow)
        r.add_get("/drop", self.drop)
        r.add_get("/truncated", self.truncated)
        r.add_get("/down", self.down)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.port = 0

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def ok(self, req: web.Request) -> web.Response:
        self.peers.add(req.transport.get_extra_info("peername") if req.transport else None)
        self.seen_queries.append(req.raw_path.partition("?")[2])
        body = await req.read()
        return web.Response(body=b'{"echo":' + (body or b'""') + b"}", headers={"X-MBX-USED-WEIGHT-1M": "7"})

    async def slow(self, req: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def drop(self, req: web.Request) -> web.Response:
        assert req.transport is not None
        req.transport.close()  # request received, no answer
        await asyncio.sleep(1)
        return web.Response()

    async def truncated(self, req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(req)
        await resp.write(b"x" * 10)
        assert req.transport is not None
        req.transport.close()
        return resp

    async def down(self, req: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    await s.start()
    yield s
    await s.runner.cleanup()


async def client(port: int, **kw: object) -> HttpClient:
    c = HttpClient("test", f"http://127.0.0.1:{port}", **kw)  # type: ignore[arg-type]
    await c.start()
    return c


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


async def test_ok_keepalive_and_query_sent_verbatim(server: Server) -> None:
    c = await client(server.port)
    try:
        q = "symbol=%EF%BC%91&price=0.1&signature=ab%2Fcd"
        for _ in range(5):
            r = await c.request("POST", "/ok", query=q, body=b"1", headers={"X-K": "v"}, private=True)
            assert r.status == 200 and r.body == b'{"echo":1}'
            assert r.headers["x-mbx-used-weight-1m"] == "7"  # case-insensitive
        assert server.seen_queries == [q] * 5  # not re-encoded
        assert len(server.peers) == 1  # one keep-alive connection
    finally:
        await c.close()


async def test_refused_is_venue_unavailable_retryable() -> None:
    breakers = BreakerSet("test", FakeClock(), threshold=2)
    c = await client(free_port(), breakers=breakers)
    try:
        with pytest.raises(VenueUnavailable) as ei:
            await c.request("GET", "/ok")
        assert ei.value.outcome is Outcome.RETRYABLE
        b = breakers.get(ConnKind.REST_PUBLIC)
        assert b.failures(FailureKind.CONNECTION) == 1
        with pytest.raises(VenueUnavailable):
            await c.request("GET", "/ok")
        with pytest.raises(CircuitOpen, match="connection"):
            await c.request("GET", "/ok")  # denied locally, nothing sent
    finally:
        await c.close()


async def test_timeout_after_send_is_request_timeout_unknown(server: Server) -> None:
    c = await client(server.port, timeout=0.2)
    try:
        with pytest.raises(RequestTimeout) as ei:
            await c.request("GET", "/slow")
        assert ei.value.outcome is Outcome.UNKNOWN
    finally:
        await c.close()


async def test_dropped_connection_is_disconnected_unknown(server: Server) -> None:
    c = await client(server.port)
    try:
        with pytest.raises(Disconnected) as ei:
            await c.request("GET", "/drop")
        assert ei.value.outcome is Outcome.UNKNOWN
        with pytest.raises(Disconnected):
            await c.request("GET", "/truncated")  # dropped mid-body
        r = await c.request("GET", "/ok")  # client recovers with a fresh connection
        assert r.status == 200
    finally:
        await c.close()


async def test_503_is_returned_and_counts_as_venue_down(server: Server) -> None:
    clock = FakeClock()
    breakers = BreakerSet("test", clock, threshold=3, reset_after=5.0)
    c = await client(server.port, breakers=breakers)
    try:
        for _ in range(3):
            r = await c.request("GET", "/down", private=True)
            assert r.status == 503 and r.body == b"maintenance"  # not interpreted here
        priv = breakers.get(ConnKind.REST_PRIVATE)
        assert priv.state is BreakerState.OPEN and priv.tripped_by is FailureKind.VENUE_DOWN
        with pytest.raises(CircuitOpen, match="venue_down"):
            await c.request("GET", "/ok", private=True)
        # the public breaker is independent
        assert (await c.request("GET", "/ok")).status == 200
        clock.advance(5.0)
        assert (await c.request("GET", "/ok", private=True)).status == 200  # probe closes it
        assert priv.state is BreakerState.CLOSED
    finally:
        await c.close()


async def test_garbage_http_is_malformed_response() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    breakers = BreakerSet("test", FakeClock())
    c = await client(port, breakers=breakers)
    try:
        with pytest.raises((MalformedResponse, Disconnected)) as ei:
            await c.request("GET", "/x")
        assert ei.value.outcome is Outcome.UNKNOWN
    finally:
        await c.close()
        srv.close()
        await srv.wait_closed()
