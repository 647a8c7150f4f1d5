"""The shared adapter contract through the ccxt bridge (ccxt ``kraken``) against gapless'
Kraken simulator, plus the Kraken-specific corrections of the bridge."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ..contract import VenueContract, VenueHarness
from .harness import bridge_harness

#: a higher Kraken tier on both sides keeps the suite fast (as in the native Kraken
#: contract run): the simulator's REST counter decays 100 points/s, and the bridge's
#: ccxt rule allows 200 ccxt cost units/s (ccxt prices a private call at 3 units)
SIM_FAST = {"rest_max": 400, "rest_decay": 100.0, "trade_max": 2000, "trade_decay": 100.0,
            "tick_interval": 0.2}
BRIDGE_FAST = {"rate_limit_ms": "5"}


@pytest.fixture
async def kraken() -> AsyncIterator[VenueHarness]:
    async with bridge_harness("kraken", "kraken", symbol="BTC/USD", sim_options=SIM_FAST,
                              options=BRIDGE_FAST) as h:
        # AddOrder's deadline lies 2 to 60 s ahead on arrival: the held-create cases need
        # a longer recv_window and hold than the contract's 1.5 s and 3 s
        h.extra.update(held_recv_window="3500", held_past_s=5.0)
        yield h


class TestCcxtKrakenContract(VenueContract):
    @pytest.fixture
    async def harness(self, kraken: VenueHarness) -> AsyncIterator[VenueHarness]:
        yield kraken
