"""OKX WebSocket: ``/ws/v5/public`` (``books`` with seqId/prevSeqId) and ``/ws/v5/private``
(``login`` op, ``orders`` channel). Text ``ping`` -> ``pong``; idle connections are closed
after ``idle_timeout`` seconds with close code 4004.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ..core.models import BookDelta, Event, OrderEvent
from . import wire
from .auth import WS_VERIFY_PATH, parse_unix_seconds, verify

if TYPE_CHECKING:
    from .app import OkxSim

LOGIN_WINDOW_S = 30.0
BOOK_DEPTH = 400


class BookSub:
    __slots__ = ("inst", "last_push", "last_seq", "symbol")

    def __init__(self, symbol: str, seq: int) -> None:
        self.symbol = symbol
        self.inst = wire.inst_id(symbol)
        self.last_seq = seq
        self.last_push = time.monotonic()


class Conn:
    def __init__(self, hub: WsHub, ws: web.WebSocketResponse, private: bool) -> None:
        self.hub = hub
        self.ws = ws
        self.private = private
        self.conn_id = secrets.token_hex(4)
        self.logged_in = False
        self.books: dict[str, BookSub] = {}
        self.orders_sub: dict[str, str] | None = None  # {"instType":..., "instId":...}
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.last_activity = time.monotonic()

    def push(self, obj: Any) -> None:
        if self.hub.sim.faults.ws_stall:
            return  # stalled: the frame is lost, the socket stays open
        self.queue.put_nowait(obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":")))

    async def writer(self) -> None:
        faults = self.hub.sim.faults
        while True:
            text = await self.queue.get()
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            if faults.ws_stall:
                continue
            await self.ws.send_str(text)
            self.last_activity = time.monotonic()

    async def watchdog(self) -> None:
        hub = self.hub
        step = min(1.0, hub.idle_timeout / 4, hub.book_heartbeat / 4)
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            if hub.sim.faults.ws_stall:
                continue
            for sub in self.books.values():
                if now - sub.last_push >= hub.book_heartbeat:
                    hub.push_book_update(self, sub, [], [])
            if now - self.last_activity >= hub.idle_timeout:
                await self.ws.close(code=4004, message=b"No data received in 30s.")
                return


class WsHub:
    def __init__(self, sim: OkxSim, *, legacy_checksum: bool = False, idle_timeout: float = 30.0,
                 book_heartbeat: float = 60.0) -> None:
        self.sim = sim
        self.legacy_checksum = legacy_checksum
        self.idle_timeout = idle_timeout
        self.book_heartbeat = book_heartbeat
        self.conns: set[Conn] = set()
        sim.exchange.subscribe(self.on_event)
        sim.faults.on_ws_disconnect(self.disconnect_all)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws/v5/public", self.handle_public)
        app.router.add_get("/ws/v5/private", self.handle_private)

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        for c in list(self.conns):
            for t in c.tasks:
                t.cancel()
            with contextlib.suppress(Exception):
                await c.ws.close()

    def disconnect_all(self) -> None:
        for c in list(self.conns):
            for t in c.tasks:
                t.cancel()
            req = c.ws._req
            transport = req.transport if req is not None else None
            if transport is not None:
                transport.abort()

    # ------------------------------------------------------------------ events
    def on_event(self, ev: Event) -> None:
        if not self.conns:
            return
        if isinstance(ev, BookDelta):
            inst = wire.inst_id(ev.symbol)
            bids = [wire.level(p, q, self._count(ev.symbol, True, p)) for p, q in ev.bids]
            asks = [wire.level(p, q, self._count(ev.symbol, False, p)) for p, q in ev.asks]
            for c in self.conns:
                sub = c.books.get(inst)
                if sub is not None:
                    self.push_book_update(c, sub, bids, asks, seq=ev.last_id)
        elif isinstance(ev, OrderEvent):
            o = ev.order
            if o.account != self.sim.account:
                return
            data = self.order_push(ev)
            for c in self.conns:
                osub = c.orders_sub
                if not c.logged_in or osub is None:
                    continue
                if osub.get("instId") and osub["instId"] != data["instId"]:
                    continue
                c.push({"arg": {"channel": "orders", "instType": osub.get("instType", "SPOT"),
                                "uid": "44705892343619584"}, "data": [data]})

    def _count(self, symbol: str, bid: bool, price: Any) -> int:
        book = self.sim.exchange.books[symbol]
        side = book.bids if bid else book.asks
        level = side.levels.get(price)
        return len(level) if level else 0

    def order_push(self, ev: OrderEvent) -> dict[str, Any]:
        o, f = ev.order, ev.fill
        meta = self.sim._meta(o)
        data = wire.order_obj(o, meta)
        data.update({"fillPx": "", "tradeId": "", "fillSz": "0", "fillTime": "", "fillFee": "0",
                     "fillFeeCcy": "", "execType": "", "fillNotionalUsd": "",
                     "fillPnl": "0", "amendResult": "", "code": "0", "msg": "", "reqId": "",
                     "amendSource": "", "notionalUsd": "", "lastPx": "", "uTime": str(ev.time)})
        if f is not None:
            data.update({
                "fillPx": wire.fmt(f.price), "tradeId": str(wire.TRADE_ID_BASE + f.trade_id),
                "fillSz": wire.fmt(f.qty), "fillTime": str(f.time),
                "fillFee": wire.fmt(-f.fee) if f.fee else "0", "fillFeeCcy": f.fee_asset,
                "execType": "M" if f.is_maker else "T",
            })
        return data

    def _book_msg(self, sub: BookSub, action: str, bids: list[list[str]], asks: list[list[str]],
                  prev: int, seq: int) -> dict[str, Any]:
        cs = 0
        if self.legacy_checksum:
            _, full_b, full_a = self.sim._levels(sub.symbol, 25)
            cs = wire.checksum(full_b, full_a)
        return {"arg": {"channel": "books", "instId": sub.inst}, "action": action,
                "data": [{"asks": asks, "bids": bids, "ts": str(self.sim.exchange.time_ms()),
                          "checksum": cs, "prevSeqId": prev, "seqId": seq}]}

    def push_book_update(self, c: Conn, sub: BookSub, bids: list[list[str]],
                         asks: list[list[str]], seq: int | None = None) -> None:
        new = sub.last_seq if seq is None else seq
        c.push(self._book_msg(sub, "update", bids, asks, sub.last_seq, new))
        sub.last_seq = new
        sub.last_push = time.monotonic()

    # ---------------------------------------------------------------- handlers
    async def handle_public(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, private=False)

    async def handle_private(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, private=True)

    async def _serve(self, request: web.Request, *, private: bool) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Conn(self, ws, private)
        self.conns.add(conn)
        loop = asyncio.get_running_loop()
        conn.tasks = [loop.create_task(conn.writer()), loop.create_task(conn.watchdog())]
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                conn.last_activity = time.monotonic()
                if self.sim.faults.ws_stall:
                    continue
                if msg.data == "ping":
                    conn.push("pong")
                    continue
                reply = self.control(conn, msg.data)
                if reply is not None:
                    conn.push(reply)
        finally:
            self.conns.discard(conn)
            for t in conn.tasks:
                t.cancel()
        return ws

    def _error(self, conn: Conn, code: str, msg: str) -> dict[str, Any]:
        return {"event": "error", "code": code, "msg": msg, "connId": conn.conn_id}

    def control(self, conn: Conn, text: str) -> dict[str, Any] | None:
        try:
            req = json.loads(text)
        except ValueError:
            return self._error(conn, "60012", f"Invalid request: {text[:100]}")
        if not isinstance(req, dict) or not isinstance(req.get("args"), list):
            return self._error(conn, "60012", f"Invalid request: {text[:100]}")
        op = req.get("op")
        if op == "login":
            return self.login(conn, req["args"])
        if op in ("subscribe", "unsubscribe"):
            for arg in req["args"]:
                if not isinstance(arg, dict):
                    return self._error(conn, "60012", f"Invalid request: {text[:100]}")
                reply = self.subscribe(conn, arg) if op == "subscribe" else self.unsubscribe(conn, arg)
                if reply is not None:
                    conn.push(reply)
            return None
        return self._error(conn, "60019", f"Invalid op: {op}")

    def login(self, conn: Conn, args: list[Any]) -> dict[str, Any]:
        if not conn.private:
            return self._error(conn, "60028", "The current operation is not supported by this URL.")
        if len(args) != 1 or not isinstance(args[0], dict):
            return self._error(conn, "60012", "Invalid request")
        a = args[0]
        ts_raw = str(a.get("timestamp", ""))
        ts = parse_unix_seconds(ts_raw)
        if ts is None:
            return self._error(conn, "60004", "Invalid timestamp")
        if abs(ts - self.sim.exchange.time_ms() / 1000) > LOGIN_WINDOW_S:
            return self._error(conn, "60006", "Timestamp request expired")
        if a.get("apiKey") != self.sim.api_key:
            return self._error(conn, "60005", "Invalid apiKey")
        if a.get("passphrase") != self.sim.passphrase:
            return self._error(conn, "60024", "Wrong passphrase")
        if not verify(self.sim.secret, ts_raw + "GET" + WS_VERIFY_PATH, str(a.get("sign", ""))):
            return self._error(conn, "60007", "Invalid sign")
        conn.logged_in = True
        return {"event": "login", "code": "0", "msg": "", "connId": conn.conn_id}

    def subscribe(self, conn: Conn, arg: dict[str, Any]) -> dict[str, Any] | None:
        channel = arg.get("channel")
        if channel == "books" and not conn.private:
            inst = str(arg.get("instId", ""))
            sym = wire.symbol_of(inst)
            if sym not in self.sim.exchange.specs or wire.inst_id(sym) != inst:
                return self._error(conn, "60018", f"Wrong URL or channel:books,instId:{inst} "
                                                  "doesn't exist.")
            conn.push({"event": "subscribe", "arg": {"channel": "books", "instId": inst},
                       "connId": conn.conn_id})
            seq, bids, asks = self.sim._levels(sym, BOOK_DEPTH)
            sub = BookSub(sym, seq)
            conn.books[inst] = sub
            conn.push(self._book_msg(sub, "snapshot", bids, asks, -1, seq))
            return None
        if channel == "orders" and conn.private:
            if not conn.logged_in:
                return self._error(conn, "60011", "Please log in")
            inst_type = str(arg.get("instType", ""))
            if inst_type not in ("SPOT", "ANY", "MARGIN", "SWAP", "FUTURES", "OPTION"):
                return self._error(conn, "60018", f"Wrong URL or channel:orders,instType:{inst_type} "
                                                  "doesn't exist.")
            conn.orders_sub = {"instType": inst_type, "instId": str(arg.get("instId", ""))}
            out = {"channel": "orders", "instType": inst_type}
            if arg.get("instId"):
                out["instId"] = str(arg["instId"])
            return {"event": "subscribe", "arg": out, "connId": conn.conn_id}
        return self._error(conn, "60018", f"Wrong URL or channel:{channel} doesn't exist.")

    def unsubscribe(self, conn: Conn, arg: dict[str, Any]) -> dict[str, Any]:
        channel = arg.get("channel")
        if channel == "books":
            conn.books.pop(str(arg.get("instId", "")), None)
        elif channel == "orders":
            conn.orders_sub = None
        return {"event": "unsubscribe", "arg": arg, "connId": conn.conn_id}
