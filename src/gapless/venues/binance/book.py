"""Local Binance order book: REST snapshot + ``@depth`` diffs (docs §3.7).

Procedure: buffer diff events, fetch ``/api/v3/depth``, drop events with
``u <= lastUpdateId``, then apply in order; an event with ``U > local + 1`` means one
was missed, so the book is rebuilt from a fresh snapshot. Binance has no checksum.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec

from gapless.model import BookLevel, BookSnapshot
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.binance.translate import DepthWire
from gapless.venues.common.book import LevelBook


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


class LocalBook(LevelBook):
    """Price -> quantity maps kept in sync with update ids."""

    def __init__(self, venue: str, symbol: str) -> None:
        super().__init__(venue, symbol)
        self.last_update_id = 0

    def reset(self) -> None:
        super().reset()
        self.last_update_id = 0

    def load(self, snap: DepthWire) -> None:
        self._load_levels(snap.bids, snap.asks)
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
        self._apply_levels(ev.b, ev.a)
        self.last_update_id = ev.u
        self.ts_ms = ev.E
        return True

    def snapshot(self, depth: int = 20) -> BookSnapshot:
        return self._snapshot(depth, self.last_update_id)


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
