"""OKX and Bybit quirks of the ccxt bridge, piece by piece (the whole path is covered by
the contract runs in ``test_other_bridge_contracts.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from gapless.model import OrderState, Side
from gapless.model.errors import MalformedResponse, OrderNotFound
from gapless.venues.ccxt_bridge.adapter import CcxtVenue
from gapless.venues.ccxt_bridge.exchanges.bybit import BybitQuirks
from gapless.venues.ccxt_bridge.exchanges.okx import OkxQuirks
from gapless.venues.ccxt_bridge.quirks import Quirks, quirks_for

from ..contract import make_order, passive_buy_price, qty_for
from .harness import bridge_harness


def test_quirks_are_per_exchange_and_per_venue() -> None:
    assert type(quirks_for("okx")) is OkxQuirks
    assert type(quirks_for("bybit")) is BybitQuirks
    assert type(quirks_for("binance")) is Quirks  # no module: defaults
    assert quirks_for("bybit") is not quirks_for("bybit")  # state is never shared


@pytest.mark.parametrize("answer, ok", [
    ({"code": "0", "msg": "", "data": [{"ordId": "1"}]}, True),
    ({"code": "51603", "msg": "Order does not exist", "data": []}, True),
    ({}, False),
    ({"code": 0, "msg": "", "data": []}, False),
    ({"code": {"surprise": ["0"]}, "msg": "", "data": []}, False),
    ({"code": "0", "msg": {"surprise": [""]}, "data": []}, False),
    ({"code": "0", "msg": "", "data": {}}, False),
    ([{"code": "0"}], False),
])
def test_okx_envelope(answer: Any, ok: bool) -> None:
    assert (OkxQuirks().envelope_problem(answer) is None) is ok


@pytest.mark.parametrize("answer, ok", [
    ({"retCode": 0, "retMsg": "OK", "result": {"list": []}, "time": 1}, True),
    ({"retCode": 170213, "retMsg": "Order does not exist.", "result": {}}, True),
    ({}, False),
    ({"retCode": "0", "retMsg": "OK", "result": {}}, False),
    ({"retCode": [0], "retMsg": "OK", "result": {}}, False),
    ({"retCode": True, "retMsg": "OK", "result": {}}, False),
    ({"retCode": 0, "retMsg": {"surprise": ["OK"]}, "result": {}}, False),
    ({"retCode": 0, "retMsg": "OK", "result": [{}]}, False),
])
def test_bybit_envelope(answer: Any, ok: bool) -> None:
    assert (BybitQuirks().envelope_problem(answer) is None) is ok


@pytest.fixture
async def bybit() -> AsyncIterator[Any]:
    async with bridge_harness("bybit", "bybit") as h:
        yield h


def _execution(exec_id: str, qty: str, leaves: str, order_qty: str = "0.3") -> dict[str, Any]:
    """A ccxt trade as ccxt.pro's bybit ``watch_my_trades`` hands it over."""
    info = {"symbol": "BTCUSDT", "orderId": "1900000000000000007", "orderLinkId": "cid-7",
            "side": "Buy", "orderPrice": "0", "orderQty": order_qty, "leavesQty": leaves,
            "orderType": "Market", "execId": exec_id, "execPrice": "60000", "execQty": qty,
            "execType": "Trade", "execFee": "0", "feeCurrency": "BTC"}
    return {"info": info, "id": exec_id, "symbol": "BTC/USDT", "order": info["orderId"],
            "side": "buy", "amount": qty, "price": "60000", "timestamp": 1,
            "fee": {"cost": "0", "currency": "BTC"}}


async def test_bybit_execution_is_filled_only_when_the_fills_add_up(bybit: Any) -> None:
    v: CcxtVenue = bybit.venue
    q = v.quirks
    first = q.report_from_trade(v, _execution("e1", "0.1", "0.2"))
    assert first is not None and first.state is OrderState.PARTIALLY_FILLED
    assert first.client_order_id == "cid-7" and first.filled_qty == Decimal("0.1")
    assert [f.trade_id for f in first.fills] == ["e1"] and first.fills[0].side is Side.BUY
    again = q.report_from_trade(v, _execution("e1", "0.1", "0.2"))  # a repeat: counted once
    assert again is not None and again.filled_qty == Decimal("0.1")
    # leavesQty 0 but only 0.2 of 0.3 seen (a remainder cancelled, or a fill we missed):
    # never claimed FILLED from the execution alone
    short = q.report_from_trade(v, _execution("e2", "0.1", "0"))
    assert short is not None and short.state is OrderState.PARTIALLY_FILLED
    last = q.report_from_trade(v, _execution("e3", "0.1", "0"))
    assert last is not None and last.state is OrderState.FILLED
    assert last.filled_qty == Decimal("0.3")
    with pytest.raises(MalformedResponse):
        q.report_from_trade(v, {**_execution("e4", "0.1", "0"), "info": "junk"})
    bad = _execution("e5", "0.1", "x")
    with pytest.raises(MalformedResponse):
        q.report_from_trade(v, bad)


async def test_bybit_lookup_by_order_link_id_against_the_sim(bybit: Any) -> None:
    v: CcxtVenue = bybit.venue
    sym = bybit.symbol
    inst = v.instrument(sym)
    book = await v.order_book(sym, 5)
    price = passive_buy_price(inst, book.bids[0].price)
    o = make_order(v, sym, Side.BUY, qty_for(inst, price), price)
    await v.place_order(o)
    v._vid_by_cid.clear()  # as after a restart: only the client id is known
    found = await v.quirks.find_by_client_id(v, sym, o.client_order_id)
    assert found["clientOrderId"] == o.client_order_id and found["status"] == "open"
    with pytest.raises(OrderNotFound):
        await v.quirks.find_by_client_id(v, sym, "never-sent-1")
