"""The shared adapter contract, run through the ccxt bridge (ccxt's ``binance``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..contract import VenueContract, VenueHarness
from .harness import bridge_harness


class TestCcxtBinanceContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with bridge_harness("binance", "binance") as h:
            yield h
