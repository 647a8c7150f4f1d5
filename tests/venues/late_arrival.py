"""A create held in transit past the client's timeout, then delivered to the simulator.

Shared by the venues' contract modules: each one checks the venue's own refusal body when
the hold outlasts the adapter's ``recv_window``, and that the order lands when it does not.
The order is placed through a ``HostileProxy`` by an adapter with a short timeout; a second
adapter, straight on the simulator, reads prices and checks the outcome.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
import pytest

from gapless.model import Order, Side
from gapless.model.errors import RequestTimeout
from gapless.venues.base import Venue, VenueConfig
from gapless.venues.registry import create_venue

from .contract import best, make_order, passive_buy_price, qty_for
from .hostile import HostileProxy

#: the client gives up on the create long before any hold below ends
CLIENT_TIMEOUT_S = 0.3
RECV_WINDOW_MS = 1500
#: held shorter than the bound (but past the client's timeout): the order must land
SHORT_HOLD_S = 0.6
#: held longer than the bound: the venue must refuse the request when it arrives
LONG_HOLD_S = 2.5


@dataclass
class Delivered:
    """What the venue answered the held create, and the order that was sent."""

    order: Order
    status: int
    body: Any


@contextlib.asynccontextmanager
async def checker_on(config: VenueConfig) -> AsyncIterator[Venue]:
    """A started adapter straight on the simulator (no proxy, default timeout)."""
    venue = create_venue(config)
    try:
        await venue.start()
        yield venue
    finally:
        await venue.close()


async def held_create(
    sim: Any, config: VenueConfig, checker: Venue, *, hold_s: float, match: str,
    symbol: str = "BTC/USDT", recv_window_ms: int = RECV_WINDOW_MS,
) -> Delivered:
    """Send one passive limit buy through a proxy that holds requests whose path contains
    ``match`` for ``hold_s``; return the venue's answer to it once it was delivered."""
    proxy = await HostileProxy(sim.rest_url).start()
    late = create_venue(msgspec.structs.replace(
        config, rest_url=proxy.url, request_timeout=CLIENT_TIMEOUT_S,
        options={**config.options, "recv_window": str(recv_window_ms)},
    ))
    try:
        await late.start()  # pass-through: nothing is held yet
        assert late.request_validity() == recv_window_ms / 1000
        inst = checker.instrument(symbol)
        bid, _ = await best(checker, symbol)
        price = passive_buy_price(inst, bid)
        order = make_order(late, symbol, Side.BUY, qty_for(inst, price), price)
        proxy.hold(hold_s, match=match)
        with pytest.raises(RequestTimeout):
            await late.place_order(order)
        await proxy.wait_delivered(1, timeout=hold_s + 10)
        assert proxy.held == 1, "only the create may have been held"
        _, status, raw = proxy.delivered[0]
        return Delivered(order, status, orjson.loads(raw))
    finally:
        await late.close()
        await proxy.stop()


def sim_has_order(sim: Any, client_order_id: str) -> bool:
    """Whether the simulator's matching engine ever created an order with this client id."""
    return any(o.client_id == client_order_id for o in sim.exchange.user_orders())
