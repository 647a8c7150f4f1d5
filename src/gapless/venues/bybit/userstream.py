"""Bybit private WebSocket (``/v5/private``): ``auth`` op, topics ``order``, ``execution``,
``wallet`` (docs §6.7).

``execution`` rows become an ``OrderReport`` carrying that one ``Fill`` (so fills are
never separated from their order); ``order`` rows become ``OrderReport``s with the
venue's state; ``wallet`` rows become ``Balance``s. Anything unparseable or unknown goes
to the dead-letter queue. A ``Reconnected`` marker follows every reconnect (after
re-auth and re-subscribe), so the consumer can reconcile over REST.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import msgspec
import orjson

from gapless.model import OrderReport, OrderState
from gapless.model.errors import AuthError, GaplessError, Rejected
from gapless.transport.clock import Clock, RealClock
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, Reconnected
from gapless.venues.bybit.auth import BybitSigner
from gapless.venues.bybit.translate import (
    ExecWire,
    OrderWire,
    WalletAccount,
    WalletResult,
    balances_from,
    fill_from,
    num,
    report_from,
)

STREAM = "private"
TOPICS = ["order", "execution", "wallet"]
PING = '{"op":"ping"}'


class _Head(msgspec.Struct):
    topic: str = ""
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""


class _OrderMsg(msgspec.Struct):
    data: list[OrderWire]


class _ExecMsg(msgspec.Struct):
    data: list[ExecWire]


class _WalletMsg(msgspec.Struct):
    data: list[WalletAccount]


_head = msgspec.json.Decoder(_Head).decode
_orders = msgspec.json.Decoder(_OrderMsg).decode
_execs = msgspec.json.Decoder(_ExecMsg).decode
_wallet = msgspec.json.Decoder(_WalletMsg).decode


def report_from_execution(e: ExecWire, symbol: str, venue: str) -> OrderReport:
    fill = fill_from(e, symbol, venue)
    order_qty = num(e.orderQty, "orderQty", venue)
    leaves = num(e.leavesQty, "leavesQty", venue)
    done = e.leavesQty != "" and order_qty > 0 and leaves == 0
    return OrderReport(
        venue=venue, symbol=symbol, client_order_id=e.orderLinkId, venue_order_id=e.orderId,
        state=OrderState.FILLED if done else OrderState.PARTIALLY_FILLED, side=fill.side,
        qty=order_qty, filled_qty=(order_qty - leaves) if order_qty >= leaves else fill.qty,
        fills=(fill,), ts_ms=fill.ts_ms,
    )


def parse_private_message(raw: bytes | str, symbols: dict[str, str],
                          venue: str) -> list[PrivateEvent]:
    """Events in one frame; ``ValueError`` for anything to dead-letter."""
    try:
        head = _head(raw)
        topic = head.topic.split(".", 1)[0]
        if not topic:
            if head.op in ("pong", "ping", "auth", "subscribe", "unsubscribe"):
                if head.success is False:
                    raise ValueError(f"{head.op} failed: {head.ret_msg}")
                return []
            raise ValueError("frame without topic or op")
        if topic == "order":
            return [report_from(w, symbols.get(w.symbol, w.symbol), venue)
                    for w in _orders(raw).data]
        if topic == "execution":
            return [report_from_execution(e, symbols.get(e.symbol, e.symbol), venue)
                    for e in _execs(raw).data if e.execType == "Trade"]
        if topic == "wallet":
            return list(balances_from(WalletResult(items=_wallet(raw).data), venue).values())
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"unparseable private message: {exc}") from None
    except GaplessError as exc:
        raise ValueError(str(exc)) from None
    raise ValueError(f"unknown topic {head.topic!r}")


class PrivateStream:
    def __init__(self, *, venue: str, url: str, signer: BybitSigner,
                 symbols: dict[str, str], dlq: DeadLetterQueue,
                 now_ms: Callable[[], int], clock: Clock | None = None,
                 reply_timeout: float = 10.0) -> None:
        self.venue = venue
        self.url = url
        self.signer = signer
        self.symbols = symbols
        self.dlq = dlq
        self.now_ms = now_ms
        self.clock = clock or RealClock()
        self.reply_timeout = reply_timeout
        self.conn: WsConnection | None = None

    async def _await_op(self, conn: WsConnection, op: str) -> _Head:
        for _ in range(50):
            raw = await conn.receive(self.reply_timeout)
            try:
                head = _head(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.dlq.put(self.venue, STREAM, raw, "unparseable frame during login")
                continue
            if head.op == op:
                return head
        raise Rejected(f"no {op} reply", venue=self.venue)

    async def on_connect(self, conn: WsConnection) -> None:
        args = self.signer.ws_auth_args(self.now_ms() + 10_000)
        await conn.send_str(orjson.dumps({"req_id": "auth", "op": "auth", "args": args}).decode())
        ack = await self._await_op(conn, "auth")
        if not ack.success:
            raise AuthError(f"private stream auth refused: {ack.ret_msg}", venue=self.venue)
        await conn.send_str(orjson.dumps({"req_id": "sub", "op": "subscribe",
                                          "args": TOPICS}).decode())
        sub = await self._await_op(conn, "subscribe")
        if not sub.success:
            raise Rejected(f"private subscribe refused: {sub.ret_msg}", venue=self.venue)

    def connection(self) -> WsConnection:
        self.conn = WsConnection(self.url, name=f"{self.venue}-{STREAM}",
                                 on_connect=self.on_connect, heartbeat=20.0, stale_after=90.0,
                                 app_ping=lambda: PING, clock=self.clock)
        return self.conn

    async def events(self, conn: WsConnection) -> AsyncIterator[PrivateEvent]:
        async for raw in conn.messages():
            if isinstance(raw, WsReconnected):
                yield Reconnected(self.venue, STREAM)
                continue
            try:
                evs = parse_private_message(raw, self.symbols, self.venue)
            except ValueError as exc:
                self.dlq.put(self.venue, STREAM, raw, str(exc))
                continue
            for ev in evs:
                yield ev

