"""Kraken adapter against the Kraken simulator: the shared contract, the documented
signing and checksum vectors (venues.md §1.2/§1.3) and Kraken-specific behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from gapless.model import OrderState, Side, TimeInForce
from gapless.model.errors import InvalidIntent, Outcome, RateLimited
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.registry import create_venue

from .contract import (
    VenueContract,
    VenueHarness,
    best,
    make_order,
    passive_buy_price,
    qty_for,
)
from .harness import sim_harness, venue_on_sim

#: a higher tier on both sides keeps the suite fast; test_rest_counter_* uses the real one
FAST = {"rest_counter_max": "400", "rest_counter_decay": "100", "trade_counter_max": "2000",
        "trade_counter_decay": "100"}
SIM_FAST = {"rest_max": 400, "rest_decay": 100.0, "trade_max": 2000, "trade_decay": 100.0}


def kraken_config(sim: Any, *, rest_url: str | None = None, timeout: float = 5.0,
                  options: dict[str, str] | None = None) -> VenueConfig:
    return VenueConfig(
        name="kraken", driver="kraken", rest_url=rest_url or sim.rest_url, ws_url=sim.ws_url,
        credentials=Credentials(api_key=sim.api_key, secret=sim.secret),
        options=dict(FAST if options is None else options), request_timeout=timeout,
    )


class TestKrakenContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with sim_harness(
            lambda: start_venue_sim("kraken", host="127.0.0.1", port=0, seed=1,
                                    tick_interval=0.2, **SIM_FAST),
            kraken_config, symbol="BTC/USD",
        ) as h:
            # AddOrder's deadline lies 2 to 60 s ahead on arrival (and our estimate of the
            # venue's clock, read in whole seconds, is within 0.5 s): a 3.5 s deadline
            # still lands after the contract's 0.6 s hold, and has passed after 5 s
            h.extra.update(held_recv_window="3500", held_past_s=5.0)
            yield h


async def test_fok_is_denied_locally() -> None:
    sim = await start_venue_sim("kraken", port=0, seed=2, tick_interval=0, **SIM_FAST)
    async with venue_on_sim(sim, kraken_config(sim)) as venue:
        inst = venue.instrument("BTC/USD")
        bid, _ = await best(venue, "BTC/USD")
        price = passive_buy_price(inst, bid)
        o = make_order(venue, "BTC/USD", Side.BUY, qty_for(inst, price), price, tif=TimeInForce.FOK)
        with pytest.raises(InvalidIntent):
            await venue.place_order(o)


async def test_rest_counter_is_metered_and_mapped() -> None:
    """Real "Pro" counter in the sim (20, -1/s), no client limiter headroom: the sim answers
    EAPI:Rate limit exceeded, which maps to a retryable RateLimited."""
    sim = await start_venue_sim("kraken", port=0, seed=3, tick_interval=0)
    venue = create_venue(kraken_config(sim, options={"rest_counter_max": "1000",
                                                     "rest_counter_decay": "1000"}))
    try:
        await venue.start()
        with pytest.raises(RateLimited) as ei:
            for _ in range(40):
                await venue.balances()
        assert not ei.value.banned and ei.value.outcome is Outcome.RETRYABLE
    finally:
        await venue.close()
        await sim.stop()


async def test_limiter_paces_to_the_real_counter() -> None:
    """With the documented "Pro" model the adapter's limiter keeps a burst under the sim's
    counter: no rejection, the calls are spread out instead."""
    sim = await start_venue_sim("kraken", port=0, seed=4, tick_interval=0, rest_max=20,
                                rest_decay=10.0)
    venue = create_venue(kraken_config(sim, options={"rest_counter_max": "20",
                                                     "rest_counter_decay": "10"}))
    try:
        await venue.start()
        for _ in range(30):
            await venue.balances()
    finally:
        await venue.close()
        await sim.stop()


async def test_partial_fill_fault_reports_partially_filled_ioc() -> None:
    sim = await start_venue_sim("kraken", port=0, seed=5, tick_interval=0, **SIM_FAST)
    async with venue_on_sim(sim, kraken_config(sim)) as venue:
        inst = venue.instrument("BTC/USD")
        _, ask = await best(venue, "BTC/USD")
        qty = qty_for(inst, ask, Decimal(10))
        sim.faults.partial_fill_next = 1
        o = make_order(venue, "BTC/USD", Side.BUY, qty, inst.round_price(ask * Decimal("1.01")),
                       tif=TimeInForce.IOC)
        rep = await venue.place_order(o)
        assert rep.state is OrderState.CANCELED
        assert 0 < rep.filled_qty < qty and rep.fills
