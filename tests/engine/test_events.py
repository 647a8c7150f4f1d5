"""Engine events over real sockets: one ``OrderEvent`` per state change, journaled and
offered to every subscriber; a slow subscriber gets a gap marker, never blocks orders."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gapless.engine import Engine
from gapless.model import (
    EventGap,
    LocalDenial,
    OrderEvent,
    OrderIntent,
    OrderState,
    OrderType,
    Side,
)
from gapless.store.sqlite import SqliteJournal
from gapless.venues.registry import create_venue

from .conftest import venue_config

S = OrderState
SYM = "BTC/USDT"


async def far_price(eng: Engine, side: Side) -> Decimal:
    venue = eng.venue("binance")
    book = await venue.order_book(SYM, 5)
    inst = venue.instrument(SYM)
    if side is Side.BUY:
        return inst.round_price(book.bids[0].price * Decimal("0.9"), side)
    return inst.round_price(book.asks[0].price * Decimal("1.1"), side)


def limit(iid: str, side: Side, price: Decimal, qty: str = "0.05") -> OrderIntent:
    return OrderIntent(intent_id=iid, venue="binance", symbol=SYM, side=side,
                       type=OrderType.LIMIT, qty=Decimal(qty), price=price)


async def until(pred: Any, what: str) -> None:
    async with asyncio.timeout(10):
        while not pred():
            await asyncio.sleep(0.01)


def transitions(events: list[OrderEvent], iid: str) -> list[tuple[S | None, S]]:
    return [(e.previous, e.state) for e in events if e.intent_id == iid]


async def test_resting_then_cancelled_order_events(engine: Engine) -> None:
    sub = engine.events()
    got: list[OrderEvent] = []

    async def collect() -> None:
        async for e in sub:
            assert isinstance(e, OrderEvent)
            got.append(e)

    task = asyncio.create_task(collect())
    order = await engine.submit(limit("ev-rest", Side.BUY, await far_price(engine, Side.BUY)))
    assert order.state is S.ACCEPTED
    await engine.cancel("ev-rest")
    await until(lambda: any(e.state is S.CANCELED for e in got), "the cancel event")
    sub.close()
    await task
    assert transitions(got, "ev-rest") == [
        (None, S.CREATED), (S.CREATED, S.SUBMITTED), (S.SUBMITTED, S.ACCEPTED),
        (S.ACCEPTED, S.PENDING_CANCEL), (S.PENDING_CANCEL, S.CANCELED)]
    seqs = [e.seq for e in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(e.client_order_id == order.client_order_id and e.venue == "binance" for e in got)
    assert got[2].times.acked > 0 and got[0].times.journaled == 0  # stamped as they happened
    # the journal holds exactly what subscribers saw
    replay = [e for e in await engine.journal.events_since(0) if e.intent_id == "ev-rest"]
    assert replay == got


async def test_partial_fill_events_carry_the_fill(sim: Any, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "ev.sqlite")
    await journal.open()
    eng = Engine(journal, {"binance": create_venue(venue_config(sim))})
    await eng.start(streams=True)
    try:
        first, second = eng.events(), eng.events()  # several subscribers at once
        price = await far_price(eng, Side.SELL)
        order = await eng.submit(limit("ev-part", Side.SELL, price))
        assert order.state is S.ACCEPTED
        sim.exchange.synthetic_take(SYM, "BUY", Decimal("0.02"), price)
        await until(lambda: order.state is S.PARTIALLY_FILLED, "the partial fill")
        seen: list[list[OrderEvent]] = [[], []]
        for i, sub in enumerate((first, second)):
            async with asyncio.timeout(5):
                async for e in sub:
                    assert isinstance(e, OrderEvent)
                    seen[i].append(e)
                    if e.state is S.PARTIALLY_FILLED:
                        break
        assert seen[0] == seen[1]
        assert transitions(seen[0], "ev-part")[-1] == (S.ACCEPTED, S.PARTIALLY_FILLED)
        fill = seen[0][-1].fill
        assert fill is not None and fill.qty == Decimal("0.02") and fill.price == price
    finally:
        await eng.close()
        await journal.close()


async def test_a_slow_subscriber_gets_a_gap_and_replays_from_the_journal(engine: Engine) -> None:
    slow = engine.events(maxsize=3)  # never read while orders flow
    price = await far_price(engine, Side.BUY)
    for i in range(4):  # 4 orders x 3 events: the slow queue overflows; orders never wait
        assert (await engine.submit(limit(f"ev-slow-{i}", Side.BUY, price, "0.01"))).state \
            is S.ACCEPTED
    await engine.journal.events_since(0)  # a read waits for the writes behind (and their events)
    delivered: list[OrderEvent] = []
    gap: EventGap | None = None
    async with asyncio.timeout(5):
        async for e in slow:
            if isinstance(e, EventGap):
                gap = e
                break
            delivered.append(e)
    assert len(delivered) == 3 and gap is not None
    assert gap.after_seq == delivered[-1].seq
    missed = await engine.journal.events_since(gap.after_seq)
    assert [e.seq for e in missed][: gap.until_seq - gap.after_seq] == list(
        range(gap.after_seq + 1, gap.until_seq + 1))
    everything = delivered + [e for e in missed if e.seq <= gap.until_seq]
    assert [e.intent_id for e in everything].count("ev-slow-3") == 3
    slow.close()


async def test_denied_intent_emits_nothing(engine: Engine) -> None:
    """Refused before the journal: no order, so no event, journaled or published."""
    sub = engine.events()
    with pytest.raises(LocalDenial):
        await engine.submit(limit("ev-bad", Side.BUY, Decimal("0.01"), "-1"))
    assert all(e.intent_id != "ev-bad" for e in await engine.journal.events_since(0))
    sub.close()
    assert [e async for e in sub] == []
