"""The shared adapter contract through the ccxt bridge for OKX and Bybit, each against
gapless' simulator of that venue (skipped while a simulator is missing). Kraken and
Coinbase have their own modules (test_kraken_bridge_contract.py,
test_coinbase_bridge_contract.py)."""

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
