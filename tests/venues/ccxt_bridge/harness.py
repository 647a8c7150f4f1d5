"""Shared harness: the ccxt bridge for one ccxt exchange id against gapless' simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, Venue, VenueConfig
from gapless.venues.registry import create_venue

from ..contract import ALL_CAPABILITIES, VenueHarness


def bridge_config(sim: Any, exchange: str, *, rest_url: str | None = None,
                  timeout: float = 5.0, ws: bool = True, **options: str) -> VenueConfig:
    return VenueConfig(
        name=f"ccxt-{exchange}",
        driver="ccxt",
        rest_url=rest_url or sim.rest_url,
        ws_url=sim.ws_url if ws else "",
        credentials=Credentials(api_key=sim.api_key, secret=sim.secret,
                                passphrase=getattr(sim, "passphrase", "") or ""),
        options={"exchange": exchange, "poll_interval_s": "0.2", **options},
        request_timeout=timeout,
    )


@asynccontextmanager
async def bridge_harness(
    sim_name: str, exchange: str, *, capabilities: frozenset[str] = ALL_CAPABILITIES,
    seed: int = 1, ws: bool = True, symbol: str = "BTC/USDT",
    sim_options: dict[str, Any] | None = None, options: dict[str, str] | None = None,
) -> AsyncIterator[VenueHarness]:
    """``sim_options`` go to the simulator's build (e.g. a faster rate-limit tier),
    ``options`` to the bridge venue's config options (e.g. the matching ``rate_limit_ms``)."""
    sim = await start_venue_sim(sim_name, host="127.0.0.1", port=0, seed=seed,
                                **(sim_options or {}))
    venues: list[Venue] = []

    def make_venue(rest_url: str | None = None, timeout: float = 5.0) -> Venue:
        v = create_venue(bridge_config(sim, exchange, rest_url=rest_url, timeout=timeout, ws=ws,
                                       **(options or {})))
        venues.append(v)
        return v

    venue = make_venue()
    try:
        await venue.start()
        yield VenueHarness(venue=venue, sim=sim, make_venue=make_venue,
                           capabilities=capabilities, symbol=symbol)
    finally:
        for v in venues:
            await v.close()
        await sim.stop()
