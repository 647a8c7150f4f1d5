from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import WSMsgType, web

from gapless.model.errors import AuthError, Disconnected
from gapless.transport.backoff import Backoff
from gapless.transport.clock import FakeClock
from gapless.transport.ws import Reconnected, WsConnection

Handler = Callable[[web.WebSocketResponse, int], Awaitable[None]]
FAST = Backoff(base=0.01, cap=0.05, rng=random.Random(1))


class WsServer:
    """Local WS server; ``behaviour(ws, n)`` runs for the n-th connection (0-based)."""

    def __init__(self, behaviour: Handler, *, autoping: bool = True) -> None:
        self.behaviour = behaviour
        self.autoping = autoping
        self.connections = 0
        self.received: list[str] = []
        self.stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/ws", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/ws"

    async def handle(self, req: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=self.autoping)
        await ws.prepare(req)
        n = self.connections
        self.connections += 1
        try:
            await self.behaviour(ws, n)
        finally:
            await ws.close()
        return ws

    async def hold(self) -> None:
        """Keep a handler alive (silent) until the test ends."""
        await self.stop.wait()

    async def recv_text(self, ws: web.WebSocketResponse) -> str:
        msg = await ws.receive()
        assert msg.type is WSMsgType.TEXT, msg
        self.received.append(msg.data)
        return str(msg.data)


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[..., Awaitable[WsServer]]]:
    servers: list[WsServer] = []

    async def make(behaviour: Handler, **kw: bool) -> WsServer:
        s = WsServer(behaviour, **kw)
        await s.start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop.set()
        await s.runner.cleanup()


async def subscribe(conn: WsConnection) -> None:
    await conn.send_json({"op": "subscribe", "args": ["trades"]})
    ack = await conn.receive(timeout=1.0)  # on_connect may read its ack directly
    assert ack == "subscribed"


async def take(conn: WsConnection, n: int) -> list[object]:
    out: list[object] = []
    async with asyncio.timeout(1.5):
        async for m in conn.messages():
            out.append(m)
            if len(out) == n:
                break
    return out


async def test_reconnect_resubscribes_and_yields_marker(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        assert await srv.recv_text(ws) == '{"op":"subscribe","args":["trades"]}'
        await ws.send_str("subscribed")
        await ws.send_str(f"c{n}-a")
        await ws.send_str(f"c{n}-b")
        if n == 0:
            return  # server drops the connection
        await srv.hold()

    srv = await make_server(behaviour)
    conn = WsConnection(srv.url, name="trades", on_connect=subscribe, backoff=FAST)
    try:
        got = await take(conn, 5)
        assert got == ["c0-a", "c0-b", Reconnected("trades"), "c1-a", "c1-b"]
        assert srv.connections == 2 and len(srv.received) == 2  # resubscribed
        assert conn.reconnects == 1 and conn.connected
    finally:
        await conn.close()


async def test_stale_stream_forces_reconnect_on_injected_clock(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        await ws.send_str(f"hello{n}")
        await srv.hold()  # then silence: connection open, no data

    srv = await make_server(behaviour)
    clock = FakeClock()
    conn = WsConnection(
        srv.url, name="book", heartbeat=0, stale_after=30.0, backoff=FAST, clock=clock
    )
    try:
        it = conn.messages().__aiter__()
        assert await asyncio.wait_for(it.__anext__(), 1) == "hello0"
        clock.advance(29.0)
        await asyncio.sleep(0.05)
        assert conn.stale_reconnects == 0 and srv.connections == 1

        async def pump() -> None:  # fake time keeps moving (backoff sleeps use it too)
            while True:
                clock.advance(1.0)
                await asyncio.sleep(0.005)

        pumper = asyncio.create_task(pump())
        try:
            assert await asyncio.wait_for(it.__anext__(), 1.5) == Reconnected("book")
            assert await asyncio.wait_for(it.__anext__(), 1) == "hello1"
        finally:
            pumper.cancel()
        assert conn.stale_reconnects >= 1
    finally:
        await conn.close()


async def test_app_ping_is_sent_every_heartbeat(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        while True:
            if await srv.recv_text(ws) == "ping":
                await ws.send_str("pong")

    srv = await make_server(behaviour)
    conn = WsConnection(srv.url, name="okx", heartbeat=0.1, app_ping=lambda: "ping", backoff=FAST)
    try:
        got = await take(conn, 3)
        assert got == ["pong"] * 3  # replies are delivered; stream never goes stale
        assert srv.received[:3] == ["ping"] * 3
        assert srv.connections == 1
    finally:
        await conn.close()


async def test_missing_protocol_pong_reconnects(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        await ws.send_str(f"x{n}")
        if n == 0:
            await srv.hold()  # never reads: client pings go unanswered
        else:
            await ws.receive()

    srv = await make_server(behaviour, autoping=False)
    conn = WsConnection(srv.url, name="priv", heartbeat=0.2, backoff=FAST, close_timeout=0.2)
    try:
        got = await take(conn, 3)
        assert got == ["x0", Reconnected("priv"), "x1"]
    finally:
        await conn.close()


async def test_bounded_queue_backpressure_loses_nothing(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        for i in range(200):
            await ws.send_str(str(i))
        await srv.hold()

    srv = await make_server(behaviour)
    conn = WsConnection(srv.url, name="t", max_queue=4, backoff=FAST)
    try:
        seen: list[object] = []
        async with asyncio.timeout(1.5):
            async for m in conn.messages():
                assert conn.queued <= 4
                seen.append(m)
                if len(seen) == 200:
                    break
                if len(seen) % 50 == 0:
                    await asyncio.sleep(0.02)  # slow consumer
        assert seen == [str(i) for i in range(200)]
    finally:
        await conn.close()


async def test_auth_rejection_in_on_connect_is_raised_to_consumer(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        await srv.hold()

    async def login(conn: WsConnection) -> None:
        raise AuthError("bad key")

    srv = await make_server(behaviour)
    conn = WsConnection(srv.url, name="p", on_connect=login, backoff=FAST)
    with pytest.raises(AuthError):
        await take(conn, 1)
    assert srv.connections == 1  # not retried
    await conn.close()


async def test_send_when_not_connected_and_close_ends_iteration(make_server) -> None:  # type: ignore[no-untyped-def]
    async def behaviour(ws: web.WebSocketResponse, n: int) -> None:
        await ws.send_str("one")
        await srv.hold()

    srv = await make_server(behaviour)
    conn = WsConnection(srv.url, name="c", backoff=FAST)
    with pytest.raises(Disconnected):
        await conn.send_str("too early")
    seen: list[object] = []

    async def consume() -> None:
        async for m in conn.messages():
            seen.append(m)

    task = asyncio.create_task(consume())
    async with asyncio.timeout(1):
        while not seen:
            await asyncio.sleep(0.01)
    await conn.close()
    await asyncio.wait_for(task, 1)  # iteration ends cleanly
    assert seen == ["one"]
    with pytest.raises(Disconnected):
        await conn.send_str("after close")


async def test_refused_keeps_retrying_on_backoff() -> None:
    clock = FakeClock()
    conn = WsConnection("http://127.0.0.1:9/ws", name="r", backoff=FAST, clock=clock)
    await conn.start()
    for _ in range(5):
        await asyncio.sleep(0.02)
        clock.advance(1.0)
    assert conn.connects == 0 and conn.last_error is not None
    await conn.close()
