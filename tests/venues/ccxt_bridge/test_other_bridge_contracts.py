"""The shared adapter contract through the ccxt bridge for OKX and Bybit, each against
gapless' simulator of that venue (a simulator that fails to import fails the run). Kraken and
Coinbase have their own modules (test_kraken_bridge_contract.py,
test_coinbase_bridge_contract.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gapless.model import Side
from gapless.model.errors import Outcome, RateLimited

from ..contract import VenueContract, VenueHarness, best, make_order, passive_buy_price, qty_for
from .harness import bridge_harness


class TestCcxtOkxContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with bridge_harness("okx", "okx") as h:
            yield h


class TestCcxtBybitContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with bridge_harness("bybit", "bybit") as h:
            yield h

    async def test_order_rate_limit_is_retryable(self, harness: VenueHarness) -> None:
        # Bybit reports each endpoint's limit and what remains of it, and the bridge paces
        # on that (test_bybit_bridge_limits.py), so orders sent one after another are
        # never rejected. Orders sent together, before any answer has reported the
        # tightened limit, still meet the venue's 10006: that rejection must be retryable.
        self.need(harness, "rate_limit_faults")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        harness.sim.faults.order_limit_10s = 1  # read as 1 create per second by this skin
        results = await asyncio.gather(
            *(v.place_order(make_order(v, sym, Side.BUY, qty_for(inst, price), price))
              for _ in range(5)),
            return_exceptions=True,
        )
        rejected = [r for r in results if isinstance(r, BaseException)]
        assert rejected and all(isinstance(r, RateLimited) for r in rejected)
        assert all(r.outcome is Outcome.RETRYABLE and not r.banned
                   for r in rejected if isinstance(r, RateLimited))
