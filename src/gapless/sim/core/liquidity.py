"""Seeded synthetic liquidity around a moving mid price.

Every symbol gets a ladder of synthetic resting orders on both sides of its mid. A
background task moves the mid by a small seeded random walk; when the mid moves through a
resting user order, a synthetic taker fills it, and now and then a small synthetic taker
trades against the top of the book (which can partially fill a user order sitting there).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from decimal import ROUND_HALF_UP, Decimal

from .exchange import Exchange, floor_to
from .models import BUY, SELL, SymbolSpec


class Liquidity:
    def __init__(self, exchange: Exchange, *, seed: int = 1, levels: int = 20,
                 spread_bps: Decimal = Decimal("1"), level_gap_bps: Decimal = Decimal("1"),
                 walk_bps: float = 0.5, taker_probability: float = 0.2) -> None:
        self.exchange = exchange
        self.seed = seed
        self.levels = levels
        self.spread_bps = spread_bps
        self.level_gap_bps = level_gap_bps
        self.walk_bps = walk_bps
        self.taker_probability = taker_probability
        self.rng = random.Random(seed)
        self.mids: dict[str, Decimal] = {}
        self._task: asyncio.Task[None] | None = None
        self.paused = False

    def reset(self) -> None:
        self.rng = random.Random(self.seed)
        self.mids = {s: spec.initial_mid for s, spec in self.exchange.specs.items()}
        for s in self.exchange.specs:
            self.refresh(s)

    def _round(self, spec: SymbolSpec, price: Decimal) -> Decimal:
        return (price / spec.tick).to_integral_value(rounding=ROUND_HALF_UP) * spec.tick

    def refresh(self, symbol: str) -> None:
        """Rebuild the synthetic ladder of ``symbol`` around its mid."""
        spec = self.exchange.specs[symbol]
        mid = self.mids[symbol]
        half = max(spec.tick, self._round(spec, mid * self.spread_bps / Decimal(20000)))
        gap = max(spec.tick, self._round(spec, mid * self.level_gap_bps / Decimal(10000)))
        levels: list[tuple[str, Decimal, Decimal]] = []
        for i in range(self.levels):
            for side, sign in ((BUY, -1), (SELL, 1)):
                price = self._round(spec, mid + sign * (half + gap * i))
                if price <= 0:
                    continue
                notional = Decimal(self.rng.randint(2_000, 60_000))
                if spec.quote == "BTC":
                    notional = notional / Decimal(60_000)
                qty = max(spec.min_qty, floor_to(notional / price, spec.step))
                levels.append((side, price, qty))
        self.exchange.replace_synthetic(symbol, levels)

    def set_mid(self, symbol: str, price: Decimal) -> None:
        """Move the mid; resting user orders the new mid crosses are filled by a synthetic taker."""
        spec = self.exchange.specs[symbol]
        price = self._round(spec, price)
        self.mids[symbol] = price
        self.exchange.replace_synthetic(symbol, [])
        book = self.exchange.books[symbol]
        crossed_bids = sum((o.remaining for o in book.bids.orders()
                            if o.price is not None and o.price >= price), Decimal(0))
        if crossed_bids > 0:
            self.exchange.synthetic_take(symbol, SELL, crossed_bids, price)
        crossed_asks = sum((o.remaining for o in book.asks.orders()
                            if o.price is not None and o.price <= price), Decimal(0))
        if crossed_asks > 0:
            self.exchange.synthetic_take(symbol, BUY, crossed_asks, price)
        self.refresh(symbol)

    def step(self) -> None:
        """One tick: random-walk every mid; maybe one small synthetic taker per symbol."""
        for symbol in list(self.mids):
            spec = self.exchange.specs[symbol]
            move = Decimal(str(round(self.rng.gauss(0.0, self.walk_bps), 4))) / Decimal(10000)
            self.set_mid(symbol, self.mids[symbol] * (1 + move))
            if self.rng.random() < self.taker_probability:
                side = BUY if self.rng.random() < 0.5 else SELL
                notional = Decimal(self.rng.randint(100, 5_000))
                if spec.quote == "BTC":
                    notional = notional / Decimal(60_000)
                qty = max(spec.min_qty, floor_to(notional / self.mids[symbol], spec.step))
                self.exchange.synthetic_take(symbol, side, qty, user_only=False)

    def start(self, interval: float) -> None:
        if interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(interval))

    async def _run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self.paused:
                self.step()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
