"""ccxt's known error mis-mappings, corrected by the bridge.

Where the simulator can produce the condition, a real ccxt call raises the real ccxt
exception; otherwise the ccxt exception instance is fed to the mapping function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from gapless.model import Side
from gapless.model.errors import (
    AuthError,
    Disconnected,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    OrderNotFound,
    Outcome,
    RateLimited,
    RequestTimeout,
    ServerError,
    TimestampRejected,
    VenueUnavailable,
)
from gapless.sim.cluster import start_venue_sim
from gapless.venues.ccxt_bridge.adapter import CcxtVenue
from gapless.venues.ccxt_bridge.errors import map_ccxt_error
from gapless.venues.registry import create_venue

from ..contract import make_order, passive_buy_price, qty_for
from .harness import bridge_config


def m(exc: BaseException, **kw: Any) -> Any:
    return map_ccxt_error(exc, venue="x", **kw)


# -- fed instances -------------------------------------------------------------------
def test_ddos_429_is_rate_limited_with_retry_after() -> None:
    e = m(ccxt.DDoSProtection("binance 429 Too Many Requests"), status=429,
          headers={"Retry-After": "7"})
    assert isinstance(e, RateLimited) and not e.banned and e.retry_after == 7.0
    assert e.outcome is Outcome.RETRYABLE


def test_418_is_banned() -> None:
    e = m(ccxt.DDoSProtection("binance 418 I'm a teapot"), status=418,
          headers={"retry-after": "120"})
    assert isinstance(e, RateLimited) and e.banned and e.retry_after == 120.0


def test_rate_limit_exceeded_is_rate_limited() -> None:
    assert isinstance(m(ccxt.RateLimitExceeded("okx 50011 too many")), RateLimited)


def test_kraken_unknown_order_raised_as_invalid_order_is_not_found() -> None:
    exc = ccxt.InvalidOrder('kraken {"error":["EOrder:Unknown order"]}')
    assert isinstance(m(exc, op="cancel"), OrderNotFound)
    assert isinstance(m(exc, op="query"), OrderNotFound)


def test_coinbase_not_found_raised_as_exchange_error_is_not_found() -> None:
    exc = ccxt.ExchangeError('coinbase {"error":"NOT_FOUND","message":"order with this orderID was not found"}')
    assert isinstance(m(exc, op="query"), OrderNotFound)
    assert isinstance(m(ccxt.OrderNotFound("binance -2013"), op="cancel"), OrderNotFound)


def test_unknown_order_words_on_a_create_are_not_order_not_found() -> None:
    e = m(ccxt.InvalidOrder("Unknown order type"), op="create", mutating=True)
    assert not isinstance(e, OrderNotFound) and isinstance(e, InvalidOrder)


@pytest.mark.parametrize("exc", [ccxt.RequestTimeout("t"), ccxt.ExchangeNotAvailable("x"),
                                 ccxt.NetworkError("n"), ccxt.OperationFailed("o")])
def test_transport_trouble_on_create_is_unknown_never_failed(exc: Exception) -> None:
    e = m(exc, op="create", mutating=True)
    assert e.outcome is Outcome.UNKNOWN


def test_timeout_and_5xx_kinds() -> None:
    assert isinstance(m(ccxt.RequestTimeout("t"), mutating=True), RequestTimeout)
    assert isinstance(m(ccxt.ExchangeNotAvailable("503"), mutating=True, status=503), ServerError)
    assert isinstance(m(ccxt.ExchangeNotAvailable("503"), status=503), VenueUnavailable)
    assert isinstance(m(ccxt.ExchangeNotAvailable("reset"), mutating=True), Disconnected)


@pytest.mark.parametrize(("exc", "cls"), [
    (ccxt.InsufficientFunds("no money"), InsufficientFunds),
    (ccxt.InvalidOrder("LOT_SIZE"), InvalidOrder),
    (ccxt.OrderImmediatelyFillable("post only would cross"), InvalidOrder),
    (ccxt.AuthenticationError("bad key"), AuthError),
    (ccxt.PermissionDenied("no trade permission"), AuthError),
    (ccxt.DuplicateOrderId("dup"), DuplicateClientOrderId),
    (ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'), DuplicateClientOrderId),
    (ccxt.InvalidNonce("recvWindow"), TimestampRejected),
])
def test_definitive_rejections(exc: Exception, cls: type) -> None:
    e = m(exc, op="create", mutating=True)
    assert isinstance(e, cls) and e.outcome is Outcome.REJECTED


# -- real ccxt calls against the Binance simulator -----------------------------------
@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    s = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=5, ban_seconds=30)
    try:
        yield s
    finally:
        await s.stop()


async def test_real_429_then_418_from_the_simulator(sim: Any) -> None:
    v = create_venue(bridge_config(sim, "binance"))
    other = create_venue(bridge_config(sim, "binance"))
    try:
        await v.start()
        await other.start()
        assert isinstance(v, CcxtVenue)
        before = v.limiter.fraction("ccxt")
        sim.faults.weight_limit = 1
        with pytest.raises(RateLimited) as ei:
            for _ in range(3):
                await v.order_book("BTC/USDT", 5)
        err = ei.value
        # ccxt raised DDoSProtection (not a RateLimitExceeded): corrected to RateLimited
        assert isinstance(err.__cause__, ccxt.DDoSProtection)
        assert not isinstance(err.__cause__, ccxt.RateLimitExceeded)
        assert not err.banned and err.retry_after is not None and err.retry_after > 0
        assert v.limiter.fraction("ccxt") < before  # the limiter cut its headroom
        # a second client (own limiter) keeps going in the same window: the venue bans
        with pytest.raises(RateLimited) as ban:
            await other.order_book("BTC/USDT", 5)
        assert ban.value.banned and isinstance(ban.value.__cause__, ccxt.DDoSProtection)
        # and the limiter now refuses locally for the ban's duration
        assert isinstance(other, CcxtVenue) and other.limiter.banned_for() > 0
    finally:
        await v.close()
        await other.close()


async def test_real_duplicate_and_unknown_order(sim: Any) -> None:
    v = create_venue(bridge_config(sim, "binance"))
    try:
        await v.start()
        inst = v.instrument("BTC/USDT")
        bid = (await v.order_book("BTC/USDT", 5)).bids[0].price
        price = passive_buy_price(inst, bid)
        o = make_order(v, "BTC/USDT", Side.BUY, qty_for(inst, price), price)
        await v.place_order(o)
        again = make_order(v, "BTC/USDT", Side.BUY, qty_for(inst, price), price,
                           client_order_id=o.client_order_id)
        with pytest.raises(DuplicateClientOrderId) as dup:
            await v.place_order(again)
        assert isinstance(dup.value.__cause__, ccxt.InvalidOrder)  # ccxt's class for -2010
        with pytest.raises(OrderNotFound) as nf:
            await v.cancel_order("BTC/USDT", v.client_order_id("never-sent"))
        assert isinstance(nf.value.__cause__, ccxt.OrderNotFound)
        big = make_order(v, "BTC/USDT", Side.BUY, Decimal("1000"), price)
        with pytest.raises(InsufficientFunds) as ins:
            await v.place_order(big)
        assert isinstance(ins.value.__cause__, ccxt.InsufficientFunds)
    finally:
        await v.close()


async def test_bad_key_is_auth_error(sim: Any) -> None:
    cfg = bridge_config(sim, "binance")
    from gapless.venues.base import Credentials

    bad = create_venue(type(cfg)(**{**{f: getattr(cfg, f) for f in cfg.__struct_fields__},
                                    "credentials": Credentials(api_key="nope", secret="nope")}))
    try:
        await bad.start()
        with pytest.raises(AuthError):
            await bad.balances()
    finally:
        await bad.close()
