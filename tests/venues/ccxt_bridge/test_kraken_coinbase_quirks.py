"""Kraken and Coinbase quirks of the ccxt bridge, piece by piece (the whole path is
covered by test_kraken_bridge_contract.py and test_coinbase_bridge_contract.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ccxt.base import errors as cx

from gapless.model import OrderState, Side
from gapless.model.errors import (
    DuplicateClientOrderId,
    InvalidOrder,
    OrderNotFound,
    Rejected,
)
from gapless.venues.ccxt_bridge.errors import map_ccxt_error
from gapless.venues.ccxt_bridge.exchanges.coinbase import CoinbaseQuirks
from gapless.venues.ccxt_bridge.exchanges.kraken import KrakenQuirks
from gapless.venues.ccxt_bridge.quirks import quirks_for

from ..contract import make_order, passive_buy_price, qty_for
from .harness import bridge_harness
from .test_kraken_bridge_contract import BRIDGE_FAST, SIM_FAST


def test_quirks_are_per_exchange() -> None:
    assert type(quirks_for("kraken")) is KrakenQuirks
    assert type(quirks_for("coinbase")) is CoinbaseQuirks


@pytest.mark.parametrize(("answer", "ok"), [
    ({"error": [], "result": {"XXBT": {"balance": "1.5", "hold_trade": "0"}}}, True),
    ({"error": ["EOrder:Unknown order"]}, True),
    ({"error": [], "result": {"XXBT": {"balance": 1.5}}}, False),  # amounts are strings
    ({"error": [], "result": {"open": {"O1": {"status": {"x": 1}, "descr": {}}}}}, False),
    ({"error": [], "result": {"O1": {"status": "open", "descr": "buy"}}}, False),
    ({"error": "EGeneral:Internal error"}, False),
    ({"error": [], "result": []}, False),
    ({"error": []}, False),
    (["error"], False),
])
def test_kraken_envelope(answer: Any, ok: bool) -> None:
    assert (KrakenQuirks().envelope_problem(answer) is None) is ok


def test_kraken_and_coinbase_mis_mappings() -> None:
    # ccxt raises a plain ExchangeError for both post-only refusals
    kr = cx.ExchangeError('kraken {"error":["EOrder:Post only order"]}')
    assert map_ccxt_error(kr, venue="k", op="create").__class__ is Rejected  # the shared map
    assert isinstance(KrakenQuirks().map_error(kr, venue="k", op="create"), InvalidOrder)
    cb = cx.ExchangeError('coinbase {"error_response":{"error":"INVALID_LIMIT_PRICE_POST_ONLY"}}')
    assert isinstance(CoinbaseQuirks().map_error(cb, venue="c", op="create"), InvalidOrder)
    assert CoinbaseQuirks().map_error(cx.ExchangeError("other"), venue="c", op="create") is None
    # unknown orders: Kraken as InvalidOrder, Coinbase as a plain ExchangeError
    assert isinstance(map_ccxt_error(cx.InvalidOrder('kraken {"error":["EOrder:Unknown order"]}'),
                                     venue="k", op="query"), OrderNotFound)
    assert isinstance(map_ccxt_error(cx.ExchangeError("coinbase order 123 not found"),
                                     venue="c", op="cancel"), OrderNotFound)


async def test_kraken_nonces_strictly_increase_and_concurrent_reads_succeed() -> None:
    async with bridge_harness("kraken", "kraken", symbol="BTC/USD", sim_options=SIM_FAST,
                              options=BRIDGE_FAST) as h:
        v: Any = h.venue
        nonces = [v.ex.nonce() for _ in range(50)]
        assert nonces == sorted(set(nonces))
        # ccxt's own millisecond nonce would collide here (EAPI:Invalid nonce)
        import asyncio
        results = await asyncio.gather(*(v.balances() for _ in range(8)))
        assert all("USD" in r for r in results)


async def test_kraken_lookup_by_cl_ord_id_without_the_txid() -> None:
    async with bridge_harness("kraken", "kraken", symbol="BTC/USD", sim_options=SIM_FAST,
                              options=BRIDGE_FAST) as h:
        v: Any = h.venue
        inst = v.instrument("BTC/USD")
        bid = (await v.order_book("BTC/USD", 5)).bids[0].price
        price = passive_buy_price(inst, bid)
        o = make_order(v, "BTC/USD", Side.BUY, qty_for(inst, price), price)
        await v.place_order(o)
        v._vid_by_cid.clear()  # as after a restart: only the client id is known
        found = await v.quirks.find_by_client_id(v, "BTC/USD", o.client_order_id)
        assert found["clientOrderId"] == o.client_order_id and found["status"] == "open"
        await v.cancel_order("BTC/USD", o.client_order_id)
        v._vid_by_cid.clear()
        rep = await v.query_order("BTC/USD", o.client_order_id)  # now from ClosedOrders
        assert rep.state is OrderState.CANCELED
        with pytest.raises(OrderNotFound):
            await v.query_order("BTC/USD", v.client_order_id("never-sent"))


async def test_coinbase_market_buy_is_sized_in_base() -> None:
    async with bridge_harness("coinbase", "coinbase", symbol="BTC/USD") as h:
        v = h.venue
        inst = v.instrument("BTC/USD")
        ask = (await v.order_book("BTC/USD", 5)).asks[0].price
        qty = qty_for(inst, ask, Decimal(3))
        rep = await v.place_order(make_order(v, "BTC/USD", Side.BUY, qty))
        assert rep.state is OrderState.FILLED and rep.filled_qty == qty
        assert sum(f.qty for f in rep.fills) == qty


async def test_coinbase_reused_client_id_is_duplicate_not_a_second_order() -> None:
    async with bridge_harness("coinbase", "coinbase", symbol="BTC/USD") as h:
        v = h.venue
        inst = v.instrument("BTC/USD")
        bid = (await v.order_book("BTC/USD", 5)).bids[0].price
        price = passive_buy_price(inst, bid)
        first = make_order(v, "BTC/USD", Side.BUY, qty_for(inst, price), price)
        await v.place_order(first)
        with pytest.raises(DuplicateClientOrderId):
            await v.place_order(first)
        mine = [r for r in await v.open_orders("BTC/USD")
                if r.client_order_id == first.client_order_id]
        assert len(mine) == 1
