"""Price-time priority order book for one symbol."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from .models import BUY, Order

ZERO = Decimal(0)


class BookSide:
    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[Decimal, deque[Order]] = {}
        self._prices: list[Decimal] = []  # ascending

    def add(self, order: Order) -> None:
        assert order.price is not None
        level = self.levels.get(order.price)
        if level is None:
            level = deque()
            self.levels[order.price] = level
            bisect.insort(self._prices, order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        assert order.price is not None
        level = self.levels.get(order.price)
        if level is None:
            return
        try:
            level.remove(order)
        except ValueError:
            return
        if not level:
            del self.levels[order.price]
            i = bisect.bisect_left(self._prices, order.price)
            del self._prices[i]

    def prices(self) -> list[Decimal]:
        """Prices best first."""
        return list(reversed(self._prices)) if self.is_bid else list(self._prices)

    def best(self) -> Decimal | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.is_bid else self._prices[0]

    def level_qty(self, price: Decimal) -> Decimal:
        level = self.levels.get(price)
        if not level:
            return ZERO
        return sum((o.remaining for o in level), ZERO)

    def orders(self) -> Iterator[Order]:
        for p in self.prices():
            yield from list(self.levels.get(p, ()))

    def depth(self, limit: int) -> list[tuple[Decimal, Decimal]]:
        return [(p, self.level_qty(p)) for p in self.prices()[:limit]]


class OrderBook:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = BookSide(True)
        self.asks = BookSide(False)
        self.update_id = 0

    def side_for(self, side: str) -> BookSide:
        return self.bids if side == BUY else self.asks

    def opposite(self, side: str) -> BookSide:
        return self.asks if side == BUY else self.bids
