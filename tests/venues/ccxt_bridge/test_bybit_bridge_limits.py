"""Bybit's ``X-Bapi-Limit*`` headers fed back into the bridge's limiter: the parsing and
the limiter arithmetic, then the whole loop against the Bybit simulator with its
per-endpoint limit tightened."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gapless.model.errors import RateLimited
from gapless.transport.clock import FakeClock
from gapless.transport.ratelimit import Priority, RateLimiter
from gapless.venues.ccxt_bridge.adapter import CcxtVenue
from gapless.venues.ccxt_bridge.exchanges.bybit import BybitQuirks
from gapless.venues.ccxt_bridge.limits import CcxtLimits
from gapless.venues.ccxt_bridge.quirks import Quirks, Usage

from .harness import bridge_harness

REALTIME = "bybit_order_realtime"
URL = "http://127.0.0.1:9/v5/order/realtime?category=spot&symbol=BTCUSDT"
T0 = 1_700_000_000.25  # wall seconds, a quarter into a 1 s window


def _hdrs(limit: str, remaining: str, reset_ms: str | None = None) -> dict[str, str]:
    out = {"X-Bapi-Limit": limit, "X-Bapi-Limit-Status": remaining}
    if reset_ms is not None:
        out["X-Bapi-Limit-Reset-Timestamp"] = reset_ms
    return out


def test_bybit_headers_parse_into_the_endpoint_rule() -> None:
    q = BybitQuirks()
    assert q.usage_from_headers(URL, _hdrs("50", "47", "1700000000250")) == [
        Usage(REALTIME, 3, 50, 1_700_000_000.25)
    ]
    # header names are case-insensitive; a path ccxt reaches under another base keeps its rule
    low = {k.lower(): v for k, v in _hdrs("20", "0").items()}
    assert q.usage_from_headers("http://h/v5/order/create", low) == [
        Usage("bybit_order_create", 20, 20, None)
    ]
    # unmetered endpoint, missing or nonsense values: nothing adopted
    assert q.usage_from_headers("http://h/v5/market/orderbook", _hdrs("50", "1")) == []
    assert q.usage_from_headers(URL, {"X-Bapi-Limit": "50"}) == []
    assert q.usage_from_headers(URL, _hdrs("50", "x")) == []
    assert q.usage_from_headers(URL, _hdrs("50", "51")) == []
    assert q.usage_from_headers(URL, _hdrs("0", "0")) == []
    assert q.limit_costs("private", "GET", "v5/order/realtime") == {REALTIME: 1}
    assert q.limit_costs("public", "GET", "v5/market/orderbook") == {}
    assert Quirks().limit_rules() == () and Quirks().usage_from_headers(URL, _hdrs("5", "0")) == []


def _limits() -> tuple[CcxtLimits, RateLimiter, FakeClock]:
    clock = FakeClock(T0)
    limits = CcxtLimits(20.0, extra_rules=BybitQuirks().limit_rules())
    return limits, RateLimiter("bybit", limits.rules, clock=clock), clock


def test_parsed_headers_move_the_limiter_usage() -> None:
    limits, limiter, clock = _limits()
    q = BybitQuirks()
    costs = limits.costs(1, Priority.QUERY, q.limit_costs("private", "GET", "v5/order/realtime"))
    assert costs[REALTIME] == 1
    assert limiter.used(REALTIME) == 0
    limits.adopt(limiter, q.usage_from_headers(URL, _hdrs("50", "40")), clock.time())
    assert limiter.used(REALTIME) == 10  # used = limit - remaining
    # the venue's limit differs from the rule's (a tightened or upgraded account): the
    # same share of the pool is adopted
    limits.adopt(limiter, q.usage_from_headers(URL, _hdrs("4", "1")), clock.time())
    assert limiter.used(REALTIME) == 38  # ceil(3/4 * 50)
    # remaining 0 with a reset in this window: full, no extra hold
    limits.adopt(limiter, q.usage_from_headers(URL, _hdrs("4", "0", str(int(T0 * 1000)))),
                 clock.time())
    assert limiter.used(REALTIME) == 50
    assert limits.hold_s(costs, clock.time()) == 0.0
    # other endpoints are untouched
    assert limiter.used("bybit_order_create") == 0


async def test_exhausted_pool_holds_the_endpoint_until_the_reset() -> None:
    limits, limiter, clock = _limits()
    q = BybitQuirks()
    reset_ms = int((T0 + 2.5) * 1000)  # beyond this window: only the reset time tells
    limits.adopt(limiter, q.usage_from_headers(URL, _hdrs("4", "0", str(reset_ms))), clock.time())
    mine = limits.costs(1, Priority.QUERY, {REALTIME: 1})
    other = limits.costs(1, Priority.QUERY, {"bybit_order_create": 1})
    assert limits.hold_s(mine, clock.time()) == pytest.approx(2.5)
    assert limits.hold_s(other, clock.time()) == 0.0
    clock.advance(1.0)  # a new window: the limiter alone would let it go
    await limiter.acquire(mine)
    assert limits.hold_s(mine, clock.time()) == pytest.approx(1.5)
    clock.advance(1.5)
    assert limits.hold_s(mine, clock.time()) == 0.0


@pytest.fixture
async def bybit_tight(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with bridge_harness("bybit", "bybit", options=request.param) as h:
        await h.venue.open_orders(h.symbol)  # start-up reads done before the limit tightens
        h.sim.faults.weight_limit = 3  # 3 requests per second per endpoint
        yield h


@pytest.mark.parametrize("bybit_tight", [{"header_limits": "off"}], indirect=True)
async def test_without_header_feedback_the_tight_limit_is_hit(bybit_tight: Any) -> None:
    # the control: ccxt's own rate (50/s) lets far more than 3 reads a second through,
    # so the venue rejects one with 10006
    v: CcxtVenue = bybit_tight.venue
    with pytest.raises(RateLimited):
        for _ in range(30):
            await v.open_orders(bybit_tight.symbol)


@pytest.mark.parametrize("bybit_tight", [{}], indirect=True)
async def test_header_feedback_paces_instead_of_being_rejected(bybit_tight: Any) -> None:
    # the same reads as the control, paced by the venue's own count: 3 go in a second,
    # the next waits for the venue's window to turn, and none is rejected
    v: CcxtVenue = bybit_tight.venue
    for _ in range(4):
        await v.open_orders(bybit_tight.symbol)
    assert v.limiter.used(REALTIME) > 0  # the venue's count, adopted
