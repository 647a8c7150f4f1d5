"""The shared request pipeline (``RestVenue._send``) over every native venue.

An answer that cannot be parsed is one ``BAD_DATA`` failure on the endpoint's breaker
(private or public), counted exactly once per answer: repeated garbage trips the breaker
at its threshold, the open breaker refuses the next request without sending it, and after
the reset time one good answer closes it again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gapless.model.errors import CircuitOpen, MalformedResponse
from gapless.sim.cluster import start_venue_sim
from gapless.transport.breaker import BreakerState, ConnKind, FailureKind
from gapless.transport.clock import RealClock
from gapless.venues.base import Venue, VenueConfig
from gapless.venues.common.endpoints import AuthKind, Endpoint, table
from gapless.venues.registry import driver_class

from . import test_binance_contract as binance_t
from . import test_bybit_contract as bybit_t
from . import test_coinbase_contract as coinbase_t
from . import test_kraken_contract as kraken_t
from . import test_okx_contract as okx_t
from .hostile import HostileProxy

THRESHOLD = 5  # BreakerSet's default


class SteppedClock(RealClock):
    """The real clock, whose monotonic time a test can move forward (breaker reset)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


async def _sim(venue: str) -> Any:
    extra: dict[str, Any] = {"tick_interval": 0}
    if venue == "kraken":
        extra.update(kraken_t.SIM_FAST)
    return await start_venue_sim(venue, host="127.0.0.1", port=0, seed=11, **extra)


CONFIGS: dict[str, Callable[..., VenueConfig]] = {
    "binance": binance_t.binance_config,
    "bybit": bybit_t.bybit_config,
    "okx": okx_t.okx_config,
    "coinbase": coinbase_t.coinbase_config,
    "kraken": kraken_t.kraken_config,
}


def _call(venue: Venue, kind: ConnKind) -> Callable[[], Awaitable[object]]:
    if kind is ConnKind.REST_PRIVATE:
        return venue.balances
    symbol = next(iter(venue.instruments))
    return lambda: venue.order_book(symbol, 5)


@pytest.mark.parametrize("kind", [ConnKind.REST_PRIVATE, ConnKind.REST_PUBLIC])
@pytest.mark.parametrize("name", ["binance", "bybit", "coinbase", "kraken", "okx"])
async def test_garbage_trips_the_breaker_and_a_good_answer_closes_it(
    name: str, kind: ConnKind
) -> None:
    sim = await _sim(name)
    proxy = await HostileProxy(sim.rest_url).start()
    clock = SteppedClock()
    venue = driver_class(name)(CONFIGS[name](sim, rest_url=proxy.url), clock=clock)  # type: ignore[call-arg]
    try:
        await venue.start()  # pass-through while loading instruments
        call = _call(venue, kind)
        await call()
        breaker = venue.breakers.get(kind)  # type: ignore[attr-defined]
        proxy.mode = "garbage"
        for n in range(1, THRESHOLD):
            with pytest.raises(MalformedResponse):
                await call()
            assert breaker.failures(FailureKind.BAD_DATA) == n  # once per answer
            assert breaker.state is BreakerState.CLOSED
        with pytest.raises(MalformedResponse):
            await call()
        assert breaker.state is BreakerState.OPEN
        assert breaker.tripped_by is FailureKind.BAD_DATA
        with pytest.raises(CircuitOpen):
            await call()  # refused before sending
        proxy.mode = None
        clock.ahead += breaker.reset_after  # half-open: one probe may go
        await call()
        assert breaker.state is BreakerState.CLOSED
        assert breaker.failures(FailureKind.BAD_DATA) == 0
    finally:
        await venue.close()
        await proxy.stop()
        await sim.stop()


def test_endpoint_table_rejects_a_repeated_name() -> None:
    row = Endpoint("order_new", "POST", "/x", AuthKind.SIGNED, {"w": 1})
    assert table([row])["order_new"].private
    with pytest.raises(ValueError, match="order_new"):
        table([row, row])


@pytest.mark.parametrize("venue", ["binance", "bybit", "coinbase", "kraken", "okx"])
def test_every_venue_lists_its_endpoints_in_one_shape(venue: str) -> None:
    import importlib

    limits = importlib.import_module(f"gapless.venues.{venue}.limits")
    rows = limits.ENDPOINTS
    assert rows, venue
    for key, ep in rows.items():
        assert isinstance(ep, Endpoint) and ep.name == key
        assert ep.method in ("GET", "POST", "PUT", "DELETE") and ep.path.startswith("/")
