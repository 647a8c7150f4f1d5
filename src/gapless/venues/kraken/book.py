"""Local Kraken book from WS v2 ``book`` messages, verified by the CRC32 checksum (docs §1.3).

Snapshot then updates (``qty`` 0 deletes a level; truncate to the subscribed depth after
each update). After every message the CRC32 over the top 10 asks then bids (price and
qty formatted to the pair precision, dot removed, leading zeros stripped) must equal the
venue's ``checksum``; otherwise the book is discarded and resubscribed. There are no
sequence numbers, so the checksum is the only integrity check.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterable
from decimal import Decimal

import msgspec

from gapless.model import BookSnapshot
from gapless.venues.common.book import LevelBook


class LevelWire(msgspec.Struct):
    price: Decimal
    qty: Decimal


class BookData(msgspec.Struct):
    symbol: str
    bids: list[LevelWire] = []
    asks: list[LevelWire] = []
    checksum: int | None = None
    timestamp: str = ""


class BookMsg(msgspec.Struct):
    channel: str
    type: str
    data: list[BookData]


class Control(msgspec.Struct):
    channel: str | None = None
    method: str | None = None
    success: bool | None = None
    error: str | None = None


_decode_book = msgspec.json.Decoder(BookMsg).decode
_decode_control = msgspec.json.Decoder(Control).decode


class ChecksumMismatch(Exception):
    pass


def _part(value: Decimal, places: int) -> str:
    q = Decimal(1).scaleb(-places)
    s = f"{value.quantize(q):f}" if places > 0 else f"{value.quantize(Decimal(1)):f}"
    return s.replace(".", "").lstrip("0")


def checksum(asks: Iterable[tuple[Decimal, Decimal]], bids: Iterable[tuple[Decimal, Decimal]],
             price_dp: int, qty_dp: int) -> int:
    """CRC32 of the top 10 asks (lowest first) then top 10 bids (highest first)."""
    parts: list[str] = []
    for levels in (asks, bids):
        for i, (p, q) in enumerate(levels):
            if i == 10:
                break
            parts.append(_part(p, price_dp))
            parts.append(_part(q, qty_dp))
    return zlib.crc32("".join(parts).encode()) & 0xFFFFFFFF


def parse_book_message(raw: bytes | str) -> BookMsg | None:
    """A ``book`` message, ``None`` for control frames; ``ValueError`` for anything else."""
    try:
        msg = _decode_book(raw)
    except msgspec.DecodeError:
        try:
            ctl = _decode_control(raw)
        except msgspec.DecodeError as exc:
            raise ValueError(f"unparseable frame: {exc}") from None
        if ctl.success is False:
            raise ValueError(f"request failed: {ctl.error}") from None
        if ctl.channel in ("heartbeat", "status") or ctl.method is not None:
            return None
        raise ValueError("not a book message") from None
    if msg.channel != "book" or msg.type not in ("snapshot", "update"):
        raise ValueError(f"unexpected {msg.channel}/{msg.type}")
    return msg


class KrakenBook(LevelBook):
    def __init__(self, venue: str, symbol: str, depth: int, price_dp: int, qty_dp: int) -> None:
        super().__init__(venue, symbol)
        self.depth = depth
        self.price_dp = price_dp
        self.qty_dp = qty_dp
        self.updates = 0

    def _check(self, d: BookData) -> None:
        for lv in (*d.bids, *d.asks):
            if not lv.price.is_finite() or lv.price <= 0 or not lv.qty.is_finite() or lv.qty < 0:
                raise ValueError(f"bad level {lv}")

    def apply(self, msg: BookMsg) -> bool:
        """Apply a snapshot/update for our symbol; raises ``ChecksumMismatch``.

        Returns False when the message is an update arriving before any snapshot.
        """
        for d in msg.data:
            if d.symbol != self.symbol:
                continue
            self._check(d)
            if msg.type == "snapshot":
                self._load_levels(d.bids, d.asks)
                self.ready = True
            else:
                if not self.ready:
                    return False
                self._apply_levels(d.bids, d.asks)  # levels were checked non-negative
                self._truncate()
            self.updates += 1
            if d.checksum is not None:
                top_a = heapq.nsmallest(10, self.asks.items())
                top_b = heapq.nlargest(10, self.bids.items())
                got = checksum(top_a, top_b, self.price_dp, self.qty_dp)
                if got != d.checksum:
                    raise ChecksumMismatch(f"{self.symbol}: checksum {got} != {d.checksum}")
        return self.ready

    def _truncate(self) -> None:
        if len(self.bids) > self.depth:
            keep = heapq.nlargest(self.depth, self.bids)
            self.bids = {p: self.bids[p] for p in keep}
        if len(self.asks) > self.depth:
            keep = heapq.nsmallest(self.depth, self.asks)
            self.asks = {p: self.asks[p] for p in keep}

    def snapshot(self, depth: int | None = None) -> BookSnapshot:
        return self._snapshot(depth or self.depth, self.updates)
