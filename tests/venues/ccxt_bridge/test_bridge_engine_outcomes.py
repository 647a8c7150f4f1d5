"""Through the engine and the ccxt bridge, for every exchange with a simulator: every other
create's answer is dropped after the venue took the order; each is resolved by client id,
and re-submitting the intents sends nothing — 0 lost, 0 duplicated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gapless.engine import Engine
from gapless.model import OrderIntent, OrderState, OrderType, Side
from gapless.sim.cluster import start_venue_sim
from gapless.store.sqlite import SqliteJournal
from gapless.transport.backoff import Backoff
from gapless.venues.registry import create_venue

from ..contract import passive_buy_price, qty_for
from .harness import bridge_config
from .test_kraken_bridge_contract import BRIDGE_FAST, SIM_FAST

#: exchange -> (symbol, simulator options, bridge options)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "binance": ("BTC/USDT", {}, {}),
    "okx": ("BTC/USDT", {}, {}),
    "bybit": ("BTC/USDT", {}, {}),
    "kraken": ("BTC/USD", SIM_FAST, BRIDGE_FAST),  # the faster Kraken tier on both sides
    "coinbase": ("BTC/USD", {}, {}),
}


@pytest.mark.parametrize("exchange", list(CASES))
async def test_engine_dropped_create_answers_zero_lost_zero_duplicated(
    tmp_path: Path, exchange: str
) -> None:
    symbol, sim_options, bridge_options = CASES[exchange]
    sim = await start_venue_sim(exchange, host="127.0.0.1", port=0, seed=12, **sim_options)
    journal = SqliteJournal(tmp_path / "j.sqlite")
    await journal.open()
    venue = create_venue(bridge_config(sim, exchange, timeout=2.0, **bridge_options))
    eng = Engine(journal, {venue.name: venue}, unknown_query_attempts=3,
                 backoff=Backoff(base=0.01, cap=0.05))
    await eng.start()
    try:
        inst = venue.instrument(symbol)
        bid = (await venue.order_book(symbol, 5)).bids[0].price
        price = passive_buy_price(inst, bid)
        intents = [
            OrderIntent(intent_id=f"drop-{exchange}-{i}", venue=venue.name, symbol=symbol,
                        side=Side.BUY, type=OrderType.LIMIT, qty=qty_for(inst, price), price=price)
            for i in range(4)
        ]
        results: list[Any] = []
        for i, intent in enumerate(intents):
            if i % 2 == 0:
                sim.faults.drop_mode = "close"
                sim.faults.drop_response_next = 1
            results.append(await eng.submit(intent))
        assert all(o.state is OrderState.ACCEPTED for o in results), [o.state for o in results]
        for intent in intents:  # re-submitting every intent changes nothing
            await eng.submit(intent)
        cids = [r.client_order_id for r in await venue.open_orders(symbol)]
        want = {o.client_order_id for o in results}
        assert set(cids) == want  # 0 lost
        assert len(cids) == len(want)  # 0 duplicated
    finally:
        await eng.close()
        await journal.close()
        await sim.stop()
