"""The shared adapter contract through the ccxt bridge (ccxt ``coinbase``) against
gapless' Coinbase Advanced Trade simulator, plus the Coinbase-specific corrections."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..contract import VenueContract, VenueHarness
from .harness import bridge_harness


@pytest.fixture
async def coinbase() -> AsyncIterator[VenueHarness]:
    async with bridge_harness("coinbase", "coinbase", symbol="BTC/USD") as h:
        yield h


class TestCcxtCoinbaseContract(VenueContract):
    @pytest.fixture
    async def harness(self, coinbase: VenueHarness) -> AsyncIterator[VenueHarness]:
        yield coinbase
