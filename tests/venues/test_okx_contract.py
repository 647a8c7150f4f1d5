"""OKX adapter against the OKX simulator: the shared contract plus OKX specifics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from gapless.model import OrderState, Side, TimeInForce
from gapless.model.errors import AuthError, ConfigError, OrderNotFound
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.registry import create_venue

from .contract import VenueContract, VenueHarness, best, make_order, passive_buy_price, qty_for
from .harness import sim_harness, venue_on_sim
from .late_arrival import LONG_HOLD_S, SHORT_HOLD_S, checker_on, held_create, sim_has_order


def okx_config(sim: Any, *, rest_url: str | None = None, timeout: float = 5.0,
               passphrase: str | None = None) -> VenueConfig:
    return VenueConfig(
        name="okx",
        driver="okx",
        rest_url=rest_url or sim.rest_url,
        ws_url=sim.ws_url,
        credentials=Credentials(api_key=sim.api_key, secret=sim.secret,
                                passphrase=sim.passphrase if passphrase is None else passphrase),
        request_timeout=timeout,
    )


class TestOkxContract(VenueContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[VenueHarness]:
        async with sim_harness(
            lambda: start_venue_sim("okx", host="127.0.0.1", port=0, seed=1),
            okx_config,
        ) as h:
            yield h


@pytest.mark.parametrize("skew_ms", [40_000, -40_000])
async def test_clock_skew_is_resynced_and_resigned(skew_ms: int) -> None:
    """50102 proves the request was not executed: the adapter re-syncs and re-signs once."""
    sim = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=3, tick_interval=0)
    async with venue_on_sim(sim, okx_config(sim)) as venue:
        sim.faults.clock_skew_ms = skew_ms
        sym = "BTC/USDT"
        inst = venue.instrument(sym)
        bid, _ = await best(venue, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(venue, sym, Side.BUY, qty_for(inst, price), price)
        assert (await venue.place_order(o)).state is OrderState.ACCEPTED
        assert (await venue.query_order(sym, o.client_order_id)).state is OrderState.ACCEPTED


async def test_wrong_passphrase_is_auth_error() -> None:
    sim = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=4, tick_interval=0)
    venue = create_venue(okx_config(sim, passphrase="nope"))
    try:
        await venue.start()  # public
        with pytest.raises(AuthError) as ei:
            await venue.balances()
        assert ei.value.code == "50105"
    finally:
        await venue.close()
        await sim.stop()


async def test_partial_fill_then_stream_and_fok() -> None:
    sim = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=5, tick_interval=0)
    async with venue_on_sim(sim, okx_config(sim)) as venue:
        sym = "BTC/USDT"
        inst = venue.instrument(sym)
        _, ask = await best(venue, sym)
        sim.faults.partial_fill_next = 1
        qty = qty_for(inst, ask) * 4
        o = make_order(venue, sym, Side.BUY, qty, ask + inst.tick_size * 100,
                       tif=TimeInForce.IOC)
        rep = await venue.place_order(o)
        assert rep.state is OrderState.CANCELED and 0 < rep.filled_qty < qty
        assert sum((f.qty for f in rep.fills), Decimal(0)) == rep.filled_qty


@pytest.mark.parametrize("legacy", [False, True])
async def test_book_stream_seq_and_legacy_checksum(legacy: bool) -> None:
    sim = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=6, tick_interval=0.05,
                                legacy_checksum=legacy)
    venue = create_venue(okx_config(sim))
    try:
        await venue.start()
        stream = venue.watch_book("BTC/USDT")
        seqs = []
        for _ in range(8):
            snap = await asyncio.wait_for(anext(stream), 5)
            seqs.append(snap.sequence)
        assert seqs == sorted(seqs)
        assert len(venue.dlq) == 0  # type: ignore[attr-defined]
        # every update chained onto the previous seqId (and matched the checksum): no resync
        conns = list(venue._conns)  # type: ignore[attr-defined]
        assert conns and all(c.reconnects == 0 for c in conns)
        with contextlib.suppress(Exception):
            await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await venue.close()
        await sim.stop()


# -- request validity (expTime) -------------------------------------------------------
@pytest.mark.parametrize("skew_ms", [0, -20_000])
async def test_create_held_past_exp_time_is_refused_on_arrival(skew_ms: int) -> None:
    """Held past its expTime, the create reaches OKX late: sCode 50036, no order. With the
    venue's clock 20 s behind ours, expTime must still be set on the venue's clock (an
    expTime on ours would leave the request valid 20 s longer, and the order would land)."""
    sim = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=7, tick_interval=0)
    sim.faults.clock_skew_ms = skew_ms
    try:
        async with checker_on(okx_config(sim)) as checker:
            got = await held_create(sim, okx_config(sim), checker, hold_s=LONG_HOLD_S,
                                    match="/api/v5/trade/order")
            assert got.status == 200
            assert (got.body["code"], got.body["msg"]) == ("1", "All operations failed")
            [item] = got.body["data"]
            assert (item["sCode"], item["ordId"], item["clOrdId"]) == (
                "50036", "", got.order.client_order_id)
            assert item["sMsg"].startswith("The expTime can't be earlier than the current")
            with pytest.raises(OrderNotFound):
                await checker.query_order("BTC/USDT", got.order.client_order_id)
            assert not sim_has_order(sim, got.order.client_order_id)
    finally:
        await sim.stop()


async def test_create_held_within_exp_time_lands() -> None:
    sim = await start_venue_sim("okx", host="127.0.0.1", port=0, seed=8, tick_interval=0)
    try:
        async with checker_on(okx_config(sim)) as checker:
            got = await held_create(sim, okx_config(sim), checker, hold_s=SHORT_HOLD_S,
                                    match="/api/v5/trade/order")
            assert got.status == 200 and got.body["code"] == "0"
            assert got.body["data"][0]["sCode"] == "0"
            rep = await checker.query_order("BTC/USDT", got.order.client_order_id)
            assert rep.state is OrderState.ACCEPTED
    finally:
        await sim.stop()


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "", " ", "1e3", "5000.5", "30001", "9" * 40])
def test_bad_recv_window_is_a_config_error_at_construction(bad: str) -> None:
    cfg = VenueConfig(name="okx", driver="okx", rest_url="http://127.0.0.1:9",
                      options={"recv_window": bad})
    with pytest.raises(ConfigError, match="recv_window"):
        create_venue(cfg)
    ok = create_venue(msgspec.structs.replace(cfg, options={"recv_window": "30000"}))
    assert ok.request_validity() == 30.0
    assert create_venue(msgspec.structs.replace(cfg, options={})).request_validity() == 5.0
