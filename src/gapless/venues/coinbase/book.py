"""Local Coinbase order book from the ``level2`` channel (venue notes §4.7).

The channel sends ``l2_data`` messages: first a ``snapshot`` event with the full book, then
``update`` events with absolute level quantities (``"0"`` removes). There is no checksum;
integrity is the per-connection ``sequence_num``, which grows by one per message. A gap
means a message was lost: the book is discarded and the product re-subscribed, which makes
the venue send a fresh snapshot.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from gapless.model import BookSnapshot
from gapless.venues.common.book import LevelBook


class L2Update(msgspec.Struct):
    side: str
    price_level: Decimal
    new_quantity: Decimal


class L2Event(msgspec.Struct):
    type: str
    product_id: str
    updates: list[L2Update]


class Envelope(msgspec.Struct):
    channel: str
    sequence_num: int
    events: list[msgspec.Raw] = []
    timestamp: str = ""


class ErrorMessage(msgspec.Struct):
    type: str
    message: str = ""


_decode_env = msgspec.json.Decoder(Envelope).decode
_decode_l2 = msgspec.json.Decoder(L2Event).decode
_decode_err = msgspec.json.Decoder(ErrorMessage).decode


class BookGap(Exception):
    """A message was missed; the book must be rebuilt from a new snapshot."""


def parse_envelope(raw: bytes | str) -> Envelope:
    """The sequenced envelope; raises ``ValueError`` for anything else (incl. errors)."""
    try:
        return _decode_env(raw)
    except msgspec.DecodeError:
        try:
            err = _decode_err(raw)
        except msgspec.DecodeError as exc:
            raise ValueError(f"unparseable message: {exc}") from None
        raise ValueError(f"venue error message: {err.type} {err.message}") from None


def parse_l2_events(env: Envelope) -> list[L2Event]:
    out = []
    for raw in env.events:
        try:
            ev = _decode_l2(raw)
        except msgspec.DecodeError as exc:
            raise ValueError(f"unparseable l2 event: {exc}") from None
        if ev.type not in ("snapshot", "update"):
            raise ValueError(f"unknown l2 event type {ev.type!r}")
        for u in ev.updates:
            if u.side not in ("bid", "offer"):
                raise ValueError(f"unknown l2 side {u.side!r}")
            if not u.price_level.is_finite() or u.price_level <= 0:
                raise ValueError("l2 price must be positive")
            if not u.new_quantity.is_finite() or u.new_quantity < 0:
                raise ValueError("l2 quantity must be non-negative")
        out.append(ev)
    return out


class Sequencer:
    """Checks that ``sequence_num`` grows by exactly one per message on a connection."""

    def __init__(self) -> None:
        self.last: int | None = None

    def reset(self) -> None:
        self.last = None

    def check(self, seq: int) -> None:
        last, self.last = self.last, seq
        if last is not None and seq != last + 1:
            raise BookGap(f"sequence_num jumped from {last} to {seq}")


class LocalBook(LevelBook):
    def __init__(self, venue: str, symbol: str) -> None:
        super().__init__(venue, symbol)
        self.sequence = 0

    def apply(self, ev: L2Event, seq: int) -> bool:
        """Apply one event; ``False`` when ignored (an update before any snapshot)."""
        if ev.type == "snapshot":
            self.bids.clear()
            self.asks.clear()
            self.ready = True
        elif not self.ready:
            return False
        for u in ev.updates:
            side = self.bids if u.side == "bid" else self.asks
            if u.new_quantity:
                side[u.price_level] = u.new_quantity
            else:
                side.pop(u.price_level, None)
        self.sequence = seq
        return True

    def snapshot(self, depth: int = 20) -> BookSnapshot:
        return self._snapshot(depth, self.sequence)
