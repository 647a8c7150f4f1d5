"""Coinbase Advanced Trade WebSocket: market channels and the JWT-authenticated ``user`` channel.

One endpoint serves every channel (the venue splits market and user data over two hosts;
both paths ``/`` and ``/ws/user`` lead here). Protocol: ``{"type":"subscribe",
"channel":..., "product_ids":[...], "jwt":...}``, one channel per message, first subscribe
within ``subscribe_deadline`` seconds. Every message carries a per-connection
``sequence_num`` that grows by one per message sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ..core.models import (
    BookDelta,
    Event,
    OrderEvent,
    TradeEvent,
)
from .auth import AuthFailure
from .wire import fmt, iso, status_of

if TYPE_CHECKING:
    from .app import CoinbaseSkin

CHANNELS = frozenset({"heartbeats", "level2", "ticker", "ticker_batch", "market_trades", "user",
                      "status", "candles"})
DATA_CHANNEL = {"level2": "l2_data"}


def _ts() -> str:
    now = datetime.now(tz=UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[tuple[str, list[dict[str, Any]]]] = field(default_factory=asyncio.Queue)
    subs: dict[str, set[str]] = field(default_factory=dict)
    account: str | None = None
    seq: int = -1
    gap: bool = False
    subscribed: bool = False
    heartbeat_counter: int = 0


class StreamHub:
    def __init__(self, skin: CoinbaseSkin, *, heartbeat_interval: float = 1.0,
                 subscribe_deadline: float = 5.0) -> None:
        self.skin = skin
        self.heartbeat_interval = heartbeat_interval
        self.subscribe_deadline = subscribe_deadline
        self.conns: set[Conn] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._hb: asyncio.Task[None] | None = None
        self._unsub: Any = None
        self._pending: dict[str, dict[tuple[str, Any], Any]] = {}
        self._flush_scheduled = False
        skin.faults.on_ws_disconnect(self.disconnect_all)

    @property
    def gap_next(self) -> bool:
        return any(c.gap for c in self.conns)

    @gap_next.setter
    def gap_next(self, value: bool) -> None:
        for c in self.conns:
            c.gap = value

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self.handle)
        app.router.add_get("/ws", self.handle)
        app.router.add_get("/ws/user", self.handle)

    def start(self) -> None:
        if self._unsub is None:
            self._unsub = self.skin.exchange.subscribe(self.on_event)
        if self._hb is None and self.heartbeat_interval > 0:
            self._hb = asyncio.get_running_loop().create_task(self._heartbeats())

    async def stop(self) -> None:
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self._hb is not None:
            self._hb.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._hb
            self._hb = None
        for c in list(self.conns):
            with contextlib.suppress(Exception):
                await c.ws.close()
        for t in list(self._tasks):
            t.cancel()

    def on_reset(self) -> None:
        pass  # connections and subscriptions survive a reset; the books' update ids stay monotonic

    def disconnect_all(self) -> None:
        for c in list(self.conns):
            self._spawn(c.ws.close(code=1001, message=b"going away"))

    def _spawn(self, coro: Any) -> None:
        t = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ connection
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        if not ws.can_prepare(request).ok:
            return web.json_response({"error": "NOT_FOUND", "message": "websocket only"}, status=404)
        await ws.prepare(request)
        conn = Conn(ws)
        self.conns.add(conn)
        sender = asyncio.get_running_loop().create_task(self._sender(conn))
        deadline = asyncio.get_running_loop().call_later(
            self.subscribe_deadline, lambda: None if conn.subscribed else self._spawn(ws.close()))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                self._on_message(conn, msg.data)
        finally:
            deadline.cancel()
            self.conns.discard(conn)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        return ws

    async def _sender(self, conn: Conn) -> None:
        faults = self.skin.faults
        while True:
            channel, events = await conn.queue.get()
            while faults.ws_stall:
                await asyncio.sleep(0.02)
            if faults.latency_ms > 0:
                await asyncio.sleep(faults.latency_ms / 1000)
            conn.seq += 2 if conn.gap else 1
            conn.gap = False
            body = {"channel": channel, "client_id": "", "timestamp": _ts(),
                    "sequence_num": conn.seq, "events": events}
            if conn.ws.closed:
                return
            try:
                await conn.ws.send_str(json.dumps(body, separators=(",", ":")))
            except (ConnectionError, RuntimeError):
                return

    def _send(self, conn: Conn, channel: str, events: list[dict[str, Any]]) -> None:
        conn.queue.put_nowait((channel, events))

    def _error(self, conn: Conn, message: str) -> None:
        # errors are not sequenced envelopes on the venue; send them straight away
        self._spawn(conn.ws.send_str(json.dumps({"type": "error", "message": message})))

    def _on_message(self, conn: Conn, raw: str) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            self._error(conn, "malformed message")
            return
        if not isinstance(msg, dict):
            self._error(conn, "malformed message")
            return
        mtype, channel = msg.get("type"), msg.get("channel")
        pids = msg.get("product_ids") or []
        if mtype not in ("subscribe", "unsubscribe"):
            self._error(conn, f"unknown message type {mtype!r}")
            return
        if channel not in CHANNELS:
            self._error(conn, f"unknown channel {channel!r}")
            return
        if not isinstance(pids, list) or not all(isinstance(p, str) for p in pids):
            self._error(conn, "product_ids must be a list of strings")
            return
        for p in pids:
            if p not in self.skin.ids:
                self._error(conn, f"unknown product id {p}")
                return
        token = msg.get("jwt")
        account: str | None = None
        if token is not None or channel == "user":
            try:
                account = self.skin.ws_authenticate(str(token or "")).account
            except AuthFailure:
                self._error(conn, "authentication failure")
                return
        if mtype == "unsubscribe":
            subs = conn.subs.get(channel, set())
            subs.difference_update(pids or subs.copy())
            if not subs:
                conn.subs.pop(channel, None)
            self._ack(conn)
            return
        conn.subscribed = True
        if channel == "user":
            conn.account = account
        conn.subs.setdefault(channel, set()).update(pids)
        if channel == "heartbeats":
            conn.subs[channel].add("heartbeats")
        self._snapshot(conn, channel, pids)
        self._ack(conn)

    def _ack(self, conn: Conn) -> None:
        subs = {ch: sorted(p) for ch, p in conn.subs.items()}
        self._send(conn, "subscriptions", [{"subscriptions": subs}])

    # -------------------------------------------------------------- payloads
    def _snapshot(self, conn: Conn, channel: str, pids: list[str]) -> None:
        skin = self.skin
        if channel == "level2":
            for pid in pids:
                _, bids, asks = skin.exchange.depth(skin.ids[pid], 10_000)
                t = _ts()
                updates = [{"side": "bid", "event_time": t, "price_level": _f(p), "new_quantity": _f(q)}
                           for p, q in bids]
                updates += [{"side": "offer", "event_time": t, "price_level": _f(p),
                             "new_quantity": _f(q)} for p, q in asks]
                self._send(conn, "l2_data", [{"type": "snapshot", "product_id": pid,
                                              "updates": updates}])
        elif channel in ("ticker", "ticker_batch"):
            tickers = [self._ticker(pid) for pid in pids]
            self._send(conn, channel, [{"type": "snapshot", "tickers": tickers}])
        elif channel == "market_trades":
            self._send(conn, channel, [{"type": "snapshot", "trades": []}])
        elif channel == "user":
            assert conn.account is not None
            orders = [self.user_order(o) for o in skin.exchange.open_orders(conn.account)
                      if not pids or skin.names[o.symbol] in pids]
            self._send(conn, "user", [{"type": "snapshot", "orders": orders}])

    def _ticker(self, pid: str) -> dict[str, Any]:
        skin = self.skin
        sym = skin.ids[pid]
        b, a = skin.exchange.best_bid_ask(sym)
        mid = skin.liquidity.mids.get(sym, skin.exchange.specs[sym].initial_mid)
        return {"type": "ticker", "product_id": pid, "price": _f(mid), "volume_24_h": "0",
                "low_24_h": _f(mid), "high_24_h": _f(mid), "low_52_w": _f(mid), "high_52_w": _f(mid),
                "price_percent_chg_24_h": "0",
                "best_bid": _f(b[0]) if b else "", "best_bid_quantity": _f(b[1]) if b else "",
                "best_ask": _f(a[0]) if a else "", "best_ask_quantity": _f(a[1]) if a else ""}

    def user_order(self, o: Any) -> dict[str, Any]:
        skin = self.skin
        status = status_of(o)
        tif = {"GTC": "GOOD_UNTIL_CANCELLED", "IOC": "IMMEDIATE_OR_CANCEL",
               "FOK": "FILL_OR_KILL"}.get(o.tif, "GOOD_UNTIL_CANCELLED")
        if o.type == "MARKET":
            tif = "IMMEDIATE_OR_CANCEL"
        fees = sum((f.fee for f in o.fills), 0)
        leaves = o.remaining if o.qty is not None and o.is_open else 0
        return {
            "order_id": skin.order_uuid(o.order_id), "client_order_id": o.client_id,
            "cumulative_quantity": fmt(o.filled), "leaves_quantity": fmt(leaves),
            "avg_price": fmt(o.cum_quote / o.filled) if o.filled else "0",
            "total_fees": fmt(fees), "status": status, "product_id": skin.names[o.symbol],
            "product_type": "SPOT", "creation_time": iso(o.created), "order_side": o.side,
            "order_type": "Market" if o.type == "MARKET" else "Limit",
            "time_in_force": tif, "limit_price": fmt(o.price) if o.price is not None else "",
            "stop_price": "", "post_only": o.type == "LIMIT_MAKER",
            "filled_value": fmt(o.cum_quote), "number_of_fills": str(len(o.fills)),
            "completion_percentage": f"{(o.filled / o.qty * 100) if o.qty else 0:.2f}",
            "outstanding_hold_amount": fmt(o.locked),
            "cancel_reason": "User requested cancel" if o.status == "CANCELED" else "",
            "reject_reason": "", "trigger_status": "INVALID_ORDER_TYPE", "start_time": None,
            "end_time": None, "total_value_after_fees": fmt(o.cum_quote),
            "retail_portfolio_id": skin.portfolio_id,
            "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
            "risk_managed_by": "UNKNOWN_RISK_MANAGEMENT_TYPE",
        }

    # ---------------------------------------------------------------- events
    def on_event(self, ev: Event) -> None:
        if not self.conns:
            return
        skin = self.skin
        if isinstance(ev, BookDelta):
            # coalesce the deltas of one engine step (the liquidity ladder is replaced by a
            # "remove all" delta then an "add" delta): the venue never shows a transiently
            # empty book, so net level changes go out once the step is over
            pending = self._pending.setdefault(skin.names[ev.symbol], {})
            for side, levels in (("bid", ev.bids), ("offer", ev.asks)):
                for p, q in levels:
                    pending[(side, p)] = q
            if not self._flush_scheduled:
                try:
                    asyncio.get_running_loop().call_soon(self._flush)
                    self._flush_scheduled = True
                except RuntimeError:
                    self._flush()
        elif isinstance(ev, TradeEvent):
            pid = skin.names[ev.symbol]
            trade = {"trade_id": str(ev.trade_id), "product_id": pid, "price": _f(ev.price),
                     "size": _f(ev.qty), "side": ev.taker_side, "time": _ts()}
            tick: dict[str, Any] | None = None
            for c in self.conns:
                if pid in c.subs.get("market_trades", ()):
                    self._send(c, "market_trades", [{"type": "update", "trades": [trade]}])
                if pid in c.subs.get("ticker", ()):
                    tick = tick or self._ticker(pid)
                    self._send(c, "ticker", [{"type": "update", "tickers": [tick]}])
        elif isinstance(ev, OrderEvent):
            o = ev.order
            pid = skin.names[o.symbol]
            payload: dict[str, Any] | None = None
            for c in self.conns:
                subs = c.subs.get("user")
                if subs is None or c.account != o.account or (subs and pid not in subs):
                    continue
                payload = payload or self.user_order(o)
                self._send(c, "user", [{"type": "update", "orders": [payload]}])

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, {}
        t = _ts()
        for pid, levels in pending.items():
            ordered = sorted(levels.items(), key=lambda kv: (kv[0][0] != "bid",
                                                              -kv[0][1] if kv[0][0] == "bid" else kv[0][1]))
            updates = [{"side": side, "event_time": t, "price_level": _f(p), "new_quantity": _f(q)}
                       for (side, p), q in ordered]
            events = [{"type": "update", "product_id": pid, "updates": updates}]
            for c in self.conns:
                if pid in c.subs.get("level2", ()):
                    self._send(c, "l2_data", events)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + " +0000 UTC"
            for c in list(self.conns):
                if "heartbeats" in c.subs:
                    c.heartbeat_counter += 1
                    self._send(c, "heartbeats", [{"current_time": now,
                                                  "heartbeat_counter": c.heartbeat_counter}])


_f = fmt
