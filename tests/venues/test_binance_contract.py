"""Binance adapter against the Binance simulator: the shared contract plus Ed25519 keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gapless.model import OrderState, Side
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.registry import create_venue

from .contract import VenueContract, VenueHarness, best, make_order, passive_buy_price, qty_for
from .harness import sim_harness, venue_on_sim


def binance_config(sim: Any, *, rest_url: str | None = None, timeout: float = 5.0,
                   ed25519: bool = False) -> VenueConfig:
    creds = (
        Credentials(api_key=sim.ed25519_api_key, secret=sim.ed25519_private_key_pem)
        if ed25519
        else Credentials(api_key=sim.api_key, secret=sim.secret)
    )
    return VenueConfig(
        name="binance",
        driver="binance",
        rest_url=rest_url or sim.rest_url,
        ws_url=sim.ws_url,
        credentials=creds,
        request_timeout=timeout,
    )


class TestBinanceContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with sim_harness(
            lambda: start_venue_sim("binance", host="127.0.0.1", port=0, seed=1),
            binance_config,
        ) as h:
            yield h


async def test_ed25519_keys_trade() -> None:
    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=2)
    async with venue_on_sim(sim, binance_config(sim, ed25519=True)) as venue:
        sym = "BTC/USDT"
        inst = venue.instrument(sym)
        bid, _ = await best(venue, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(venue, sym, Side.BUY, qty_for(inst, price), price)
        assert (await venue.place_order(o)).state is OrderState.ACCEPTED
        assert (await venue.cancel_order(sym, o.client_order_id)).state is OrderState.CANCELED
        assert "USDT" in await venue.balances()


@pytest.mark.parametrize("skew_ms", [20_000, -20_000])
async def test_clock_skew_is_resynced_and_resigned(skew_ms: int) -> None:
    """-1021 proves the order was not executed, so the adapter re-syncs and re-signs once."""
    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=3)
    async with venue_on_sim(sim, binance_config(sim)) as venue:
        sim.faults.clock_skew_ms = skew_ms
        sym = "BTC/USDT"
        inst = venue.instrument(sym)
        bid, _ = await best(venue, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(venue, sym, Side.BUY, qty_for(inst, price), price)
        assert (await venue.place_order(o)).state is OrderState.ACCEPTED
        assert (await venue.query_order(sym, o.client_order_id)).state is OrderState.ACCEPTED
        offset = venue._time_offset_ms  # type: ignore[attr-defined]
        assert abs(offset - skew_ms) < 2_000  # re-synced to the venue's clock


async def test_rate_limit_headers_are_synced() -> None:
    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=4)
    async with venue_on_sim(sim, binance_config(sim)) as venue:
        for _ in range(3):
            await venue.order_book("BTC/USDT", 5)
        limiter = venue.limiter  # type: ignore[attr-defined]
        # exchangeInfo (20) + 3 depth requests (5 each) as reported by the venue
        assert limiter.used("REQUEST_WEIGHT_1M") >= 35


async def test_garbage_answers_count_against_the_breaker() -> None:
    from gapless.model.errors import MalformedResponse
    from gapless.transport.breaker import ConnKind, FailureKind

    from .hostile import HostileProxy

    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=5)
    proxy = await HostileProxy(sim.rest_url).start()
    venue = create_venue(binance_config(sim, rest_url=proxy.url))
    try:
        await venue.start()
        proxy.mode = "garbage"
        for _ in range(3):
            with pytest.raises(MalformedResponse):
                await venue.balances()
        breaker = venue.breakers.get(ConnKind.REST_PRIVATE)  # type: ignore[attr-defined]
        assert breaker.failures(FailureKind.BAD_DATA) >= 1
    finally:
        await venue.close()
        await proxy.stop()
        await sim.stop()


async def test_ids_that_binance_could_never_have_are_not_sent() -> None:
    """A client id with query syntax in it must not be spliced into the signed query."""
    from gapless.model.errors import OrderNotFound

    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=6)
    async with venue_on_sim(sim, binance_config(sim)) as venue:
        for bad in ("x&symbol=ETHUSDT", "a b", "", "y" * 37):
            with pytest.raises(OrderNotFound):
                await venue.cancel_order("BTC/USDT", bad)
            with pytest.raises(OrderNotFound):
                await venue.query_order("BTC/USDT", bad)


# -- request validity (recvWindow) ----------------------------------------------------
async def test_create_held_past_recv_window_is_refused_on_arrival() -> None:
    """Held past its recvWindow, the create reaches the venue late: -1021, no order."""
    from gapless.model.errors import OrderNotFound

    from .late_arrival import LONG_HOLD_S, checker_on, held_create, sim_has_order

    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=7)
    try:
        async with checker_on(binance_config(sim)) as checker:
            got = await held_create(sim, binance_config(sim), checker, hold_s=LONG_HOLD_S,
                                    match="/api/v3/order")
            assert (got.status, got.body) == (400, {
                "code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
            with pytest.raises(OrderNotFound):
                await checker.query_order("BTC/USDT", got.order.client_order_id)
            assert not sim_has_order(sim, got.order.client_order_id)
    finally:
        await sim.stop()


async def test_create_held_within_recv_window_lands() -> None:
    from .late_arrival import SHORT_HOLD_S, checker_on, held_create

    sim = await start_venue_sim("binance", host="127.0.0.1", port=0, seed=8)
    try:
        async with checker_on(binance_config(sim)) as checker:
            got = await held_create(sim, binance_config(sim), checker, hold_s=SHORT_HOLD_S,
                                    match="/api/v3/order")
            assert got.status == 200 and got.body["status"] == "NEW"
            rep = await checker.query_order("BTC/USDT", got.order.client_order_id)
            assert rep.state is OrderState.ACCEPTED
    finally:
        await sim.stop()


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "", " ", "1e3", "5000.5", "60001", "9" * 40])
def test_bad_recv_window_is_a_config_error_at_construction(bad: str) -> None:
    import msgspec

    from gapless.model.errors import ConfigError

    cfg = VenueConfig(name="binance", driver="binance", rest_url="http://127.0.0.1:9",
                      options={"recv_window": bad})
    with pytest.raises(ConfigError, match="recv_window"):
        create_venue(cfg)
    ok = create_venue(msgspec.structs.replace(cfg, options={"recv_window": "60000"}))
    assert ok.request_validity() == 60.0
    assert create_venue(msgspec.structs.replace(cfg, options={})).request_validity() == 5.0
