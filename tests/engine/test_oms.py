"""The engine end to end: Binance simulator over loopback, real adapter, real SQLite journal."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from gapless.engine import Engine
from gapless.model import OrderIntent, OrderState, OrderType, Side, TimeInForce
from gapless.model.errors import (
    FilterViolation,
    InsufficientBalance,
    InvalidIntent,
    UnknownSymbol,
)

SYM = "BTC/USDT"


def intent(iid: str, side: Side = Side.BUY, type_: OrderType = OrderType.LIMIT, qty: str = "0.01",
           price: Decimal | None = None, tif: TimeInForce = TimeInForce.GTC, symbol: str = SYM) -> OrderIntent:
    return OrderIntent(intent_id=iid, venue="binance", symbol=symbol, side=side, type=type_,
                       qty=Decimal(qty), price=price, tif=tif)


async def far_bid(engine: Engine) -> Decimal:
    venue = engine.venue("binance")
    book = await venue.order_book(SYM, 5)
    return venue.instrument(SYM).round_price(book.bids[0].price * Decimal("0.9"), Side.BUY)


def venue_orders(sim: Any) -> list[Any]:
    return [o for o in sim.exchange.user_orders() if o.symbol == SYM]


async def test_resting_order_is_journaled_then_cancelled(engine: Engine, sim: Any) -> None:
    price = await far_bid(engine)
    order = await engine.submit(intent("rest-1", price=price))
    assert order.state is OrderState.ACCEPTED
    assert order.venue_order_id
    stored = await engine.journal.get("rest-1")
    assert stored is not None and stored.state is OrderState.ACCEPTED
    assert stored.client_order_id == order.client_order_id
    assert [o.client_order_id for o in venue_orders(sim)] == [order.client_order_id]
    assert order.times.journaled <= order.times.sent <= order.times.acked

    done = await engine.cancel("rest-1")
    assert done.state is OrderState.CANCELED
    stored = await engine.journal.get("rest-1")
    assert stored is not None and stored.state is OrderState.CANCELED


async def test_market_order_fills_and_fills_are_journaled(engine: Engine) -> None:
    order = await engine.submit(intent("mkt-1", type_=OrderType.MARKET, qty="0.02"))
    assert order.state is OrderState.FILLED
    assert order.filled_qty == Decimal("0.02")
    fills = await engine.journal.fills("mkt-1")
    assert sum((f.qty for f in fills), Decimal(0)) == Decimal("0.02")
    assert len({f.trade_id for f in fills}) == len(fills)
    assert order.avg_price is not None and order.avg_price > 0


async def test_resubmitting_an_intent_does_not_duplicate(engine: Engine, sim: Any) -> None:
    price = await far_bid(engine)
    a = await engine.submit(intent("dup-1", price=price))
    b = await engine.submit(intent("dup-1", price=price))
    assert a.client_order_id == b.client_order_id
    assert len([o for o in venue_orders(sim) if o.client_order_id == a.client_order_id]) == 1


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (dict(symbol="DOGE/USDT"), UnknownSymbol),
        (dict(qty="0.000001"), FilterViolation),
        (dict(qty="-1"), InvalidIntent),
        (dict(qty="5000"), InsufficientBalance),
    ],
)
async def test_bad_intents_are_typed_and_journal_nothing(
    engine: Engine, sim: Any, bad: dict[str, Any], error: type[Exception]
) -> None:
    price = await far_bid(engine)
    kw: dict[str, Any] = dict(price=price)
    kw.update(bad)
    with pytest.raises(error):
        await engine.submit(intent("bad-1", **kw))
    assert await engine.journal.get("bad-1") is None
    assert venue_orders(sim) == []


async def test_venue_rejection_is_final_and_journaled(engine: Engine) -> None:
    venue = engine.venue("binance")
    book = await venue.order_book(SYM, 5)
    crossing = book.asks[0].price + venue.instrument(SYM).tick_size * 10
    order = await engine.submit(intent("po-1", price=crossing, tif=TimeInForce.POST_ONLY))
    assert order.state is OrderState.REJECTED
    stored = await engine.journal.get("po-1")
    assert stored is not None and stored.state is OrderState.REJECTED and stored.reject_reason


async def test_lost_response_is_resolved_by_query_not_resent(engine: Engine, sim: Any) -> None:
    price = await far_bid(engine)
    sim.faults.drop_response_next = 1
    order = await engine.submit(intent("lost-1", price=price))
    assert sim.faults.drop_response_next == 0, "the fault must fire"
    assert order.times.expires > 0  # it went through UNKNOWN, with its validity bound
    assert order.state is OrderState.ACCEPTED  # found by client id after the unknown outcome
    mine = [o for o in venue_orders(sim) if o.client_order_id == order.client_order_id]
    assert len(mine) == 1


async def test_refused_connection_is_retried_then_rejected_without_landing(engine: Engine, sim: Any) -> None:
    price = await far_bid(engine)
    sim.faults.outage = "refuse"  # the venue's port refuses connections: provably not sent
    try:
        order = await engine.submit(intent("out-1", price=price))
    finally:
        sim.faults.outage = None
    assert order.state is OrderState.REJECTED and "not accepted" in order.reject_reason
    assert [o for o in venue_orders(sim) if o.client_order_id == order.client_order_id] == []


async def test_unknown_outcome_stays_unknown_until_the_venue_answers(engine: Engine, sim: Any) -> None:
    """Accepted but the answer is lost, and the venue then becomes unreachable: the engine
    cannot prove anything, so the order stays UNKNOWN (journaled), never "failed" and never
    re-sent; once the venue is back, a status query settles it."""
    price = await far_bid(engine)
    sim.faults.drop_response_next = 1

    async def outage_after_accept() -> None:
        while not venue_orders(sim):
            await asyncio.sleep(0.001)
        sim.faults.outage = "refuse"

    watcher = asyncio.create_task(outage_after_accept())
    try:
        order = await engine.submit(intent("unk-1", price=price))
        assert order.state is OrderState.UNKNOWN
        stored = await engine.journal.get("unk-1")
        assert stored is not None and stored.state is OrderState.UNKNOWN
    finally:
        watcher.cancel()
        sim.faults.outage = None
    # the failed queries opened the breaker (default settings); its half-open probe would
    # close it after reset_after: do that now instead of waiting
    from gapless.transport.breaker import ConnKind

    engine.venue("binance").breakers.get(ConnKind.REST_PRIVATE).record_success()  # type: ignore[attr-defined]
    order = await engine.status("unk-1")
    assert order.state is OrderState.ACCEPTED
    assert len([o for o in venue_orders(sim) if o.client_order_id == order.client_order_id]) == 1


async def test_partial_fill_arrives_on_private_stream(engine: Engine, sim: Any) -> None:
    await engine.close()  # restart with streams on
    await engine.start(streams=True)
    await asyncio.sleep(0.3)
    venue = engine.venue("binance")
    book = await venue.order_book(SYM, 5)
    price = book.asks[0].price + venue.instrument(SYM).tick_size * 1000
    order = await engine.submit(intent("ps-1", side=Side.SELL, qty="0.05", price=price))
    assert order.state is OrderState.ACCEPTED
    sim.exchange.synthetic_take(SYM, "BUY", Decimal("0.02"), price)
    for _ in range(200):
        if order.state is OrderState.PARTIALLY_FILLED:
            break
        await asyncio.sleep(0.02)
    assert order.state is OrderState.PARTIALLY_FILLED
    assert order.filled_qty == Decimal("0.02")
    fills = await engine.journal.fills("ps-1")
    assert sum((f.qty for f in fills), Decimal(0)) == Decimal("0.02")


async def test_order_is_durable_before_its_request_is_sent(sim: Any, tmp_path: Any) -> None:
    """Write-ahead: at the moment the adapter is asked to send, a *separate* SQLite
    connection already sees the order row (committed, not just buffered)."""
    import sqlite3

    from gapless.store.sqlite import SqliteJournal
    from gapless.venues.base import Credentials, VenueConfig
    from gapless.venues.binance.adapter import BinanceVenue

    db = tmp_path / "wal.sqlite"
    seen: list[bool] = []

    class Watching(BinanceVenue):
        async def place_order(self, order: Any) -> Any:
            con = sqlite3.connect(db)
            try:
                row = con.execute("SELECT state FROM orders WHERE intent_id = ?",
                                  (order.intent_id,)).fetchone()
            finally:
                con.close()
            seen.append(row is not None)
            return await super().place_order(order)

    journal = SqliteJournal(db)
    await journal.open()
    cfg = VenueConfig(name="binance", driver="binance", rest_url=sim.rest_url, ws_url=sim.ws_url,
                      credentials=Credentials(api_key=sim.api_key, secret=sim.secret))
    eng = Engine(journal, {"binance": Watching(cfg)})
    await eng.start()
    try:
        price = await far_bid(eng)
        await asyncio.gather(*(eng.submit(intent(f"wal-{i}", price=price)) for i in range(5)))
    finally:
        await eng.close()
        await journal.close()
    assert seen == [True] * 5


async def test_resubmitting_after_a_restart_is_answered_from_the_journal(
    engine: Engine, sim: Any
) -> None:
    """A fresh engine (new process) knows nothing in memory: the journal answers the
    resubmitted intent id and nothing is sent."""
    price = await far_bid(engine)
    first = await engine.submit(intent("restart-dup", price=price))
    fresh = Engine(engine.journal, {"binance": engine.venue("binance")})
    assert fresh.orders() == []
    again = await fresh.submit(intent("restart-dup", price=price))
    assert again.client_order_id == first.client_order_id and again.state is first.state
    mine = [o for o in venue_orders(sim) if o.client_order_id == first.client_order_id]
    assert len(mine) == 1


async def test_concurrent_submits_of_one_intent_make_one_order(engine: Engine, sim: Any) -> None:
    price = await far_bid(engine)
    orders = await asyncio.gather(*(engine.submit(intent("race-1", price=price)) for _ in range(4)))
    assert {o.client_order_id for o in orders} == {orders[0].client_order_id}
    assert len([o for o in venue_orders(sim) if o.client_order_id == orders[0].client_order_id]) == 1


async def test_dead_letters_are_drained_by_reconciliation(engine: Engine, sim: Any) -> None:
    """An update the stream could not deliver (parked as a dead letter) is recovered by
    the reconciliation that drains the queue: the order catches up with the venue."""
    venue = engine.venue("binance")
    book = await venue.order_book(SYM, 5)
    price = book.asks[0].price + venue.instrument(SYM).tick_size * 1000
    order = await engine.submit(intent("dl-1", side=Side.SELL, qty="0.05", price=price))
    assert order.state is OrderState.ACCEPTED
    sim.exchange.synthetic_take(SYM, "BUY", Decimal("0.03"), price)  # engine not told
    venue.dlq.put("binance", "user", b"\x00garbled executionReport", "unparseable frame")

    letters = await engine.drain_dead_letters()
    assert [dl.reason for dl in letters] == ["unparseable frame"]
    assert len(venue.dlq) == 0 and engine.dead_letters_drained == 1
    assert order.state is OrderState.PARTIALLY_FILLED and order.filled_qty == Decimal("0.03")
    stored = await engine.journal.get("dl-1")
    assert stored is not None and stored.filled_qty == Decimal("0.03")


async def test_recovery_after_dying_mid_cancel_adopts_the_venue_state(
    engine: Engine, sim: Any, tmp_path: Any
) -> None:
    """The journal says PENDING_CANCEL (the process died before its cancel reached the
    venue); a restarted engine must learn from the venue that the order still rests."""
    price = await far_bid(engine)
    order = await engine.submit(intent("mid-cancel", price=price))
    assert order.state is OrderState.ACCEPTED
    order.state = OrderState.PENDING_CANCEL
    await engine.journal.update(order)

    fresh = Engine(engine.journal, {"binance": engine.venue("binance")})
    recovered = await fresh.recover()
    assert [o.intent_id for o in recovered] == ["mid-cancel"]
    assert recovered[0].state is OrderState.ACCEPTED
    stored = await engine.journal.get("mid-cancel")
    assert stored is not None and stored.state is OrderState.ACCEPTED
    done = await fresh.cancel("mid-cancel")
    assert done.state is OrderState.CANCELED


async def test_open_circuit_denies_without_sending(sim: Any, tmp_path: Any) -> None:
    """A venue whose private REST breaker is open: the order is journaled, never sent, and
    ends DENIED (not "failed", not unknown)."""
    from gapless.store.sqlite import SqliteJournal
    from gapless.transport.breaker import ConnKind, FailureKind
    from gapless.venues.base import Credentials, VenueConfig
    from gapless.venues.registry import create_venue

    journal = SqliteJournal(tmp_path / "cb.sqlite")
    await journal.open()
    venue = create_venue(VenueConfig(name="binance", driver="binance", rest_url=sim.rest_url,
                                     ws_url=sim.ws_url, credentials=Credentials(
                                         api_key=sim.api_key, secret=sim.secret)))
    eng = Engine(journal, {"binance": venue}, max_retry_wait=0.1)
    await eng.start()
    try:
        price = await far_bid(eng)
        breaker = venue.breakers.get(ConnKind.REST_PRIVATE)  # type: ignore[attr-defined]
        for _ in range(10):
            breaker.record_failure(FailureKind.VENUE_DOWN)
        order = await eng.submit(intent("cb-1", price=price))
        assert order.state is OrderState.DENIED and "circuit open" in order.reject_reason
        stored = await journal.get("cb-1")
        assert stored is not None and stored.state is OrderState.DENIED
        assert venue_orders(sim) == []
    finally:
        await eng.close()
        await journal.close()


async def test_cancel_during_a_slow_create_waits_for_it_and_cancels(engine: Engine, sim: Any) -> None:
    price = await far_bid(engine)
    sim.faults.latency_ms = 300
    try:
        submit = asyncio.create_task(engine.submit(intent("slow-1", price=price)))
        while not venue_orders(sim):  # the create has reached the venue; its answer is slow
            await asyncio.sleep(0.001)
        cancelled = await engine.cancel("slow-1")
    finally:
        sim.faults.latency_ms = 0
    order = await submit
    assert cancelled is order and order.state is OrderState.CANCELED
    mine = [o for o in venue_orders(sim) if o.client_order_id == order.client_order_id]
    assert len(mine) == 1 and mine[0].status == "CANCELED"
