"""The shared adapter contract through the ccxt bridge for OKX, Bybit, Kraken and Coinbase,
each against gapless' simulator of that venue (skipped while a simulator is missing)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

import pytest

from ..contract import VenueContract, VenueHarness
from .harness import bridge_harness


def _need_sim(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError as exc:
        pytest.skip(f"simulator {module} not present yet ({exc})")


_OKX_OPEN = {  # known gaps of the bridge against the OKX simulator (see docs/venues/ccxt_bridge.md)
    "test_post_only_that_would_cross_is_invalid",
    "test_private_events_deliver_order_updates_and_fills",
    "test_hostile_responses_are_malformed",
}


@pytest.fixture(autouse=True)
def _known_gaps(request: pytest.FixtureRequest) -> None:
    cls = request.cls.__name__ if request.cls else ""
    name = request.function.__name__
    if cls == "TestCcxtOkxContract" and name in _OKX_OPEN:
        request.applymarker(pytest.mark.xfail(reason="open bridge gap vs OKX sim", strict=False))
    if cls in ("TestCcxtBybitContract", "TestCcxtKrakenContract", "TestCcxtCoinbaseContract"):
        request.applymarker(pytest.mark.xfail(reason="bridge vs this sim not finished", strict=False))


class TestCcxtOkxContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        _need_sim("gapless.sim.okx.server")
        async with bridge_harness("okx", "okx") as h:
            yield h


class TestCcxtBybitContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        _need_sim("gapless.sim.bybit")
        async with bridge_harness("bybit", "bybit") as h:
            yield h


class TestCcxtKrakenContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        _need_sim("gapless.sim.kraken")
        async with bridge_harness("kraken", "kraken", symbol="BTC/USD") as h:
            yield h


class TestCcxtCoinbaseContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        _need_sim("gapless.sim.coinbase.app")
        async with bridge_harness("coinbase", "coinbase", symbol="BTC/USD") as h:
            yield h
