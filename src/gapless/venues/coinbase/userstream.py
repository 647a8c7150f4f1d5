"""Coinbase ``user`` channel -> ``OrderReport`` / ``Fill`` events (venue notes §4.7).

The channel carries *cumulative* order state (``cumulative_quantity``, ``filled_value``),
not per-fill data. When an order's cumulative quantity grows, its fills are read from
``/orders/historical/fills`` (trade ids there are the venue's, so REST and stream fills
deduplicate on the same key) and attached to the report. Anything unparseable goes to the
dead-letter queue; after every reconnect a ``Reconnected`` marker is yielded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import msgspec

from gapless.model import Fill, OrderReport
from gapless.model.errors import GaplessError, MalformedResponse
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.base import PrivateEvent, Reconnected
from gapless.venues.coinbase.book import parse_envelope
from gapless.venues.coinbase.translate import side_of, state_of, ts_ms

ZERO = Decimal(0)
STREAM = "user"


class UserOrder(msgspec.Struct):
    order_id: str
    client_order_id: str
    status: str
    product_id: str
    order_side: str
    cumulative_quantity: Decimal
    filled_value: Decimal = ZERO
    leaves_quantity: Decimal = ZERO
    limit_price: str = ""
    creation_time: str = ""


class UserEvent(msgspec.Struct):
    type: str
    orders: list[UserOrder] = []


_decode_user_event = msgspec.json.Decoder(UserEvent).decode

FetchFills = Callable[[str, str, str], Awaitable[list[Fill]]]


def _nonneg(v: Decimal, what: str, venue: str) -> Decimal:
    if not v.is_finite() or v < 0:
        raise MalformedResponse(f"{what} {v} is not a non-negative number", venue=venue)
    return v


def report_from_user_order(o: UserOrder, symbol: str, venue: str,
                           fills: tuple[Fill, ...] = ()) -> OrderReport:
    filled = _nonneg(o.cumulative_quantity, "cumulative_quantity", venue)
    leaves = _nonneg(o.leaves_quantity, "leaves_quantity", venue)
    price: Decimal | None = None
    if o.limit_price:
        try:
            price = _nonneg(Decimal(o.limit_price), "limit_price", venue)
        except ArithmeticError:
            raise MalformedResponse(f"limit_price {o.limit_price!r}", venue=venue) from None
    return OrderReport(
        venue=venue, symbol=symbol, client_order_id=o.client_order_id,
        venue_order_id=o.order_id, state=state_of(o.status, filled, venue),
        side=side_of(o.order_side, venue), qty=filled + leaves, price=price or None,
        filled_qty=filled, quote_filled=_nonneg(o.filled_value, "filled_value", venue),
        fills=fills, ts_ms=ts_ms(o.creation_time),
    )


def parse_user_orders(raw: bytes | str) -> tuple[str, list[UserOrder]]:
    """(channel, orders) of one frame; raises ``ValueError`` for anything to dead-letter."""
    env = parse_envelope(raw)
    if env.channel != "user":
        return env.channel, []
    orders: list[UserOrder] = []
    for ev in env.events:
        try:
            orders.extend(_decode_user_event(ev).orders)
        except msgspec.DecodeError as exc:
            raise ValueError(f"unparseable user event: {exc}") from None
    return env.channel, orders


class UserStream:
    def __init__(self, *, venue: str, conn: WsConnection, symbols: dict[str, str],
                 fetch_fills: FetchFills, dlq: DeadLetterQueue) -> None:
        self.venue = venue
        self.conn = conn
        self.symbols = symbols  # product id -> canonical symbol
        self.fetch_fills = fetch_fills
        self.dlq = dlq
        self._cum: dict[str, Decimal] = {}  # venue order id -> cumulative quantity seen
        self._trades: dict[str, set[str]] = {}  # venue order id -> trade ids already sent

    async def _new_fills(self, o: UserOrder, symbol: str) -> tuple[Fill, ...]:
        prev = self._cum.get(o.order_id, ZERO)
        if o.cumulative_quantity <= prev:
            return ()
        try:
            fills = await self.fetch_fills(symbol, o.order_id, o.client_order_id)
        except GaplessError:
            return ()  # the order report still goes out; fills come with the next update
        seen = self._trades.setdefault(o.order_id, set())
        new = tuple(f for f in fills if f.trade_id not in seen)
        if sum((f.qty for f in fills), ZERO) >= o.cumulative_quantity:
            self._cum[o.order_id] = o.cumulative_quantity
        seen.update(f.trade_id for f in new)
        return new

    async def events(self) -> AsyncIterator[PrivateEvent]:
        async for msg in self.conn.messages():
            if isinstance(msg, WsReconnected):
                yield Reconnected(self.venue, STREAM)
                continue
            try:
                _channel, orders = parse_user_orders(msg)
                reports = []
                for o in orders:
                    symbol = self.symbols.get(o.product_id, o.product_id.replace("-", "/"))
                    reports.append((o, symbol, report_from_user_order(o, symbol, self.venue)))
            except (ValueError, GaplessError) as exc:
                self.dlq.put(self.venue, STREAM, msg, str(exc))
                continue
            for o, symbol, rep in reports:
                fills = await self._new_fills(o, symbol)
                if fills:
                    rep = msgspec.structs.replace(rep, fills=fills)
                yield rep
