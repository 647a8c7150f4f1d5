"""Contract suite every ``Journal`` backend must pass (parametrized in conftest.py)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import msgspec
import pytest

from gapless.model import (
    DuplicateIntent,
    Fill,
    JournalError,
    Order,
    OrderEvent,
    OrderState,
    OrderType,
    Side,
    StageTimes,
    TimeInForce,
)
from gapless.model.fsm import apply_fill, transition
from gapless.store.journal import Journal

from .conftest import JournalFactory


def make_order(n: int | str = 1, **kw: object) -> Order:
    fields: dict[str, object] = dict(
        intent_id=f"intent-{n}",
        venue="binance",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.00100000"),
        price=Decimal("65000.10"),
        tif=TimeInForce.GTC,
        client_order_id=f"gl-{n}",
    )
    fields.update(kw)
    return Order(**fields)  # type: ignore[arg-type]


def make_fill(trade_id: str = "t1", qty: str = "0.0004", price: str = "65000.10") -> Fill:
    return Fill(
        venue="binance",
        trade_id=trade_id,
        symbol="BTC/USDT",
        side=Side.BUY,
        qty=Decimal(qty),
        price=Decimal(price),
        fee=Decimal("0.00000040"),
        fee_asset="BTC",
        is_maker=True,
        ts_ms=1_700_000_000_123,
        client_order_id="gl-1",
        venue_order_id="42",
    )


def assert_same(a: Order, b: Order) -> None:
    """Field-by-field equality, including Decimal exponents (exact text round-trip)."""
    assert a == b
    for name in ("qty", "price", "filled_qty", "quote_filled"):
        va, vb = getattr(a, name), getattr(b, name)
        assert str(va) == str(vb), name
    assert {k: str(v) for k, v in a.fees.items()} == {k: str(v) for k, v in b.fees.items()}


class TestJournalContract:
    async def test_round_trip_exact(self, journal: Journal) -> None:
        o = make_order(
            qty=Decimal("0.00000001"),
            price=Decimal("123456789.123456789012345678"),
            times=StageTimes(intent=1, checked=2, journaled=3),
        )
        await journal.record_new(o)
        got = await journal.get(o.intent_id)
        assert got is not None
        assert_same(got, o)
        assert got.qty == Decimal("1E-8")
        assert await journal.get("missing") is None

    async def test_market_order_without_price(self, journal: Journal) -> None:
        o = make_order(type=OrderType.MARKET, price=None, tif=TimeInForce.IOC)
        await journal.record_new(o)
        got = await journal.get(o.intent_id)
        assert got is not None and got.price is None
        assert_same(got, o)

    async def test_update(self, journal: Journal) -> None:
        o = make_order()
        await journal.record_new(o)
        transition(o, OrderState.SUBMITTED)
        transition(o, OrderState.ACCEPTED)
        o.venue_order_id = "987654321"
        assert apply_fill(o, make_fill("t1"))
        o.times.sent = 11
        o.times.acked = 12
        o.times.first_fill = 13
        await journal.update(o)
        got = await journal.get(o.intent_id)
        assert got is not None
        assert got.state is OrderState.PARTIALLY_FILLED
        assert got.fill_ids == ["t1"]
        assert got.fees == {"BTC": Decimal("0.00000040")}
        assert_same(got, o)

    async def test_update_unknown_intent_raises(self, journal: Journal) -> None:
        with pytest.raises(JournalError):
            await journal.update(make_order("ghost"))

    async def test_fills_idempotent(self, journal: Journal) -> None:
        o = make_order()
        await journal.record_new(o)
        f1, f2 = make_fill("t1"), make_fill("t2", qty="0.0006", price="65000.2")
        assert await journal.record_fill(f1, o.intent_id) is True
        assert await journal.record_fill(f1, o.intent_id) is False
        assert await journal.record_fill(f2, o.intent_id) is True
        assert await journal.record_fill(f2, o.intent_id) is False
        got = await journal.fills(o.intent_id)
        assert got == [f1, f2]
        assert str(got[0].fee) == str(f1.fee)
        assert await journal.fills("other") == []

    async def test_same_trade_id_on_other_venue_is_distinct(self, journal: Journal) -> None:
        o = make_order()
        await journal.record_new(o)
        f = make_fill("t1")
        other = Fill(**{**{k: getattr(f, k) for k in f.__struct_fields__}, "venue": "okx"})
        assert await journal.record_fill(f, o.intent_id)
        assert await journal.record_fill(other, o.intent_id)

    async def test_open_orders_excludes_terminal(self, journal: Journal) -> None:
        states = list(OrderState)
        for i, st in enumerate(states):
            await journal.record_new(make_order(i, state=st))
        open_ids = {o.intent_id for o in await journal.open_orders()}
        expected = {f"intent-{i}" for i, st in enumerate(states) if not st.is_terminal}
        assert open_ids == expected
        assert len(await journal.all_orders()) == len(states)

    async def test_update_to_terminal_leaves_open_orders(self, journal: Journal) -> None:
        o = make_order()
        await journal.record_new(o)
        assert [x.intent_id for x in await journal.open_orders()] == [o.intent_id]
        transition(o, OrderState.SUBMITTED)
        transition(o, OrderState.REJECTED)
        o.reject_reason = "insufficient funds"
        await journal.update(o)
        assert await journal.open_orders() == []
        got = await journal.get(o.intent_id)
        assert got is not None and got.reject_reason == "insufficient funds"

    async def test_find_by_client_id(self, journal: Journal) -> None:
        a = make_order(1)
        b = make_order(2, venue="okx", client_order_id="gl-1")  # same client id, other venue
        await journal.record_new(a)
        await journal.record_new(b)
        got_a = await journal.find_by_client_id("binance", "gl-1")
        got_b = await journal.find_by_client_id("okx", "gl-1")
        assert got_a is not None and got_a.intent_id == a.intent_id
        assert got_b is not None and got_b.intent_id == b.intent_id
        assert await journal.find_by_client_id("binance", "nope") is None

    async def test_duplicate_intent_rejected(self, journal: Journal) -> None:
        o = make_order()
        await journal.record_new(o)
        with pytest.raises(DuplicateIntent):
            await journal.record_new(make_order(1, qty=Decimal(5)))
        got = await journal.get(o.intent_id)
        assert got is not None and got.qty == o.qty  # original untouched

    async def test_duplicate_client_order_id_rejected(self, journal: Journal) -> None:
        await journal.record_new(make_order(1))
        with pytest.raises(DuplicateIntent):
            await journal.record_new(make_order(2, client_order_id="gl-1"))
        assert await journal.get("intent-2") is None

    async def test_failure_in_batch_does_not_affect_neighbours(self, journal: Journal) -> None:
        await journal.record_new(make_order("dup"))
        results = await asyncio.gather(
            *(journal.record_new(make_order(i)) for i in range(20)),
            journal.record_new(make_order("dup")),
            *(journal.record_new(make_order(i)) for i in range(20, 40)),
            return_exceptions=True,
        )
        assert isinstance(results[20], DuplicateIntent)
        assert [r for i, r in enumerate(results) if i != 20] == [[]] * 40  # no events: no seqs
        assert len(await journal.all_orders()) == 41

    async def test_group_commit_concurrent_writes_durable(
        self, journal_factory: JournalFactory
    ) -> None:
        j = journal_factory()
        await j.open()
        n = 300
        await asyncio.gather(*(j.record_new(make_order(i)) for i in range(n)))
        stats = getattr(j, "stats", None)
        if stats is not None:  # backends exposing writer stats: writes really were grouped
            assert stats.writes == n
            assert stats.batches < n
        await j.close()
        fresh = journal_factory()
        await fresh.open()
        try:
            ids = {o.intent_id for o in await fresh.all_orders()}
            assert ids == {f"intent-{i}" for i in range(n)}
        finally:
            await fresh.close()

    async def test_reopen_after_close_persists(self, journal_factory: JournalFactory) -> None:
        j = journal_factory()
        await j.open()
        o = make_order()
        await j.record_new(o)
        transition(o, OrderState.SUBMITTED)
        await j.update(o)
        assert await j.record_fill(make_fill("t9"), o.intent_id)
        await j.close()

        j2 = journal_factory()
        await j2.open()
        try:
            got = await j2.get(o.intent_id)
            assert got is not None
            assert_same(got, o)
            assert [f.trade_id for f in await j2.fills(o.intent_id)] == ["t9"]
            assert not await j2.record_fill(make_fill("t9"), o.intent_id)
        finally:
            await j2.close()

    async def test_write_after_close_raises(self, journal_factory: JournalFactory) -> None:
        j = journal_factory()
        await j.open()
        await j.close()
        with pytest.raises(JournalError):
            await j.record_new(make_order())

    async def test_read_your_writes_under_interleaving(self, journal: Journal) -> None:
        async def one(i: int) -> None:
            o = make_order(i)
            await journal.record_new(o)
            got = await journal.get(o.intent_id)
            assert got is not None and got.client_order_id == o.client_order_id

        await asyncio.gather(*(one(i) for i in range(50)))

    async def test_events_are_appended_with_the_row_and_replayed_in_order(
        self, journal: Journal
    ) -> None:
        o = make_order("ev")
        created = OrderEvent(seq=0, intent_id="ev", venue=o.venue,
                             client_order_id=o.client_order_id, previous=None,
                             state=OrderState.CREATED, at=1)
        (s1,) = await journal.record_new(o, [created])
        transition(o, OrderState.SUBMITTED)
        transition(o, OrderState.ACCEPTED)
        steps = [msgspec.structs.replace(created, previous=OrderState.CREATED,
                                         state=OrderState.SUBMITTED, at=2),
                 msgspec.structs.replace(created, previous=OrderState.SUBMITTED,
                                         state=OrderState.ACCEPTED, reason="acked", at=3)]
        s2, s3 = await journal.update(o, steps)
        assert s1 < s2 < s3 and await journal.last_event_seq() == s3
        replay = await journal.events_since(0)
        assert [e.seq for e in replay] == [s1, s2, s3]
        assert [(e.previous, e.state) for e in replay] == [
            (None, OrderState.CREATED), (OrderState.CREATED, OrderState.SUBMITTED),
            (OrderState.SUBMITTED, OrderState.ACCEPTED)]
        assert replay[2].reason == "acked" and replay[2].at == 3
        assert [e.seq for e in await journal.events_since(s1)] == [s2, s3]

    async def test_events_of_a_failed_write_are_not_journaled(self, journal: Journal) -> None:
        await journal.record_new(make_order("dup-ev"))
        before = await journal.last_event_seq()
        ev = OrderEvent(seq=0, intent_id="dup-ev", venue="binance", client_order_id="x",
                        previous=None, state=OrderState.CREATED)
        with pytest.raises(DuplicateIntent):
            await journal.record_new(make_order("dup-ev"), [ev])
        assert await journal.last_event_seq() == before
