"""Issue 7, defect 3: with the private stream on, the ``user`` channel often tells the adapter
about a new order (client id -> order id) before the REST answer to its create arrives. That
mapping is for the same order, so it is no proof of a reused client id.

``AnswerGate`` is the one loopback hop in front of the simulator: it forwards every request
and holds each create's answer until the stream has delivered that order's update, so the
stream beats the answer on every create (the race made certain instead of likely).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from gapless.model import OrderReport, OrderState, Side
from gapless.model.errors import DuplicateClientOrderId
from gapless.venues.base import Venue
from gapless.venues.registry import create_venue

from ..contract import best, make_order, passive_buy_price, pumped, qty_for, until_live
from ..hostile import HostileProxy
from ..test_coinbase_contract import SYMBOL, coinbase_config, start_sim

CREATE_PATH = "/api/v3/brokerage/orders"
STREAM_WAIT = 10.0


class AnswerGate(HostileProxy):
    """Pass-through proxy; while ``armed``, a create's answer waits for ``seen(cid)``."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.armed = False
        self.released_after_stream = 0  # create answers held until the stream had the order
        self.released_without = 0  # ... and ones the stream never delivered in time
        self._seen: dict[str, asyncio.Event] = {}

    def seen(self, cid: str) -> asyncio.Event:
        return self._seen.setdefault(cid, asyncio.Event())

    async def before_answer(self, request: web.Request, body: bytes) -> None:
        if self.armed and request.method == "POST" and request.path == CREATE_PATH:
            cid = str(orjson.loads(body).get("client_order_id", ""))
            try:
                await asyncio.wait_for(self.seen(cid).wait(), STREAM_WAIT)
                self.released_after_stream += 1
            except TimeoutError:
                self.released_without += 1


@contextlib.asynccontextmanager
async def gated_venue(seed: int) -> AsyncIterator[tuple[Venue, AnswerGate, asyncio.Queue[Any]]]:
    """A started adapter behind an ``AnswerGate`` whose private stream is live and followed;
    every streamed order report opens the gate for its client id."""
    sim = await start_sim(seed)
    gate = await AnswerGate(sim.rest_url).start()
    venue = create_venue(coinbase_config(sim, rest_url=gate.url))
    try:
        await venue.start()
        async with pumped(venue) as (queue, task):
            await until_live(venue, SYMBOL, queue, task, "the user stream never came live")
            seen: asyncio.Queue[Any] = asyncio.Queue()

            async def mark() -> None:
                while True:
                    ev = await queue.get()
                    if isinstance(ev, OrderReport):
                        gate.seen(ev.client_order_id).set()
                    await seen.put(ev)

            marker = asyncio.create_task(mark())
            gate.armed = True
            try:
                yield venue, gate, seen
            finally:
                marker.cancel()
                with contextlib.suppress(BaseException):
                    await marker
    finally:
        await venue.close()
        await gate.stop()
        await sim.stop()


async def test_stream_mapping_for_the_same_order_is_not_a_reused_client_id() -> None:
    async with gated_venue(21) as (venue, gate, _):
        inst = venue.instrument(SYMBOL)
        bid, _ask = await best(venue, SYMBOL)
        price = passive_buy_price(inst, bid)
        orders = [make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
                  for _ in range(10)]
        reports = [await venue.place_order(o) for o in orders]
        # the fault fired: every answer came after the stream had told the adapter
        assert gate.released_after_stream == 10 and gate.released_without == 0
        for o, rep in zip(orders, reports, strict=True):
            assert rep.state is OrderState.ACCEPTED
            assert rep.client_order_id == o.client_order_id and rep.venue_order_id
        assert len({r.venue_order_id for r in reports}) == 10
        live = {r.client_order_id for r in await venue.open_orders(SYMBOL)}
        assert {o.client_order_id for o in orders} <= live


async def test_reused_client_id_is_still_a_duplicate_with_the_stream_on() -> None:
    async with gated_venue(22) as (venue, gate, _):
        inst = venue.instrument(SYMBOL)
        bid, _ask = await best(venue, SYMBOL)
        price = passive_buy_price(inst, bid)
        first = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price)
        placed = await venue.place_order(first)
        assert placed.state is OrderState.ACCEPTED
        again = make_order(venue, SYMBOL, Side.BUY, qty_for(inst, price), price - inst.tick_size,
                           client_order_id=first.client_order_id)
        with pytest.raises(DuplicateClientOrderId):
            await venue.place_order(again)
        assert gate.released_after_stream == 2
        # the first order is untouched and still the one the client id names
        found = await venue.query_order(SYMBOL, first.client_order_id)
        assert found.venue_order_id == placed.venue_order_id
        assert found.state is OrderState.ACCEPTED and found.price == price
