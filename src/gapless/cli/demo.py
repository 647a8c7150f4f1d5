"""``gapless demo``: simulators in-process, a SQLite journal, and a few orders end to end.

Shows the four everyday outcomes through the real engine and adapter over loopback:
a resting order, an immediately filled one, a partially filled one (a simulated taker hits
it; the fill arrives on the private stream), and a cancellation.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gapless import (
    Engine,
    GaplessConfig,
    Order,
    OrderIntent,
    OrderState,
    OrderType,
    Side,
    TimeInForce,
    open_engine,
)
from gapless.venues.base import Credentials, VenueConfig


async def _wait_state(order: Order, states: set[OrderState], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while order.state not in states and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def run_demo(venues: list[str], journal_path: Path | None, console: Console) -> list[Order]:
    from gapless.sim.cluster import SimCluster

    tmp = None
    if journal_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="gapless-demo-")
        journal_path = Path(tmp.name) / "journal.sqlite"
    all_orders: list[Order] = []
    try:
        async with SimCluster(venues, host="127.0.0.1", port_base=0, seed=42, tick_interval=0) as cluster:
            creds = cluster.credentials()
            config = GaplessConfig(journal=f"sqlite:///{journal_path.resolve()}", venues={
                name: VenueConfig(
                    name=name, driver=name, rest_url=c["rest_url"], ws_url=c["ws_url"],
                    credentials=Credentials(
                        api_key=c["api_key"], secret=c["secret"], passphrase=c["passphrase"]
                    ),
                )
                for name, c in creds.items()
            }, path="gapless demo")
            console.print(f"[bold]gapless demo[/bold]: simulators {', '.join(creds)}; journal {journal_path}")
            async with open_engine(config) as engine:  # recovers, follows private streams
                await asyncio.sleep(0.3)  # let the private streams subscribe
                for name in creds:
                    all_orders += await _drive(engine, name, cluster[name], console)
                _report(engine, all_orders, console)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return all_orders


async def _drive(engine: Engine, venue: str, sim: Any, console: Console) -> list[Order]:
    adapter = engine.venue(venue)
    symbol = "BTC/USDT"
    inst = adapter.instrument(symbol)
    book = await adapter.order_book(symbol, depth=5)
    bid, ask = book.bids[0].price, book.asks[0].price
    run = uuid.uuid4().hex[:6]

    def intent(tag: str, side: Side, type_: OrderType, qty: str, price: Decimal | None,
               tif: TimeInForce = TimeInForce.GTC) -> OrderIntent:
        return OrderIntent(intent_id=f"demo-{run}-{tag}", venue=venue, symbol=symbol, side=side,
                           type=type_, qty=Decimal(qty), price=price, tif=tif)

    console.print(f"\n[bold]{venue}[/bold] {symbol}: best bid {_num(bid)}  best ask {_num(ask)}")
    orders = []

    resting = await engine.submit(intent("resting", Side.BUY, OrderType.LIMIT, "0.01",
                                         inst.round_price(bid * Decimal("0.95"), Side.BUY)))
    console.print(f"  resting limit buy   -> {resting.state.value}")
    orders.append(resting)

    filled = await engine.submit(intent("market", Side.BUY, OrderType.MARKET, "0.02", None))
    console.print(f"  market buy          -> {filled.state.value}, avg {_num(filled.avg_price)}")
    orders.append(filled)

    # a resting sell inside the spread, then a simulated taker buys 40% of it
    px = inst.round_price(ask - inst.tick_size, Side.SELL) if ask - bid > inst.tick_size else ask
    partial = await engine.submit(intent("partial", Side.SELL, OrderType.LIMIT, "0.05", px))
    sim.exchange.synthetic_take(symbol, "BUY", Decimal("0.02"), px)
    await _wait_state(partial, {OrderState.PARTIALLY_FILLED, OrderState.FILLED})
    if partial.state is OrderState.ACCEPTED:  # stream slow: ask the venue
        await engine.status(partial.intent_id)
    console.print(f"  limit sell, hit 40% -> {partial.state.value}, filled {_num(partial.filled_qty)}")
    orders.append(partial)

    canceled = await engine.cancel(resting.intent_id)
    console.print(f"  cancel resting      -> {canceled.state.value}")
    await engine.cancel(partial.intent_id)
    console.print(f"  cancel partial rest -> {partial.state.value} (keeps its {_num(partial.filled_qty)} fill)")

    ioc = await engine.submit(intent("ioc", Side.BUY, OrderType.LIMIT, "0.01",
                                     inst.round_price(bid * Decimal("0.9"), Side.BUY), TimeInForce.IOC))
    console.print(f"  IOC far from market -> {ioc.state.value}")
    orders.append(ioc)
    return orders


def _num(d: Decimal | None) -> str:
    return "-" if d is None else f"{d.normalize():f}"


def _report(engine: Engine, orders: list[Order], console: Console) -> None:
    table = Table("venue", "order", "side", "type/tif", "qty", "price", "state", "filled", "avg px",
                  "ack ms", title="orders, as journaled")
    for o in orders:
        ack_ms = (o.times.acked - o.times.sent) / 1e6 if o.times.acked and o.times.sent else None
        avg = o.avg_price.quantize(Decimal("0.01")) if o.avg_price else None
        table.add_row(o.venue, o.intent_id.split("-")[-1], o.side.value, f"{o.type.value}/{o.tif.value}" if o.type is OrderType.LIMIT else o.type.value,
                      _num(o.qty), _num(o.price), o.state.value, _num(o.filled_qty), _num(avg),
                      f"{ack_ms:.2f}" if ack_ms is not None else "-")
    console.print(table)
    console.print(f"dead letters: {len(engine.dead_letters)} parked, {engine.dead_letters_drained} reconciled")
