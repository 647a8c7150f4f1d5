"""Local Bybit order book from the ``orderbook.{depth}.{symbol}`` WebSocket topic.

Integrity (docs §6.7): a ``snapshot`` always resets the book (including the ``u == 1``
snapshot sent after a venue-side restart); each ``delta`` must carry ``u`` equal to the
previous ``u`` + 1. A gap means a missed message: the book is dropped and the topic is
re-subscribed, which makes the venue send a fresh snapshot. There is no checksum.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from gapless.model import BookLevel, BookSnapshot
from gapless.model.errors import GaplessError
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection
from gapless.venues.common.book import LevelBook


class BookGap(Exception):
    """A delta was missed; the book must be rebuilt from a new snapshot."""


class BookData(msgspec.Struct):
    s: str
    b: list[BookLevel]
    a: list[BookLevel]
    u: int
    seq: int = 0


class BookMessage(msgspec.Struct):
    topic: str
    type: str
    data: BookData
    ts: int = 0


class Control(msgspec.Struct):
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""


_decode_book = msgspec.json.Decoder(BookMessage).decode
_decode_control = msgspec.json.Decoder(Control).decode


def parse_book_message(raw: bytes | str) -> BookMessage | None:
    """The book message in ``raw``; ``None`` for acks/pongs; ``ValueError`` otherwise."""
    try:
        msg = _decode_book(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        try:
            ctl = _decode_control(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"unparseable book message: {exc}") from None
        if ctl.op in ("pong", "ping") or (ctl.op and ctl.success is not False):
            return None
        if ctl.op:
            raise ValueError(f"{ctl.op} failed: {ctl.ret_msg}") from None
        raise ValueError("not a book message") from None
    if msg.type not in ("snapshot", "delta"):
        raise ValueError(f"unknown book message type {msg.type!r}")
    for lv in (*msg.data.b, *msg.data.a):
        if not lv.price.is_finite() or not lv.qty.is_finite() or lv.price <= 0 or lv.qty < 0:
            raise ValueError(f"bad level {lv!r}")
    return msg


class LocalBook(LevelBook):
    def __init__(self, venue: str, symbol: str) -> None:
        super().__init__(venue, symbol)
        self.u = 0

    def reset(self) -> None:
        super().reset()
        self.u = 0

    def apply(self, msg: BookMessage) -> bool:
        """Apply one message; False if it changed nothing we can use.

        Raises ``BookGap`` if a delta does not follow the previous ``u``.
        """
        d = msg.data
        if msg.type == "snapshot":
            self._load_levels(d.b, d.a)
            self.u = d.u
            self.ready = True
            self.ts_ms = msg.ts
            return True
        if not self.ready:
            return False  # waiting for a snapshot
        if d.u <= self.u:
            return False  # duplicate
        if d.u != self.u + 1:
            raise BookGap(f"{self.symbol}: expected u={self.u + 1}, got {d.u}")
        self._apply_levels(d.b, d.a)
        self.u = d.u
        self.ts_ms = msg.ts
        return True

    def snapshot(self, depth: int = 20) -> BookSnapshot:
        return self._snapshot(depth, self.u)


async def resubscribe(conn: WsConnection, topic: str) -> None:
    """Ask for a fresh snapshot; if the socket is gone, force a reconnect."""
    try:
        await conn.send_json({"op": "unsubscribe", "args": [topic]})
        await conn.send_json({"op": "subscribe", "args": [topic]})
    except GaplessError:
        conn.reconnect()


async def run_book(conn: WsConnection, book: LocalBook, topic: str, *, dlq: DeadLetterQueue,
                   depth: int = 20) -> AsyncIterator[BookSnapshot]:
    """Drive ``book`` from ``conn``; yields a snapshot after every applied change."""
    async for raw in conn.messages():
        if isinstance(raw, WsReconnected):
            book.reset()  # on_connect re-subscribed: a snapshot is on its way
            continue
        try:
            msg = parse_book_message(raw)
        except ValueError as exc:
            dlq.put(book.venue, topic, raw, str(exc))
            continue
        if msg is None or msg.topic != topic:
            continue
        try:
            changed = book.apply(msg)
        except BookGap as exc:
            dlq.put(book.venue, topic, raw, str(exc))
            book.reset()
            await resubscribe(conn, topic)
            continue
        if changed:
            yield book.snapshot(depth)
