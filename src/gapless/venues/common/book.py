"""Price-level maps of a local order book: what every venue's ``LocalBook`` keeps.

Each venue's book decides *when* a message may be applied (update ids, sequence numbers,
checksums); this base only holds the two ``price -> quantity`` maps and turns them into a
``BookSnapshot``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from gapless.model import BookLevel, BookSnapshot


class Level(Protocol):
    """Anything with a ``price`` and a ``qty`` (the venues' own level structs)."""

    @property
    def price(self) -> Decimal: ...

    @property
    def qty(self) -> Decimal: ...


class LevelBook:
    """Bids and asks as ``price -> quantity``; a quantity of 0 removes the level."""

    def __init__(self, venue: str, symbol: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.ready = False
        self.ts_ms = 0

    def reset(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.ready = False

    def _load_levels(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace both sides (a snapshot); zero-quantity levels are left out."""
        self.bids = {lv.price: lv.qty for lv in bids if lv.qty > 0}
        self.asks = {lv.price: lv.qty for lv in asks if lv.qty > 0}

    def _apply_levels(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set each level's absolute quantity (a delta)."""
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for lv in levels:
                if lv.qty:
                    side[lv.price] = lv.qty
                else:
                    side.pop(lv.price, None)

    def _snapshot(self, depth: int, sequence: int) -> BookSnapshot:
        bids = heapq.nlargest(depth, self.bids.items())
        asks = heapq.nsmallest(depth, self.asks.items())
        return BookSnapshot(
            venue=self.venue,
            symbol=self.symbol,
            bids=tuple(BookLevel(p, q) for p, q in bids),
            asks=tuple(BookLevel(p, q) for p, q in asks),
            sequence=sequence,
            ts_ms=self.ts_ms,
        )
