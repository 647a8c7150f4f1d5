"""Local OKX order book from the ``books`` channel (docs §7.7).

The channel sends a snapshot (``prevSeqId = -1``) and then updates whose ``prevSeqId`` must
equal the previous message's ``seqId``. A heartbeat update has no levels and
``prevSeqId == seqId``; after maintenance the sequence may restart lower
(``seqId < prevSeqId``), which is accepted as the new baseline. When ``checksum`` is
non-zero (the legacy behaviour) the CRC32 of the top 25 levels is verified as well. Any
break makes the caller resubscribe, which brings a fresh snapshot.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import AsyncIterator
from decimal import Decimal, InvalidOperation

import msgspec

from gapless.model import BookLevel, BookSnapshot
from gapless.transport.deadletter import DeadLetterQueue
from gapless.transport.ws import Reconnected as WsReconnected
from gapless.transport.ws import WsConnection

CHECKSUM_LEVELS = 25


class BookGap(Exception):
    """Sequence break or checksum mismatch: the book must be rebuilt."""


class _Arg(msgspec.Struct):
    channel: str
    instId: str = ""


class BookData(msgspec.Struct):
    asks: list[list[str]]
    bids: list[list[str]]
    seqId: int
    prevSeqId: int
    ts: str = ""
    checksum: int = 0


class BookPush(msgspec.Struct):
    arg: _Arg
    action: str
    data: list[BookData]


class EventMsg(msgspec.Struct):
    event: str
    code: str = ""
    msg: str = ""


_decode_push = msgspec.json.Decoder(BookPush).decode
_decode_event = msgspec.json.Decoder(EventMsg).decode


def parse_book_message(raw: bytes | str) -> BookPush | EventMsg | None:
    """A book push, an event (subscribe/error), ``None`` for ``pong``; ``ValueError`` else."""
    if raw in ("pong", b"pong"):
        return None
    try:
        return _decode_push(raw)
    except msgspec.DecodeError:
        try:
            return _decode_event(raw)
        except msgspec.DecodeError as exc:
            raise ValueError(f"unparseable book message: {exc}") from None


def checksum_of(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """Legacy OKX checksum: ``bid:size:ask:size:...`` over 25 levels, CRC32 as signed int32."""
    parts: list[str] = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def _dec(s: str) -> Decimal:
    try:
        v = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"bad number {s!r}") from None
    if not v.is_finite() or v < 0:
        raise ValueError(f"bad number {s!r}")
    return v


class LocalBook:
    """price -> (price string, size string, size) per side; strings kept for the checksum."""

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids: dict[Decimal, tuple[str, str, Decimal]] = {}
        self.asks: dict[Decimal, tuple[str, str, Decimal]] = {}
        self.seq = -1
        self.ready = False
        self.ts_ms = 0

    def reset(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.seq = -1
        self.ready = False

    @staticmethod
    def _apply_levels(side: dict[Decimal, tuple[str, str, Decimal]], levels: list[list[str]]) -> None:
        for lv in levels:
            if len(lv) < 2:
                raise ValueError(f"short level {lv!r}")
            px, sz = _dec(lv[0]), _dec(lv[1])
            if sz == 0:
                side.pop(px, None)
            else:
                side[px] = (lv[0], lv[1], sz)

    def apply(self, action: str, d: BookData) -> bool:
        """Apply one message; True if the book changed. Raises ``BookGap`` / ``ValueError``."""
        if action == "snapshot":
            self.bids.clear()
            self.asks.clear()
            self._apply_levels(self.bids, d.bids)
            self._apply_levels(self.asks, d.asks)
            self.ready = True
        elif action == "update":
            if not self.ready:
                return False  # wait for the snapshot
            if d.prevSeqId != self.seq and not d.seqId < d.prevSeqId:
                raise BookGap(f"{self.symbol}: prevSeqId {d.prevSeqId} != last seqId {self.seq}")
            self._apply_levels(self.bids, d.bids)
            self._apply_levels(self.asks, d.asks)
        else:
            raise ValueError(f"unknown action {action!r}")
        self.seq = d.seqId
        if d.ts.isdigit():
            self.ts_ms = int(d.ts)
        if d.checksum != 0 and self.checksum() != d.checksum:
            raise BookGap(f"{self.symbol}: checksum mismatch at seqId {d.seqId}")
        return bool(d.bids or d.asks) or action == "snapshot"

    def checksum(self) -> int:
        bids = [(v[0], v[1]) for _, v in heapq.nlargest(CHECKSUM_LEVELS, self.bids.items())]
        asks = [(v[0], v[1]) for _, v in heapq.nsmallest(CHECKSUM_LEVELS, self.asks.items())]
        return checksum_of(bids, asks)

    def snapshot(self, depth: int = 20) -> BookSnapshot:
        bids = heapq.nlargest(depth, self.bids.items())
        asks = heapq.nsmallest(depth, self.asks.items())
        return BookSnapshot(
            venue=self.venue,
            symbol=self.symbol,
            bids=tuple(BookLevel(p, v[2]) for p, v in bids),
            asks=tuple(BookLevel(p, v[2]) for p, v in asks),
            sequence=self.seq,
            ts_ms=self.ts_ms,
        )


async def run_book(
    conn: WsConnection,
    book: LocalBook,
    *,
    dlq: DeadLetterQueue,
    depth: int = 20,
    stream: str = "books",
) -> AsyncIterator[BookSnapshot]:
    """Drive ``book`` from ``conn`` (already subscribed by its on_connect)."""
    async for msg in conn.messages():
        if isinstance(msg, WsReconnected):
            book.reset()
            continue
        try:
            parsed = parse_book_message(msg)
        except ValueError as exc:
            dlq.put(book.venue, stream, msg, str(exc))
            continue
        if parsed is None:
            continue
        if isinstance(parsed, EventMsg):
            if parsed.event == "error":
                dlq.put(book.venue, stream, msg, f"venue error {parsed.code}: {parsed.msg}")
                book.reset()
                conn.reconnect()
            continue
        if parsed.arg.channel != "books" or len(parsed.data) != 1:
            dlq.put(book.venue, stream, msg, "unexpected book push")
            continue
        try:
            changed = book.apply(parsed.action, parsed.data[0])
        except BookGap:
            book.reset()
            conn.reconnect()  # resubscribe: a fresh snapshot follows
            continue
        except ValueError as exc:
            dlq.put(book.venue, stream, msg, str(exc))
            book.reset()
            conn.reconnect()
            continue
        if changed and book.ready:
            yield book.snapshot(depth)
