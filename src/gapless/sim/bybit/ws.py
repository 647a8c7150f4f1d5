"""Bybit V5 WebSocket: ``/v5/public/spot`` order books (snapshot/delta with ``u``/``seq``) and
``/v5/private`` (``auth`` op; ``order``, ``execution``, ``wallet`` topics)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from ..core.exchange import Exchange
from ..core.faults import Faults
from ..core.models import (
    BalanceEvent,
    BookDelta,
    OrderEvent,
)
from . import auth
from .errors import BybitError
from .wire import (
    SPOT_DEPTHS,
    ZERO,
    Shapes,
    s,
    venue_symbol,
)


class Conn:
    """One WebSocket client: frames are queued and written by one task (latency, stall)."""

    def __init__(self, ws: web.WebSocketResponse, private: bool) -> None:
        self.ws = ws
        self.private = private
        self.conn_id = secrets.token_hex(8)
        self.topics: set[str] = set()
        self.authed = False
        self.queue: asyncio.Queue[str] = asyncio.Queue()


class TopicBook:
    """What one ``orderbook.N.SYMBOL`` topic last published (for top-N diffs)."""

    def __init__(self, u: int) -> None:
        self.u = u
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}


class Streams(Shapes):
    """Connections, subscriptions and pushes; fed by the core exchange's events."""

    api_key: str
    secret: str
    faults: Faults
    conns: set[Conn]
    topics: dict[tuple[str, int], TopicBook]
    _msg_ids: itertools.count[int]
    _exec_seq: itertools.count[int]
    _bg: set[asyncio.Future[Any]]

    # ------------------------------------------------------------ websocket
    def disconnect_all(self) -> None:
        for c in list(self.conns):
            task = asyncio.ensure_future(c.ws.close())
            self._bg.add(task)
            task.add_done_callback(self._bg.discard)

    def push(self, c: Conn, obj: dict[str, Any]) -> None:
        c.queue.put_nowait(json.dumps(obj, separators=(",", ":")))

    async def writer(self, c: Conn) -> None:
        while True:
            frame = await c.queue.get()
            while self.faults.ws_stall:
                await asyncio.sleep(0.05)
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000)
            if c.ws.closed:
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await c.ws.send_str(frame)

    async def ws_public(self, request: web.Request) -> web.StreamResponse:
        return await self.ws_serve(request, private=False)

    async def ws_private(self, request: web.Request) -> web.StreamResponse:
        return await self.ws_serve(request, private=True)

    async def ws_serve(self, request: web.Request, private: bool) -> web.StreamResponse:
        if self.faults.outage is not None:
            return web.Response(status=503, text="503 Service Temporarily Unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        c = Conn(ws, private)
        self.conns.add(c)
        task = asyncio.ensure_future(self.writer(c))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                        break
                    continue
                if self.faults.ws_stall:
                    continue
                self.on_ws_message(c, msg.data)
        finally:
            self.conns.discard(c)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return ws

    def on_ws_message(self, c: Conn, data: str) -> None:
        try:
            req = json.loads(data)
        except ValueError:
            self.push(c, {"success": False, "ret_msg": "Invalid request", "conn_id": c.conn_id,
                          "op": ""})
            return
        if not isinstance(req, dict):
            self.push(c, {"success": False, "ret_msg": "Invalid request", "conn_id": c.conn_id,
                          "op": ""})
            return
        op = req.get("op")
        req_id = req.get("req_id")
        args = req.get("args") or []
        base: dict[str, Any] = {"conn_id": c.conn_id}
        if req_id is not None:
            base["req_id"] = req_id
        if op == "ping":
            if c.private:
                self.push(c, {**base, "op": "pong", "args": [str(self.exchange.time_ms())]})
            else:
                self.push(c, {"success": True, "ret_msg": "pong", **base, "op": "ping"})
            return
        if op == "auth" and c.private:
            ok, why = self.check_ws_auth(args)
            c.authed = c.authed or ok
            self.push(c, {"success": ok, "ret_msg": "" if ok else why, "op": "auth", **base})
            return
        if op in ("subscribe", "unsubscribe") and isinstance(args, list):
            if c.private and not c.authed:
                self.push(c, {"success": False, "ret_msg": "Request not authorized", **base,
                              "op": op})
                return
            ok = all(isinstance(t, str) and self.valid_topic(c, t) for t in args)
            if ok and len(args) > 10 and not c.private:
                ok = False
            ack_msg = ("" if c.private else op) if ok else "Invalid topic"
            self.push(c, {"success": ok, "ret_msg": ack_msg, **base, "op": op})
            if not ok:
                return
            for t in args:
                if op == "subscribe":
                    if t not in c.topics:
                        c.topics.add(t)
                        if not c.private:
                            self.send_snapshot(c, t)
                else:
                    c.topics.discard(t)
            return
        self.push(c, {"success": False, "ret_msg": f"Invalid op {op!r}", **base,
                      "op": op if isinstance(op, str) else ""})

    def check_ws_auth(self, args: Any) -> tuple[bool, str]:
        if not isinstance(args, list) or len(args) != 3:
            return False, "Params Error"
        key, expires, sig = args
        if key != self.api_key:
            return False, "Invalid apikey"
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False, "Params Error"
        if exp <= self.exchange.time_ms():
            return False, "Params Error"
        if not isinstance(sig, str) or not auth.verify(self.secret, auth.ws_prehash(exp), sig):
            return False, "Invalid sign"
        return True, ""

    def valid_topic(self, c: Conn, t: str) -> bool:
        if c.private:
            return t in ("order", "order.spot", "execution", "execution.spot", "wallet")
        parts = t.split(".")
        if len(parts) != 3 or parts[0] != "orderbook":
            return False
        try:
            depth = int(parts[1])
            self.symbol_of(parts[2])
        except (ValueError, BybitError):
            return False
        return depth in SPOT_DEPTHS

    def topic_book(self, sym: str, depth: int) -> TopicBook:
        tb = self.topics.get((sym, depth))
        if tb is None:
            tb = TopicBook(max(1, self.exchange.books[sym].update_id))
            _, bids, asks = self.exchange.depth(sym, depth)
            tb.bids, tb.asks = dict(bids), dict(asks)
            self.topics[(sym, depth)] = tb
        return tb

    def book_msg(self, topic: str, kind: str, sym: str, bids: list[tuple[Decimal, Decimal]],
                 asks: list[tuple[Decimal, Decimal]], u: int) -> dict[str, Any]:
        now = self.exchange.time_ms()
        return {"topic": topic, "type": kind, "ts": now,
                "data": {"s": venue_symbol(sym), "b": [[s(px), s(q)] for px, q in bids],
                         "a": [[s(px), s(q)] for px, q in asks], "u": u,
                         "seq": self.exchange.books[sym].update_id},
                "cts": now}

    def send_snapshot(self, c: Conn, topic: str) -> None:
        _, depth_s, vs = topic.split(".")
        sym = self.symbol_of(vs)
        tb = self.topic_book(sym, int(depth_s))
        bids = sorted(tb.bids.items(), reverse=True)
        asks = sorted(tb.asks.items())
        self.push(c, self.book_msg(topic, "snapshot", sym, bids, asks, tb.u))

    def on_book(self, ev: BookDelta) -> None:
        for (sym, depth), tb in list(self.topics.items()):
            if sym != ev.symbol:
                continue
            _, bids, asks = self.exchange.depth(sym, depth)
            nb, na = dict(bids), dict(asks)
            db = self.diff(tb.bids, nb)
            da = self.diff(tb.asks, na)
            if not db and not da:
                continue
            tb.bids, tb.asks = nb, na
            tb.u += 1
            topic = f"orderbook.{depth}.{venue_symbol(sym)}"
            msg = self.book_msg(topic, "delta", sym, sorted(db, reverse=True), sorted(da), tb.u)
            for c in list(self.conns):
                if not c.private and topic in c.topics:
                    self.push(c, msg)

    @staticmethod
    def diff(old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]) -> list[tuple[Decimal, Decimal]]:
        out = [(px, q) for px, q in new.items() if old.get(px) != q]
        out += [(px, ZERO) for px in old if px not in new]
        return out

    def private_push(self, topics: tuple[str, ...], msg: dict[str, Any]) -> None:
        for c in list(self.conns):
            if c.private and c.authed and any(t in c.topics for t in topics):
                self.push(c, msg)

    def on_event(self, ev: Any) -> None:
        if isinstance(ev, BookDelta):
            self.on_book(ev)
            return
        if isinstance(ev, OrderEvent):
            if ev.order.account != Exchange.TEST_ACCOUNT:
                return
            now = ev.time
            if ev.fill is not None:
                row = {"category": "spot", **self.exec_json(ev.fill, ev.order)}
                row["seq"] = next(self._exec_seq)
                self.private_push(("execution", "execution.spot"), {
                    "id": f"exec-{next(self._msg_ids)}", "topic": "execution",
                    "creationTime": now, "data": [row]})
            row = {"category": "spot", **self.order_json(ev.order)}
            self.private_push(("order", "order.spot"), {
                "id": f"order-{next(self._msg_ids)}", "topic": "order", "creationTime": now,
                "data": [row]})
            return
        if isinstance(ev, BalanceEvent):
            if ev.account != Exchange.TEST_ACCOUNT:
                return
            coins = []
            for coin, (free, locked) in ev.balances.items():
                total = free + locked
                coins.append({"coin": coin, "equity": s(total), "walletBalance": s(total),
                              "locked": s(locked), "free": "", "availableToWithdraw": "",
                              "usdValue": "", "borrowAmount": "0", "spotBorrow": "0",
                              "unrealisedPnl": "0", "cumRealisedPnl": "0"})
            self.private_push(("wallet",), {
                "id": f"wallet-{next(self._msg_ids)}", "topic": "wallet", "creationTime": ev.time,
                "data": [{"accountType": "UNIFIED", "accountIMRate": "0", "accountMMRate": "0",
                          "totalEquity": "", "totalWalletBalance": "", "coin": coins}]})
