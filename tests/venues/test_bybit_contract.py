"""Bybit adapter against the Bybit simulator: the shared contract, over real sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from gapless.model import OrderState
from gapless.model.errors import ConfigError, OrderNotFound
from gapless.sim.cluster import start_venue_sim
from gapless.venues.base import Credentials, VenueConfig
from gapless.venues.registry import create_venue

from .contract import VenueContract, VenueHarness
from .harness import sim_harness
from .late_arrival import LONG_HOLD_S, SHORT_HOLD_S, checker_on, held_create, sim_has_order


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


# -- request validity (X-BAPI-RECV-WINDOW) --------------------------------------------
async def test_create_held_past_recv_window_is_refused_on_arrival() -> None:
    """Held past its recv window, the create reaches the venue late: 10002, no order."""
    sim = await start_venue_sim("bybit", host="127.0.0.1", port=0, seed=2, tick_interval=0)
    try:
        async with checker_on(bybit_config(sim)) as checker:
            got = await held_create(sim, bybit_config(sim), checker, hold_s=LONG_HOLD_S,
                                    match="/v5/order/create")
            assert got.status == 200 and got.body["retCode"] == 10002
            assert got.body["retMsg"].startswith(
                "invalid request, please check your server timestamp or recv_window param.")
            assert "recv_window[1500]" in got.body["retMsg"]
            with pytest.raises(OrderNotFound):
                await checker.query_order("BTC/USDT", got.order.client_order_id)
            assert not sim_has_order(sim, got.order.client_order_id)
    finally:
        await sim.stop()


async def test_create_held_within_recv_window_lands() -> None:
    sim = await start_venue_sim("bybit", host="127.0.0.1", port=0, seed=3, tick_interval=0)
    try:
        async with checker_on(bybit_config(sim)) as checker:
            got = await held_create(sim, bybit_config(sim), checker, hold_s=SHORT_HOLD_S,
                                    match="/v5/order/create")
            assert got.status == 200 and got.body["retCode"] == 0
            rep = await checker.query_order("BTC/USDT", got.order.client_order_id)
            assert rep.state is OrderState.ACCEPTED
    finally:
        await sim.stop()


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "", " ", "1e3", "5000.5", "60001", "9" * 40])
def test_bad_recv_window_is_a_config_error_at_construction(bad: str) -> None:
    cfg = VenueConfig(name="bybit", driver="bybit", rest_url="http://127.0.0.1:9",
                      credentials=Credentials(api_key="k", secret="s"),
                      options={"recv_window": bad})
    with pytest.raises(ConfigError, match="recv_window"):
        create_venue(cfg)
    ok = create_venue(msgspec.structs.replace(cfg, options={"recv_window": "60000"}))
    assert ok.request_validity() == 60.0
    assert create_venue(msgspec.structs.replace(cfg, options={})).request_validity() == 5.0
