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


@pytest.fixture(autouse=True)
def _known_gaps(request: pytest.FixtureRequest) -> None:
    cls = request.cls.__name__ if request.cls else ""
    if cls in ("TestCcxtKrakenContract", "TestCcxtCoinbaseContract"):
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
