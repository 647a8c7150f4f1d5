"""The adapter contract: every ``Venue`` implementation must pass these tests.

A venue joins by subclassing :class:`VenueContract` in a ``test_<venue>_contract.py``
and providing one async fixture, ``harness``, that starts the venue's simulator
(``start_venue_sim(name, port=0)``) and returns a :class:`VenueHarness`. Nothing in here
knows about any particular venue; optional behaviour is switched by ``capabilities``,
read from the adapter's declared ``Venue.capabilities`` (plus what the simulator offers).

The simulator's ``faults`` object is the venue-neutral ``gapless.sim.core.faults.Faults``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from decimal import ROUND_UP, Decimal

import pytest

from gapless.model import (
    Balance,
    BookSnapshot,
    Fill,
    OrderReport,
    OrderState,
    OrderType,
    Side,
    TimeInForce,
)
from gapless.model.errors import (
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    LocalDenial,
    OrderNotFound,
    Outcome,
    RateLimited,
    UnknownSymbol,
)
from gapless.venues.base import Reconnected

from .contract_faults import FaultContract
from .contract_support import (
    ALL_CAPABILITIES,
    SIM_FEATURES,
    WAIT,
    VenueHarness,
    best,
    declared_capabilities,
    make_order,
    new_intent,
    passive_buy_price,
    pumped,
    qty_for,
    until_live,
    wait_for_report,
)
from .hostile import MODES, HostileProxy


class VenueContract(FaultContract):
    """Subclass in ``test_<venue>_contract.py`` and provide the ``harness`` fixture."""

    def need(self, h: VenueHarness, cap: str) -> None:
        if cap not in h.features:
            pytest.skip(f"{h.venue.name} lacks capability {cap!r}")

    # -- reference data ----------------------------------------------------------------
    async def test_instruments_loaded(self, harness: VenueHarness) -> None:
        v = harness.venue
        inst = v.instrument(harness.symbol)
        assert inst.symbol == harness.symbol and inst.venue == v.name
        assert inst.base and inst.quote and inst.venue_symbol
        assert inst.tick_size > 0 and inst.step_size > 0
        assert isinstance(inst.tick_size, Decimal) and isinstance(inst.min_notional, Decimal)
        with pytest.raises(UnknownSymbol):
            v.instrument("NOPE/NOPE")
        reloaded = await v.load_instruments()
        assert harness.symbol in reloaded

    async def test_client_order_ids_are_deterministic_and_accepted(
        self, harness: VenueHarness
    ) -> None:
        v, sym = harness.venue, harness.symbol
        intents = ["simple", "with spaces and/slashes", "ü" * 10, "x" * 64, "a.b:c"]
        ids = [v.client_order_id(i) for i in intents]
        assert ids == [v.client_order_id(i) for i in intents]  # same in, same out
        assert len(set(ids)) == len(ids)
        assert all(ids) and all(re.fullmatch(r"[\x21-\x7e]+", i) for i in ids)
        # the venue accepts them: rest an order with the hardest one and find it again
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price, intent=intents[1] + uuid.uuid4().hex)
        rep = await v.place_order(o)
        assert rep.client_order_id == o.client_order_id
        assert (await v.query_order(sym, o.client_order_id)).client_order_id == o.client_order_id

    async def test_declared_capabilities_hold(self, harness: VenueHarness) -> None:
        """The router will trust ``Venue.capabilities``: every derived id fits the declared
        client-id rule, and a time in force the adapter does not declare is refused
        inside the process (nothing reaches the venue)."""
        v, sym = harness.venue, harness.symbol
        caps = v.capabilities
        assert OrderType.LIMIT in caps.order_types and TimeInForce.GTC in caps.time_in_force
        for intent in ["simple", "with spaces and/slashes", "ü" * 10, "x" * 200, "a.b:c", "-"]:
            cid = v.client_order_id(intent)
            assert caps.client_id.accepts(cid), (intent, cid, caps.client_id)
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        for tif in sorted(set(TimeInForce) - caps.time_in_force):
            o = make_order(v, sym, Side.BUY, qty_for(inst, price), price, tif=tif)
            with pytest.raises(LocalDenial):
                await v.place_order(o)
            with pytest.raises(OrderNotFound):
                await v.query_order(sym, o.client_order_id)

    # -- order lifecycle ---------------------------------------------------------------
    async def test_limit_resting_then_query_then_cancel(self, harness: VenueHarness) -> None:
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        qty = qty_for(inst, price)
        o = make_order(v, sym, Side.BUY, qty, price)
        rep = await v.place_order(o)
        assert rep.state is OrderState.ACCEPTED
        assert rep.client_order_id == o.client_order_id and rep.venue_order_id
        assert rep.symbol == sym and rep.filled_qty == 0 and not rep.fills
        q = await v.query_order(sym, o.client_order_id)
        assert q.state is OrderState.ACCEPTED
        assert q.venue_order_id == rep.venue_order_id and q.side is Side.BUY
        assert q.qty == qty and q.price == price
        c = await v.cancel_order(sym, o.client_order_id)
        assert c.state is OrderState.CANCELED and c.client_order_id == o.client_order_id
        assert (await v.query_order(sym, o.client_order_id)).state is OrderState.CANCELED

    async def test_cancel_unknown_is_not_found(self, harness: VenueHarness) -> None:
        v = harness.venue
        with pytest.raises(OrderNotFound) as ei:
            await v.cancel_order(harness.symbol, v.client_order_id(new_intent("nx")))
        assert ei.value.outcome is Outcome.REJECTED

    async def test_query_unknown_is_not_found(self, harness: VenueHarness) -> None:
        v = harness.venue
        with pytest.raises(OrderNotFound):
            await v.query_order(harness.symbol, v.client_order_id(new_intent("nx")))

    async def test_unknown_symbol_is_denied_locally(self, harness: VenueHarness) -> None:
        v = harness.venue
        o = make_order(v, "NOPE/NOPE", Side.BUY, Decimal(1), Decimal(1))
        with pytest.raises(UnknownSymbol):
            await v.place_order(o)

    async def test_market_order_fills_and_moves_balances(self, harness: VenueHarness) -> None:
        self.need(harness, "market")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        _, ask = await best(v, sym)
        before = await v.balances()
        qty = qty_for(inst, ask)
        o = make_order(v, sym, Side.BUY, qty)
        rep = await v.place_order(o)
        assert rep.state is OrderState.FILLED
        assert rep.filled_qty == qty
        assert rep.fills, "a filled market order reports its fills"
        assert sum((f.qty for f in rep.fills), Decimal(0)) == qty
        for f in rep.fills:
            assert isinstance(f, Fill) and f.trade_id and f.venue == v.name
            assert isinstance(f.price, Decimal) and f.price > 0 and f.side is Side.BUY
            assert f.client_order_id == o.client_order_id
        after = await v.balances()
        spent = sum((f.qty * f.price for f in rep.fills), Decimal(0))
        base_fee = sum((f.fee for f in rep.fills if f.fee_asset == inst.base), Decimal(0))
        quote_fee = sum((f.fee for f in rep.fills if f.fee_asset == inst.quote), Decimal(0))

        def total(b: dict[str, Balance], asset: str) -> Decimal:
            return b[asset].total if asset in b else Decimal(0)

        assert total(after, inst.base) - total(before, inst.base) == qty - base_fee
        assert total(before, inst.quote) - total(after, inst.quote) == spent + quote_fee

    async def test_ioc_that_cannot_fill_is_canceled(self, harness: VenueHarness) -> None:
        self.need(harness, "ioc")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price, tif=TimeInForce.IOC)
        rep = await v.place_order(o)
        assert rep.state is OrderState.CANCELED and rep.filled_qty == 0
        assert (await v.query_order(sym, o.client_order_id)).state is OrderState.CANCELED

    async def test_post_only_that_would_cross_is_invalid(self, harness: VenueHarness) -> None:
        self.need(harness, "post_only")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        _, ask = await best(v, sym)
        price = inst.round_price(ask * Decimal("1.01"), Side.SELL)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price, tif=TimeInForce.POST_ONLY)
        with pytest.raises(InvalidOrder) as ei:
            await v.place_order(o)
        assert ei.value.outcome is Outcome.REJECTED

    async def test_insufficient_funds(self, harness: VenueHarness) -> None:
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bal = await v.balances()
        _, ask = await best(v, sym)
        base_free = bal[inst.base].free if inst.base in bal else Decimal(0)
        step = inst.step_size
        qty = ((base_free * Decimal("1.1") + inst.min_qty) / step).to_integral_value(rounding=ROUND_UP) * step
        if inst.max_qty and qty > inst.max_qty:
            pytest.skip("the test account holds more base asset than one order may sell")
        price = inst.round_price(ask * Decimal("1.01"), Side.SELL)
        if inst.max_price and price > inst.max_price:
            price = inst.max_price
        o = make_order(v, sym, Side.SELL, qty.quantize(step), price)
        with pytest.raises(InsufficientFunds):
            await v.place_order(o)

    async def test_duplicate_client_id_among_open_orders(self, harness: VenueHarness) -> None:
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        first = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
        await v.place_order(first)
        again = make_order(v, sym, Side.BUY, qty_for(inst, price), price - inst.tick_size,
                           client_order_id=first.client_order_id)
        with pytest.raises(DuplicateClientOrderId):
            await v.place_order(again)

    async def test_open_orders_lists_the_resting_one(self, harness: VenueHarness) -> None:
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        o = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
        await v.place_order(o)
        for listing in (await v.open_orders(sym), await v.open_orders()):
            mine = [r for r in listing if r.client_order_id == o.client_order_id]
            assert len(mine) == 1
            assert mine[0].state is OrderState.ACCEPTED and mine[0].symbol == sym
        await v.cancel_order(sym, o.client_order_id)
        assert o.client_order_id not in {r.client_order_id for r in await v.open_orders(sym)}

    async def test_my_trades_returns_the_fills(self, harness: VenueHarness) -> None:
        self.need(harness, "market")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        _, ask = await best(v, sym)
        o = make_order(v, sym, Side.BUY, qty_for(inst, ask))
        rep = await v.place_order(o)
        assert rep.fills
        mine = await v.my_trades(sym, o.client_order_id)
        assert {f.trade_id for f in mine} == {f.trade_id for f in rep.fills}
        by_id = {f.trade_id: f for f in mine}
        for f in rep.fills:
            t = by_id[f.trade_id]
            assert t.qty == f.qty and t.price == f.price and t.side is Side.BUY
            assert t.symbol == sym
        everything = await v.my_trades(sym)
        assert {f.trade_id for f in rep.fills} <= {f.trade_id for f in everything}

    # -- market data -------------------------------------------------------------------
    async def test_order_book_is_sane(self, harness: VenueHarness) -> None:
        v, sym = harness.venue, harness.symbol
        book = await v.order_book(sym, 10)
        assert isinstance(book, BookSnapshot) and book.symbol == sym
        assert book.bids and book.asks and len(book.bids) <= 10
        bids = [lv.price for lv in book.bids]
        asks = [lv.price for lv in book.asks]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert bids[0] < asks[0]
        assert all(lv.qty > 0 for lv in (*book.bids, *book.asks))

    async def test_watch_book_matches_rest_and_sees_our_order(
        self, harness: VenueHarness
    ) -> None:
        self.need(harness, "watch_book")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        stream: AsyncIterator[BookSnapshot] = v.watch_book(sym)
        try:
            matched = False
            for _ in range(15):
                snap = await asyncio.wait_for(anext(stream), WAIT)
                assert snap.bids and snap.asks and snap.bids[0].price < snap.asks[0].price
                rest = await v.order_book(sym, 5)
                if snap.bids[0] == rest.bids[0] and snap.asks[0] == rest.asks[0]:
                    matched = True
                    break
            assert matched, "the streamed book never agreed with the REST book"
            # a new best bid of ours must appear in the stream
            bid, ask = snap.bids[0].price, snap.asks[0].price
            price = inst.round_price(bid + inst.tick_size, Side.BUY)
            if price >= ask:
                price = bid
            qty = qty_for(inst, price, Decimal(3))
            o = make_order(v, sym, Side.BUY, qty, price)
            await v.place_order(o)
            for _ in range(30):
                snap = await asyncio.wait_for(anext(stream), WAIT)
                levels = {lv.price: lv.qty for lv in snap.bids}
                if price in levels and levels[price] >= qty:
                    break
            else:
                pytest.fail("our resting order never showed up in the streamed book")
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]

    # -- private stream ----------------------------------------------------------------
    async def test_private_events_deliver_order_updates_and_fills(
        self, harness: VenueHarness
    ) -> None:
        self.need(harness, "private_events")
        self.need(harness, "market")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        async with pumped(v) as (queue, task):
            _, ask = await best(v, sym)
            await until_live(v, sym, queue, task, "no order update arrived on the private stream")

            o = make_order(v, sym, Side.BUY, qty_for(inst, ask))
            rep = await v.place_order(o)
            trade_ids = {f.trade_id for f in rep.fills}
            seen: set[str] = set()
            final: OrderReport | None = None
            while seen != trade_ids:
                r = await wait_for_report(
                    queue, lambda r: r.client_order_id == o.client_order_id, WAIT
                )
                assert r is not None, f"missing fills on the stream: {trade_ids - seen}"
                for f in r.fills:
                    assert f.client_order_id == o.client_order_id and f.price > 0
                    seen.add(f.trade_id)
                final = r
            assert final is not None and final.state is OrderState.FILLED

    async def test_private_events_reconnect_marker_then_more_events(
        self, harness: VenueHarness
    ) -> None:
        self.need(harness, "private_events")
        self.need(harness, "faults")
        v, sym = harness.venue, harness.symbol
        async with pumped(v) as (queue, task):
            await until_live(v, sym, queue, task, "private stream never went live")
            harness.sim.faults.disconnect_ws()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT
            while True:
                ev = await asyncio.wait_for(queue.get(), max(0.01, deadline - loop.time()))
                if isinstance(ev, Reconnected):
                    assert ev.venue == v.name
                    break
            # after the marker the stream delivers again (consumers gap-fill via REST)
            await until_live(v, sym, queue, task, "no events after the reconnect")

    async def test_watch_book_survives_a_disconnect(self, harness: VenueHarness) -> None:
        self.need(harness, "watch_book")
        self.need(harness, "faults")
        v, sym = harness.venue, harness.symbol
        stream: AsyncIterator[BookSnapshot] = v.watch_book(sym)
        try:
            await asyncio.wait_for(anext(stream), WAIT)
            harness.sim.faults.disconnect_ws()
            inst = v.instrument(sym)
            # after the drop the book is rebuilt and keeps tracking REST
            for _ in range(15):
                snap = await asyncio.wait_for(anext(stream), WAIT)
                assert snap.bids[0].price < snap.asks[0].price
                rest = await v.order_book(sym, 5)
                if snap.bids[0] == rest.bids[0] and snap.asks[0] == rest.asks[0]:
                    break
            else:
                pytest.fail("book never re-converged after the disconnect")
            assert inst.symbol == snap.symbol
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]

    async def test_order_rate_limit_is_retryable(self, harness: VenueHarness) -> None:
        self.need(harness, "rate_limit_faults")
        v, sym = harness.venue, harness.symbol
        inst = v.instrument(sym)
        bid, _ = await best(v, sym)
        price = passive_buy_price(inst, bid)
        harness.sim.faults.order_limit_10s = 1
        with pytest.raises(RateLimited) as ei:
            for _ in range(5):
                await v.place_order(make_order(v, sym, Side.BUY, qty_for(inst, price), price))
        assert ei.value.outcome is Outcome.RETRYABLE and not ei.value.banned


#: what contract modules import from here
__all__ = [
    "ALL_CAPABILITIES",
    "HostileProxy",
    "MODES",
    "SIM_FEATURES",
    "VenueContract",
    "VenueHarness",
    "WAIT",
    "best",
    "declared_capabilities",
    "make_order",
    "new_intent",
    "passive_buy_price",
    "pumped",
    "qty_for",
    "until_live",
    "wait_for_report",
]
