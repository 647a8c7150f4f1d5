"""Binance WebSocket: market streams (/ws, /stream), legacy listenKey user stream, and the
WS API user-data subscription (/ws-api/v3 ``userDataStream.subscribe.signature``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ..core.models import (
    BalanceEvent,
    BookDelta,
    Event,
    OrderEvent,
    TradeEvent,
)
from .auth import hmac_hex, verify
from .wire import fmt

if TYPE_CHECKING:
    from .app import BinanceSkin


class Conn:
    def __init__(self, hub: StreamHub, ws: web.WebSocketResponse, *, combined: bool = False,
                 account: str | None = None, listen_key: str | None = None, wsapi: bool = False) -> None:
        self.hub = hub
        self.ws = ws
        self.combined = combined
        self.account = account
        self.listen_key = listen_key
        self.wsapi = wsapi
        self.streams: set[str] = set()
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=10000)
        self.tasks: list[asyncio.Task[None]] = []

    def push_raw(self, text: str) -> None:
        if self.hub.skin.faults.ws_stall:
            return  # stalled: the frame is lost, the socket stays open
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(text)

    def push_stream(self, stream: str, data: dict[str, Any]) -> None:
        payload = {"stream": stream, "data": data} if self.combined else data
        self.push_raw(json.dumps(payload, separators=(",", ":")))

    async def writer(self) -> None:
        faults = self.hub.skin.faults
        while True:
            text = await self.queue.get()
            if faults.latency_ms:
                await asyncio.sleep(faults.latency_ms / 1000)
            if faults.ws_stall:
                continue
            await self.ws.send_str(text)

    async def pinger(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self.hub.skin.faults.ws_stall:
                await self.ws.ping(b"sim")


class DepthAgg:
    def __init__(self) -> None:
        self.first = 0
        self.last = 0
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def add(self, d: BookDelta) -> None:
        if not self.first:
            self.first = d.first_id
        self.last = d.last_id
        self.bids.update(d.bids)
        self.asks.update(d.asks)

    def take(self, symbol_id: str, now: int) -> dict[str, Any] | None:
        if not self.first:
            return None
        msg = {"e": "depthUpdate", "E": now, "s": symbol_id, "U": self.first, "u": self.last,
               "b": [[fmt(p), fmt(q)] for p, q in sorted(self.bids.items(), reverse=True)],
               "a": [[fmt(p), fmt(q)] for p, q in sorted(self.asks.items())]}
        self.__init__()  # type: ignore[misc]
        return msg


class StreamHub:
    def __init__(self, skin: BinanceSkin, *, ping_interval: float = 20.0) -> None:
        self.skin = skin
        self.ping_interval = ping_interval
        self.conns: set[Conn] = set()
        self.aggs: dict[tuple[str, str], DepthAgg] = {}
        self._flusher: asyncio.Task[None] | None = None
        skin.exchange.subscribe(self.on_event)
        skin.faults.on_ws_disconnect(self.disconnect_all)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/ws", self.handle_ws)
        app.router.add_get("/ws/{name:.*}", self.handle_ws)
        app.router.add_get("/stream", self.handle_ws)
        app.router.add_get("/ws-api/v3", self.handle_wsapi)

    def start(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        for c in list(self.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()

    def disconnect_all(self) -> None:
        for c in list(self.conns):
            self._abort(c)

    def close_listen_key(self, key: str) -> None:
        for c in list(self.conns):
            if c.listen_key == key:
                self._abort(c)

    @staticmethod
    def _abort(c: Conn) -> None:
        for t in c.tasks:
            t.cancel()
        transport = c.ws._req.transport if c.ws._req is not None else None
        if transport is not None:
            transport.abort()

    # -------------------------------------------------------------- events
    def on_event(self, ev: Event) -> None:
        if not self.conns and not isinstance(ev, BookDelta):
            return
        names = self.skin.names
        if isinstance(ev, BookDelta):
            sid = names[ev.symbol]
            for speed in ("1000ms", "100ms"):
                self.aggs.setdefault((sid, speed), DepthAgg()).add(ev)
            if self.conns:
                bid, ask = self.skin.exchange.best_bid_ask(ev.symbol)
                msg = {"u": ev.last_id, "s": sid, "b": fmt(bid[0] if bid else None),
                       "B": fmt(bid[1] if bid else None), "a": fmt(ask[0] if ask else None),
                       "A": fmt(ask[1] if ask else None)}
                self._publish(f"{sid.lower()}@bookTicker", msg)
        elif isinstance(ev, TradeEvent):
            sid = names[ev.symbol]
            self._publish(f"{sid.lower()}@trade", {
                "e": "trade", "E": ev.time, "s": sid, "t": ev.trade_id, "p": fmt(ev.price),
                "q": fmt(ev.qty), "T": ev.time, "m": ev.taker_side == "SELL", "M": True})
        elif isinstance(ev, OrderEvent):
            self._publish_user(ev.order.account, self.execution_report(ev))
        elif isinstance(ev, BalanceEvent):
            self._publish_user(ev.account, {
                "e": "outboundAccountPosition", "E": ev.time, "u": ev.time,
                "B": [{"a": a, "f": fmt(f), "l": fmt(lk)} for a, (f, lk) in ev.balances.items()]})

    def execution_report(self, ev: OrderEvent) -> dict[str, Any]:
        o, f = ev.order, ev.fill
        return {
            "e": "executionReport", "E": ev.time, "s": self.skin.names[o.symbol],
            "c": o.client_id if ev.exec_type != "CANCELED" else f"cancel{o.order_id}",
            "S": o.side, "o": o.type, "f": o.tif,
            "q": fmt(o.qty if o.qty is not None else o.filled),
            "p": fmt(o.price if o.type != "MARKET" else None), "P": fmt(None), "F": fmt(None),
            "g": -1, "C": o.client_id if ev.exec_type == "CANCELED" else "",
            "x": ev.exec_type, "X": o.status, "r": "NONE", "i": o.order_id,
            "l": fmt(f.qty if f else None), "z": fmt(o.filled), "L": fmt(f.price if f else None),
            "n": fmt(f.fee if f else None), "N": f.fee_asset if f else None,
            "T": ev.time, "t": f.trade_id if f else -1, "I": ev.time * 10 + (f.trade_id if f else 0),
            "w": o.is_open, "m": f.is_maker if f else False, "M": False, "O": o.created,
            "Z": fmt(o.cum_quote), "Y": fmt(f.quote_qty if f else None), "Q": fmt(o.quote_qty),
            "W": o.created, "V": "EXPIRE_MAKER",
        }

    def _publish(self, stream: str, data: dict[str, Any]) -> None:
        for c in self.conns:
            if stream in c.streams:
                c.push_stream(stream, data)

    def _publish_user(self, account: str, data: dict[str, Any]) -> None:
        for c in self.conns:
            if c.account != account:
                continue
            if c.wsapi:
                c.push_raw(json.dumps({"subscriptionId": 0, "event": data}, separators=(",", ":")))
            elif c.listen_key in self.skin.listen_keys:
                c.push_raw(json.dumps(data, separators=(",", ":")))

    async def _flush_loop(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(0.1)
            n += 1
            now = self.skin.exchange.time_ms()
            for (sid, speed), agg in self.aggs.items():
                if speed == "1000ms" and n % 10:
                    continue
                stream = f"{sid.lower()}@depth" + ("@100ms" if speed == "100ms" else "")
                msg = agg.take(sid, now)
                if msg is not None:
                    self._publish(stream, msg)

    # ----------------------------------------------------------- handlers
    async def _serve(self, request: web.Request, conn: Conn) -> web.WebSocketResponse:
        ws = conn.ws
        self.conns.add(conn)
        conn.tasks = [asyncio.get_running_loop().create_task(conn.writer()),
                      asyncio.get_running_loop().create_task(conn.pinger(self.ping_interval))]
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                reply = self.control(conn, msg.data) if not conn.wsapi else self.wsapi_request(conn, msg.data)
                if reply is not None:
                    conn.push_raw(json.dumps(reply, separators=(",", ":")))
        finally:
            self.conns.discard(conn)
            for t in conn.tasks:
                t.cancel()
        return ws

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        name = request.match_info.get("name", "")
        if request.path == "/stream":
            conn = Conn(self, ws, combined=True)
            streams = request.query.get("streams", "")
            conn.streams.update(s for s in streams.split("/") if s)
        elif name in self.skin.listen_keys:
            conn = Conn(self, ws, account=self.skin.listen_keys[name], listen_key=name)
        else:
            conn = Conn(self, ws)
            conn.streams.update(s for s in name.split("/") if s)
        return await self._serve(request, conn)

    def control(self, conn: Conn, text: str) -> dict[str, Any] | None:
        try:
            req = json.loads(text)
            method = req["method"]
            rid = req.get("id")
        except (ValueError, KeyError, TypeError):
            return {"error": {"code": 3, "msg": "Invalid JSON"}}
        if method == "SUBSCRIBE":
            conn.streams.update(req.get("params") or [])
            return {"result": None, "id": rid}
        if method == "UNSUBSCRIBE":
            conn.streams.difference_update(req.get("params") or [])
            return {"result": None, "id": rid}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(conn.streams), "id": rid}
        return {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": rid}

    async def handle_wsapi(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        return await self._serve(request, Conn(self, ws, wsapi=True))

    def wsapi_request(self, conn: Conn, text: str) -> dict[str, Any]:
        try:
            req = json.loads(text)
            rid, method, params = req.get("id"), req["method"], dict(req.get("params") or {})
        except (ValueError, KeyError, TypeError):
            return {"id": None, "status": 400, "error": {"code": -1000, "msg": "Invalid JSON"}}

        def err(status: int, code: int, msg: str) -> dict[str, Any]:
            return {"id": rid, "status": status, "error": {"code": code, "msg": msg}}

        if method == "ping":
            return {"id": rid, "status": 200, "result": {}}
        if method == "time":
            return {"id": rid, "status": 200, "result": {"serverTime": self.skin.exchange.time_ms()}}
        if method == "userDataStream.unsubscribe":
            if conn.account is None:
                return err(400, -2036, "User Data Stream subscription not active.")
            conn.account = None
            return {"id": rid, "status": 200, "result": {}}
        if method != "userDataStream.subscribe.signature":
            return err(400, -1000, f"Unknown method {method}")
        if conn.account is not None:
            return err(400, -2035, "User Data Stream subscription already active.")
        key = self.skin.keys.get(str(params.get("apiKey", "")))
        if key is None:
            return err(401, -2015, "Invalid API-key, IP, or permissions for action.")
        sig = str(params.pop("signature", ""))
        ts = int(params.get("timestamp", 0))
        recv = int(params.get("recvWindow", 5000))
        now = self.skin.exchange.time_ms()
        if ts >= now + 1000 or now - ts > recv:
            return err(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        ok = verify(key, payload, sig) if key.kind != "HMAC" else \
            hmac_hex(key.secret, payload) == sig.lower()
        if not ok:
            return err(400, -1022, "Signature for this request is not valid.")
        conn.account = key.account
        return {"id": rid, "status": 200, "result": {"subscriptionId": 0}}
