"""Local Binance order book: REST snapshot + ``@depth`` diffs (docs §3.7).

Procedure: buffer diff events, fetch ``/api/v3/depth``, drop events with
``u <= lastUpdateId``, then apply in order; an event with ``U > local + 1`` means one
was missed, so the book is rebuilt from a fresh snapshot. Binance has no checksum.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import msgspec

from gapless.model import BookLevel, BookSnapshot
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.binance.translate import DepthWire

ZERO = Decimal(0)


class BookGap(Exception):
    """A diff event was missed; the book must be rebuilt from a snapshot."""


class DepthUpdate(msgspec.Struct):
    e: str
    U: int
    u: int
    b: list[BookLevel]
    a: list[BookLevel]
    s: str = ""
    E: int = 0


class _Wrapped(msgspec.Struct):
    stream: str
    data: DepthUpdate


class _Ack(msgspec.Struct):
    id: int | str | None = None
    result: object = None


_decode_update = msgspec.json.Decoder(DepthUpdate).decode
_decode_wrapped = msgspec.json.Decoder(_Wrapped).decode
_decode_ack = msgspec.json.Decoder(_Ack).decode


def parse_depth_message(raw: bytes | str) -> DepthUpdate | None:
    """The diff event in ``raw``; ``None`` for control acks; raises ``ValueError`` otherwise."""
    try:
        ev = _decode_update(raw)
    except msgspec.DecodeError:
        try:
            ev = _decode_wrapped(raw).data
        except msgspec.DecodeError:
            try:
                ack = _decode_ack(raw)
            except msgspec.DecodeError as exc:
                raise ValueError(f"unparseable depth message: {exc}") from None
            if ack.id is not None:
                return None
            raise ValueError("not a depth update") from None
    if ev.e != "depthUpdate":
        raise ValueError(f"unexpected event {ev.e!r}")
    return ev


class LocalBook:
    """Price -> quantity maps kept in sync with update ids."""

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.last_update_id = 0
        self.ready = False
        self.ts_ms = 0

    def reset(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.last_update_id = 0
        self.ready = False

    def load(self, snap: DepthWire) -> None:
        self.bids = {lv.price: lv.qty for lv in snap.bids if lv.qty > 0}
        self.asks = {lv.price: lv.qty for lv in snap.asks if lv.qty > 0}
        self.last_update_id = snap.lastUpdateId
        self.ready = True

    def apply(self, ev: DepthUpdate) -> bool:
        """Apply one diff; False if it is stale (already in the snapshot).

        Raises ``BookGap`` if events were missed.
        """
        if ev.u <= self.last_update_id:
            return False
        if self.last_update_id + 1 < ev.U:
            raise BookGap(f"{self.symbol}: expected {self.last_update_id + 1}, got {ev.U}..{ev.u}")
        for side, levels in ((self.bids, ev.b), (self.asks, ev.a)):
            for lv in levels:
                if lv.qty:
                    side[lv.price] = lv.qty
                else:
                    side.pop(lv.price, None)
        self.last_update_id = ev.u
        self.ts_ms = ev.E
        return True

    def snapshot(self, depth: int = 20) -> BookSnapshot:
        bids = heapq.nlargest(depth, self.bids.items())
        asks = heapq.nsmallest(depth, self.asks.items())
        return BookSnapshot(
            venue=self.venue,
            symbol=self.symbol,
            bids=tuple(BookLevel(p, q) for p, q in bids),
            asks=tuple(BookLevel(p, q) for p, q in asks),
            sequence=self.last_update_id,
            ts_ms=self.ts_ms,
        )


async def run_book(
    conn: WsConnection,
    fetch_snapshot: Callable[[], Awaitable[DepthWire]],
    book: LocalBook,
    *,
    dlq: DeadLetterQueue,
    depth: int = 20,
    stream: str = "depth",
) -> AsyncIterator[BookSnapshot]:
    """Drive ``book`` from ``conn``; yields a snapshot after every applied change.

    While the REST snapshot is being fetched, frames queue up in the connection, which is
    the buffering the documented procedure asks for.
    """
    async for msg in conn.messages():
        if isinstance(msg, WsReconnected):
            book.reset()
            continue
        try:
            ev = parse_depth_message(msg)
        except ValueError as exc:
            dlq.put(book.venue, stream, msg, str(exc))
            continue
        if ev is None:
            continue
        fresh = False
        if not book.ready:
            book.load(await fetch_snapshot())
            fresh = True
        try:
            changed = book.apply(ev)
        except BookGap:
            if fresh:  # snapshot older than the stream: try again on the next event
                book.reset()
                continue
            book.load(await fetch_snapshot())
            fresh = True
            try:
                changed = book.apply(ev)
            except BookGap:
                book.reset()
                continue
        if changed or fresh:
            yield book.snapshot(depth)
