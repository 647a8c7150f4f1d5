"""The adapter contract's failure cases: outages, lost and hung answers, hostile bodies,
and creates held in transit (``VenueContract`` inherits them)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from gapless.model import (
    Order,
    OrderState,
    Side,
)
from gapless.model.errors import (
    MalformedResponse,
    OrderNotFound,
    Outcome,
    OutcomeUnknown,
    RequestTimeout,
    Retryable,
    ServerError,
    VenueUnavailable,
)
from gapless.venues.base import Venue
from gapless.venues.registry import create_venue

from .contract_support import (
    VenueHarness,
    best,
    make_order,
    passive_buy_price,
    qty_for,
)
from .hostile import MODES, HostileProxy


class FaultContract:
    """Mixed into ``VenueContract``; ``need`` comes from there."""

    # -- failures ----------------------------------------------------------------------
    async def test_outage_503(self, harness: VenueHarness) -> None:
        self.need(harness, "faults")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
        harness.sim.faults.outage = "503"
        try:
            with pytest.raises(VenueUnavailable) as read_err:
                await v.query_order(sym, o.client_order_id)
            assert read_err.value.outcome is Outcome.RETRYABLE
            with pytest.raises(ServerError) as create_err:
                await v.place_order(o)
            assert create_err.value.outcome is Outcome.UNKNOWN  # never "failed"
        finally:
            harness.sim.faults.outage = None
        with pytest.raises(OrderNotFound):
            await v.query_order(sym, o.client_order_id)

    async def test_outage_refused(self, harness: VenueHarness) -> None:
        self.need(harness, "faults")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
        harness.sim.faults.outage = "refuse"
        try:
            with pytest.raises((Retryable, OutcomeUnknown)):
                await v.place_order(o)
        finally:
            harness.sim.faults.outage = None
        with pytest.raises(OrderNotFound):
            await v.query_order(sym, o.client_order_id)

    async def test_unreachable_venue_is_unavailable(self, harness: VenueHarness) -> None:
        import socket

        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        other = harness.make_venue(rest_url=f"http://127.0.0.1:{port}", timeout=2.0)
        try:
            with pytest.raises(VenueUnavailable):
                await other.start()
        finally:
            await other.close()

    async def test_dropped_response_after_accept_is_unknown_then_found(
        self, harness: VenueHarness
    ) -> None:
        self.need(harness, "drop_response")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
        harness.sim.faults.drop_mode = "close"
        harness.sim.faults.drop_response_next = 1
        with pytest.raises(OutcomeUnknown):
            await v.place_order(o)
        found = await v.query_order(sym, o.client_order_id)
        assert found.state is OrderState.ACCEPTED and found.client_order_id == o.client_order_id

    async def test_hung_response_times_out_then_found(self, harness: VenueHarness) -> None:
        self.need(harness, "drop_response")
        v, sym = harness.venue, harness.symbol
        fast = harness.make_venue(timeout=0.5)
        await fast.start()
        try:
            inst = fast.instrument(sym)
            bid, _ = await best(fast, sym)
            price = passive_buy_price(inst, bid)
            o = make_order(fast, sym, Side.BUY, qty_for(inst, price), price)
            harness.sim.faults.drop_mode = "hang"
            harness.sim.faults.drop_response_next = 1
            with pytest.raises(RequestTimeout):
                await fast.place_order(o)
        finally:
            harness.sim.faults.drop_response_next = 0
            await fast.close()
        assert (await v.query_order(sym, o.client_order_id)).state is OrderState.ACCEPTED

    @pytest.mark.parametrize("mode", MODES)
    async def test_hostile_responses_are_malformed(
        self, harness: VenueHarness, mode: str
    ) -> None:
        self.need(harness, "hostile_proxy")
        sym = harness.symbol
        proxy = await HostileProxy(harness.venue.config.rest_url).start()
        v = harness.make_venue(rest_url=proxy.url)
        try:
            await v.start()  # pass-through while loading instruments
            inst = v.instrument(sym)
            bid, _ = await best(v, sym)
            price = passive_buy_price(inst, bid)
            resting = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
            await v.place_order(resting)
            proxy.mode = mode
            with pytest.raises(MalformedResponse):
                await v.query_order(sym, resting.client_order_id)
            with pytest.raises(MalformedResponse):
                await v.balances()
            with pytest.raises(MalformedResponse):
                await v.open_orders(sym)
            with pytest.raises(MalformedResponse):
                await v.order_book(sym, 5)
            o = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
            with pytest.raises(MalformedResponse) as ei:
                await v.place_order(o)
            assert ei.value.outcome is Outcome.UNKNOWN
            proxy.mode = None
            # the order went through despite the garbage answer: nothing lost
            assert (await v.query_order(sym, o.client_order_id)).state is OrderState.ACCEPTED
        finally:
            await v.close()
            await proxy.stop()

    # -- a create held in transit, delivered late (never declared dead while it can land)
    async def _held_create(
        self, harness: VenueHarness, hold_s: float, *, query_meanwhile: bool
    ) -> tuple[Venue, Order, float]:
        """Place a passive buy through a proxy that holds the next POST (the create) for
        ``hold_s``, with a 0.3 s client timeout and ``recv_window`` 1500 ms (or the
        harness's ``extra["held_recv_window"]``, for a venue that needs another). With
        ``query_meanwhile``, once the bound has passed a query (signed later than the
        create) is answered "not found" before the create is delivered. Returns the
        checking adapter, the order and the validity bound."""
        v, sym = harness.venue, harness.symbol
        proxy = await HostileProxy(v.config.rest_url).start()
        base = harness.make_venue(rest_url=proxy.url, timeout=0.3)
        late = create_venue(msgspec.structs.replace(
            base.config, options={**base.config.options,
                                  "recv_window": harness.extra.get("held_recv_window", "1500")}))
        try:
            await late.start()  # pass-through: nothing is held yet
            validity = late.request_validity()
            assert validity is not None, "every contract venue bounds its requests"
            inst = late.instrument(sym)
            bid, _ = await best(v, sym)
            price = passive_buy_price(inst, bid)
            o = make_order(late, sym, Side.BUY, qty_for(inst, price), price)
            proxy.hold(hold_s, method="POST", count=1)
            loop = asyncio.get_running_loop()
            with pytest.raises(OutcomeUnknown):
                await late.place_order(o)
            returned = loop.time()
            assert proxy.held == 1, "the fault must fire: the create was held"
            if query_meanwhile:
                await asyncio.sleep(max(0.0, returned + validity + 0.3 - loop.time()))
                assert not proxy.delivered, "the hold must outlast the bound"
                with pytest.raises(OrderNotFound):
                    await v.query_order(sym, o.client_order_id)
            await proxy.wait_delivered(1, timeout=hold_s + 10)
            return v, o, validity
        finally:
            await late.close()
            await proxy.stop()

    async def test_create_held_past_its_bound_never_executes(
        self, harness: VenueHarness
    ) -> None:
        """The venue refuses a create that arrives after its validity bound (Kraken: after
        a later-nonced request was answered): "not found" after the bound is final."""
        self.need(harness, "hostile_proxy")
        hold = harness.extra.get("held_past_s", 3.0)
        v, o, validity = await self._held_create(harness, hold, query_meanwhile=True)
        with pytest.raises(OrderNotFound):
            await v.query_order(harness.symbol, o.client_order_id)
        assert validity < hold

    async def test_create_held_within_its_bound_lands(self, harness: VenueHarness) -> None:
        """Held shorter than its bound (and past the client's timeout), the create still
        executes: a "not found" before the bound proves nothing."""
        self.need(harness, "hostile_proxy")
        v, o, _ = await self._held_create(harness, 0.6, query_meanwhile=False)
        found = await v.query_order(harness.symbol, o.client_order_id)
        assert found.state is OrderState.ACCEPTED
