"""Bybit adapter against the Bybit simulator: the shared contract, over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig

from .contract import VenueContract, VenueHarness
from .harness import sim_harness


def bybit_config(sim: Any, *, rest_url: str | None = None, timeout: float = 5.0) -> VenueConfig:
    return VenueConfig(
        name="bybit",
        driver="bybit",
        rest_url=rest_url or sim.rest_url,
        ws_url=sim.ws_url,
        credentials=Credentials(api_key=sim.api_key, secret=sim.secret),
        request_timeout=timeout,
    )


class TestBybitContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with sim_harness(
            lambda: start_venue_sim("bybit", host="127.0.0.1", port=0, seed=1, tick_interval=0.2),
            bybit_config,
        ) as h:
            yield h
